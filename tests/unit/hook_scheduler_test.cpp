// SPDX-License-Identifier: ISC
// HookScheduler: runs are taken when due; a failed on_revoke is retried
// after each delay and then given up; a failed on_grant is never retried.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include "helper/revocation/hook_scheduler.hpp"

namespace bg {
namespace {

constexpr int kExit0 = 0;           // wait status of exit(0)
constexpr int kExit3 = 3 << 8;      // wait status of exit(3)
constexpr int kKilled9 = SIGKILL;   // wait status of death by SIGKILL

HookRun run_of(const std::string& hook) {
    HookRun r;
    r.hook = hook;
    r.path = "/usr/local/sbin/hook";
    r.event = hook == "on_grant" ? "grant" : "revoke";
    r.grant_id = "bg-2027-000001";
    r.user = "alice";
    r.gate = "breakglass";
    r.expires_at = 1'800'000'000;
    return r;
}

TEST(HookScheduler, RunsAreTakenWhenDueInTheOrderTheyWereQueued) {
    HookScheduler s({5});
    HookRun a = run_of("on_grant"), b = run_of("on_revoke"), c = run_of("on_revoke");
    b.grant_id = "b";
    c.grant_id = "c";
    s.queue(a, 100);
    s.queue(b, 100);
    s.queue(c, 105);
    EXPECT_EQ(s.next_due(), 100);
    EXPECT_TRUE(s.take_due(99).empty());
    const auto due = s.take_due(100);
    ASSERT_EQ(due.size(), 2u);
    EXPECT_EQ(due[0].grant_id, a.grant_id);
    EXPECT_EQ(due[1].grant_id, "b");
    EXPECT_EQ(s.next_due(), 105);
    EXPECT_EQ(s.take_due(200).size(), 1u);
    EXPECT_FALSE(s.next_due());
}

TEST(HookScheduler, AFailedOnRevokeIsRetriedAfterEachDelayThenGivenUp) {
    HookScheduler s({5, 30});
    HookRun r = run_of("on_revoke");
    auto out = s.finished(r, kExit3, "", 1000);
    EXPECT_FALSE(out.ok);
    EXPECT_EQ(out.detail, "on_revoke /usr/local/sbin/hook after the revoke: exit status 3 (attempt 1); retrying in 5s");
    ASSERT_EQ(s.next_due(), 1005);
    auto again = s.take_due(1005);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].attempt, 2);
    out = s.finished(again[0], kKilled9, "", 1005);
    EXPECT_NE(out.detail.find("killed by signal 9 (SIGKILL) (attempt 2); retrying in 30s"), std::string::npos)
        << out.detail;
    auto third = s.take_due(1035);
    ASSERT_EQ(third.size(), 1u);
    out = s.finished(third[0], 0, "timed out after 30 s", 1035);
    EXPECT_NE(out.detail.find("timed out after 30 s (attempt 3); gave up after 3 attempts"), std::string::npos)
        << out.detail;
    EXPECT_FALSE(s.next_due()) << "nothing after giving up";
}

TEST(HookScheduler, AFailedOnGrantIsNotRetriedAndASuccessIsJustRecorded) {
    HookScheduler s({5, 30});
    auto out = s.finished(run_of("on_grant"), kExit3, "", 1000);
    EXPECT_FALSE(out.ok);
    EXPECT_NE(out.detail.find("the grant stays"), std::string::npos) << out.detail;
    EXPECT_FALSE(s.next_due());
    out = s.finished(run_of("on_revoke"), kExit0, "", 1000);
    EXPECT_TRUE(out.ok);
    EXPECT_EQ(out.detail, "on_revoke /usr/local/sbin/hook after the revoke: exit status 0 (attempt 1)");
    EXPECT_FALSE(s.next_due());
}

}  // namespace
}  // namespace bg
