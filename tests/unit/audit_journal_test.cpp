// SPDX-License-Identifier: ISC
// journald mirror: fixed MESSAGE_IDs, priorities, escaped message text.
#include <gtest/gtest.h>
#include <syslog.h>

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/text.hpp"

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
                          "policy_load", "policy_error", "daemon_start", "terminate", "hook", "hook_failed",
                          "refusals_suppressed", "checkpoint", "grant_void", "verify_failed",
                          "review_refused", "review_overdue"}) {
        const std::string id(message_id_for(e));
        EXPECT_EQ(id.size(), 32u) << e;
        EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << e;
        EXPECT_NE(id, kGenericMessageId) << e;
        EXPECT_TRUE(seen.insert(id).second) << e;
    }
}

TEST(AuditJournal, Priorities) {
    EXPECT_EQ(priority_for("grant"), LOG_ALERT);
    EXPECT_EQ(priority_for("verify_failed"), LOG_ALERT);
    EXPECT_EQ(priority_for("sink_gap"), LOG_ERR);
    EXPECT_EQ(priority_for("auth_failed"), LOG_WARNING);
    EXPECT_EQ(priority_for("deny"), LOG_WARNING);
    EXPECT_EQ(priority_for("review"), LOG_NOTICE);
    EXPECT_EQ(priority_for("review_refused"), LOG_WARNING);
    EXPECT_EQ(priority_for("review_overdue"), LOG_WARNING);
    EXPECT_EQ(priority_for("revoke"), LOG_NOTICE);
    EXPECT_EQ(priority_for("expire"), LOG_NOTICE);
    EXPECT_EQ(priority_for("command"), LOG_INFO);
    EXPECT_EQ(priority_for("hook_failed"), LOG_ALERT);
    EXPECT_EQ(priority_for("hook"), LOG_NOTICE);
    EXPECT_EQ(priority_for("terminate"), LOG_WARNING);
    EXPECT_EQ(priority_for("refusals_suppressed"), LOG_WARNING);
    EXPECT_EQ(priority_for("whatever"), LOG_INFO);
}

// The export entry systemd-journal-remote's /upload reads: the record's
// time, its host, every field once, the canonical line verbatim, one empty
// line at the end; a value with a newline in the binary form.
TEST(AuditJournal, ExportEntryCarriesTheCanonicalLine) {
    Record r;
    r.event = "grant";
    r.event_id = "bg-2026-000007";
    r.seq = 7;
    r.timestamp = 1782000000;
    r.host = "bastion-1";
    r.actor = "alice";
    r.detail = "two\nlines";
    const std::string line = canonical_json(r);
    const std::string e = journal_export_entry(r, line);
    EXPECT_EQ(e.rfind("__REALTIME_TIMESTAMP=1782000000000000\n_HOSTNAME=bastion-1\nMESSAGE=breakglass grant", 0), 0u) << e;
    EXPECT_NE(e.find("\nBREAKGLASS_RECORD=" + line + "\n\n"), std::string::npos) << e;
    EXPECT_EQ(e.substr(e.size() - 2), "\n\n");
    EXPECT_NE(e.find("\nBREAKGLASS_SEQ=7\n"), std::string::npos);
    EXPECT_NE(e.find("\nSYSLOG_IDENTIFIER=breakglassd\n"), std::string::npos);
    EXPECT_NE(e.find("\nMESSAGE_ID=63c7affc6836cfe79a364c0f510cdd33\n"), std::string::npos);
    // BREAKGLASS_DETAIL is escaped (no newline), so every field is NAME=value.
    EXPECT_NE(e.find("\nBREAKGLASS_DETAIL=two\\x0alines\n"), std::string::npos) << e;
    // A raw newline in a value (a host name is never one, but the format
    // must hold whatever comes) goes in the binary form.
    std::string out;
    append_export_field(out, "X=a\nb");
    EXPECT_EQ(out, std::string("X\n\x03\0\0\0\0\0\0\0a\nb\n", 14));
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
    EXPECT_NE(m.find("gate=\"breakglass\""), std::string::npos) << m;
    for (const char c : m) EXPECT_GE(static_cast<unsigned char>(c), 0x20u) << m;
    send_to_journal(r);  // no journald is fine; must not throw or crash
}

// MESSAGE read back the strict way: the prefix, then ` name="value"` pairs
// where a value ends at the first `"` not preceded by a backslash escape.
// nullopt when MESSAGE does not have that shape.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_message(const std::string& m,
                                                                              const std::string& prefix) {
    if (m.rfind(prefix, 0) != 0) return std::nullopt;
    std::vector<std::pair<std::string, std::string>> fields;
    std::size_t i = prefix.size();
    while (i < m.size()) {
        if (m[i] != ' ') return std::nullopt;
        const std::size_t eq = m.find("=\"", i + 1);
        if (eq == std::string::npos) return std::nullopt;
        const std::string name = m.substr(i + 1, eq - i - 1);
        for (const char c : name)
            if (c < 'a' || c > 'z') return std::nullopt;
        std::string value;
        std::size_t k = eq + 2;
        for (; k < m.size() && m[k] != '"'; ++k) {
            if (m[k] == '\\') {
                if (++k >= m.size()) return std::nullopt;
                if (m[k] != '"') value += '\\';  // \\ and \xNN stay as escape_for_display wrote them
            }
            value += m[k];
        }
        if (k >= m.size()) return std::nullopt;
        fields.emplace_back(name, value);
        i = k + 1;
    }
    return fields;
}

// Issue 10, item 9: `key=value` text inside a field forged fields in MESSAGE
// (a command `x gate=other actor=root` read as gate=other, actor=root).
TEST(AuditJournal, Issue10TextInsideAValueCannotForgeFields) {
    const std::vector<std::string> hostile = {
        "x gate=other actor=root",
        "x\" gate=\"other\" actor=\"root",
        "x\\\" gate=\"other",
        "trailing backslash\\",
        "\\\"",
        "a=\"\" b=\"\"",
        "tab\tand newline\n gate=other",
        "\xe2\x80\xae gate=other",  // U+202E
    };
    for (const std::string& text : hostile) {
        Record r;
        r.event = "command";
        r.event_id = "bg-2026-000042";
        r.actor = "alice";
        r.gate_bypassed = "breakglass";
        r.target = text;
        r.source = text;
        r.detail = text;
        r.expires_at = 1781498047;
        const std::string m = journal_message(r);
        const auto fields = parse_message(m, "breakglass command bg-2026-000042");
        ASSERT_TRUE(fields.has_value()) << m;
        const std::vector<std::string> names = {"actor", "gate", "target", "source", "detail", "expires"};
        ASSERT_EQ(fields->size(), names.size()) << m;
        for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ((*fields)[i].first, names[i]) << m;
        EXPECT_EQ((*fields)[0].second, "alice");
        EXPECT_EQ((*fields)[1].second, "breakglass");
        for (std::size_t i = 2; i < 5; ++i) EXPECT_EQ((*fields)[i].second, escape_for_display(text)) << m;
        // Nor does a search for a field's exact text find the forged one.
        EXPECT_EQ(m.find("gate=\"other"), std::string::npos) << m;
        EXPECT_EQ(m.find("actor=\"root"), std::string::npos) << m;
        for (const char c : m) EXPECT_GE(static_cast<unsigned char>(c), 0x20u) << m;
    }
}

TEST(AuditJournal, MessageShape) {
    Record r;
    r.event = "grant";
    r.event_id = "bg-2026-000007";
    r.actor = "alice";
    r.gate_bypassed = "breakglass";
    r.incident_ref = "INC-7";
    r.expires_at = 1781498047;
    EXPECT_EQ(journal_message(r),
              "breakglass grant bg-2026-000007 actor=\"alice\" gate=\"breakglass\" incident=\"INC-7\" "
              "expires=\"" + format_utc(1781498047) + "\"");
}

}  // namespace
}  // namespace bg::audit
