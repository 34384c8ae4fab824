// SPDX-License-Identifier: ISC
// When a gate's on_grant/on_revoke commands run and what happens when they
// fail: runs are queued with a due time, taken when due (HookRunner starts
// them), and a failed on_revoke is queued again after each of the retry
// delays before the scheduler gives up. A failed on_grant is not retried (the
// grant stands; its side effect is checked by hand). Pure bookkeeping: no
// processes and no records here; finished() returns what to record.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "helper/revocation/hook_run.hpp"

namespace bg {

class HookScheduler {
public:
    // Seconds before each retry of a failed on_revoke; after the last the scheduler gives up.
    explicit HookScheduler(std::vector<std::int64_t> retry_delays) : retry_delays_(std::move(retry_delays)) {}

    void queue(HookRun run, std::int64_t due) { queue_.emplace_back(due, std::move(run)); }
    // Runs due by `now`, oldest first; they leave the queue.
    std::vector<HookRun> take_due(std::int64_t now);
    std::optional<std::int64_t> next_due() const;

    struct Outcome {
        bool ok = false;      // exit status 0
        std::string detail;   // what happened and what follows (a retry, giving up), for the record
    };
    // wait_status as from waitpid(); `problem` is set when the run could not
    // be started or was killed after its timeout. Queues a retry when one is due.
    Outcome finished(const HookRun& run, int wait_status, const std::string& problem, std::int64_t now);

private:
    std::vector<std::int64_t> retry_delays_;
    std::vector<std::pair<std::int64_t, HookRun>> queue_;  // {due, run}
};

// "exit status 3", "killed by signal 9 (SIGKILL)"
std::string describe_wait_status(int wait_status);

}  // namespace bg
