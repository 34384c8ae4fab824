// SPDX-License-Identifier: ISC
// System-test tool (not installed; copied into the test container): runs a
// command as an unprivileged user on a new pseudo-terminal, as a login session
// would (loginuid set to the user's uid first, best effort), and types answers
// once their prompts appear: the test fixture's pty driver
// (tests/support/pty_session.cpp), which the sudo host tests use too.
//
//   bg_pty_drive --user USER [--timeout SECONDS] -- COMMAND [ARG...]
//
// The answers come on standard input, never in argv (one-time codes): one per
// line, "PROMPT<TAB>REPLY", typed in order, each after its prompt was seen.
// Everything written to the terminal is copied to standard output. Exit status:
// the command's (128+N if killed by signal N), 124 on timeout (the command's
// process group is killed), 125 on a usage or setup error.
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/pty_session.hpp"

namespace {

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr, "bg_pty_drive: %s\nusage: bg_pty_drive --user USER [--timeout SECONDS] -- COMMAND [ARG...]\n",
                 why.c_str());
    std::exit(125);
}

void write_all(std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(1, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string user;
    int timeout_s = 60;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a == "--user" && i + 1 < argc) {
            user = argv[++i];
        } else if (a == "--timeout" && i + 1 < argc) {
            timeout_s = std::atoi(argv[++i]);
        } else {
            usage("unknown argument " + a);
        }
    }
    if (user.empty() || i >= argc || timeout_s <= 0) usage("--user and a command are required");

    std::vector<bg::test::PtyAnswer> answers;
    if (!::isatty(0)) {
        std::string line;
        while (std::getline(std::cin, line)) {
            const auto tab = line.find('\t');
            if (tab == std::string::npos) usage("an answer line has no TAB");
            answers.push_back({line.substr(0, tab), line.substr(tab + 1)});
        }
    }
    const passwd* pw = ::getpwnam(user.c_str());
    if (pw == nullptr) usage("no user " + user);

    bg::test::PtyOptions options;
    options.user = user;
    options.environment = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=dumb", "LANG=C",
                           std::string("HOME=") + pw->pw_dir, "USER=" + user, "LOGNAME=" + user};
    options.timeout = std::chrono::seconds(timeout_s);
    options.on_output = write_all;
    bg::test::PtySession session;
    try {
        session = bg::test::run_on_pty(std::vector<std::string>(argv + i, argv + argc), answers, options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bg_pty_drive: %s\n", e.what());
        return 125;
    }
    if (session.timed_out) {
        std::fprintf(stderr, "bg_pty_drive: timed out after %d s (%zu of %zu answers typed)\n", timeout_s,
                     session.answered, answers.size());
        return 124;
    }
    if (session.answered < answers.size())
        std::fprintf(stderr, "bg_pty_drive: only %zu of %zu answers typed\n", session.answered, answers.size());
    return session.exit_code;
}
