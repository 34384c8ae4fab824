// SPDX-License-Identifier: ISC
// Running a gate's on_grant/on_revoke command for breakglassd without
// blocking its event loop: a fixed argv, an empty environment, stdin/stdout/
// stderr on /dev/null, no other descriptors, default signal dispositions and
// an empty signal mask, its own process group. The exit is watched through a
// pidfd child source (SIGCHLD must be blocked); past the timeout the process
// group gets SIGKILL. The outcome goes to the callback, never to a log here.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include <systemd/sd-event.h>

#include "common/result.hpp"
#include "helper/revocation/hook_run.hpp"

namespace bg {

// Starts argv[0] with argv as described above. Returns the child's pid or why
// it could not be started (missing, not executable, ...).
Result<pid_t> spawn_hook(const std::vector<std::string>& argv);

class HookRunner {
public:
    // wait_status as from waitpid(); problem is "" unless the hook could not
    // be started or was killed after the timeout.
    using Finished = std::function<void(const HookRun& run, int wait_status, const std::string& problem)>;

    HookRunner(sd_event* event, Finished finished, std::chrono::seconds timeout = std::chrono::seconds(30));
    ~HookRunner();
    HookRunner(const HookRunner&) = delete;
    HookRunner& operator=(const HookRunner&) = delete;

    // Starts a run; a failure to start is reported through the callback at once.
    void start(const HookRun& run);
    std::size_t running() const { return running_.size(); }

private:
    struct Running;
    static int on_exit(sd_event_source* s, const siginfo_t* si, void* userdata);
    static int on_timeout(sd_event_source* s, std::uint64_t usec, void* userdata);
    void finish(Running* r, int wait_status);

    sd_event* event_;
    Finished finished_;
    std::chrono::seconds timeout_;
    std::map<Running*, std::unique_ptr<Running>> running_;
};

}  // namespace bg
