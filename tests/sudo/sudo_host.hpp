// SPDX-License-Identifier: ISC
// Real sudo (Debian's) for the breakglass_sudo.so tests and bench_sudo,
// changing nothing on the host: the test process enters a private mount
// namespace and bind-mounts a test sudo.conf and sudoers over /etc there
// only; the accounts it needs have names unique to the run (test_accounts.hpp);
// sudo runs as the test user on a pseudo-terminal from the fixture's pty
// driver (or without one, for the benchmark). sudoedit's editor is a script
// the test writes, so nothing depends on which editor the host has installed.
// Needs root. No gtest in here: failures throw std::runtime_error.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/private_mounts.hpp"
#include "tests/support/process.hpp"
#include "tests/support/pty_session.hpp"
#include "tests/support/test_accounts.hpp"

namespace bg::test {

inline constexpr const char* kSudo = "/usr/bin/sudo";
inline constexpr const char* kSudoGate = "breakglass";          // gated by run-as group `gate`
inline constexpr const char* kSudoServiceGate = "breakglass-svc";  // gated by run-as user `service`

// Why the sudo tests cannot run here ("" = they can): not root, no sudo, no sudo.conf.
std::string sudo_environment_missing();

// The accounts: `user` requests both gates; `gate` is the run-as group of
// kSudoGate, `other` a run-as group no gate uses, `service` the run-as user
// of kSudoServiceGate.
struct SudoAccounts {
    TestGroup gate{"sudo-gate"};
    TestGroup other{"sudo-other"};
    TestUser user{"sudo-alice", {.groups = {}, .shell = "/bin/sh"}};
    TestUser service{"sudo-svc", {.groups = {}, .shell = "/bin/sh"}};
};

// The daemon's policy: kSudoGate <-> sudo_runas_group gate, kSudoServiceGate
// <-> sudo_runas_user service, requester user for both.
std::string sudo_policy(const SudoAccounts& accounts);
// gates=GATEGROUP:breakglass (the plugin's usual options, less socket=).
std::string sudo_gates_option(const SudoAccounts& accounts);
// The sudo.conf lines for the plugin, or "" to load no breakglass plugin.
std::string plugin_sudo_conf(const std::string& plugin_options);

// sudo.conf and sudoers written into `dir` and mounted over /etc's for its
// lifetime; sudoers: root, and user NOPASSWD as (:gate,other), as service,
// and as root for /usr/bin/id; sudoedit uses `dir`/editor, which writes
// "edited by the test editor" into the file it is given. With `use_pty`,
// sudoers has "Defaults use_pty" (Debian 12's own sudoers does): sudo then
// runs a monitor process between itself and the command. `extra_defaults`:
// more sudoers lines, written after the Defaults above.
class SudoConfig {
public:
    SudoConfig(const std::string& dir, const SudoAccounts& accounts, const std::string& sudo_conf,
               bool use_pty = false, const std::string& extra_defaults = "");

    static std::string editor_text() { return "edited by the test editor\n"; }

private:
    std::unique_ptr<BindMount> conf_, sudoers_;
};

// Runs argv as accounts.user on a new terminal, with loginuid set to the
// user's uid (as a login session would), typing each answer once its prompt
// appears; sudo's process group is killed at `timeout` (PtySession::timed_out).
// `on_output` sees each chunk the terminal shows, as it comes.
PtySession sudo_on_terminal(const SudoAccounts& accounts, const std::vector<std::string>& argv,
                            const std::vector<PtyAnswer>& answers = {},
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(20000),
                            const std::function<void(std::string_view)>& on_output = {});

// Runs argv as accounts.user without a terminal (empty stdin, no controlling
// terminal), with loginuid set: for `sudo -n` and the benchmark.
ProcessResult sudo_without_terminal(const SudoAccounts& accounts, const std::vector<std::string>& argv);

}  // namespace bg::test
