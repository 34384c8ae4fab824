// SPDX-License-Identifier: ISC
// Running real processes from tests, as root or as a test user: one command
// to completion (its output, its exit, a deadline), a function in a child as
// another user (a hostile client), or a process left running (a daemon, a
// session under a grant). No shell is involved; credentials change in the
// child with setresuid, never through argv. Every child dies with the test
// process (PR_SET_PDEATHSIG), so a crashed test leaves no process behind.
// No gtest in here: failures throw std::runtime_error.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace bg::test {

// Who a child runs as: the user's uid, primary gid and groups (as
// initgroups gives them), or exactly `groups` when given.
struct Credentials {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
};
Credentials credentials_of(const std::string& user);
Credentials credentials_of(const std::string& user, std::vector<gid_t> exact_groups);

struct RunOptions {
    std::string input;                      // written to stdin, then stdin is closed
    std::optional<Credentials> as;          // run as this user; root when empty
    bool set_loginuid = false;              // with `as`: loginuid := its uid first, as a login session would
    bool new_session = false;               // setsid(): no controlling terminal
    std::optional<std::vector<std::string>> environment;  // the whole environment ("NAME=value"); inherited when empty
    std::string working_directory;          // "" = unchanged
    std::chrono::milliseconds timeout{60000};  // SIGKILL after this
};

struct ProcessResult {
    int exit_code = -1;      // 128+N when killed by signal N
    bool timed_out = false;  // killed at the deadline
    std::string out;
    std::string err;
};

// Runs argv (argv[0] an absolute path) to completion.
ProcessResult run(const std::vector<std::string>& argv, const RunOptions& options = {});
ProcessResult run(const std::vector<std::string>& argv, const std::string& input);
// The same as `user` (that user's groups).
ProcessResult run_as(const std::string& user, const std::vector<std::string>& argv, const std::string& input = "");

// Runs `body` in a forked child as `user` and returns its exit status (the
// value body returned; 128+N if killed by signal N; 125 if the credentials
// could not be changed; 124 at the deadline).
int run_function_as(const std::string& user, const std::function<int()>& body,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));

// The same, left running while the caller does something else: the child is
// forked here, from the calling thread, and wait() collects its status. (A
// std::thread around run_function_as would fork from that thread; the child
// then holds allocations that only the parent's other threads own, which
// memcheck reports as lost.) The destructor SIGKILLs and reaps a child not
// waited for.
class FunctionChild {
public:
    FunctionChild(const std::string& user, const std::function<int()>& body);
    ~FunctionChild();
    FunctionChild(const FunctionChild&) = delete;
    FunctionChild& operator=(const FunctionChild&) = delete;

    // Its exit status as run_function_as returns it (124: killed at `timeout`).
    int wait(std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    bool timed_out_ = false;
};

// The same in a child that is what a set-user-ID-root program (su, sudo) is
// when `invoker` runs it: real uid and groups the invoker's, effective and
// saved uid 0. The kernel then shows the daemon uid 0 (SO_PEERCRED) and the
// invoker as the process's real uid.
int run_function_set_user_id(const std::string& invoker, const std::function<int()>& body,
                             std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));

struct SpawnOptions {
    std::string log_path;              // stdout and stderr appended here; /dev/null when empty
    std::optional<Credentials> as;     // root when empty
    bool ignore_sigterm = false;       // SIGTERM ignored (stays so across exec)
};

// A process left running. The destructor SIGKILLs and reaps it if it still runs.
class ChildProcess {
public:
    ChildProcess(const std::vector<std::string>& argv, const SpawnOptions& options);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    // Reaps it if it has ended by now (checks once; never blocks).
    bool running();
    // Reaps it if it ends within `limit`; checks at least once.
    bool ended_within(std::chrono::milliseconds limit);
    // Once it has executed its program: /proc/PID/comm is `name` (what the
    // daemon's process scan reports). False after `limit`.
    bool wait_for_comm(const std::string& name, std::chrono::milliseconds limit);
    // Sends `sig` and reaps it; SIGKILL if it is still there after `grace`.
    void stop(int sig, std::chrono::milliseconds grace = std::chrono::milliseconds(10000));

    bool exited_with(int code) const;
    bool killed_by(int sig) const;
    std::optional<int> wait_status() const { return status_; }

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
};

// Decodes a wait status as a shell does: the exit code, or 128+signal.
int exit_code_of(int wait_status);

}  // namespace bg::test
