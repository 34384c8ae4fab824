// SPDX-License-Identifier: ISC
// System-test tool (not installed; copied into the test container): runs a
// command as an unprivileged user on a new pseudo-terminal, as a login session
// would (loginuid set to the user's uid first, best effort), and types answers
// once their prompts appear, as the sudo host tests do (tests/sudo/sudo_env.cpp).
//
//   bg_pty_drive --user USER [--timeout SECONDS] -- COMMAND [ARG...]
//
// The answers come on standard input, never in argv (one-time codes): one per
// line, "PROMPT<TAB>REPLY", typed in order, each after its prompt was seen.
// Everything written to the terminal is copied to standard output. Exit status:
// the command's (128+N if killed by signal N), 124 on timeout (the command's
// process group is killed), 125 on a usage or setup error.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <iostream>
#include <poll.h>
#include <pty.h>
#include <pwd.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr, "bg_pty_drive: %s\nusage: bg_pty_drive --user USER [--timeout SECONDS] -- COMMAND [ARG...]\n",
                 why);
    std::exit(125);
}

void write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        data += n;
        size -= static_cast<std::size_t>(n);
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
            usage(("unknown argument " + a).c_str());
        }
    }
    if (user.empty() || i >= argc || timeout_s <= 0) usage("--user and a command are required");

    std::vector<std::pair<std::string, std::string>> answers;
    if (!::isatty(0)) {
        std::string line;
        while (std::getline(std::cin, line)) {
            const auto tab = line.find('\t');
            if (tab == std::string::npos) usage("an answer line has no TAB");
            answers.emplace_back(line.substr(0, tab), line.substr(tab + 1));
        }
    }

    const passwd* pw = ::getpwnam(user.c_str());
    if (pw == nullptr) usage(("no user " + user).c_str());
    const uid_t uid = pw->pw_uid;
    const gid_t gid = pw->pw_gid;

    int master = -1;
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    if (pid < 0) {
        std::perror("bg_pty_drive: forkpty");
        return 125;
    }
    if (pid == 0) {
        const std::string loginuid = std::to_string(uid);
        const int fd = ::open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            (void)!::write(fd, loginuid.data(), loginuid.size());
            ::close(fd);
        }
        if (::initgroups(user.c_str(), gid) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(121);
        if (::chdir("/") != 0) ::_exit(122);
        static char path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
        static char term[] = "TERM=dumb";
        static char lang[] = "LANG=C";
        const std::string home_var = std::string("HOME=") + pw->pw_dir;
        const std::string user_var = "USER=" + user;
        const std::string logname_var = "LOGNAME=" + user;
        char* env[] = {path, term, lang, const_cast<char*>(home_var.c_str()), const_cast<char*>(user_var.c_str()),
                       const_cast<char*>(logname_var.c_str()), nullptr};
        ::execve(argv[i], argv + i, env);
        ::_exit(127);
    }

    std::string output;
    std::size_t answered = 0, searched_from = 0;
    bool timed_out = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
            timed_out = true;
            break;
        }
        pollfd p{master, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) continue;
        char buffer[4096];
        const ssize_t n = ::read(master, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // EIO: the last process on the terminal has gone
        write_all(1, buffer, static_cast<std::size_t>(n));
        output.append(buffer, static_cast<std::size_t>(n));
        if (answered < answers.size()) {
            const auto& [prompt, reply] = answers[answered];
            const std::size_t at = output.find(prompt, searched_from);
            if (at != std::string::npos) {
                const std::string typed = reply + "\n";
                write_all(master, typed.data(), typed.size());
                searched_from = at + prompt.size();
                ++answered;
            }
        }
    }
    ::close(master);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) {
        std::fprintf(stderr, "bg_pty_drive: timed out after %d s (%zu of %zu answers typed)\n", timeout_s, answered,
                     answers.size());
        return 124;
    }
    if (answered < answers.size())
        std::fprintf(stderr, "bg_pty_drive: only %zu of %zu answers typed\n", answered, answers.size());
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
