// SPDX-License-Identifier: ISC
// Driving a program on a new pseudo-terminal, as a person at a terminal
// would: run it (as a user, with loginuid set first as a login session
// would), wait for each prompt to appear and type its answer, copy everything
// the terminal showed. The sudo tests, bench_sudo and the system-test tool
// tests/system/pty_drive.cpp all use this one implementation, so it depends on
// nothing but libc and libutil (the system test compiles it with g++ alone).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bg::test {

struct PtyAnswer {
    std::string prompt;  // typed once this text has appeared (after the previous prompt)
    std::string reply;   // typed followed by a newline
    bool raw = false;    // typed as is, without the newline ("\x03": Ctrl-C on a terminal with ISIG)
    // When set, what to type instead of `reply`, made from everything the
    // terminal has shown so far (an answer that depends on the program's
    // output: an offline approval token for the request code it showed).
    std::function<std::string(std::string_view shown)> reply_from = {};
};

struct PtyOptions {
    std::string user;                      // run as this user with its groups; "" = unchanged
    bool set_loginuid = true;              // write the user's uid to /proc/self/loginuid (best effort)
    std::vector<std::string> environment;  // the program's whole environment, "NAME=value"
    std::string working_directory = "/";
    std::chrono::milliseconds timeout{20000};           // then the program's process group is SIGKILLed
    std::function<void(std::string_view)> on_output;   // each chunk as the terminal shows it
};

struct PtySession {
    int exit_code = -1;        // 128+N when killed by signal N
    bool timed_out = false;
    std::string output;        // everything shown on the terminal
    std::size_t answered = 0;  // answers typed
};

// Runs argv (argv[0] an absolute path) to completion on a new terminal.
// Throws std::runtime_error when it cannot start (no such user, forkpty).
PtySession run_on_pty(const std::vector<std::string>& argv, const std::vector<PtyAnswer>& answers,
                      const PtyOptions& options);

}  // namespace bg::test
