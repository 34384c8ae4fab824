// SPDX-License-Identifier: ISC
// Changing what a test process sees under /etc without changing the host: the
// process enters a private mount namespace, and files are bind-mounted over
// others there only (the sudo tests' sudo.conf and sudoers).
// No gtest in here: failures throw std::runtime_error.
#pragma once

#include <string>

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

}  // namespace bg::test
