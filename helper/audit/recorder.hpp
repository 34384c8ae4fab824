// SPDX-License-Identifier: ISC
// The one way a record is made (docs/ARCHITECTURE.md, "The daemon inside"):
// append it to the audit log, then hand the durable record to each
// subscriber in turn — the grant store, the journald mirror, and later the
// remote shipper and alerts. A subscriber cannot veto, delay or fail an
// append: it is told about records that already exist. Subscribers run on
// the caller's thread and must be quick; anything slow (journald, a network)
// belongs on the subscriber's own thread.
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
    void subscribe(RecordSubscriber& s) { subscribers_.push_back(&s); }

    // AuditLog::append, then every subscriber. On failure nobody is told.
    Result<Record> append(const RecordFields& fields, std::int64_t now, Durability durability = Durability::Synced);

    AuditLog& log() { return log_; }
    const AuditLog& log() const { return log_; }

private:
    AuditLog& log_;
    std::vector<RecordSubscriber*> subscribers_;
};

}  // namespace bg::audit
