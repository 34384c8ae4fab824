// SPDX-License-Identifier: ISC
// A thread of the daemon's own for the writes that follow a record but must
// not delay the next request: the grant checkpoint (state.json) and the seal
// key's fdatasync. The event loop hands it jobs; it runs them in order. A
// newer checkpoint replaces one still waiting (only the latest matters).
// Failures are collected for the loop to log: both writes are caches or
// hardening of what the audit log already holds, so a failure costs no
// record and no grant.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.hpp"

namespace bg {

class StateWriter {
public:
    StateWriter();
    ~StateWriter();  // runs what is queued, then stops
    StateWriter(const StateWriter&) = delete;
    StateWriter& operator=(const StateWriter&) = delete;

    // Writes `text` to `path` (GrantStore::write_checkpoint), replacing a
    // checkpoint job that has not started yet.
    void checkpoint(std::string path, std::string text);
    // Any other job; `what` names it in failures.
    void post(std::string what, std::function<Status()> job);

    // Failures since the last call ("checkpoint: cannot write ...").
    std::vector<std::string> take_failures();
    // Blocks until everything queued has run (shutdown, tests).
    void drain();

private:
    struct Job {
        std::string what;
        std::function<Status()> run;
        bool is_checkpoint = false;
    };
    void loop();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable idle_;
    std::deque<Job> jobs_;
    bool busy_ = false;
    bool stopping_ = false;
    std::vector<std::string> failures_;
    std::thread thread_;
};

}  // namespace bg
