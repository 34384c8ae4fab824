// SPDX-License-Identifier: ISC
#include "tests/support/private_mounts.hpp"

#include <cerrno>
#include <cstring>
#include <sched.h>
#include <stdexcept>
#include <sys/mount.h>

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
    must(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0, "mount --make-rprivate /");
    entered = true;
}

BindMount::BindMount(const std::string& source, const std::string& target) : target_(target) {
    enter_private_mount_namespace();
    must(::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) == 0, "bind mount over " + target);
}

BindMount::~BindMount() { ::umount2(target_.c_str(), MNT_DETACH); }

}  // namespace bg::test
