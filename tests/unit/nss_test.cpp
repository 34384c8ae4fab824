// SPDX-License-Identifier: ISC
// common/nss: user and group look-ups against real NSS (glibc's files
// backend). The cases that need particular entries or a failing backend run
// in a forked child (tests/support/process.hpp) inside a private mount
// namespace (tests/support/private_mounts.hpp), where a scratch directory of
// the run holding only a test passwd, group and nsswitch.conf ("files" only)
// is bind-mounted over /etc; nothing changes on the host, and the user and
// group in those files have the run's unique names. Those cases need root and
// are skipped without it.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <grp.h>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "common/nss.hpp"
#include "tests/support/files.hpp"
#include "tests/support/private_mounts.hpp"
#include "tests/support/process.hpp"
#include "tests/support/run_directory.hpp"
#include "tests/support/test_accounts.hpp"

namespace bg::nss {
namespace {

constexpr gid_t kBigGid = 4242000;
constexpr uid_t kUserUid = 4242001;
constexpr std::size_t kFillerMembers = 6000;  // ~84 KiB of member names: far past a 64 KiB buffer

std::string filler_member(std::size_t i) {
    std::string n = std::to_string(i);
    return "bgmember" + std::string(5 - n.size(), '0') + n;
}

class NssInNamespace : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (a private mount namespace)";
        big_group_ = test::unique_name("nss-big");
        user_ = test::unique_name("nss-user");
        missing_ = test::unique_name("nss-none");
        dir_ = std::make_unique<test::ScratchDir>("nss");
        test::write_file(dir_->file("group"), group_file(), 0644);
        test::write_file(dir_->file("passwd"), passwd_file(), 0644);
        test::write_file(dir_->file("nsswitch.conf"), "passwd: files\ngroup: files\n", 0644);
    }

    std::string group_file() const {
        std::string big = big_group_ + ":x:" + std::to_string(kBigGid) + ":";
        for (std::size_t i = 0; i < kFillerMembers; ++i) big += filler_member(i) + ",";
        big += user_;  // last, so it is found only when the whole line was read
        return "root:x:0:\n" + big + "\n" + user_ + ":x:" + std::to_string(kUserUid) + ":\n";
    }
    std::string passwd_file() const {
        return "root:x:0:0:root:/root:/bin/sh\n" + user_ + ":x:" + std::to_string(kUserUid) + ":" +
               std::to_string(kUserUid) + "::/:/bin/sh\n";
    }

    // Runs `body` in a forked child (as root) with the test files as its /etc
    // and returns what it reported: "" when every check passed. The whole
    // directory is mounted, not each file: the tests running beside this one
    // create and remove accounts, and useradd replaces /etc/group by a rename,
    // which detaches a bind mount over that file in every namespace.
    std::string in_namespace(const std::function<std::string()>& body) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) return "pipe failed";
        const int rc = test::run_function_as("root", [&] {
            ::close(fds[0]);
            std::string report;
            try {
                const test::BindMount etc(dir_->path(), "/etc");
                report = body();
            } catch (const std::exception& e) {
                report = e.what();
            }
            (void)!::write(fds[1], report.data(), report.size());
            return 0;
        });
        ::close(fds[1]);
        std::string report;
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fds[0], buf, sizeof buf)) > 0) report.append(buf, static_cast<std::size_t>(n));
        ::close(fds[0]);
        if (rc != 0) report += " (the child did not exit cleanly: " + std::to_string(rc) + ")";
        return report;
    }

    std::string big_group_, user_, missing_;
    std::unique_ptr<test::ScratchDir> dir_;
};

// What every check in a child reports: the first that failed.
#define CHILD_CHECK(cond, what)                  \
    do {                                         \
        if (!(cond)) return std::string(what);   \
    } while (0)

TEST(Nss, FindsRootAndSaysWhatDoesNotExist) {
    const Lookup<User> root = user_by_name("root");
    ASSERT_TRUE(root.found()) << root.error;
    EXPECT_EQ(root.value.uid, 0u);
    EXPECT_EQ(user_by_uid(0).value.name, "root");
    EXPECT_EQ(group_by_gid(0).value.name, "root");
    EXPECT_TRUE(user_by_name("bg-no-such-user-7f3a").not_found());
    EXPECT_TRUE(group_by_name("bg-no-such-group-7f3a").not_found());
    EXPECT_TRUE(group_ids_of("bg-no-such-user-7f3a").not_found());
    EXPECT_TRUE(group_names_of("bg-no-such-user-7f3a").not_found());
    const Lookup<std::vector<std::string>> groups = group_names_of("root");
    ASSERT_TRUE(groups.found()) << groups.error;
    ASSERT_FALSE(groups.value.empty());
    EXPECT_EQ(groups.value.front(), "root") << "the primary group comes first";
}

// A group line larger than 64 KiB: a fixed buffer gets ERANGE (the old defect
// read that as "no such group"); the helper grows its buffer and finds it whole.
TEST_F(NssInNamespace, AGroupLargerThan64KiBIsFoundWithAllItsMembers) {
    EXPECT_EQ(in_namespace([this] {
                  group entry{};
                  group* result = nullptr;
                  std::vector<char> fixed(64 * 1024);
                  CHILD_CHECK(::getgrnam_r(big_group_.c_str(), &entry, fixed.data(), fixed.size(), &result) == ERANGE,
                              "a 64 KiB buffer should not hold the test group (the test would not exercise ERANGE)");

                  for (const Lookup<Group>& g : {group_by_name(big_group_), group_by_gid(kBigGid)}) {
                      CHILD_CHECK(g.found(), "the big group was not found: " + g.error);
                      CHILD_CHECK(g.value.name == big_group_ && g.value.gid == kBigGid, "wrong name or gid");
                      CHILD_CHECK(g.value.members.size() == kFillerMembers + 1,
                                  "members: " + std::to_string(g.value.members.size()));
                      CHILD_CHECK(g.value.members.front() == filler_member(0), "first member");
                      CHILD_CHECK(g.value.members.back() == user_, "last member");
                  }
                  const Lookup<std::vector<std::string>> names = group_names_of(user_);
                  CHILD_CHECK(names.found(), "groups of the user: " + names.error);
                  CHILD_CHECK(names.value == (std::vector<std::string>{user_, big_group_}),
                              "the user's groups are not [user, big group]");
                  const Lookup<User> u = user_by_name(user_);
                  CHILD_CHECK(u.found() && u.value.uid == kUserUid && u.value.gid == kUserUid, "the test user");
                  CHILD_CHECK(user_by_uid(kUserUid).value.name == user_, "the test user by uid");
                  CHILD_CHECK(group_by_name(missing_).not_found(), "a missing group is not NotFound");
                  CHILD_CHECK(user_by_name(missing_).not_found(), "a missing user is not NotFound");
                  return std::string();
              }),
              "");
}

// An unreadable group or passwd file is a failed look-up, never "no such
// group": the files are root's 0600 and the child has dropped to nobody.
TEST_F(NssInNamespace, AnUnreadableFileIsAFailureNotANoSuchEntry) {
    ASSERT_EQ(::chmod(dir_->file("group").c_str(), 0600), 0);
    ASSERT_EQ(::chmod(dir_->file("passwd").c_str(), 0600), 0);
    EXPECT_EQ(in_namespace([this] {
                  const gid_t nobody = 65534;
                  CHILD_CHECK(::setgroups(0, nullptr) == 0 && ::setresgid(nobody, nobody, nobody) == 0 &&
                                  ::setresuid(nobody, nobody, nobody) == 0,
                              "cannot drop to nobody");
                  const Lookup<Group> by_name = group_by_name(big_group_);
                  CHILD_CHECK(by_name.failed(), "an unreadable /etc/group did not fail group_by_name");
                  CHILD_CHECK(by_name.error.find("getgrnam_r(" + big_group_ + ")") != std::string::npos &&
                                  by_name.error.find(std::strerror(EACCES)) != std::string::npos,
                              "the error does not say what failed: " + by_name.error);
                  CHILD_CHECK(group_by_name(missing_).failed(), "a missing group read as NotFound");
                  CHILD_CHECK(group_by_gid(kBigGid).failed(), "group_by_gid did not fail");
                  CHILD_CHECK(user_by_name(user_).failed(), "an unreadable /etc/passwd did not fail user_by_name");
                  CHILD_CHECK(user_by_uid(kUserUid).failed(), "user_by_uid did not fail");
                  CHILD_CHECK(group_names_of(user_).failed(), "group_names_of did not fail");
                  return std::string();
              }),
              "");
}

}  // namespace
}  // namespace bg::nss
