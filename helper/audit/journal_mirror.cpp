// SPDX-License-Identifier: ISC
#include "helper/audit/journal_mirror.hpp"
#include "common/callback_guard.hpp"

#include <chrono>
#include <csignal>
#include <pthread.h>

#include "helper/audit/journal.hpp"

namespace bg::audit {

JournalMirror::JournalMirror(Send send, std::size_t queue_limit)
    : send_(send ? std::move(send) : Send([](const Record& r) { send_to_journal(r); })),
      limit_(queue_limit),
      thread_([this] { run(); }) {}

JournalMirror::~JournalMirror() { stop(); }

namespace {
constexpr std::size_t kWakeAtOnce = 64;
}  // namespace

void JournalMirror::recorded(const Record& r) {
    bool wake_now = false;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        if (queue_.size() >= limit_) {
            ++dropped_;
            return;
        }
        queue_.push_back(r);
        wake_now = waiting_ && queue_.size() >= kWakeAtOnce;
    }
    if (wake_now) wake_.notify_one();
}

void JournalMirror::wake() {
    {
        std::lock_guard lock(mutex_);
        if (!waiting_ || queue_.empty()) return;
    }
    wake_.notify_one();
}

void JournalMirror::run() {
    // Signals are the event loop's: a signal delivered to this thread would
    // take its default action (SIGTERM: kill the daemon unclean).
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    std::unique_lock lock(mutex_);
    for (;;) {
        waiting_ = true;
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        waiting_ = false;
        if (queue_.empty()) return;  // stopping, and nothing left
        Record r = std::move(queue_.front());
        queue_.pop_front();
        sending_ = true;
        lock.unlock();
        // Out of memory: this record's journald copy is lost (said on stderr,
        // which is the journal too); the audit log and the sinks have it.
        guarded("sending a record to journald", [&] { send_(r); }, [] {});
        lock.lock();
        sending_ = false;
        if (queue_.empty()) drained_.notify_all();
    }
}

void JournalMirror::stop(int drain_ms) {
    if (!thread_.joinable()) return;
    wake_.notify_one();  // records queued without a wake() yet
    {
        std::unique_lock lock(mutex_);
        drained_.wait_for(lock, std::chrono::milliseconds(drain_ms), [this] { return queue_.empty() && !sending_; });
        dropped_ += queue_.size();
        queue_.clear();
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

std::uint64_t JournalMirror::dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
}

std::size_t JournalMirror::queued() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

}  // namespace bg::audit
