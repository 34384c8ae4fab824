// SPDX-License-Identifier: ISC
// journald mirror: fixed MESSAGE_IDs, priorities, escaped message text.
#include <gtest/gtest.h>
#include <syslog.h>

#include <set>
#include <string>

#include "helper/audit/journal.hpp"

namespace bg::audit {
namespace {

TEST(AuditJournal, MessageIdsAreFixedAndDistinct) {
    EXPECT_EQ(message_id_for("grant"), "63c7affc6836cfe79a364c0f510cdd33");
    EXPECT_EQ(message_id_for("revoke"), "19c56924ef76ea314bdf1985b3d5487b");
    EXPECT_EQ(message_id_for("no_such_event"), kGenericMessageId);
    std::set<std::string> seen;
    for (const char* e : {"request", "approve", "deny", "grant", "session_open", "command", "session_close", "revoke",
                          "expire", "review", "alert_failed", "sink_gap", "auth_failed", "rate_limited", "enroll",
                          "policy_load", "policy_error", "daemon_start", "terminate", "hook", "hook_failed"}) {
        const std::string id(message_id_for(e));
        EXPECT_EQ(id.size(), 32u) << e;
        EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << e;
        EXPECT_NE(id, kGenericMessageId) << e;
        EXPECT_TRUE(seen.insert(id).second) << e;
    }
}

TEST(AuditJournal, Priorities) {
    EXPECT_EQ(priority_for("grant"), LOG_ALERT);
    EXPECT_EQ(priority_for("sink_gap"), LOG_ERR);
    EXPECT_EQ(priority_for("auth_failed"), LOG_WARNING);
    EXPECT_EQ(priority_for("deny"), LOG_WARNING);
    EXPECT_EQ(priority_for("revoke"), LOG_NOTICE);
    EXPECT_EQ(priority_for("expire"), LOG_NOTICE);
    EXPECT_EQ(priority_for("command"), LOG_INFO);
    EXPECT_EQ(priority_for("hook_failed"), LOG_ALERT);
    EXPECT_EQ(priority_for("hook"), LOG_NOTICE);
    EXPECT_EQ(priority_for("terminate"), LOG_WARNING);
    EXPECT_EQ(priority_for("whatever"), LOG_INFO);
}

TEST(AuditJournal, MessageEscapesUserText) {
    Record r;
    r.event = "grant";
    r.event_id = "bg-2026-000007";
    r.actor = "al\x1b[31mice";
    r.gate_bypassed = "breakglass";
    r.detail = "line1\nline2";
    const std::string m = journal_message(r);
    EXPECT_EQ(m.rfind("breakglass grant bg-2026-000007 actor=", 0), 0u) << m;
    EXPECT_NE(m.find("gate=breakglass"), std::string::npos);
    for (const char c : m) EXPECT_GE(static_cast<unsigned char>(c), 0x20u) << m;
    send_to_journal(r);  // no journald is fine; must not throw or crash
}

}  // namespace
}  // namespace bg::audit
