// SPDX-License-Identifier: ISC
#include "helper/revocation/setgid_sweep.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "common/file_io.hpp"
#include "common/text.hpp"

namespace bg {
namespace {

using Clock = std::chrono::steady_clock;

struct DirClose {
    void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirClose>;

bool is_residue(const struct stat& st, gid_t gid, std::int64_t since) {
    return S_ISREG(st.st_mode) && (st.st_mode & S_ISGID) != 0 && st.st_gid == gid &&
           static_cast<std::int64_t>(st.st_ctim.tv_sec) >= since;
}

// The bit is removed from the file that was checked: the O_PATH descriptor
// pins it, and chmod through /proc/self/fd reaches that inode, whatever
// happens to the name meanwhile.
SetgidFile clear_one(int dir_fd, const char* name, const std::string& path, gid_t gid, std::int64_t since) {
    SetgidFile f;
    f.path = path;
    UniqueFd fd(::openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
        f.error = std::string("cannot open: ") + std::strerror(errno);
        return f;
    }
    f.owner = st.st_uid;
    if (!is_residue(st, gid, since)) {
        f.error = "changed while being checked";
        return f;
    }
    const std::string magic = "/proc/self/fd/" + std::to_string(fd.get());
    if (::chmod(magic.c_str(), (st.st_mode & 07777) & ~static_cast<mode_t>(S_ISGID)) != 0) {
        f.error = std::strerror(errno);
        return f;
    }
    if (::fstat(fd.get(), &st) != 0 || (st.st_mode & S_ISGID) != 0) {
        f.error = "the bit is still set";
        return f;
    }
    f.cleared = true;
    return f;
}

struct Walk {
    gid_t gid;
    std::int64_t since;
    const SetgidSweepLimits& limits;
    Clock::time_point deadline;
    SetgidSweep& out;

    bool over_limit() {
        if (out.visited >= limits.max_entries) {
            out.stopped = "stopped after " + std::to_string(limits.max_entries) + " entries";
            return true;
        }
        if ((out.visited & 63) == 0 && Clock::now() >= deadline) {
            out.stopped = "stopped after " + std::to_string(limits.max_milliseconds) + " ms";
            return true;
        }
        return false;
    }

    // Returns false once a limit stops the whole walk.
    bool directory(int fd, const std::string& path, dev_t dev, int depth) {
        DirPtr dir(::fdopendir(fd));
        if (!dir) {
            ::close(fd);
            return true;
        }
        while (const dirent* e = ::readdir(dir.get())) {
            const std::string_view name = e->d_name;
            if (name == "." || name == "..") continue;
            ++out.visited;
            if (over_limit()) return false;
            if (e->d_type != DT_DIR && e->d_type != DT_REG && e->d_type != DT_UNKNOWN) continue;
            struct stat st {};
            if (::fstatat(::dirfd(dir.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
            if (st.st_dev != dev) continue;  // another file system mounted here
            const std::string child = path + (path.back() == '/' ? "" : "/") + std::string(name);
            if (S_ISREG(st.st_mode)) {
                if (is_residue(st, gid, since)) out.files.push_back(clear_one(::dirfd(dir.get()), e->d_name, child, gid, since));
                continue;
            }
            if (!S_ISDIR(st.st_mode)) continue;
            if (depth >= limits.max_depth) {
                if (out.skipped.size() < 8) out.skipped.push_back(child + " (deeper than " + std::to_string(limits.max_depth) + " directories)");
                continue;
            }
            const int sub = ::openat(::dirfd(dir.get()), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                if (out.skipped.size() < 8) out.skipped.push_back(child + " (" + std::strerror(errno) + ")");
                continue;
            }
            struct stat sub_st {};
            if (::fstat(sub, &sub_st) != 0 || sub_st.st_dev != dev) {
                ::close(sub);
                continue;
            }
            if (!directory(sub, child, dev, depth + 1)) return false;
        }
        return true;
    }
};

}  // namespace

std::vector<std::string> default_setgid_roots(const std::string& home, uid_t owner) {
    std::vector<std::string> roots = {"/tmp", "/var/tmp", "/dev/shm"};
    struct stat st {};
    if (home.size() > 1 && home.front() == '/' && ::lstat(home.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
        st.st_uid == owner)
        roots.push_back(home);
    return roots;
}

SetgidSweep clear_setgid_files(gid_t gid, std::int64_t since, const std::vector<std::string>& roots,
                               const SetgidSweepLimits& limits) {
    SetgidSweep out;
    Walk walk{gid, since, limits, Clock::now() + std::chrono::milliseconds(limits.max_milliseconds), out};
    for (const std::string& root : roots) {
        const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st {};
        if (fd < 0 || ::fstat(fd, &st) != 0) {
            if (errno != ENOENT) out.unreadable.push_back(root + ": " + std::strerror(errno));
            if (fd >= 0) ::close(fd);
            continue;
        }
        if (!walk.directory(fd, root, st.st_dev, 0)) break;
    }
    return out;
}

std::string describe(const SetgidSweep& sweep, const std::string& group) {
    std::string cleared, failed;
    std::size_t shown = 0, more = 0;
    for (const SetgidFile& f : sweep.files) {
        if (++shown > 20) {
            ++more;
            continue;
        }
        const std::string item = escape_for_display(f.path) + " (owner uid " + std::to_string(f.owner) + ")";
        if (f.cleared)
            cleared += (cleared.empty() ? "" : ", ") + item;
        else
            failed += (failed.empty() ? "" : ", ") + item + ": " + f.error;
    }
    std::string text;
    if (!cleared.empty()) text += "set-group-ID bit removed from files of group " + group + ": " + cleared;
    if (!failed.empty())
        text += std::string(text.empty() ? "" : "; ") + "could not remove the set-group-ID bit of " + failed +
                ": check by hand";
    if (more > 0) text += "; and " + std::to_string(more) + " more such files";
    if (!sweep.stopped.empty())
        text += std::string(text.empty() ? "" : "; ") + "the set-group-ID sweep " + sweep.stopped +
                " (" + std::to_string(sweep.visited) + " entries): check by hand for files of group " + group;
    for (const std::string& u : sweep.unreadable)
        text += std::string(text.empty() ? "" : "; ") + "set-group-ID sweep could not open " + escape_for_display(u);
    for (const std::string& d : sweep.skipped)
        text += std::string(text.empty() ? "" : "; ") + "set-group-ID sweep did not walk " + escape_for_display(d) +
                ": check by hand for files of group " + group;
    return text;
}

}  // namespace bg
