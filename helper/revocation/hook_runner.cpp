// SPDX-License-Identifier: ISC
#include "helper/revocation/hook_runner.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/callback_guard.hpp"
#include "common/file_io.hpp"
#include "common/utc_time.hpp"

namespace bg {

std::vector<std::string> HookRun::argv() const {
    return {path, event, grant_id, user, gate, format_utc(expires_at)};
}

namespace {

struct SourceUnref {
    void operator()(sd_event_source* s) const { sd_event_source_disable_unref(s); }
};

struct FileActions {
    posix_spawn_file_actions_t fa;
    FileActions() { posix_spawn_file_actions_init(&fa); }
    ~FileActions() { posix_spawn_file_actions_destroy(&fa); }
};

struct SpawnAttributes {
    posix_spawnattr_t attr;
    SpawnAttributes() { posix_spawnattr_init(&attr); }
    ~SpawnAttributes() { posix_spawnattr_destroy(&attr); }
};

}  // namespace

Result<pid_t> spawn_hook(const std::vector<std::string>& argv) {
    if (argv.empty()) return make_error("no command");
    FileActions files;
    SpawnAttributes spawn;
    // stdin, stdout and stderr on /dev/null; nothing else open.
    if (posix_spawn_file_actions_addopen(&files.fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
        posix_spawn_file_actions_addopen(&files.fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
        posix_spawn_file_actions_adddup2(&files.fa, 1, 2) != 0 || posix_spawn_file_actions_addclosefrom_np(&files.fa, 3) != 0)
        return make_error("cannot prepare the hook's descriptors");
    // The daemon blocks and ignores signals for its loop; the hook starts clean.
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    if (posix_spawnattr_setflags(&spawn.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) !=
            0 ||
        posix_spawnattr_setpgroup(&spawn.attr, 0) != 0 || posix_spawnattr_setsigmask(&spawn.attr, &none) != 0 ||
        posix_spawnattr_setsigdefault(&spawn.attr, &all) != 0)
        return make_error("cannot prepare the hook's attributes");
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    char* empty_environment[] = {nullptr};
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, argv[0].c_str(), &files.fa, &spawn.attr, args.data(), empty_environment);
    if (rc != 0) return make_error("cannot start: " + std::string(std::strerror(rc)));
    return pid;
}

struct HookRunner::Running {
    HookRunner* runner = nullptr;
    HookRun run;
    pid_t pid = -1;
    bool timed_out = false;
    std::unique_ptr<sd_event_source, SourceUnref> child;
    std::unique_ptr<sd_event_source, SourceUnref> timer;
};

HookRunner::HookRunner(sd_event* event, Finished finished, std::chrono::seconds timeout)
    : event_(event), finished_(std::move(finished)), timeout_(timeout) {}

HookRunner::~HookRunner() = default;

void HookRunner::start(const HookRun& run) {
    auto spawned = spawn_hook(run.argv());
    if (!spawned) {
        finished_(run, 0, spawned.error().message);
        return;
    }
    auto r = std::make_unique<Running>();
    r->runner = this;
    r->run = run;
    r->pid = *spawned;
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, r->pid, 0)));
    sd_event_source* child = nullptr;
    int rc = pidfd.valid() ? sd_event_add_child_pidfd(event_, &child, pidfd.get(), WEXITED, on_exit, r.get()) : -errno;
    if (rc >= 0) {
        sd_event_source_set_child_pidfd_own(child, 1);
        (void)pidfd.release();
    } else {
        rc = sd_event_add_child(event_, &child, r->pid, WEXITED, on_exit, r.get());
    }
    if (rc < 0) {
        // Cannot watch it: do not leave it running unwatched.
        ::kill(-r->pid, SIGKILL);
        ::waitpid(r->pid, nullptr, 0);
        finished_(run, 0, "cannot watch the hook's exit: " + std::string(std::strerror(-rc)));
        return;
    }
    r->child.reset(child);
    sd_event_source* timer = nullptr;
    const auto usec = static_cast<std::uint64_t>(timeout_.count()) * 1000000ULL;
    if (sd_event_add_time_relative(event_, &timer, CLOCK_MONOTONIC, usec, 0, on_timeout, r.get()) >= 0)
        r->timer.reset(timer);
    Running* key = r.get();
    running_.emplace(key, std::move(r));
}

int HookRunner::on_exit(sd_event_source*, const siginfo_t* si, void* userdata) {
    auto* r = static_cast<Running*>(userdata);
    int status = 0;
    if (si->si_code == CLD_EXITED)
        status = W_EXITCODE(si->si_status, 0);
    else if (si->si_code == CLD_KILLED)
        status = si->si_status;
    else if (si->si_code == CLD_DUMPED)
        status = si->si_status | WCOREFLAG;
    else
        return 0;  // stopped or continued: still running
    // A failure here loses the hook's record, not its run (which has ended).
    return guarded(
        "recording a hook's end",
        [&] {
            r->runner->finish(r, status);
            return 0;
        },
        [] {});
}

int HookRunner::on_timeout(sd_event_source*, std::uint64_t, void* userdata) {
    auto* r = static_cast<Running*>(userdata);
    r->timed_out = true;
    ::kill(-r->pid, SIGKILL);  // its whole process group
    return 0;
}

void HookRunner::finish(Running* r, int wait_status) {
    const HookRun run = r->run;
    const std::string problem =
        r->timed_out ? "still running after " + std::to_string(timeout_.count()) + "s, killed with SIGKILL" : "";
    running_.erase(r);
    finished_(run, wait_status, problem);
}

}  // namespace bg
