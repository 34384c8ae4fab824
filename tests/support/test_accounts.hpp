// SPDX-License-Identifier: ISC
// Users and groups a test creates, with names no other run shares:
// bgt<run token>-<role> (run_directory.hpp), at most 32 characters and within
// useradd's NAME_REGEX. Each is created with useradd/groupadd in the
// constructor and removed in the destructor (a user's processes are killed
// first, or userdel refuses); what a crashed test left is removed by the next
// test process (sweep_dead_runs). Needs root.
// No gtest in here: failures throw std::runtime_error.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace bg::test {

// bgt<token>-<role>. Throws std::invalid_argument when `role` is not
// [a-z0-9-] or the name would be longer than 32 characters.
std::string unique_name(std::string_view role);

class TestGroup {
public:
    explicit TestGroup(std::string_view role);
    ~TestGroup();
    TestGroup(const TestGroup&) = delete;
    TestGroup& operator=(const TestGroup&) = delete;

    const std::string& name() const { return name_; }
    gid_t gid() const { return gid_; }

private:
    std::string name_;
    gid_t gid_ = 0;
};

struct UserOptions {
    std::vector<std::string> groups;       // supplementary groups (names)
    std::string shell = "/usr/sbin/nologin";  // sudo -s / -i need a real shell
};

// A system user without a home (home "/"), with its own group of the same name.
class TestUser {
public:
    explicit TestUser(std::string_view role, const UserOptions& options = {});
    ~TestUser();
    TestUser(const TestUser&) = delete;
    TestUser& operator=(const TestUser&) = delete;

    const std::string& name() const { return name_; }
    uid_t uid() const { return uid_; }
    gid_t gid() const { return gid_; }  // its own group

private:
    std::string name_;
    uid_t uid_ = 0;
    gid_t gid_ = 0;
};

// Kills the processes of, then removes, every user and group whose name
// starts with `prefix` (users first). What was removed, one line each. Used
// by sweep_dead_runs(); never call it with a prefix another run may own.
std::vector<std::string> remove_accounts_with_prefix(const std::string& prefix);

}  // namespace bg::test
