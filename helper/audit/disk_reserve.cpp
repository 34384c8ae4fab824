// SPDX-License-Identifier: ISC
#include "helper/audit/disk_reserve.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace bg::audit {

bool is_out_of_space(int system_errno) { return system_errno == ENOSPC || system_errno == EDQUOT; }

Result<DiskReserve> DiskReserve::open(const std::string& state_dir) {
    DiskReserve reserve(state_dir + "/" + std::string(kFileName), UniqueFd());
    if (auto opened = reserve.open_file(); !opened && !is_out_of_space(opened.error().system_errno)) return opened.error();
    return reserve;  // without a file on a full disk: refill() creates it
}

Status DiskReserve::open_file() {
    UniqueFd fd(::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.valid()) return Error{"cannot open " + path_ + ": " + std::strerror(errno), errno};
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Error{"cannot stat " + path_ + ": " + std::strerror(errno), errno};
    if (!S_ISREG(st.st_mode)) return Error{path_ + " is not a regular file"};
    if (st.st_uid != ::geteuid()) return Error{path_ + " is not owned by the daemon's user"};
    if ((st.st_mode & 077) != 0) return Error{path_ + " is accessible by group or others; run chmod 0600 " + path_};
    fd_ = std::move(fd);
    held_ = std::min<off_t>(st.st_size, kReserveBytes);
    return Ok{};
}

off_t DiskReserve::current_size() const {
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) return 0;
    return st.st_size;
}

Status DiskReserve::refill() {
    if (!fd_.valid())
        if (auto opened = open_file(); !opened) return opened;
    off_t size = current_size();
    while (size < kReserveBytes) {
        const off_t step = std::min<off_t>(kReleaseStep, kReserveBytes - size);
        const int err = ::posix_fallocate(fd_.get(), size, step);
        if (err != 0) {
            // Drop a partial allocation past the last whole step: the file is
            // what the bookkeeping says.
            (void)!::ftruncate(fd_.get(), size);
            held_ = size;
            return Error{"cannot grow " + path_ + " to " + std::to_string(kReserveBytes) + " bytes (it holds " +
                             std::to_string(size) + "): " + std::strerror(err),
                         err};
        }
        size += step;
    }
    held_ = std::min<off_t>(size, kReserveBytes);
    return Ok{};
}

bool DiskReserve::release() {
    if (!fd_.valid()) return false;
    const off_t size = current_size();
    if (size <= 0) {
        held_ = 0;
        return false;
    }
    const off_t left = size > kReleaseStep ? size - kReleaseStep : 0;
    if (::ftruncate(fd_.get(), left) != 0) return false;
    held_ = left;
    return true;
}

}  // namespace bg::audit
