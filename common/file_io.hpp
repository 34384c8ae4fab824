// SPDX-License-Identifier: ISC
// File descriptors and bounded whole-file reads, for every component.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "common/result.hpp"

namespace bg {

// An owned file descriptor, closed exactly once.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o) reset(std::exchange(o.fd_, -1));
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

// Reads a whole file opened with O_NOFOLLOW|O_CLOEXEC; refuses anything but a
// regular file of at most max_bytes. When opening fails, *open_errno (if
// given) receives errno so callers can tell ENOENT or EACCES apart.
Result<std::string> read_regular_file(const std::string& path, std::size_t max_bytes, int* open_errno = nullptr);

}  // namespace bg
