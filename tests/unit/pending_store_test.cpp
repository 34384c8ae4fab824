// SPDX-License-Identifier: ISC
// helper/workflow: the pending-request store follows records only, and the
// request record's detail (the terms the store rebuilds from) reads back
// exactly what was written.
#include <gtest/gtest.h>

#include "helper/workflow/pending_store.hpp"

namespace bg::workflow {
namespace {

audit::Record record(const std::string& event, std::uint64_t seq, const std::string& actor,
                     const std::string& grant_id = "") {
    audit::Record r;
    r.event = event;
    r.seq = seq;
    r.event_id = "bg-2026-" + std::to_string(100000 + seq);
    r.timestamp = 1000 + static_cast<std::int64_t>(seq);
    r.actor = actor;
    r.grant_id = grant_id;
    r.gate_bypassed = "pair";
    return r;
}

audit::Record request(std::uint64_t seq, const std::string& user, int needed = 2) {
    audit::Record r = record("request", seq, user);
    r.expires_at = 2000;
    r.detail = request_detail({needed, "%leads, bob", 1800, "sev1"}) + "; the loginuid 1000 was not set by a login";
    return r;
}

TEST(RequestDetail, ReadsBackWhatItWrites) {
    const auto t = parse_request_detail(request_detail({3, "%secleads, bob", 5400, ""}));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->approvals_needed, 3);
    EXPECT_EQ(t->approvers, "%secleads, bob");
    EXPECT_EQ(t->ttl_seconds, 5400);
    EXPECT_EQ(t->severity, "");
    const auto s = parse_request_detail("needs 1 approval(s) by bob; ttl 60s; severity sev2; a note");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->severity, "sev2");
}

TEST(RequestDetail, RefusesWhatItDidNotWrite) {
    for (const char* bad : {"", "needs 0 approval(s) by bob; ttl 60s", "needs 6 approval(s) by bob; ttl 60s",
                            "needs 1 approval(s) by bob; ttl 0s", "needs 1 approval(s) by bob", "needs x approval(s) by bob; ttl 6s",
                            "needs 1 approval(s) by bob; ttl 60", "needs 1 approval(s) by bob; ttl 60sx",
                            "needs 1 approval(s) by bob; ttl 60s; severity "})
        EXPECT_FALSE(parse_request_detail(bad)) << bad;
}

TEST(PendingStore, ApprovalsCountOncePerApproverAndTheGrantEndsTheRequest) {
    PendingStore store;
    store.recorded(request(1, "alice"));
    const std::string id = "bg-2026-100001";
    ASSERT_NE(store.find(id), nullptr);
    EXPECT_EQ(store.pending_of("alice"), 1u);
    EXPECT_EQ(store.find(id)->approvals_needed, 2);
    EXPECT_EQ(store.earliest_expiry(), 2000);
    store.recorded(record("approve", 2, "bob", id));
    store.recorded(record("approve", 3, "bob", id));
    store.recorded(record("approval_refused", 4, "alice", id));
    EXPECT_EQ(store.find(id)->approved_by, (std::vector<std::string>{"bob"}));
    audit::Record grant = record("grant", 5, "alice", id);
    grant.approver = "bob, carol";
    grant.expires_at = 3000;
    store.recorded(grant);
    EXPECT_EQ(store.find(id)->state, RequestState::Granted);
    EXPECT_EQ(store.find(id)->grant_id, grant.event_id);
    EXPECT_EQ(store.pending_of("alice"), 0u);
    EXPECT_FALSE(store.earliest_expiry());
    // Ended: later records change nothing.
    store.recorded(record("reject", 6, "carol", id));
    EXPECT_EQ(store.find(id)->state, RequestState::Granted);
}

TEST(PendingStore, RejectCancelAndExpiryEndARequest) {
    PendingStore store;
    store.recorded(request(1, "alice"));
    store.recorded(request(2, "alice"));
    store.recorded(request(3, "dave"));
    store.recorded(record("reject", 4, "bob", "bg-2026-100001"));
    store.recorded(record("request_cancelled", 5, "alice", "bg-2026-100002"));
    store.recorded(record("request_expired", 6, "breakglassd", "bg-2026-100003"));
    EXPECT_EQ(store.find("bg-2026-100001")->state, RequestState::Rejected);
    EXPECT_EQ(store.find("bg-2026-100002")->state, RequestState::Cancelled);
    EXPECT_EQ(store.find("bg-2026-100003")->state, RequestState::Expired);
    EXPECT_EQ(store.pending_count(), 0u);
    // A request record the daemon would not write is not a request.
    audit::Record odd = request(7, "eve");
    odd.detail = "something else";
    store.recorded(odd);
    EXPECT_EQ(store.find(odd.event_id), nullptr);
}

}  // namespace
}  // namespace bg::workflow
