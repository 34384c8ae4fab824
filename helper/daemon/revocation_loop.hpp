// SPDX-License-Identifier: ISC
// The event-loop half of revocation in breakglassd: starts the gates' hooks
// the Daemon queued (when the loop has nothing else to do, or a second later
// at the latest: starting a process holds the loop for the time its exec
// takes, and what waits on the loop then is the sessions' closing), reports
// how they ended, and keeps one timer for the next
// termination deadline (SIGKILL after the grace), hook retry or retry of a
// PostgreSQL role's drop. Decisions and
// records stay in Daemon; this only schedules.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <systemd/sd-event.h>

#include "helper/daemon/daemon.hpp"
#include "helper/revocation/hook_runner.hpp"

namespace bg {

class RevocationLoop {
public:
    // log(priority, text): breakglassd's logger (priority 1 = LOG_ALERT).
    using Log = std::function<void(int priority, const std::string& text)>;

    // SIGCHLD must be blocked before hooks run (child event sources need it).
    RevocationLoop(sd_event* event, Daemon& daemon, Log log);
    ~RevocationLoop();
    RevocationLoop(const RevocationLoop&) = delete;
    RevocationLoop& operator=(const RevocationLoop&) = delete;

    // After any work of the daemon: queue the hooks now due and re-arm the timer.
    void settle();

    // How long a queued hook may wait for an idle loop.
    static constexpr std::uint64_t kHookStartWithinUsec = 1000 * 1000;

private:
    // After a callback threw (callback_guard.hpp): the timer again in a second, queued hooks again when idle.
    void retry_soon() noexcept;
    static int on_timer(sd_event_source* s, std::uint64_t usec, void* userdata);
    // One queued hook when the loop is idle; all of them at the deadline.
    static int on_idle(sd_event_source* s, void* userdata);
    static int on_hook_deadline(sd_event_source* s, std::uint64_t usec, void* userdata);
    void queue_hooks();
    void start_queued(bool all);
    void hook_ended(const HookRun& run, int wait_status, const std::string& problem);

    sd_event* event_;
    Daemon& daemon_;
    Log log_;
    HookRunner hooks_;
    sd_event_source* timer_ = nullptr;
    std::deque<HookRun> queued_;
    sd_event_source* idle_ = nullptr;           // defer source, SD_EVENT_PRIORITY_IDLE
    sd_event_source* hook_deadline_ = nullptr;  // CLOCK_MONOTONIC, kHookStartWithinUsec after queueing
};

}  // namespace bg
