// SPDX-License-Identifier: ISC
#include "helper/daemon/revocation_loop.hpp"

#include <algorithm>
#include <ctime>

namespace bg {
namespace {

std::int64_t now_unix() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

RevocationLoop::RevocationLoop(sd_event* event, Daemon& daemon, Log log)
    : event_(event),
      daemon_(daemon),
      log_(std::move(log)),
      hooks_(event, [this](const HookRun& run, int wait_status, const std::string& problem) {
          hook_ended(run, wait_status, problem);
      }) {}

RevocationLoop::~RevocationLoop() { sd_event_source_disable_unref(timer_); }

void RevocationLoop::hook_ended(const HookRun& run, int wait_status, const std::string& problem) {
    if (auto alert = daemon_.hook_finished(run, wait_status, now_unix(), problem)) log_(1, *alert);
    settle();  // a retry may be queued
}

int RevocationLoop::on_timer(sd_event_source*, std::uint64_t, void* userdata) {
    auto* self = static_cast<RevocationLoop*>(userdata);
    if (!self->daemon_.finish_terminations(now_unix()))
        self->log_(3, "could not record which processes needed SIGKILL after a grant ended");
    self->daemon_.retry_db_drops(now_unix());
    self->settle();
    return 0;
}

void RevocationLoop::settle() {
    for (const HookRun& run : daemon_.take_hook_runs(now_unix())) hooks_.start(run);
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
