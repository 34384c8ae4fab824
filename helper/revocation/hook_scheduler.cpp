// SPDX-License-Identifier: ISC
#include "helper/revocation/hook_scheduler.hpp"

#include <cstring>
#include <sys/wait.h>

namespace bg {

std::string describe_wait_status(int wait_status) {
    if (WIFEXITED(wait_status)) return "exit status " + std::to_string(WEXITSTATUS(wait_status));
    if (WIFSIGNALED(wait_status)) {
        const char* abbrev = ::sigabbrev_np(WTERMSIG(wait_status));
        return "killed by signal " + std::to_string(WTERMSIG(wait_status)) +
               (abbrev ? std::string(" (SIG") + abbrev + ")" : std::string());
    }
    return "wait status " + std::to_string(wait_status);
}

std::vector<HookRun> HookScheduler::take_due(std::int64_t now) {
    std::vector<HookRun> due;
    for (auto it = queue_.begin(); it != queue_.end();) {
        if (it->first <= now) {
            due.push_back(std::move(it->second));
            it = queue_.erase(it);
        } else {
            ++it;
        }
    }
    return due;
}

std::optional<std::int64_t> HookScheduler::next_due() const {
    std::optional<std::int64_t> next;
    for (const auto& [due, _] : queue_)
        if (!next || due < *next) next = due;
    return next;
}

HookScheduler::Outcome HookScheduler::finished(const HookRun& run, int wait_status, const std::string& problem,
                                               std::int64_t now) {
    Outcome out;
    out.ok = problem.empty() && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
    out.detail = run.hook + " " + run.path + " after the " + run.event + ": " +
                 (problem.empty() ? describe_wait_status(wait_status) : problem) + " (attempt " +
                 std::to_string(run.attempt) + ")";
    if (out.ok) return out;
    const std::size_t retries = retry_delays_.size();
    if (run.hook != "on_revoke") {
        out.detail += "; the grant stays (its record is durable): check the side effect by hand";
    } else if (static_cast<std::size_t>(run.attempt) <= retries) {
        const std::int64_t delay = retry_delays_[static_cast<std::size_t>(run.attempt) - 1];
        HookRun again = run;
        again.attempt = run.attempt + 1;
        queue(std::move(again), now + delay);
        out.detail += "; retrying in " + std::to_string(delay) + "s";
    } else {
        out.detail += "; gave up after " + std::to_string(run.attempt) + " attempts: the side effect must be undone by hand";
    }
    return out;
}

}  // namespace bg
