// SPDX-License-Identifier: ISC
#include "tests/support/pty_session.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pty.h>
#include <pwd.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bg::test {
namespace {

struct Identity {
    bool change = false;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
};

// Looked up before fork: NSS is not async-signal-safe.
Identity identity_of(const std::string& user) {
    Identity id;
    if (user.empty()) return id;
    const passwd* pw = ::getpwnam(user.c_str());
    if (pw == nullptr) throw std::runtime_error("no user " + user);
    id.change = true;
    id.uid = pw->pw_uid;
    id.gid = pw->pw_gid;
    int count = 64;
    for (;;) {
        id.groups.resize(static_cast<std::size_t>(count));
        int n = count;
        if (::getgrouplist(user.c_str(), id.gid, id.groups.data(), &n) >= 0) {
            id.groups.resize(static_cast<std::size_t>(n));
            return id;
        }
        count = n > count ? n : count * 2;
    }
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

std::vector<char*> c_strings(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

}  // namespace

PtySession run_on_pty(const std::vector<std::string>& argv, const std::vector<PtyAnswer>& answers,
                      const PtyOptions& options) {
    if (argv.empty() || argv[0].empty() || argv[0][0] != '/') throw std::runtime_error("run_on_pty: argv[0] must be absolute");
    const Identity id = identity_of(options.user);
    std::vector<std::string> args = argv, env = options.environment;
    const auto c_args = c_strings(args);
    const auto c_env = c_strings(env);
    const std::string loginuid = std::to_string(id.uid);
    const pid_t parent = ::getpid();

    int master = -1;
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    if (pid < 0) throw std::runtime_error(std::string("forkpty: ") + std::strerror(errno));
    if (pid == 0) {
        ::signal(SIGPIPE, SIG_DFL);
        if (id.change) {
            if (options.set_loginuid) {
                const int fd = ::open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
                if (fd >= 0) {
                    (void)!::write(fd, loginuid.data(), loginuid.size());
                    ::close(fd);
                }
            }
            if (::setgroups(id.groups.size(), id.groups.data()) != 0 || ::setresgid(id.gid, id.gid, id.gid) != 0 ||
                ::setresuid(id.uid, id.uid, id.uid) != 0)
                ::_exit(121);
        }
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // after the credentials change, which clears it
        if (::getppid() != parent) ::_exit(121);
        if (::chdir(options.working_directory.c_str()) != 0) ::_exit(122);
        ::execve(c_args[0], c_args.data(), c_env.data());
        ::_exit(127);
    }

    PtySession out;
    std::size_t searched_from = 0;  // each prompt is looked for after the previous one
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            ::kill(-pid, SIGKILL);  // forkpty made it a session (and process group) leader
            ::kill(pid, SIGKILL);
            out.timed_out = true;
            break;
        }
        pollfd p{master, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left));
        if (ready <= 0) continue;  // EINTR or the deadline: checked above
        char buffer[4096];
        const ssize_t n = ::read(master, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // EIO: the last process on the terminal has gone
        const std::string_view chunk(buffer, static_cast<std::size_t>(n));
        if (options.on_output) options.on_output(chunk);
        out.output.append(chunk);
        while (out.answered < answers.size()) {
            const PtyAnswer& a = answers[out.answered];
            const std::size_t at = out.output.find(a.prompt, searched_from);
            if (at == std::string::npos) break;
            const std::string reply = a.reply_from ? a.reply_from(out.output) : a.reply;
            const std::string typed = a.raw ? reply : reply + "\n";
            write_all(master, typed.data(), typed.size());
            searched_from = at + a.prompt.size();
            ++out.answered;
        }
    }
    ::close(master);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
    return out;
}

}  // namespace bg::test
