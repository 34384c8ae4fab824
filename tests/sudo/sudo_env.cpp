// SPDX-License-Identifier: ISC
#include "tests/sudo/sudo_env.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pty.h>
#include <pwd.h>
#include <sched.h>
#include <stdexcept>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/process.hpp"

namespace bg::test {

const char* const kSudoPolicy = R"(# breakglass_sudo test policy
[defaults]
max_ttl = "1h"
incident_pattern = '^INC-[0-9]+$'
factors = ["totp"]

[gate.breakglass]
description = "sudo -g bgsudo-gate, guarded by breakglass_sudo.so in the tests"
sudo_runas_group = "bgsudo-gate"
requesters = ["bgsudo-alice"]
ttl = "10m"

[gate.breakglass-svc]
description = "sudo -u bgsudo-svc, guarded by breakglass_sudo.so in the tests"
sudo_runas_user = "bgsudo-svc"
requesters = ["bgsudo-alice"]
ttl = "10m"
)";

namespace {

constexpr const char* kSudo = "/usr/bin/sudo";
constexpr const char* kPlugin = BG_SUDO_PLUGIN_PATH;

void must(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error(what + ": " + std::strerror(errno));
}

void enter_private_namespace() {
    static bool entered = false;
    if (entered) return;
    must(::unshare(CLONE_NEWNS) == 0, "unshare(CLONE_NEWNS)");
    must(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0, "mount --make-rprivate /");
    entered = true;
}

void remove_accounts() {
    for (const char* user : {kSudoUser, kSudoServiceUser}) {
        (void)run({"/usr/sbin/userdel", user});
        (void)run({"/usr/sbin/groupdel", user});
    }
    (void)run({"/usr/sbin/groupdel", kSudoGateGroup});
    (void)run({"/usr/sbin/groupdel", kSudoOtherGroup});
}

void run_or_throw(const std::vector<std::string>& argv) {
    const ProcessResult r = run(argv);
    if (r.exit_code != 0) throw std::runtime_error(argv[0] + " failed: " + r.err);
}

// Drops to kSudoUser in a forked child (with loginuid set first, as pam_loginuid would).
void become_user_in_child() {
    const passwd* pw = ::getpwnam(kSudoUser);
    if (pw == nullptr) ::_exit(120);
    const std::string loginuid = std::to_string(pw->pw_uid);
    const int fd = ::open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)!::write(fd, loginuid.data(), loginuid.size());
        ::close(fd);
    }
    if (::initgroups(kSudoUser, pw->pw_gid) != 0 || ::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0)
        ::_exit(121);
    if (::chdir("/") != 0) ::_exit(122);
}

std::vector<char*> c_argv(std::vector<std::string>& argv) {
    std::vector<char*> out;
    for (auto& a : argv) out.push_back(a.data());
    out.push_back(nullptr);
    return out;
}

char* const* test_environment() {
    static char path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    static char term[] = "TERM=dumb";
    static char lang[] = "LANG=C";
    static char* env[] = {path, term, lang, nullptr};
    return env;
}

int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

std::string sudo_environment_missing() {
    if (::geteuid() != 0) return "needs root (creates users, mounts in a private namespace)";
    if (::access(kSudo, X_OK) != 0) return "no /usr/bin/sudo";
    if (::access("/etc/sudo.conf", F_OK) != 0) return "no /etc/sudo.conf to mount over";
    if (::access("/usr/sbin/useradd", X_OK) != 0) return "no useradd";
    return "";
}

SudoHost::SudoHost() {
    enter_private_namespace();
    remove_accounts();  // left over from an interrupted run
    run_or_throw({"/usr/sbin/groupadd", kSudoGateGroup});
    run_or_throw({"/usr/sbin/groupadd", kSudoOtherGroup});
    run_or_throw({"/usr/sbin/useradd", "-M", "-U", "-d", "/", "-s", "/bin/sh", kSudoUser});
    run_or_throw({"/usr/sbin/useradd", "-M", "-U", "-d", "/", "-s", "/bin/sh", kSudoServiceUser});
    // One lookup at a time: getpwnam/getgrnam return pointers into one static buffer.
    const passwd* pw = ::getpwnam(kSudoUser);
    if (pw == nullptr) throw std::runtime_error("test user missing");
    uid_ = pw->pw_uid;
    const passwd* service = ::getpwnam(kSudoServiceUser);
    if (service == nullptr) throw std::runtime_error("test service user missing");
    service_uid_ = service->pw_uid;
    const group* gate = ::getgrnam(kSudoGateGroup);
    if (gate == nullptr) throw std::runtime_error("test gate group missing");
    gate_gid_ = gate->gr_gid;
    const group* other = ::getgrnam(kSudoOtherGroup);
    if (other == nullptr) throw std::runtime_error("test other group missing");
    other_gid_ = other->gr_gid;
}

SudoHost::~SudoHost() { remove_accounts(); }

BindMount::BindMount(const std::string& source, const std::string& target) : target_(target) {
    must(::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) == 0, "bind mount over " + target);
}

BindMount::~BindMount() { ::umount2(target_.c_str(), MNT_DETACH); }

std::string plugin_sudo_conf(const std::string& plugin_options) {
    std::string conf = "# breakglass_sudo test sudo.conf\n";
    if (!plugin_options.empty()) {
        conf += "Plugin breakglass_approval " + std::string(kPlugin) + " " + plugin_options + "\n";
        conf += "Plugin breakglass_audit " + std::string(kPlugin) + " " + plugin_options + "\n";
    }
    return conf;
}

std::string test_sudoers() {
    return std::string("# breakglass_sudo test sudoers\n"
                       "Defaults env_reset\n"
                       "Defaults secure_path=\"/usr/sbin:/usr/bin:/sbin:/bin\"\n"
                       "Defaults !lecture, !syslog, !fqdn\n"
                       "root ALL=(ALL:ALL) ALL\n") +
           kSudoUser + " ALL=(:" + kSudoGateGroup + "," + kSudoOtherGroup + ") NOPASSWD: ALL\n" + kSudoUser + " ALL=(" +
           kSudoServiceUser + ") NOPASSWD: ALL\n" + kSudoUser + " ALL=(root) NOPASSWD: /usr/bin/id\n";
}

namespace {
std::string written(const std::string& path, const std::string& text, mode_t mode) {
    write_file(path, text, mode);
    ::chmod(path.c_str(), mode);
    return path;
}
}  // namespace

SudoConfig::SudoConfig(const std::string& dir, const std::string& sudo_conf)
    : conf_(written(dir + "/sudo.conf", sudo_conf, 0644), "/etc/sudo.conf"),
      sudoers_(written(dir + "/sudoers", test_sudoers(), 0440), "/etc/sudoers") {}

SudoRun run_on_terminal(const std::vector<std::string>& argv,
                        const std::vector<std::pair<std::string, std::string>>& answers, int timeout_ms) {
    int master = -1;
    const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
    must(pid >= 0, "forkpty");
    if (pid == 0) {
        become_user_in_child();
        std::vector<std::string> copy = argv;
        ::execve(copy[0].c_str(), c_argv(copy).data(), test_environment());
        ::_exit(127);
    }
    SudoRun out;
    std::size_t searched_from = 0;  // prompts are looked for after the previous one
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            ::kill(pid, SIGKILL);
            out.exit_code = -2;
            break;
        }
        pollfd p{master, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
        char buffer[4096];
        const ssize_t n = ::read(master, buffer, sizeof buffer);
        if (n <= 0) break;  // EIO: the last process on the terminal has gone
        out.output.append(buffer, static_cast<std::size_t>(n));
        if (out.answered < answers.size()) {
            const auto& [prompt, line] = answers[out.answered];
            const std::size_t at = out.output.find(prompt, searched_from);
            if (at != std::string::npos) {
                const std::string typed = line + "\n";
                (void)!::write(master, typed.data(), typed.size());
                searched_from = at + prompt.size();
                ++out.answered;
            }
        }
    }
    ::close(master);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (out.exit_code != -2) out.exit_code = exit_code_of(status);
    return out;
}

int run_quietly(const std::vector<std::string>& argv) {
    const pid_t pid = ::fork();
    must(pid >= 0, "fork");
    if (pid == 0) {
        const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(null, 1) < 0 || ::dup2(null, 2) < 0) ::_exit(123);
        ::setsid();  // no controlling terminal
        become_user_in_child();
        std::vector<std::string> copy = argv;
        ::execve(copy[0].c_str(), c_argv(copy).data(), test_environment());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return exit_code_of(status);
}

}  // namespace bg::test
