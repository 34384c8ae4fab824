// SPDX-License-Identifier: ISC
#include "common/file_io.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/text.hpp"

namespace bg {

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

Result<std::string> read_regular_file(const std::string& path, std::size_t max_bytes, int* open_errno) {
    const std::string shown = escape_for_display(path);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) {
        if (open_errno != nullptr) *open_errno = errno;
        return make_error("cannot open " + shown + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return make_error("cannot stat " + shown + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return make_error(shown + " is not a regular file");
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
        return make_error(shown + " is larger than " + std::to_string(max_bytes) + " bytes");
    std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return make_error("cannot read " + shown + ": " + std::strerror(errno));
        if (n == 0) break;  // shrank while reading: the caller sees what is there
        done += static_cast<std::size_t>(n);
    }
    bytes.resize(done);
    return bytes;
}

}  // namespace bg
