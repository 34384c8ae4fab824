// SPDX-License-Identifier: ISC
// breakglassd's event loop: see event_loop.cpp. breakglassd.cpp parses the
// options, opens the socket and the Daemon, and hands both to run_event_loop.
#pragma once

#include <memory>
#include <string>

#include "common/file_io.hpp"
#include "common/result.hpp"
#include "helper/daemon/daemon.hpp"

namespace bg {

struct LoopOptions {
    bool systemd_timers = false;           // per-grant timers in the host's systemd
    std::string systemd_timers_setting;    // what --systemd-timers said, for the log
    std::string ctl_path;                  // the breakglassctl those timers run
    std::string state_dir, policy_path;    // for the log
};

// Serves until SIGTERM or SIGINT; the exit status for main().
int run_event_loop(std::unique_ptr<Daemon> daemon, UniqueFd listener, const LoopOptions& options);

// The only logger of the daemon: "<N>breakglassd: text" on stderr (under
// systemd the journal, with <N> as the priority).
void log_line(int priority, const std::string& text);

// A listening AF_UNIX SOCK_SEQPACKET socket at `path` (mode 0666: identity
// comes from SO_PEERCRED), replacing only a stale socket file.
Result<UniqueFd> listen_on(const std::string& path);
// The one socket systemd passed, an invalid fd when none, or an error.
Result<UniqueFd> socket_from_systemd();

}  // namespace bg
