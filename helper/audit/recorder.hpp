// SPDX-License-Identifier: ISC
// The one way a record is made (docs/ARCHITECTURE.md, "The daemon inside"):
// append it to the audit log, then hand the durable record to each
// subscriber in turn — the grant store, the journald mirror, and later the
// remote shipper and alerts. A subscriber cannot veto, delay or fail an
// append: it is told about records that already exist. Subscribers run on
// the caller's thread and must be quick; anything slow (journald, a network)
// belongs on the subscriber's own thread.
//
// A subscriber that throws (out of memory: std::bad_alloc) has not taken the
// record in, and the record is in the log all the same. It falls behind: it
// is told nothing more until catch_up() has re-read, from the log, every
// record it missed and told it them in order. So recorded() must be safe to
// call again with a record that threw half-way (every subscriber's is: it
// changes nothing before its last allocation, or checks what it has), and
// the daemon must not decide from a subscriber while behind() says so.
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.hpp"
#include "helper/audit/audit_log.hpp"
#include "helper/audit/audit_record.hpp"

namespace bg::audit {

class RecordSubscriber {
public:
    virtual ~RecordSubscriber() = default;
    // `r` is in the log (durable, or deferred to the next flush).
    virtual void recorded(const Record& r) = 0;
};

class Recorder {
public:
    explicit Recorder(AuditLog& log) : log_(log) {}
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // Not owned; must outlive the Recorder. Told in subscription order.
    void subscribe(RecordSubscriber& s) { subscribers_.push_back({&s, 0}); }

    // AuditLog::append, then every subscriber in step; then catch_up() for
    // any behind. On failure of the append nobody is told. A subscriber's
    // exception does not leave here: the record is returned (it is in the log).
    Result<Record> append(const RecordFields& fields, std::int64_t now, Durability durability = Durability::Synced);

    // Whether some subscriber has missed a record.
    bool behind() const;
    // Whether `s` has missed a record.
    bool behind(const RecordSubscriber& s) const;
    // Tells each subscriber that is behind the records it missed, read from
    // the log. Fails (and they stay behind, to be tried again) when reading or
    // a subscriber fails again. Never throws.
    Status catch_up() noexcept;

    AuditLog& log() { return log_; }
    const AuditLog& log() const { return log_; }

private:
    struct Subscription {
        RecordSubscriber* subscriber;
        std::uint64_t missed_from;  // the first seq it was not told; 0 = in step
    };
    AuditLog& log_;
    std::vector<Subscription> subscribers_;
};

}  // namespace bg::audit
