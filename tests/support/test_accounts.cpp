// SPDX-License-Identifier: ISC
#include "tests/support/test_accounts.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/run_directory.hpp"

namespace bg::test {
namespace {

constexpr std::size_t kMaxNameLength = 32;  // useradd on Debian

// Every process whose real, effective, saved or filesystem uid is `uid`.
std::vector<pid_t> processes_of(uid_t uid) {
    std::vector<pid_t> out;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return out;
    while (const dirent* e = ::readdir(proc)) {
        char* end = nullptr;
        const long pid = std::strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end != '\0') continue;
        std::istringstream status(read_file(std::string("/proc/") + e->d_name + "/status"));
        for (std::string line; std::getline(status, line);) {
            if (line.starts_with("State:\tZ")) break;  // dead already: its reaper will collect it
            if (!line.starts_with("Uid:")) continue;
            std::istringstream ids(line.substr(4));
            for (unsigned long id = 0; ids >> id;)
                if (id == uid) {
                    out.push_back(static_cast<pid_t>(pid));
                    break;
                }
            break;
        }
    }
    ::closedir(proc);
    return out;
}

// userdel refuses a user with running processes; a test's leftovers (a sudo
// that outlived its terminal, say) must not keep the account alive.
void kill_processes_of(uid_t uid) {
    for (int round = 0; round < 100; ++round) {
        const auto pids = processes_of(uid);
        if (pids.empty()) return;
        for (pid_t p : pids) ::kill(p, SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void run_or_throw(const std::vector<std::string>& argv) {
    const ProcessResult r = run(argv);
    if (r.exit_code != 0) {
        std::string cmd;
        for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
        throw std::runtime_error(cmd + " failed (exit " + std::to_string(r.exit_code) + "): " + r.err);
    }
}

void delete_user(const std::string& name) {
    if (const passwd* pw = ::getpwnam(name.c_str())) kill_processes_of(pw->pw_uid);
    // userdel also counts processes that are dead but not yet collected by
    // their reaper (PID 1, after the test process died): wait for it.
    ProcessResult r;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while ((r = run({"/usr/sbin/userdel", name})).exit_code != 0 &&
           r.err.find("currently used by process") != std::string::npos &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (r.exit_code != 0) std::fprintf(stderr, "test accounts: userdel %s: %s", name.c_str(), r.err.c_str());
}

void delete_group(const std::string& name) {
    const ProcessResult r = run({"/usr/sbin/groupdel", name});
    if (r.exit_code != 0) std::fprintf(stderr, "test accounts: groupdel %s: %s", name.c_str(), r.err.c_str());
}

// Names from the files useradd writes (not NSS: a leftover is in /etc).
std::vector<std::string> names_in(const std::string& path, const std::string& prefix) {
    std::vector<std::string> out;
    std::istringstream in(read_file(path));
    for (std::string line; std::getline(in, line);)
        if (line.starts_with(prefix)) out.push_back(line.substr(0, line.find(':')));
    return out;
}

}  // namespace

std::string unique_name(std::string_view role) {
    if (role.empty()) throw std::invalid_argument("an account role is empty");
    for (char c : role)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            throw std::invalid_argument("account role '" + std::string(role) + "' is not [a-z0-9-]");
    std::string name = run_account_prefix() + std::string(role);
    if (name.size() > kMaxNameLength)
        throw std::invalid_argument("account name " + name + " is longer than 32 characters");
    return name;
}

TestGroup::TestGroup(std::string_view role) : name_(unique_name(role)) {
    run_or_throw({"/usr/sbin/groupadd", "--system", name_});
    const group* g = ::getgrnam(name_.c_str());
    if (g == nullptr) throw std::runtime_error("group " + name_ + " missing after groupadd");
    gid_ = g->gr_gid;
}

TestGroup::~TestGroup() { delete_group(name_); }

TestUser::TestUser(std::string_view role, const UserOptions& options) : name_(unique_name(role)) {
    std::vector<std::string> argv = {"/usr/sbin/useradd", "--system", "--no-create-home", "--home-dir", "/",
                                     "--user-group", "--shell", options.shell};
    if (!options.groups.empty()) {
        std::string list;
        for (const auto& g : options.groups) list += (list.empty() ? "" : ",") + g;
        argv.insert(argv.end(), {"--groups", list});
    }
    argv.push_back(name_);
    run_or_throw(argv);
    const passwd* pw = ::getpwnam(name_.c_str());
    if (pw == nullptr) throw std::runtime_error("user " + name_ + " missing after useradd");
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
}

TestUser::~TestUser() { delete_user(name_); }

std::vector<std::string> remove_accounts_with_prefix(const std::string& prefix) {
    std::vector<std::string> removed;
    for (const std::string& user : names_in("/etc/passwd", prefix)) {
        delete_user(user);
        removed.push_back("user " + user);
    }
    for (const std::string& group : names_in("/etc/group", prefix)) {
        delete_group(group);
        removed.push_back("group " + group);
    }
    return removed;
}

}  // namespace bg::test
