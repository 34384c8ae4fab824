// SPDX-License-Identifier: ISC
#include "helper/daemon/state_directory.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/file_io.hpp"

namespace bg {
namespace {

std::string mode_text(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

}  // namespace

Status check_state_directory(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
        const int err = errno;
        if (err == ELOOP || err == ENOTDIR) {
            struct stat st {};
            if (::lstat(dir.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
                return make_error("state directory " + dir + " is a symbolic link; refusing to follow it");
            return make_error("state directory " + dir + " is not a directory");
        }
        return make_error("cannot open the state directory " + dir + ": " + std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return make_error("cannot examine " + dir + ": " + std::strerror(errno));
    if (st.st_uid != ::geteuid())
        return make_error("state directory " + dir + " is owned by uid " + std::to_string(st.st_uid) +
                          ", not the daemon's (" + std::to_string(::geteuid()) + "); run chown root: " + dir);
    if ((st.st_mode & 077) != 0)
        return make_error("state directory " + dir + " is open to group or others (mode " + mode_text(st.st_mode) +
                          "); run chmod 0700 " + dir);

    const std::string state = dir + "/state.json";
    UniqueFd file(::openat(fd.get(), "state.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!file.valid()) {
        if (errno == ENOENT) return Ok{};  // rebuilt from the audit log
        if (errno == ELOOP) return make_error(state + " is a symbolic link; refusing to follow it");
        return make_error("cannot open " + state + ": " + std::strerror(errno));
    }
    if (::fstat(file.get(), &st) != 0) return make_error("cannot examine " + state + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return make_error(state + " is not a regular file");
    if (st.st_uid != ::geteuid())
        return make_error(state + " is owned by uid " + std::to_string(st.st_uid) + ", not the daemon's; remove it "
                          "(it is rebuilt from the audit log) after finding out who wrote it");
    if ((st.st_mode & 022) != 0)
        return make_error(state + " is writable by group or others (mode " + mode_text(st.st_mode) +
                          "); remove it (it is rebuilt from the audit log) after finding out who wrote it");
    return Ok{};
}

}  // namespace bg
