// SPDX-License-Identifier: ISC
// read_policy_file: the policy decides who may become root, so it is read
// only from a file that only root could have written (docs/ARCHITECTURE.md, "Conventions the code keeps"): no symlink
// followed, a regular file, owned by root, writable by nobody else, capped.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "policy/policy.hpp"

namespace bg::policy {
namespace {

// Closes the policy file on every return path. (common/transport.hpp has a
// general UniqueFd; this file needs only "close once".)
class OpenFile {
public:
    explicit OpenFile(int fd) : fd_(fd) {}
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    ~OpenFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

std::string mode_string(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

Error refuse(const std::string& path, const std::string& what) { return Error{path + ": " + what}; }

}  // namespace

Result<std::string> read_policy_file(const std::string& path, LoadOptions opts) {
    const int raw = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (raw < 0) {
        const int err = errno;
        if (err == ELOOP) return refuse(path, "is a symbolic link; refusing to follow it (point the daemon at the real file)");
        if (err == ENOENT) return refuse(path, "does not exist; create it (see breakglass-policy(5))");
        if (err == EACCES) return refuse(path, "cannot be opened: permission denied");
        return refuse(path, std::string("cannot be opened: ") + std::strerror(err));
    }
    const OpenFile fd(raw);

    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return refuse(path, std::string("cannot be examined: ") + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) return refuse(path, "is a directory, not a policy file");
    if (!S_ISREG(st.st_mode)) return refuse(path, "is not a regular file");
    if (opts.require_root_owner && st.st_uid != 0) {
        return refuse(path, "is owned by uid " + std::to_string(st.st_uid) + ", not root; run chown root: " + path);
    }
    if (st.st_mode & S_IWOTH) {
        return refuse(path, "is writable by others (mode " + mode_string(st.st_mode) + "); run chmod 0644 " + path);
    }
    if (st.st_mode & S_IWGRP) {
        return refuse(path, "is writable by its group (mode " + mode_string(st.st_mode) + "); run chmod 0644 " + path);
    }
    const std::string too_large = "is larger than " + std::to_string(kMaxPolicyBytes) + " bytes";
    if (st.st_size < 0 || static_cast<std::size_t>(st.st_size) > kMaxPolicyBytes) return refuse(path, too_large);

    // The file may change size after fstat; read at most one byte over the cap.
    std::string text;
    char buf[16 * 1024];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return refuse(path, std::string("cannot be read: ") + std::strerror(errno));
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > kMaxPolicyBytes) return refuse(path, too_large);
    }
    return text;
}

namespace {

// Why a directory a hook lives under could let someone other than root swap
// the hook, or nullopt. Every directory from / down to the hook's own, after
// symbolic links are resolved (merged /usr: /bin is one), must be root's and
// writable by nobody else; a sticky directory (/tmp) may be writable by all,
// since nobody but its owner can rename or remove an entry of root's there.
std::optional<std::string> hook_directory_problem(const std::string& hook, LoadOptions opts) {
    const std::string::size_type slash = hook.rfind('/');
    const std::string dir = slash == 0 ? std::string("/") : hook.substr(0, slash);
    char* resolved = ::realpath(dir.c_str(), nullptr);
    if (resolved == nullptr) return "is in a directory that cannot be resolved: " + std::string(std::strerror(errno));
    const std::string real(resolved);
    std::free(resolved);
    std::vector<std::string> prefixes = {"/"};
    for (std::string::size_type at = real.find('/', 1); at != std::string::npos; at = real.find('/', at + 1))
        prefixes.push_back(real.substr(0, at));
    if (real != "/") prefixes.push_back(real);
    for (const std::string& prefix : prefixes) {
        struct stat st {};
        if (::lstat(prefix.c_str(), &st) != 0) return "is under " + prefix + ", which cannot be examined";
        if (!S_ISDIR(st.st_mode)) return "is under " + prefix + ", which is not a directory";
        if (opts.require_root_owner && st.st_uid != 0)
            return "is under " + prefix + ", which is owned by uid " + std::to_string(st.st_uid) + ", not root";
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0)
            return "is under " + prefix + ", which is writable by group or others (mode " + mode_string(st.st_mode) +
                   "); run chmod go-w " + prefix;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> hook_file_problem(const std::string& hook, LoadOptions opts) {
    // O_PATH: the daemon runs without CAP_DAC_OVERRIDE and needs only to look.
    const int raw = ::open(hook.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (raw < 0) {
        const int err = errno;
        if (err == ENOENT) return "does not exist";
        if (err == ELOOP) return "is a symbolic link (name the real file)";
        return std::string("cannot be opened: ") + std::strerror(err);
    }
    const OpenFile fd(raw);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return std::string("cannot be examined: ") + std::strerror(errno);
    if (S_ISLNK(st.st_mode)) return "is a symbolic link (name the real file)";
    if (!S_ISREG(st.st_mode)) return "is not a regular file";
    if (opts.require_root_owner && st.st_uid != 0)
        return "is owned by uid " + std::to_string(st.st_uid) + ", not root; run chown root: " + hook;
    if (st.st_mode & S_IWOTH) return "is writable by others (mode " + mode_string(st.st_mode) + "); run chmod 0755 " + hook;
    if (st.st_mode & S_IWGRP)
        return "is writable by its group (mode " + mode_string(st.st_mode) + "); run chmod 0755 " + hook;
    if ((st.st_mode & S_IXUSR) == 0) return "is not executable (mode " + mode_string(st.st_mode) + ")";
    return hook_directory_problem(hook, opts);
}

Result<Policy> load_policy(const std::string& path, LoadOptions opts) {
    auto text = read_policy_file(path, opts);
    if (!text) return text.error();
    auto policy = parse_policy(*text, path);
    if (!policy) return policy;
    // A hook runs as root: it is held to the policy file's own standard.
    for (const auto& [name, gate] : policy->gates) {
        for (const auto& [key, hook] : {std::pair<const char*, const std::string&>{"on_grant", gate.on_grant},
                                        std::pair<const char*, const std::string&>{"on_revoke", gate.on_revoke}}) {
            if (hook.empty()) continue;
            if (auto problem = hook_file_problem(hook, opts))
                return Error{path + ":" + std::to_string(gate.line) + ":1: gate '" + name + "': " + key + " " + hook +
                             " " + *problem};
        }
    }
    return policy;
}

}  // namespace bg::policy
