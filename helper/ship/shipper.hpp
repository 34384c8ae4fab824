// SPDX-License-Identifier: ISC
// Every record leaves the host (docs/ARCHITECTURE.md, "Every record leaves
// the host"). The audit log is the outbox: each sink has a thread of its own
// that reads the log from the sink's cursor (the last seq it acknowledged,
// cursor.hpp) and POSTs batches in order (payload.hpp), at least once; an
// acknowledged batch moves the cursor, which is written, fsync'd and renamed
// before the next batch. Failures are retried with exponential backoff and
// jitter, for as long as it takes: a sink outage of any length, a crash or a
// reboot loses and reorders nothing (a batch sent but not acknowledged is
// sent again, identical).
//
// Nothing here runs on the daemon's event loop or can delay it: the loop
// only tells the shipper how far the log is durable (durable(), a store and
// a notify) and reads status(). Only durable records are shipped, so a
// crash of the host can never leave the sink holding a record the log lost.
// Memory is two batches per sink (kBatchRecords, kBatchBytes: the one in
// flight and the next, read meanwhile) and one bounded
// answer, whatever the backlog.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.hpp"
#include "helper/audit/recorder.hpp"
#include "policy/policy.hpp"

namespace bg::ship {

inline constexpr std::size_t kBatchRecords = 2000;
inline constexpr std::size_t kBatchBytes = 2 * 1024 * 1024;
inline constexpr std::int64_t kFirstRetryMs = 500;
inline constexpr std::int64_t kMaxRetryMs = 30 * 1000;
// The per-sink request timeout (the whole transfer).
inline constexpr std::int64_t kRequestTimeoutSeconds = 30;

struct SinkStatus {
    std::string name, type, url;
    bool insecure = false;
    std::uint64_t acked_seq = 0;
    std::uint64_t backlog = 0;              // durable records not yet acknowledged
    std::int64_t oldest_unacked_at = 0;     // timestamp of the first of them, 0 when none or not read yet
    std::string last_error;                 // "" when the last attempt succeeded
    std::int64_t last_error_at = 0;
    std::int64_t last_ack_at = 0;
    std::int64_t backlog_limit = 0;         // seconds (the policy's backlog_limit)
};

// A secret named by path in the policy (`key` names the setting in
// messages): a regular file owned by the daemon's user and readable by
// nobody else, opened without following a link. The secret is its first
// line, without the newline: printable ASCII without spaces, not empty.
Result<std::string> read_secret_file(const std::string& path, std::string_view key);

class SinkWorker;

class Shipper final : public audit::RecordSubscriber {
public:
    // `cursor_dir`: where <sink>.cursor files live (created 0700 if missing).
    // `acked`: called on a sink's thread after each acknowledgement is
    // stored (the daemon wakes its loop with it); must be thread-safe and quick.
    Shipper(std::string log_path, std::string cursor_dir, std::function<void()> acked);
    ~Shipper() override;  // stops every sink (a transfer in progress is cancelled)
    Shipper(const Shipper&) = delete;
    Shipper& operator=(const Shipper&) = delete;

    // The sinks of the policy in force: new ones start (from their cursor, or
    // seq 1), removed ones stop, changed ones restart. Returns lines for the
    // daemon's log (a plain-http sink, a cursor reset, a secret file refused).
    std::vector<std::string> configure(const std::map<std::string, policy::Sink>& sinks);

    // The log is durable through `seq`: what may be shipped.
    void durable(std::uint64_t seq);
    void recorded(const audit::Record&) override {}

    // A grant waits for a sink to acknowledge `seq` (remote_ack): a sink in
    // its backoff tries again as soon as `seq` is durable, not at the end
    // of a backoff that may be longer than the gate's remote_ack_timeout.
    void awaited(std::uint64_t seq);
    // The highest seq any sink acknowledged (remote_ack waits on it).
    std::uint64_t best_acked() const;
    bool has_sinks() const;
    std::vector<SinkStatus> status() const;

private:
    std::string log_path_, cursor_dir_;
    std::function<void()> acked_;
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<SinkWorker>> workers_;
    std::uint64_t durable_ = 0;
};

}  // namespace bg::ship
