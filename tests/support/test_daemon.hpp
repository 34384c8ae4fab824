// SPDX-License-Identifier: ISC
// The one way tests and benchmarks start breakglassd: the build-tree binary in
// its own scratch directory (socket, state directory, policy, log), with
// --systemd-timers=no (a test daemon never touches the host's systemd) and
// --no-journal unless asked. Ready means it answered a request, not that its
// socket exists. Stop, SIGKILL and restart keep the state directory; the
// destructor stops it and removes the directory. The process dies with the
// test process, so a crashed test leaves no daemon behind.
// No gtest in here: failures throw std::runtime_error (with the daemon's log).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/protocol.hpp"
#include "tests/support/audit_reader.hpp"
#include "tests/support/process.hpp"
#include "tests/support/run_directory.hpp"

namespace bg::test {

// The build-tree programs (BG_TEST_DAEMON in the environment overrides the
// daemon). The CLI, which tests also run as their users, is run from the run
// directory when the build tree is not reachable by everyone.
std::string daemon_program();
std::string ctl_program();

struct DaemonOptions {
    std::vector<std::string> extra_args;  // e.g. {"--hook-retry-delays", "1,1"}
    bool journal = false;                 // false: --no-journal
    // Always "no" but in the one test of the daemon's own default ("auto"):
    // a test daemon must never create timers in the host's systemd.
    std::string systemd_timers = "no";
    bool start = true;                    // false: the test calls start() itself
    std::chrono::milliseconds ready_timeout{20000};
};

class TestDaemon {
public:
    explicit TestDaemon(const std::string& policy_text, DaemonOptions options = {});
    ~TestDaemon();
    TestDaemon(const TestDaemon&) = delete;
    TestDaemon& operator=(const TestDaemon&) = delete;

    // Starts it and waits until it answers (throws with its log if it exits or never answers).
    void start();
    void stop();      // SIGTERM, and wait until it exited (its socket file stays, as after a crash);
                      // throws unless it exited with status 0
    void kill();      // SIGKILL, and wait
    void restart();   // stop() + start() on the same state
    bool running();
    pid_t pid() const;
    // How its last run ended (after stop(), kill(), or once running() saw it exit).
    std::optional<int> wait_status() const;

    const std::string& dir() const { return dir_.path(); }
    const std::string& socket() const { return socket_; }
    const std::string& state_dir() const { return state_; }
    const std::string& policy_path() const { return policy_; }
    const std::string& log_path() const { return log_; }
    // What it wrote to stdout and stderr, all runs.
    std::string log() const;
    void write_policy(const std::string& text, mode_t mode = 0644) const;

    const AuditLog& audit() const { return audit_; }

    // breakglassctl argv: {ctl, args..., --socket, socket()}.
    std::vector<std::string> ctl(std::vector<std::string> args) const;

    // As root through the protocol. Each throws when the daemon does not answer.
    std::vector<unsigned char> enroll_totp(const std::string& user);  // a fresh random secret
    proto::Message grant(const proto::GrantRequest& request);         // Granted or ErrorAnswer
    proto::Message grant(const std::string& user, const std::string& gate, const std::string& code,
                         std::int64_t ttl_seconds = 0);
    void revoke(const std::string& event_id);  // throws if refused
    bool active(const std::string& user, const std::string& gate);
    proto::StatusAnswer status(bool all);
    // Any request, answered with `expected` or ErrorAnswer.
    proto::Message call(const proto::Message& request, proto::MessageType expected);

private:
    ScratchDir dir_;
    std::string socket_, state_, policy_, log_;
    DaemonOptions options_;
    AuditLog audit_;
    std::unique_ptr<ChildProcess> process_;
};

}  // namespace bg::test
