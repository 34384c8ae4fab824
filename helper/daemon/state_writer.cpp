// SPDX-License-Identifier: ISC
#include "helper/daemon/state_writer.hpp"
#include "common/callback_guard.hpp"

#include <algorithm>
#include <csignal>
#include <pthread.h>

#include "helper/daemon/grant_store.hpp"

namespace bg {

StateWriter::StateWriter() : thread_([this] { loop(); }) {}

StateWriter::~StateWriter() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void StateWriter::checkpoint(std::string path, std::string text) {
    {
        std::lock_guard lock(mutex_);
        jobs_.erase(std::remove_if(jobs_.begin(), jobs_.end(), [](const Job& j) { return j.is_checkpoint; }),
                    jobs_.end());
        jobs_.push_back({"checkpoint", [path = std::move(path), text = std::move(text)] {
                             return GrantStore::write_checkpoint(path, text);
                         },
                         true});
    }
    wake_.notify_one();
}

void StateWriter::post(std::string what, std::function<Status()> job) {
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back({std::move(what), std::move(job), false});
    }
    wake_.notify_one();
}

std::vector<std::string> StateWriter::take_failures() {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out = std::move(failures_);
    failures_.clear();
    return out;
}

void StateWriter::drain() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return jobs_.empty() && !busy_; });
}

void StateWriter::loop() {
    // Signals are the event loop's: a signal delivered to this thread would
    // take its default action (SIGTERM: kill the daemon unclean).
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping with nothing left
        Job job = std::move(jobs_.front());
        jobs_.pop_front();
        busy_ = true;
        lock.unlock();
        Status done = Ok{};
        bool threw = true;
        guarded(
            "a state write",
            [&] {
                done = job.run();
                threw = false;
            },
            [] {});
        lock.lock();
        busy_ = false;
        guarded(
            "noting a failed state write",
            [&] {
                if (threw)
                    failures_.push_back(job.what + ": failed (out of memory)");
                else if (!done)
                    failures_.push_back(job.what + ": " + done.error().message);
            },
            [] {});
        if (jobs_.empty()) idle_.notify_all();
    }
}

}  // namespace bg
