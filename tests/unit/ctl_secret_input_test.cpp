// SPDX-License-Identifier: ISC
#include "helper/ctl/secret_input.hpp"

#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

namespace bg::ctl {
namespace {

// Writes `input` into a pipe, closes the write end, reads one secret line.
Status read_from_pipe(const std::string& input, std::size_t max_bytes, Secret& out) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    EXPECT_EQ(write(fds[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
    close(fds[1]);
    const Status s = read_secret_line(fds[0], max_bytes, out);
    close(fds[0]);
    return s;
}

TEST(CtlSecretInput, OneLine) {
    Secret s;
    ASSERT_TRUE(read_from_pipe("123456\n", 64, s).ok());
    EXPECT_EQ(s.view(), "123456");
}

TEST(CtlSecretInput, StopsAtTheFirstNewlineAndStripsCarriageReturn) {
    Secret s;
    ASSERT_TRUE(read_from_pipe("654321\r\nsecond line\n", 64, s).ok());
    EXPECT_EQ(s.view(), "654321");
}

TEST(CtlSecretInput, EndOfInputEndsTheLine) {
    Secret s;
    ASSERT_TRUE(read_from_pipe("987654", 64, s).ok());
    EXPECT_EQ(s.view(), "987654");
}

TEST(CtlSecretInput, ExactlyTheLimitIsAccepted) {
    Secret s;
    ASSERT_TRUE(read_from_pipe(std::string(64, '7') + "\n", 64, s).ok());
    EXPECT_EQ(s.size(), 64u);
}

TEST(CtlSecretInput, LongerThanTheLimitIsRefusedAndWiped) {
    Secret s;
    const Status st = read_from_pipe(std::string(65, '7') + "\n", 64, s);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().message, "input is longer than 64 bytes");
    EXPECT_TRUE(s.empty());
    // The message never contains the secret itself.
    EXPECT_EQ(st.error().message.find("777"), std::string::npos);
}

TEST(CtlSecretInput, EmptyInputIsRefused) {
    Secret s;
    EXPECT_FALSE(read_from_pipe("", 64, s).ok());
    EXPECT_FALSE(read_from_pipe("\n", 64, s).ok());
    EXPECT_FALSE(read_from_pipe("\r\n", 64, s).ok());
}

TEST(CtlSecret, WipeClearsTheBuffer) {
    Secret s;
    for (const char c : std::string("secret")) ASSERT_TRUE(s.push_back(c));
    s.wipe();
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(s.view(), "");
}

TEST(CtlSecret, RefusesToGrowPastCapacity) {
    Secret s;
    for (std::size_t i = 0; i < Secret::kCapacity; ++i) ASSERT_TRUE(s.push_back('x'));
    EXPECT_FALSE(s.push_back('x'));
}

TEST(CtlSecret, WipeStringEmptiesIt) {
    std::string s = "a rather long secret that is not in the small-string buffer";
    wipe_string(s);
    EXPECT_TRUE(s.empty());
}

}  // namespace
}  // namespace bg::ctl
