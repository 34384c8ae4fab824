// SPDX-License-Identifier: ISC
// The daemon's bounds on what one peer may cost (RefusalBudget,
// ConnectionLimits) and where a peer's loginuid came from (loginuid_origin):
// pure bookkeeping, driven with explicit times.
#include <gtest/gtest.h>

#include "helper/daemon/connection_limits.hpp"
#include "helper/daemon/peer_identity.hpp"
#include "helper/daemon/refusal_budget.hpp"

namespace bg {
namespace {

TEST(RefusalBudget, FiveRecordsAWindowThenOneSummaryOfTheRest) {
    RefusalBudget budget(60);
    const RefusalBudget::Requester mallory{1001, ""};
    int admitted = 0;
    for (int i = 0; i < 50; ++i)
        admitted += budget.admit(mallory, "mallory", "not a requester " + std::to_string(i), 100 + i / 10) ? 1 : 0;
    EXPECT_EQ(admitted, 5);
    EXPECT_TRUE(budget.counting());
    EXPECT_TRUE(budget.take_due(159).empty()) << "the window is not over";
    const auto due = budget.take_due(160);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].suppressed, 45u);
    EXPECT_EQ(due[0].first, 100);
    EXPECT_EQ(due[0].last, 104);
    EXPECT_EQ(due[0].last_message, "not a requester 49");
    EXPECT_EQ(due[0].peer_user, "mallory");
    EXPECT_FALSE(budget.counting());
    // A new window: records again.
    EXPECT_TRUE(budget.admit(mallory, "mallory", "again", 200));
}

TEST(RefusalBudget, RequestersDoNotShareABudget) {
    RefusalBudget budget(60);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(budget.admit({1001, ""}, "mallory", "m", 100));
    EXPECT_FALSE(budget.admit({1001, ""}, "mallory", "m", 100));
    EXPECT_TRUE(budget.admit({1002, ""}, "alice", "a", 100));
    // Through a front-end (uid 0), each user asked for has a budget of its own.
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(budget.admit({0, "mallory"}, "root", "m", 100));
    EXPECT_FALSE(budget.admit({0, "mallory"}, "root", "m", 100));
    EXPECT_TRUE(budget.admit({0, "alice"}, "root", "a", 100));
}

TEST(RefusalBudget, AWindowThatEndsWhileCountingIsSummarizedBeforeTheNextStarts) {
    RefusalBudget budget(10);
    for (int i = 0; i < 7; ++i) budget.admit({1001, ""}, "mallory", "m", 100);
    EXPECT_TRUE(budget.admit({1001, ""}, "mallory", "m", 111));  // a new window before any maintenance
    const auto due = budget.take_due(111);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].suppressed, 2u);
}

TEST(ConnectionLimits, OneUserGetsItsShareAndRootItsOwnPool) {
    ConnectionLimits limits;
    std::vector<ConnectionLimits::Slot> held;
    for (int i = 0; i < 300; ++i)
        if (auto slot = limits.take(ConnectionPool::User, 1001)) held.push_back(*slot);
    EXPECT_EQ(held.size(), ConnectionLimits::kPerUser);
    EXPECT_TRUE(limits.take(ConnectionPool::User, 1002).has_value());
    EXPECT_TRUE(limits.take(ConnectionPool::Root, 0).has_value());
    EXPECT_TRUE(limits.take(ConnectionPool::FrontEnd, 1001).has_value());
    limits.give_back(held.back());
    EXPECT_TRUE(limits.take(ConnectionPool::User, 1001).has_value());
}

TEST(ConnectionLimits, EveryPoolHasATotal) {
    ConnectionLimits limits;
    std::size_t users = 0;
    for (std::int64_t uid = 2000; uid < 2100; ++uid)
        for (std::size_t i = 0; i < ConnectionLimits::kPerUser; ++i)
            users += limits.take(ConnectionPool::User, uid) ? 1u : 0u;
    EXPECT_EQ(users, ConnectionLimits::kUserTotal);
    std::size_t roots = 0;
    for (int i = 0; i < 100; ++i) roots += limits.take(ConnectionPool::Root, 0) ? 1u : 0u;
    EXPECT_EQ(roots, ConnectionLimits::kRootTotal);
    std::size_t sudo_of_one_user = 0;
    for (int i = 0; i < 100; ++i) sudo_of_one_user += limits.take(ConnectionPool::FrontEnd, 1001) ? 1u : 0u;
    EXPECT_EQ(sudo_of_one_user, ConnectionLimits::kPerFrontEndHolder);
}

TEST(LoginUidOrigin, OnlyALoginSessionsOwnAuditSessionCounts) {
    EXPECT_EQ(loginuid_origin(-1, -1, "", -1), LoginUidOrigin::Unset);
    // sshd's pam_loginuid set 1000, logind named the session after audit session 7.
    EXPECT_EQ(loginuid_origin(1000, 7, "7", 1000), LoginUidOrigin::Login);
    // The same session's process wrote loginuid 0 itself: a new audit session.
    EXPECT_EQ(loginuid_origin(0, 31, "7", 1000), LoginUidOrigin::Unverified);
    // Outside any logind session (a service, cron without pam_systemd).
    EXPECT_EQ(loginuid_origin(0, 31, "", -1), LoginUidOrigin::Unverified);
    // A session whose user is not the loginuid.
    EXPECT_EQ(loginuid_origin(0, 7, "7", 1000), LoginUidOrigin::Unverified);
    // Containers name sessions c1, c2...: not verifiable.
    EXPECT_EQ(loginuid_origin(1000, 7, "c1", 1000), LoginUidOrigin::Unverified);
}

TEST(LoginUidNote, SaysWhatTheRecordCannotVouchFor) {
    PeerIdentity peer;
    EXPECT_EQ(loginuid_note(peer), "");
    peer.loginuid = 1000;
    peer.loginuid_origin = LoginUidOrigin::Login;
    peer.pinned = true;
    EXPECT_EQ(loginuid_note(peer), "");
    peer.loginuid = 0;
    peer.loginuid_origin = LoginUidOrigin::Unverified;
    EXPECT_EQ(with_loginuid_note("refused", peer),
              "refused; actor_loginuid 0 was not set by a login session (a process whose loginuid is unset may write "
              "it): informative only");
}

}  // namespace
}  // namespace bg
