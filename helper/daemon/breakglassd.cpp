// SPDX-License-Identifier: ISC
// breakglassd: options, the listening socket and the Daemon; then the event
// loop (event_loop.cpp). See breakglassd(8).
#include <cerrno>
#include <csignal>
#include <pthread.h>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <new>
#include <string>
#include <sys/stat.h>
#include <vector>

#include <CLI/CLI.hpp>

#include "helper/daemon/daemon.hpp"
#include "common/utc_time.hpp"
#include "helper/daemon/event_loop.hpp"

namespace {

std::int64_t now_unix() { return bg::wall_clock_seconds(); }

}  // namespace

using bg::log_line;
using bg::UniqueFd;

int main(int argc, char** argv) {
    ::umask(0077);
    CLI::App app{"breakglassd - the break-glass decision daemon (see breakglassd(8))"};
    std::string socket_path;
    std::string state_dir = BG_DEFAULT_STATE_DIR;
    std::string policy_path = BG_DEFAULT_POLICY;
    std::string ctl_path = BG_DEFAULT_CTL;
    bool foreground = false;
    bool no_journal = false;
    std::vector<std::int64_t> hook_retry_delays = bg::DaemonConfig{}.hook_retry_delays;
    app.add_option("--socket", socket_path, "listen on PATH instead of the socket passed by systemd");
    app.add_option("--state-dir", state_dir, "state directory (audit log, keys, grants)")->capture_default_str();
    app.add_option("--policy", policy_path, "policy file")->capture_default_str();
    app.add_flag("--foreground", foreground, "stay in the foreground (the only mode; accepted for clarity)");
    app.add_flag("--no-journal", no_journal, "do not copy records to journald");
    // For tests only (hidden): the default on_revoke retry delays are 5,30,120 seconds.
    app.add_option("--hook-retry-delays", hook_retry_delays, "seconds before each on_revoke retry")
        ->delimiter(',')
        ->group("");
    // For tests only (hidden): the window of the per-requester bound on refusal records.
    std::int64_t refusal_window = bg::DaemonConfig{}.refusal_window_seconds;
    app.add_option("--refusal-window", refusal_window, "seconds of the refusal-record window")
        ->check(CLI::Range(1, 3600))
        ->group("");
    app.add_option("--ctl", ctl_path, "the breakglassctl the per-grant systemd timers run")->capture_default_str();
    std::string systemd_timers = "auto";
    app.add_option("--systemd-timers", systemd_timers,
                   "per-grant expiry timers in the host's systemd: auto (only when started by systemd through its "
                   "socket), yes, or no (the daemon's own timer and startup sweep end grants)")
        ->check(CLI::IsMember({"auto", "yes", "no"}))
        ->capture_default_str();
    app.footer("Exit status: 0 on a clean stop (SIGTERM/SIGINT), 1 when it cannot start or runs out of memory "
               "outside a request, 2 on usage errors.");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    (void)foreground;

    UniqueFd listener;
    bool from_systemd = false;
    if (socket_path.empty()) {
        from_systemd = true;
        auto inherited = bg::socket_from_systemd();
        if (!inherited) {
            log_line(2, inherited.error().message);
            return 1;
        }
        if (!inherited->valid()) {
            log_line(2, "no socket: start breakglassd through breakglassd.socket or pass --socket PATH");
            return 1;
        }
        listener = std::move(inherited).value();
    } else {
        auto bound = bg::listen_on(socket_path);
        if (!bound) {
            log_line(2, bound.error().message);
            return 1;
        }
        listener = std::move(bound).value();
    }
    if (::mkdir(state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
        log_line(2, "cannot create " + state_dir + ": " + std::strerror(errno));
        return 1;
    }

    bg::DaemonConfig config;
    config.state_dir = state_dir;
    config.policy_path = policy_path;
    config.send_to_journal = !no_journal;
    config.hook_retry_delays = hook_retry_delays;
    config.refusal_window_seconds = refusal_window;
    // The loop takes these signals through sd-event; block them before the
    // Daemon starts its threads, so no thread can take a default action.
    sigset_t loop_signals;
    sigemptyset(&loop_signals);
    for (const int sig : {SIGHUP, SIGTERM, SIGINT, SIGCHLD}) sigaddset(&loop_signals, sig);
    pthread_sigmask(SIG_BLOCK, &loop_signals, nullptr);
    // Out of memory while starting (replaying the log) or outside every
    // callback's guard (callback_guard.hpp): a clean exit with status 1 and
    // one line, not std::terminate; systemd starts the daemon again, and the
    // log, which is the truth, is replayed.
    try {
        auto daemon = bg::Daemon::create(config, now_unix());
        if (!daemon) {
            log_line(2, "cannot start: " + daemon.error().message);
            return 1;
        }

        bg::LoopOptions options;
        options.systemd_timers = systemd_timers == "yes" || (systemd_timers == "auto" && from_systemd);
        options.systemd_timers_setting = systemd_timers;
        options.ctl_path = ctl_path;
        options.state_dir = state_dir;
        options.policy_path = policy_path;
        return bg::run_event_loop(std::move(daemon).value(), std::move(listener), options);
    } catch (const std::bad_alloc&) {
        std::fputs("<2>breakglassd: stopped: out of memory outside a request; systemd starts it again\n", stderr);
        return 1;
    }
}
