// SPDX-License-Identifier: ISC
// breakglassd --socket PATH (listen_on): the socket file is created 0666 by
// bind() itself, and nothing changes the mode of whatever is at PATH
// afterwards. A chmod(PATH) after bind() followed a symbolic link put there
// in between (issue 10, reproduction 9): here another thread keeps renaming
// a symbolic link to a private file over PATH while the socket is created
// again and again, and the private file must keep its mode.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "helper/daemon/event_loop.hpp"

namespace bg {
namespace {

class ListenSocketTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = "/tmp/bg-listen-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        umask_ = ::umask(0077);  // as breakglassd runs
    }
    void TearDown() override {
        ::umask(umask_);
        std::filesystem::remove_all(dir_);
    }
    std::string dir_;
    mode_t umask_ = 022;
};

TEST_F(ListenSocketTest, TheSocketIsCreatedForEveryoneUnderTheDaemonsUmask) {
    const std::string path = dir_ + "/socket";
    auto fd = listen_on(path);
    ASSERT_TRUE(fd.ok()) << fd.error().message;
    struct stat st {};
    ASSERT_EQ(::lstat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0666u);
    // The umask of the process is what it was.
    const mode_t now = ::umask(0077);
    EXPECT_EQ(now, 0077u);
}

TEST_F(ListenSocketTest, ASymlinkSwappedInWhileBindingDoesNotChangeItsTarget) {
    const std::string path = dir_ + "/socket";
    const std::string victim = dir_ + "/private";
    std::ofstream(victim) << "secret";
    ASSERT_EQ(::chmod(victim.c_str(), 0600), 0);
    std::atomic<bool> stop{false};
    std::thread swapper([&] {
        const std::string link = dir_ + "/link";
        while (!stop) {
            ::unlink(link.c_str());
            if (::symlink(victim.c_str(), link.c_str()) == 0) (void)::rename(link.c_str(), path.c_str());
        }
    });
    for (int i = 0; i < 20000; ++i) {
        ::unlink(path.c_str());
        (void)listen_on(path);  // often refused (a symlink is there): that is fine
    }
    stop = true;
    swapper.join();
    struct stat st {};
    ASSERT_EQ(::stat(victim.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u) << "the private file's mode was changed through the symbolic link";
}

}  // namespace
}  // namespace bg
