// SPDX-License-Identifier: ISC
// The journald copy of every record, sent from a thread of its own so that a
// slow or stuck journald never delays a request (the record is already in the
// audit log, which is the truth). Records wait in a bounded queue; when it is
// full, new ones are counted as dropped rather than growing memory without
// bound, and dropped() lets the daemon say so.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "helper/audit/recorder.hpp"

namespace bg::audit {

class JournalMirror final : public RecordSubscriber {
public:
    using Send = std::function<void(const Record&)>;
    static constexpr std::size_t kDefaultQueueLimit = 8192;

    // `send` defaults to send_to_journal (journal.hpp).
    explicit JournalMirror(Send send = {}, std::size_t queue_limit = kDefaultQueueLimit);
    ~JournalMirror() override;  // stop()
    JournalMirror(const JournalMirror&) = delete;
    JournalMirror& operator=(const JournalMirror&) = delete;

    // Queues the record. The thread is woken by wake(), which the daemon
    // calls once its answer is sent, so the wake-up never delays an answer;
    // a long queue wakes it at once.
    void recorded(const Record& r) override;
    void wake();

    // Sends what is queued for up to `drain_ms`, then stops the thread.
    void stop(int drain_ms = 2000);
    // Records not copied to journald because the queue was full.
    std::uint64_t dropped() const;
    // Records waiting (for tests and the daemon's status).
    std::size_t queued() const;

private:
    void run();

    Send send_;
    const std::size_t limit_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable drained_;
    std::deque<Record> queue_;
    bool sending_ = false;
    bool stopping_ = false;
    std::uint64_t dropped_ = 0;
    bool waiting_ = false;  // the thread sleeps on wake_
    std::thread thread_;
};

}  // namespace bg::audit
