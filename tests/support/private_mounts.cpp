// SPDX-License-Identifier: ISC
#include "tests/support/private_mounts.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sched.h>
#include <stdexcept>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <vector>

namespace bg::test {
namespace {

void must(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

void enter_private_mount_namespace() {
    static bool entered = false;
    if (entered) return;
    must(::unshare(CLONE_NEWNS) == 0, "unshare(CLONE_NEWNS)");
    // The kernel ignores the source and type of a propagation change or a bind
    // mount; they are "none", not NULL, so that valgrind (scripts/valgrind.sh)
    // does not read a NULL string argument.
    must(::mount("none", "/", "none", MS_REC | MS_PRIVATE, nullptr) == 0, "mount --make-rprivate /");
    entered = true;
}

BindMount::BindMount(const std::string& source, const std::string& target) : target_(target) {
    enter_private_mount_namespace();
    must(::mount(source.c_str(), target.c_str(), "none", MS_BIND, nullptr) == 0, "bind mount over " + target);
}

BindMount::~BindMount() { ::umount2(target_.c_str(), MNT_DETACH); }

TmpfsMount::TmpfsMount(const std::string& target, std::size_t size_bytes, mode_t mode) : target_(target) {
    enter_private_mount_namespace();
    char options[64];
    std::snprintf(options, sizeof options, "size=%zu,mode=%04o", size_bytes, static_cast<unsigned>(mode));
    must(::mount("tmpfs", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options) == 0, "mount tmpfs on " + target);
}

TmpfsMount::~TmpfsMount() { ::umount2(target_.c_str(), MNT_DETACH); }

std::size_t TmpfsMount::fill(const std::string& filler) const {
    const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    must(fd >= 0, "open " + filler);
    std::size_t written = 0;
    // Big writes first, then smaller ones, down to what a page holds.
    for (std::size_t chunk : {std::size_t{256 * 1024}, std::size_t{4096}, std::size_t{512}, std::size_t{1}}) {
        const std::vector<char> zeros(chunk, 'x');
        for (;;) {
            const ssize_t n = ::write(fd, zeros.data(), zeros.size());
            if (n <= 0) break;
            written += static_cast<std::size_t>(n);
        }
    }
    ::close(fd);
    return written;
}

}  // namespace bg::test
