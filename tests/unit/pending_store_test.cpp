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
    r.detail = request_detail({needed, "%leads, bob", 1800, "sev1", ""}) + "; the loginuid 1000 was not set by a login";
    return r;
}

TEST(RequestDetail, ReadsBackWhatItWrites) {
    const auto t = parse_request_detail(request_detail({3, "%secleads, bob", 5400, "", ""}));
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

// Issue 15: the daemon could not make the grant the last approval completed
// (a PostgreSQL gate whose database was down): its deny record, naming the
// request, ends it as `refused` with the reason; a deny of someone else or
// for another gate does not.
TEST(PendingStore, ADenyNamingTheRequestEndsItAsRefused) {
    PendingStore store;
    store.recorded(request(1, "alice", 1));
    const std::string id = "bg-2026-100001";
    store.recorded(record("approve", 2, "bob", id));
    audit::Record other_user = record("deny", 3, "mallory", id);
    store.recorded(other_user);
    audit::Record other_gate = record("deny", 4, "alice", id);
    other_gate.gate_bypassed = "elsewhere";
    store.recorded(other_gate);
    EXPECT_EQ(store.find(id)->state, RequestState::Pending);
    audit::Record deny = record("deny", 5, "alice", id);
    deny.detail = "request bg-2026-100001 approved by bob, but the PostgreSQL role could not be created";
    store.recorded(deny);
    EXPECT_EQ(store.find(id)->state, RequestState::Refused);
    EXPECT_EQ(request_state_name(store.find(id)->state), "refused");
    EXPECT_EQ(store.find(id)->ended_why, deny.detail);
    EXPECT_EQ(store.pending_of("alice"), 0u);
    // Ended: a late grant naming it changes nothing.
    store.recorded(record("grant", 6, "alice", id));
    EXPECT_EQ(store.find(id)->state, RequestState::Refused);
}

}  // namespace
}  // namespace bg::workflow

namespace bg::workflow {
namespace {

// The request code's nonce rides in the request record's detail, before the
// severity, and comes back into the store.
TEST(RequestDetail, CarriesTheNonce) {
    const std::string nonce = "00112233445566778899aabbccddeeff";
    const std::string d = request_detail({1, "bob", 60, "sev1", nonce});
    EXPECT_EQ(d, "needs 1 approval(s) by bob; ttl 60s; nonce " + nonce + "; severity sev1");
    const auto t = parse_request_detail(d + "; the loginuid 1000 was not set by a login");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->nonce, nonce);
    EXPECT_EQ(t->severity, "sev1");
    EXPECT_FALSE(parse_request_detail("needs 1 approval(s) by bob; ttl 60s; nonce 0011"));
    EXPECT_FALSE(parse_request_detail("needs 1 approval(s) by bob; ttl 60s; nonce " + std::string(32, 'G')));
    PendingStore store;
    audit::Record r;
    r.event = "request";
    r.event_id = "bg-2026-000001";
    r.actor = "alice";
    r.detail = d;
    store.recorded(r);
    ASSERT_NE(store.find("bg-2026-000001"), nullptr);
    EXPECT_EQ(store.find("bg-2026-000001")->nonce, nonce);
}

// An approve record made with an offline token marks the token used (also
// when replayed into a new store, as after a restart), until its not_after.
TEST(PendingStore, RemembersUsedOfflineTokensFromTheirRecords) {
    const std::string digest = "0123456789abcdef0123456789abcdef";
    audit::Record a;
    a.event = "approve";
    a.event_id = "bg-2026-000002";
    a.actor = "bob";
    a.grant_id = "bg-2026-000001";
    a.expires_at = 5000;
    a.detail = "offline token " + digest + " signed by bob's key, valid until 2026-12-01T18:00:00Z";
    PendingStore store;
    EXPECT_FALSE(store.token_used(digest));
    store.recorded(a);
    EXPECT_EQ(store.token_used(digest), "bg-2026-000002");
    PendingStore after_restart;
    after_restart.recorded(a);
    EXPECT_EQ(after_restart.token_used(digest), "bg-2026-000002");
    after_restart.forget_tokens_before(5000);
    EXPECT_TRUE(after_restart.token_used(digest)) << "still valid at its not_after";
    after_restart.forget_tokens_before(5001);
    EXPECT_FALSE(after_restart.token_used(digest));
    // An online approval's note cannot mark a token used.
    audit::Record online = a;
    online.detail = "approved: offline token " + digest;
    PendingStore other;
    other.recorded(online);
    EXPECT_FALSE(other.token_used(digest));
}

}  // namespace
}  // namespace bg::workflow
