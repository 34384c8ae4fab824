// SPDX-License-Identifier: ISC
#include "tests/support/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace bg::test {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
    std::vector<char*> out;
    for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
    out.push_back(nullptr);
    return out;
}

// In the child, between fork and exec: only async-signal-safe calls.
void become(const Credentials& c) {
    if (::setgroups(c.groups.size(), c.groups.data()) != 0 || ::setresgid(c.gid, c.gid, c.gid) != 0 ||
        ::setresuid(c.uid, c.uid, c.uid) != 0)
        ::_exit(125);
}

// A set-user-ID-root program run by the user of `c`: the real ids are the
// user's, the effective and saved uid root's.
void become_set_user_id(const Credentials& c) {
    if (::setgroups(c.groups.size(), c.groups.data()) != 0 || ::setresgid(c.gid, c.gid, c.gid) != 0 ||
        ::setresuid(c.uid, 0, 0) != 0)
        ::_exit(125);
}

// Changing credentials clears the parent-death signal, so this comes after become().
void die_with(pid_t parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(125);
}

void reset_child_state() {
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::close_range(3, ~0U, 0);  // nothing of the test (ptys, pipes, sockets) leaks into the child
}

void write_error(const char* what, const char* path) {
    const char* why = std::strerror(errno);
    (void)!::write(2, what, std::strlen(what));
    (void)!::write(2, path, std::strlen(path));
    (void)!::write(2, ": ", 2);
    (void)!::write(2, why, std::strlen(why));
    (void)!::write(2, "\n", 1);
}

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

// Waits for pid until the deadline; nullopt when it still runs then.
std::optional<int> wait_until(pid_t pid, Clock::time_point deadline) {
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0 && errno != EINTR) return 0;  // not our child any more: treat as ended
        if (Clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

int wait_forever(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

}  // namespace

int exit_code_of(int wait_status) {
    if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
    return -1;
}

Credentials credentials_of(const std::string& user) {
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buffer(16384);
    int rc = 0;
    while ((rc = ::getpwnam_r(user.c_str(), &pw, buffer.data(), buffer.size(), &found)) == ERANGE)
        buffer.resize(buffer.size() * 2);
    if (rc != 0 || found == nullptr) throw std::runtime_error("no user " + user);
    Credentials c;
    c.uid = pw.pw_uid;
    c.gid = pw.pw_gid;
    int count = 32;
    for (;;) {
        c.groups.resize(static_cast<std::size_t>(count));
        int n = count;
        if (::getgrouplist(user.c_str(), pw.pw_gid, c.groups.data(), &n) >= 0) {
            c.groups.resize(static_cast<std::size_t>(n));
            break;
        }
        count = n > count ? n : count * 2;
    }
    return c;
}

Credentials credentials_of(const std::string& user, std::vector<gid_t> exact_groups) {
    Credentials c = credentials_of(user);
    c.groups = std::move(exact_groups);
    return c;
}

ProcessResult run(const std::vector<std::string>& argv, const RunOptions& options) {
    if (argv.empty() || argv[0].empty() || argv[0][0] != '/') throw std::runtime_error("run: argv[0] must be absolute");
    // A child that exits before reading all of `input` (a usage error) makes
    // the write below fail with EPIPE; the default SIGPIPE would kill the
    // test instead. The child gets SIG_DFL back (reset_child_state).
    ::signal(SIGPIPE, SIG_IGN);
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    auto args = c_argv(argv);
    std::vector<char*> env;
    if (options.environment) env = c_argv(*options.environment);
    const std::string loginuid = options.as ? std::to_string(options.as->uid) : "";
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        reset_child_state();
        if (options.new_session) ::setsid();
        if (options.as && options.set_loginuid) {
            const int fd = ::open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
            if (fd >= 0) {
                (void)!::write(fd, loginuid.data(), loginuid.size());
                ::close(fd);
            }
        }
        if (options.as) become(*options.as);
        die_with(parent);
        if (!options.working_directory.empty() && ::chdir(options.working_directory.c_str()) != 0) ::_exit(125);
        if (options.environment) ::execve(args[0], args.data(), env.data());
        else ::execv(args[0], args.data());
        write_error("exec ", args[0]);
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    ::fcntl(in[1], F_SETFL, O_NONBLOCK);
    std::size_t written = 0;
    if (options.input.empty()) {
        ::close(in[1]);
        in[1] = -1;
    }
    ProcessResult r;
    const auto deadline = Clock::now() + options.timeout;
    pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in[1], POLLOUT, 0}};
    char buf[8192];
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        const int ready = ::poll(fds, 3, remaining_ms(deadline));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) {
            r.timed_out = true;
            ::kill(pid, SIGKILL);
            break;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
            } else {
                (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
            }
        }
        if (fds[2].fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
            const ssize_t n = ::write(fds[2].fd, options.input.data() + written, options.input.size() - written);
            if (n > 0) written += static_cast<std::size_t>(n);
            if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == options.input.size()) {
                ::close(fds[2].fd);
                fds[2].fd = -1;
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) ::close(f.fd);
    r.exit_code = exit_code_of(wait_forever(pid));
    return r;
}

ProcessResult run(const std::vector<std::string>& argv, const std::string& input) {
    RunOptions o;
    o.input = input;
    return run(argv, o);
}

ProcessResult run_as(const std::string& user, const std::vector<std::string>& argv, const std::string& input) {
    RunOptions o;
    o.input = input;
    o.as = credentials_of(user);
    return run(argv, o);
}

int run_function_as(const std::string& user, const std::function<int()>& body, std::chrono::milliseconds timeout) {
    return FunctionChild(user, body).wait(timeout);
}

FunctionChild::FunctionChild(const std::string& user, const std::function<int()>& body) {
    const Credentials c = credentials_of(user);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) {
        become(c);
        die_with(parent);
        ::_exit(body());
    }
}

FunctionChild::~FunctionChild() {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, SIGKILL);
        status_ = wait_forever(pid_);
    }
}

int FunctionChild::wait(std::chrono::milliseconds timeout) {
    if (status_) return timed_out_ ? 124 : exit_code_of(*status_);
    const auto status = wait_until(pid_, Clock::now() + timeout);
    if (!status) {
        ::kill(pid_, SIGKILL);
        status_ = wait_forever(pid_);
        timed_out_ = true;
        return 124;
    }
    status_ = status;
    return exit_code_of(*status);
}

int run_function_set_user_id(const std::string& invoker, const std::function<int()>& body,
                             std::chrono::milliseconds timeout) {
    const Credentials c = credentials_of(invoker);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        become_set_user_id(c);
        die_with(parent);
        ::_exit(body());
    }
    const auto status = wait_until(pid, Clock::now() + timeout);
    if (!status) {
        ::kill(pid, SIGKILL);
        (void)wait_forever(pid);
        return 124;
    }
    return exit_code_of(*status);
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const SpawnOptions& options) {
    if (argv.empty() || argv[0].empty() || argv[0][0] != '/') throw std::runtime_error("spawn: argv[0] must be absolute");
    auto args = c_argv(argv);
    const std::string log = options.log_path.empty() ? "/dev/null" : options.log_path;
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) {
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || null < 0) ::_exit(126);
        ::dup2(null, 0);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        reset_child_state();
        if (options.ignore_sigterm) ::signal(SIGTERM, SIG_IGN);
        if (options.as) become(*options.as);
        die_with(parent);
        ::execv(args[0], args.data());
        write_error("exec ", args[0]);
        ::_exit(127);
    }
}

ChildProcess::~ChildProcess() {
    if (pid_ > 0 && !status_) {
        ::kill(pid_, SIGKILL);
        status_ = wait_forever(pid_);
    }
}

bool ChildProcess::running() {
    if (status_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
    return !status_;
}

bool ChildProcess::ended_within(std::chrono::milliseconds limit) {
    if (status_) return true;
    status_ = wait_until(pid_, Clock::now() + limit);
    return status_.has_value();
}

bool ChildProcess::wait_for_comm(const std::string& name, std::chrono::milliseconds limit) {
    const std::string path = "/proc/" + std::to_string(pid_) + "/comm";
    const auto deadline = Clock::now() + limit;
    for (;;) {
        char buf[64] = {};
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            const ssize_t n = ::read(fd, buf, sizeof buf - 1);
            ::close(fd);
            if (n > 0 && std::string(buf, static_cast<std::size_t>(n)) == name + "\n") return true;
        }
        if (!running() || Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

void ChildProcess::stop(int sig, std::chrono::milliseconds grace) {
    if (status_) return;
    ::kill(pid_, sig);
    status_ = wait_until(pid_, Clock::now() + grace);
    if (!status_) {
        ::kill(pid_, SIGKILL);
        status_ = wait_forever(pid_);
    }
}

bool ChildProcess::exited_with(int code) const { return status_ && WIFEXITED(*status_) && WEXITSTATUS(*status_) == code; }
bool ChildProcess::killed_by(int sig) const { return status_ && WIFSIGNALED(*status_) && WTERMSIG(*status_) == sig; }

}  // namespace bg::test
