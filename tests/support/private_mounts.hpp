// SPDX-License-Identifier: ISC
// Changing what a test process sees under /etc without changing the host: the
// process enters a private mount namespace, and files are bind-mounted over
// others there only (the sudo tests' sudo.conf and sudoers), or a small
// tmpfs is mounted (a disk a test fills).
// No gtest in here: failures throw std::runtime_error.
#pragma once

#include <cstddef>
#include <string>
#include <sys/types.h>

namespace bg::test {

// Once per process; every later mount of this process stays private to it.
void enter_private_mount_namespace();

// `source` bind-mounted over `target` for its lifetime (inside the private namespace).
// A file replaced by a rename on the host (useradd's /etc/passwd and
// /etc/group) loses a bind mount over it in every namespace: mount the
// directory instead (tests/unit/nss_test.cpp).
class BindMount {
public:
    BindMount(const std::string& source, const std::string& target);
    ~BindMount();
    BindMount(const BindMount&) = delete;
    BindMount& operator=(const BindMount&) = delete;

private:
    std::string target_;
};

// A tmpfs of `size_bytes` mounted on the directory `target` for its lifetime
// (inside the private namespace; children forked later see it too): a small
// disk a test can fill. Root-owned, with `mode`.
class TmpfsMount {
public:
    TmpfsMount(const std::string& target, std::size_t size_bytes, mode_t mode = 0700);
    ~TmpfsMount();
    TmpfsMount(const TmpfsMount&) = delete;
    TmpfsMount& operator=(const TmpfsMount&) = delete;

    // Writes `filler` (a new file under the mount) until the disk is full
    // (ENOSPC), one page at a time at the end; returns the bytes written.
    std::size_t fill(const std::string& filler) const;

private:
    std::string target_;
};

}  // namespace bg::test
