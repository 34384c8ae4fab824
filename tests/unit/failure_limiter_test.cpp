// SPDX-License-Identifier: ISC
#include "helper/mfa/failure_limiter.hpp"

#include <gtest/gtest.h>

namespace {

using bg::mfa::FailureLimiter;

TEST(FailureLimiter, ThreeFailuresLimit) {
    FailureLimiter limiter;  // 3 per 30 s
    EXPECT_FALSE(limiter.is_limited("alice", 1000));
    limiter.record_failure("alice", 1000);
    limiter.record_failure("alice", 1001);
    EXPECT_FALSE(limiter.is_limited("alice", 1002));
    EXPECT_EQ(limiter.retry_after("alice", 1002), 0);
    limiter.record_failure("alice", 1002);
    EXPECT_TRUE(limiter.is_limited("alice", 1002));
    EXPECT_EQ(limiter.retry_after("alice", 1002), 28);  // the failure at 1000 leaves at 1030
}

TEST(FailureLimiter, UsersAreIndependent) {
    FailureLimiter limiter;
    for (int i = 0; i < 3; ++i) limiter.record_failure("alice", 1000);
    EXPECT_TRUE(limiter.is_limited("alice", 1000));
    EXPECT_FALSE(limiter.is_limited("bob", 1000));
    EXPECT_EQ(limiter.retry_after("bob", 1000), 0);
}

TEST(FailureLimiter, WindowSlides) {
    FailureLimiter limiter(3, 30);
    limiter.record_failure("alice", 1000);
    limiter.record_failure("alice", 1010);
    limiter.record_failure("alice", 1020);
    EXPECT_TRUE(limiter.is_limited("alice", 1029));
    EXPECT_EQ(limiter.retry_after("alice", 1029), 1);
    EXPECT_FALSE(limiter.is_limited("alice", 1030));  // 1000 has left the window
    EXPECT_EQ(limiter.retry_after("alice", 1030), 0);
    limiter.record_failure("alice", 1030);            // 1010, 1020, 1030
    EXPECT_TRUE(limiter.is_limited("alice", 1030));
    EXPECT_EQ(limiter.retry_after("alice", 1030), 10);
    EXPECT_FALSE(limiter.is_limited("alice", 1040));
    EXPECT_FALSE(limiter.is_limited("alice", 1100));
}

TEST(FailureLimiter, ResetClears) {
    FailureLimiter limiter;
    for (int i = 0; i < 3; ++i) limiter.record_failure("alice", 1000);
    ASSERT_TRUE(limiter.is_limited("alice", 1000));
    limiter.reset("alice");
    EXPECT_FALSE(limiter.is_limited("alice", 1000));
    EXPECT_EQ(limiter.retry_after("alice", 1000), 0);
    limiter.reset("nobody");  // harmless
}

TEST(FailureLimiter, ManyFailuresStillLiftAfterWindow) {
    FailureLimiter limiter(3, 30);
    for (std::int64_t t = 1000; t < 1100; ++t) limiter.record_failure("alice", t);
    EXPECT_TRUE(limiter.is_limited("alice", 1099));
    EXPECT_EQ(limiter.retry_after("alice", 1099), 28);  // kept: 1097, 1098, 1099
    EXPECT_FALSE(limiter.is_limited("alice", 1127));
}

TEST(FailureLimiter, ClockSteppingBackStaysLimited) {
    FailureLimiter limiter(3, 30);
    for (int i = 0; i < 3; ++i) limiter.record_failure("alice", 2000);
    EXPECT_TRUE(limiter.is_limited("alice", 1500));
    EXPECT_GT(limiter.retry_after("alice", 1500), 0);
}

TEST(FailureLimiter, CustomLimit) {
    FailureLimiter limiter(1, 60);
    limiter.record_failure("alice", 0);
    EXPECT_TRUE(limiter.is_limited("alice", 59));
    EXPECT_FALSE(limiter.is_limited("alice", 60));
    FailureLimiter degenerate(0, 0);  // clamped to 1 failure per 1 s
    degenerate.record_failure("bob", 5);
    EXPECT_TRUE(degenerate.is_limited("bob", 5));
    EXPECT_FALSE(degenerate.is_limited("bob", 6));
}

TEST(FailureLimiter, ManyIdleUsersAreForgottenWithoutLosingActiveOnes) {
    FailureLimiter limiter(3, 30);
    for (int i = 0; i < 3; ++i) limiter.record_failure("active", 5000);
    for (int u = 0; u < 3000; ++u) limiter.record_failure("user" + std::to_string(u), 5000 + u / 100);
    EXPECT_TRUE(limiter.is_limited("active", 5010));
}

}  // namespace
