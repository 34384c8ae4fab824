// SPDX-License-Identifier: ISC
#include "helper/daemon/revocation_loop.hpp"
#include "common/callback_guard.hpp"
#include "common/utc_time.hpp"

#include <algorithm>
#include <ctime>
#include <utility>
#include <vector>

namespace bg {
namespace {

std::int64_t now_unix() { return wall_clock_seconds(); }

}  // namespace

RevocationLoop::RevocationLoop(sd_event* event, Daemon& daemon, Log log)
    : event_(event),
      daemon_(daemon),
      log_(std::move(log)),
      hooks_(event, [this](const HookRun& run, int wait_status, const std::string& problem) {
          hook_ended(run, wait_status, problem);
      }) {}

RevocationLoop::~RevocationLoop() {
    // A hook queued at a stop starts all the same, as it would have at once.
    start_queued(true);
    sd_event_source_disable_unref(timer_);
    sd_event_source_disable_unref(idle_);
    sd_event_source_disable_unref(hook_deadline_);
}

int RevocationLoop::on_idle(sd_event_source*, void* userdata) {
    auto* self = static_cast<RevocationLoop*>(userdata);
    return guarded(
        "starting a hook",
        [&] {
            self->start_queued(false);
            return 0;
        },
        [&] { self->retry_soon(); });
}

int RevocationLoop::on_hook_deadline(sd_event_source*, std::uint64_t, void* userdata) {
    auto* self = static_cast<RevocationLoop*>(userdata);
    return guarded(
        "starting the queued hooks",
        [&] {
            self->start_queued(true);
            return 0;
        },
        [&] { self->retry_soon(); });
}

void RevocationLoop::retry_soon() noexcept {
    if (idle_ && !queued_.empty()) sd_event_source_set_enabled(idle_, SD_EVENT_ONESHOT);
    if (timer_) {
        sd_event_source_set_time(timer_, static_cast<std::uint64_t>(now_unix() + 1) * 1000000ULL);
        sd_event_source_set_enabled(timer_, SD_EVENT_ONESHOT);
    }
}

void RevocationLoop::start_queued(bool all) {
    // One at a time while idle: a request that arrives meanwhile goes first.
    while (!queued_.empty()) {
        const HookRun run = std::move(queued_.front());
        queued_.pop_front();
        hooks_.start(run);
        if (!all) break;
    }
    if (queued_.empty()) {
        if (idle_) sd_event_source_set_enabled(idle_, SD_EVENT_OFF);
        if (hook_deadline_) sd_event_source_set_enabled(hook_deadline_, SD_EVENT_OFF);
    } else if (idle_) {
        sd_event_source_set_enabled(idle_, SD_EVENT_ONESHOT);
    }
}

void RevocationLoop::queue_hooks() {
    std::vector<HookRun> due = daemon_.take_hook_runs(now_unix());
    if (due.empty()) return;
    const bool had = !queued_.empty();
    for (HookRun& run : due) queued_.push_back(std::move(run));
    if (!idle_) {
        if (sd_event_add_defer(event_, &idle_, on_idle, this) < 0 ||
            sd_event_source_set_priority(idle_, SD_EVENT_PRIORITY_IDLE) < 0) {
            sd_event_source_disable_unref(idle_);
            idle_ = nullptr;
        }
    }
    if (!hook_deadline_) {
        if (sd_event_add_time_relative(event_, &hook_deadline_, CLOCK_MONOTONIC, kHookStartWithinUsec, 1000,
                                       on_hook_deadline, this) < 0)
            hook_deadline_ = nullptr;
    } else if (!had) {
        sd_event_source_set_time_relative(hook_deadline_, kHookStartWithinUsec);
    }
    if (!idle_ || !hook_deadline_) {
        log_(4, "cannot defer the hooks' start; starting them now");
        start_queued(true);
        return;
    }
    sd_event_source_set_enabled(idle_, SD_EVENT_ONESHOT);
    if (!had) sd_event_source_set_enabled(hook_deadline_, SD_EVENT_ONESHOT);
}

void RevocationLoop::hook_ended(const HookRun& run, int wait_status, const std::string& problem) {
    if (auto alert = daemon_.hook_finished(run, wait_status, now_unix(), problem)) log_(1, *alert);
    settle();  // a retry may be queued
}

int RevocationLoop::on_timer(sd_event_source*, std::uint64_t, void* userdata) {
    auto* self = static_cast<RevocationLoop*>(userdata);
    return guarded(
        "the termination timer",
        [&] {
            if (!self->daemon_.finish_terminations(now_unix()))
                self->log_(3, "could not record which processes needed SIGKILL after a grant ended");
            self->daemon_.retry_db_drops(now_unix());
            self->settle();
            return 0;
        },
        // What is still due (a SIGKILL after the grace, a hook's retry) is due again in a second.
        [&] { self->retry_soon(); });
}

void RevocationLoop::settle() {
    queue_hooks();
    const auto deadline = daemon_.next_termination_deadline();
    auto retry = daemon_.next_hook_retry();
    if (const auto db = daemon_.next_db_retry(); db && (!retry || *db < *retry)) retry = db;
    if (!deadline && !retry) {
        if (timer_) sd_event_source_set_enabled(timer_, SD_EVENT_OFF);
        return;
    }
    const std::int64_t next = deadline && retry ? std::min(*deadline, *retry) : (deadline ? *deadline : *retry);
    const std::uint64_t at = static_cast<std::uint64_t>(std::max<std::int64_t>(next, 0)) * 1000000ULL;
    if (!timer_) {
        // 1 ms accuracy: the grace is counted in seconds, sd-event's default would add 250 ms.
        if (sd_event_add_time(event_, &timer_, CLOCK_REALTIME, at, 1000, on_timer, this) < 0) {
            timer_ = nullptr;
            log_(2, "cannot arm the termination/hook timer");
            return;
        }
    } else {
        sd_event_source_set_time(timer_, at);
    }
    sd_event_source_set_enabled(timer_, SD_EVENT_ONESHOT);
}

}  // namespace bg
