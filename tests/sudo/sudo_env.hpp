// SPDX-License-Identifier: ISC
// Real sudo for the breakglass_sudo.so tests and benchmark, changing nothing
// on the host: the process enters a private mount namespace, and a test
// sudo.conf and sudoers are bind-mounted over /etc/sudo.conf and /etc/sudoers
// there only. The users and groups it needs (bgsudo-*) are created for the
// run and removed afterwards. Needs root.
//
// sudo reads the break-glass answers from the terminal, so sudo runs on a
// pseudo-terminal (forkpty) and each answer is typed once its prompt appears.
// No gtest in here: failures throw std::runtime_error.
#pragma once

#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace bg::test {

inline constexpr const char* kSudoUser = "bgsudo-alice";     // requester of the gate
inline constexpr const char* kSudoGateGroup = "bgsudo-gate";  // run-as group of gate "breakglass"
inline constexpr const char* kSudoOtherGroup = "bgsudo-other";  // a run-as group no gate uses
inline constexpr const char* kSudoGate = "breakglass";
inline constexpr const char* kSudoServiceUser = "bgsudo-svc";      // run-as user of gate "breakglass-svc"
inline constexpr const char* kSudoServiceGate = "breakglass-svc";

// Policy for TestDaemon: gate "breakglass" ↔ sudo_runas_group bgsudo-gate and gate
// "breakglass-svc" ↔ sudo_runas_user bgsudo-svc, requester bgsudo-alice for both.
extern const char* const kSudoPolicy;

// Why the sudo tests cannot run here ("" = they can): not root, no sudo, no unshare.
std::string sudo_environment_missing();

// Enters a private mount namespace (once per process) and creates the bgsudo-*
// accounts; the destructor removes them.
class SudoHost {
public:
    SudoHost();
    ~SudoHost();
    SudoHost(const SudoHost&) = delete;
    SudoHost& operator=(const SudoHost&) = delete;

    uid_t user_uid() const { return uid_; }
    uid_t service_uid() const { return service_uid_; }
    gid_t gate_gid() const { return gate_gid_; }
    gid_t other_gid() const { return other_gid_; }

private:
    uid_t uid_ = 0, service_uid_ = 0;
    gid_t gate_gid_ = 0, other_gid_ = 0;
};

// A file bind-mounted over another for its lifetime (inside the private namespace).
class BindMount {
public:
    BindMount(const std::string& source, const std::string& target);
    ~BindMount();
    BindMount(const BindMount&) = delete;
    BindMount& operator=(const BindMount&) = delete;

private:
    std::string target_;
};

// The sudo.conf line options for the plugin, or "" to load no breakglass plugin.
std::string plugin_sudo_conf(const std::string& plugin_options);
// sudoers: root, and kSudoUser NOPASSWD as (:bgsudo-gate,bgsudo-other), as bgsudo-svc,
// and as root for /usr/bin/id.
std::string test_sudoers();

// Writes sudo.conf and sudoers into dir and mounts them over /etc for its lifetime.
class SudoConfig {
public:
    SudoConfig(const std::string& dir, const std::string& sudo_conf);

private:
    BindMount conf_, sudoers_;
};

struct SudoRun {
    int exit_code = -1;   // 128+signal when killed, -2 on timeout
    std::string output;   // everything sudo and the command wrote to the terminal
    std::size_t answered = 0;  // how many of the answers were typed
};

// Runs argv as kSudoUser on a new pseudo-terminal, with loginuid set to the
// user's uid (as a login session would). Each answer is {prompt text to wait
// for, line to type}.
SudoRun run_on_terminal(const std::vector<std::string>& argv,
                        const std::vector<std::pair<std::string, std::string>>& answers = {},
                        int timeout_ms = 20000);

// Runs argv as kSudoUser without a terminal (stdin /dev/null), output discarded:
// for the benchmark. Returns the exit code.
int run_quietly(const std::vector<std::string>& argv);

}  // namespace bg::test
