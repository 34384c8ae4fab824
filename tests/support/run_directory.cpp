// SPDX-License-Identifier: ISC
#include "tests/support/run_directory.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <set>
#include <sstream>
#include <stdexcept>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/files.hpp"
#include "tests/support/test_accounts.hpp"

namespace bg::test {
namespace {

constexpr const char* kTmp = "/tmp";
constexpr const char* kPrefix = "bgt";
constexpr const char* kLockSuffix = ".lock";

std::string random_token() {
    static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char bytes[6];
    if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
        throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
    std::string out;
    for (unsigned char b : bytes) out += kAlphabet[b % (sizeof kAlphabet - 1)];
    return out;
}

std::string lock_path(const std::string& token) { return std::string(kTmp) + "/" + kPrefix + token + kLockSuffix; }
std::string directory_of(const std::string& token) { return std::string(kTmp) + "/" + kPrefix + token; }

// What this process owns on the host, created on first use.
class Run {
public:
    Run() {
        for (const std::string& removed : sweep_dead_runs())
            std::fprintf(stderr, "test support: removed what a dead test run left: %s\n", removed.c_str());
        claim();
    }
    // At a normal exit (the accounts and scratch directories have gone with
    // their owners by then): the run directory, then the lock, last.
    ~Run() {
        std::error_code ignored;
        std::filesystem::remove_all(directory, ignored);
        ::unlink(lock_path(token).c_str());
        ::close(lock_fd);
    }
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;

    std::string token;
    std::string directory;

private:
    // The lock is created under a private name, locked, then linked into
    // place, so no other process ever sees a live run's lock unlocked.
    void claim() {
        for (int attempt = 0; attempt < 20; ++attempt) {
            const std::string candidate = random_token();
            const std::string final_path = lock_path(candidate);
            if (::access(final_path.c_str(), F_OK) == 0 || ::access(directory_of(candidate).c_str(), F_OK) == 0)
                continue;
            const std::string private_path = final_path + ".new" + std::to_string(::getpid());
            const int fd = ::open(private_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
            if (fd < 0) throw std::runtime_error("cannot create " + private_path + ": " + std::strerror(errno));
            const bool mine = ::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::link(private_path.c_str(), final_path.c_str()) == 0;
            ::unlink(private_path.c_str());
            if (!mine) {
                ::close(fd);
                continue;  // another process took this token first
            }
            token = candidate;
            lock_fd = fd;
            directory = directory_of(token);
            if (::mkdir(directory.c_str(), 0755) != 0 || ::chmod(directory.c_str(), 0755) != 0)
                throw std::runtime_error("cannot create " + directory + ": " + std::strerror(errno));
            return;
        }
        throw std::runtime_error("no free run token in /tmp after 20 attempts");
    }

    int lock_fd = -1;
};

const Run& this_run() {
    static const Run run;
    return run;
}

}  // namespace

const std::string& run_token() { return this_run().token; }
std::string run_account_prefix() { return kPrefix + run_token() + "-"; }
const std::string& run_directory() { return this_run().directory; }

ScratchDir::ScratchDir(const std::string& label) {
    std::string tmpl = run_directory() + "/" + label + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
    if (::chmod(tmpl.c_str(), 0755) != 0) throw std::runtime_error("chmod " + tmpl + ": " + std::strerror(errno));
    path_ = tmpl;
}

ScratchDir::~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::vector<std::string> sweep_dead_runs() {
    // Tokens from every trace a run leaves: its lock, its directory, its
    // account names. A live run's lock exists before anything else of it and
    // goes last, so a trace without a lock, or with a lock nobody holds, is dead.
    std::set<std::string> tokens;
    const std::string prefix = kPrefix, suffix = kLockSuffix;
    const auto token_in = [&](const std::string& name, std::size_t token_end) {
        if (name.size() < token_end || !name.starts_with(prefix)) return;
        const std::string token = name.substr(prefix.size(), 6);
        if (token.size() == 6 && std::all_of(token.begin(), token.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            }))
            tokens.insert(token);
    };
    if (DIR* tmp = ::opendir(kTmp)) {
        while (const dirent* e = ::readdir(tmp)) {
            const std::string name = e->d_name;
            if (name.size() == prefix.size() + 6 || (name.size() == prefix.size() + 6 + suffix.size() && name.ends_with(suffix)))
                token_in(name, prefix.size() + 6);
        }
        ::closedir(tmp);
    }
    for (const char* file : {"/etc/passwd", "/etc/group"}) {
        std::istringstream in(read_file(file));
        for (std::string line; std::getline(in, line);)
            if (line.size() > prefix.size() + 6 && line[prefix.size() + 6] == '-') token_in(line, prefix.size() + 6);
    }
    std::vector<std::string> removed;
    for (const std::string& token : tokens) {
        const std::string lock = lock_path(token);
        const int fd = ::open(lock.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        // Holding the dead run's lock also keeps two sweepers from racing.
        if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            ::close(fd);
            continue;  // alive
        }
        for (const std::string& account : remove_accounts_with_prefix(kPrefix + token + "-")) removed.push_back(account);
        const std::string dir = directory_of(token);
        std::error_code ignored;
        if (std::filesystem::exists(dir, ignored)) {
            std::filesystem::remove_all(dir, ignored);
            removed.push_back("directory " + dir);
        }
        if (fd >= 0) {
            ::unlink(lock.c_str());
            ::close(fd);
        }
    }
    return removed;
}

}  // namespace bg::test
