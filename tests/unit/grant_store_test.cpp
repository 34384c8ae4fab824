// SPDX-License-Identifier: ISC
// The grant store follows the audit log. A grant voided before the store took
// its record in (the recorder's subscriber fell behind: out of memory) comes
// in ended when the record arrives, and its own ending record changes nothing.
#include <gtest/gtest.h>

#include "helper/daemon/grant_store.hpp"

namespace bg {
namespace {

ReplayedEvent grant_event(std::uint64_t seq, const std::string& id) {
    ReplayedEvent e;
    e.seq = seq;
    e.event = "grant";
    e.event_id = id;
    e.actor = "alice";
    e.gate = "prod";
    e.timestamp = 1'800'000'000;
    e.expires_at = 1'800'000'900;
    e.factor = "totp";
    e.factor_counter = 60'000'000;
    return e;
}

TEST(GrantStore, AGrantEndedBeforeItsRecordWasTakenInComesInEnded) {
    GrantStore store;
    EXPECT_FALSE(store.end("bg-1-aaaa", GrantState::Void, 1'800'000'001)) << "not in the store yet";
    store.end_before_seen("bg-1-aaaa", GrantState::Void, 1'800'000'001);
    store.apply(grant_event(1, "bg-1-aaaa"));
    const Grant* g = store.find("bg-1-aaaa");
    ASSERT_NE(g, nullptr);
    EXPECT_EQ(g->state, GrantState::Void);
    EXPECT_EQ(g->ended_at, 1'800'000'001);
    EXPECT_EQ(store.active_for("alice", "prod", 1'800'000'002), nullptr);
    // Its code is spent all the same: no replay of the voided grant's code.
    EXPECT_EQ(store.last_factor_counter("alice", "totp"), 60'000'000u);

    ReplayedEvent voided;
    voided.seq = 2;
    voided.event = "grant_void";
    voided.grant_id = "bg-1-aaaa";
    voided.timestamp = 1'800'000'005;
    store.apply(voided);
    EXPECT_EQ(store.find("bg-1-aaaa")->ended_at, 1'800'000'001);

    // Another grant is not touched by the first one's early end.
    store.apply(grant_event(3, "bg-3-bbbb"));
    ASSERT_NE(store.active_for("alice", "prod", 1'800'000'006), nullptr);
    EXPECT_EQ(store.active_for("alice", "prod", 1'800'000'006)->event_id, "bg-3-bbbb");
}

TEST(GrantStore, ApplyingARecordTwiceChangesNothing) {
    // What the recorder's catch-up relies on: a record that threw half-way
    // is told again.
    GrantStore store;
    store.apply(grant_event(1, "bg-1-aaaa"));
    store.apply(grant_event(1, "bg-1-aaaa"));
    EXPECT_EQ(store.list(true, "").size(), 1u);
    EXPECT_EQ(store.applied_seq(), 1u);
}

}  // namespace
}  // namespace bg
