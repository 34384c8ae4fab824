// SPDX-License-Identifier: ISC
#include "helper/ctl/output.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace bg::ctl {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kNow = 1795946400;  // 2026-11-29T10:00:00Z

TEST(CtlTime, FormatsUtc) {
    EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_utc(kNow), "2026-11-29T10:00:00Z");
    EXPECT_EQ(format_utc(1709251199), "2024-02-29T23:59:59Z");
    EXPECT_EQ(format_utc(-1), "1969-12-31T23:59:59Z");
}

TEST(CtlTime, FormatsSpansForPeople) {
    EXPECT_EQ(format_span(0), "0s");
    EXPECT_EQ(format_span(45), "45s");
    EXPECT_EQ(format_span(1799), "30m");
    EXPECT_EQ(format_span(1800), "30m");
    EXPECT_EQ(format_span(3600), "1h");
    EXPECT_EQ(format_span(5400), "1h30m");
    EXPECT_EQ(format_span(86399), "1d");
    EXPECT_EQ(format_span(86400 + 3 * 3600), "1d3h");
    EXPECT_EQ(format_span(-90), "-2m");
}

TEST(CtlEscape, TruncatesByColumnsWithoutSplitting) {
    EXPECT_EQ(escape_and_truncate("short", 40), "short");
    EXPECT_EQ(escape_and_truncate(std::string(40, 'x'), 40), std::string(40, 'x'));
    EXPECT_EQ(escape_and_truncate(std::string(41, 'x'), 40), std::string(37, 'x') + "...");
    // multi-byte characters count as one column and are never cut in half
    std::string accents;
    for (int i = 0; i < 50; ++i) accents += "\xc3\xa9";  // é
    const std::string cut = escape_and_truncate(accents, 40);
    EXPECT_EQ(display_width(cut), 40u);
    EXPECT_EQ(cut.substr(cut.size() - 3), "...");
    EXPECT_EQ(cut.size(), 37u * 2 + 3);
    // an escape sequence is not cut in half either
    const std::string ctl = escape_and_truncate(std::string(35, 'a') + "\x1b[31m", 40);
    EXPECT_EQ(ctl, std::string(35, 'a') + "...");
    EXPECT_EQ(ctl.find('\x1b'), std::string::npos);
}

TEST(CtlGranted, Line) {
    proto::Granted g;
    g.event_id = "bg-2026-000042";
    g.expires_at = kNow + 1800;
    EXPECT_EQ(format_granted("breakglass", g, kNow),
              "granted: bg-2026-000042 gate=breakglass expires_at=2026-11-29T10:30:00Z (in 30m)");
    EXPECT_EQ(format_granted("breakglass", g, kNow + 4000),
              "granted: bg-2026-000042 gate=breakglass expires_at=2026-11-29T10:30:00Z (already expired)");
}

proto::GrantInfo grant(std::string id, std::string user, std::string reason) {
    proto::GrantInfo g;
    g.event_id = std::move(id);
    g.user = std::move(user);
    g.gate = "breakglass";
    g.state = "active";
    g.granted_at = kNow - 600;
    g.expires_at = kNow + 1200;
    g.reason = std::move(reason);
    g.incident = "INC-7";
    return g;
}

TEST(CtlTable, EmptyLists) {
    EXPECT_EQ(format_grant_table({}, false, kNow), "no active grants\n");
    EXPECT_EQ(format_grant_table({}, true, kNow), "no grants\n");
}

TEST(CtlTable, AlignedColumnsAndTruncatedReason) {
    proto::StatusAnswer a;
    a.grants.push_back(grant("bg-2026-000042", "alice", "disk full"));
    proto::GrantInfo ended = grant("bg-2026-000007", "bob", std::string(60, 'r'));
    ended.state = "revoked";
    ended.ended_at = kNow - 60;
    a.grants.push_back(ended);
    const std::string table = format_grant_table(a, true, kNow);
    const std::string expected =
        "EVENT ID        USER   GATE        STATE    EXPIRES/ENDED                  INCIDENT  REASON\n"
        "bg-2026-000042  alice  breakglass  active   2026-11-29T10:20:00Z (in 20m)  INC-7     disk full\n"
        "bg-2026-000007  bob    breakglass  revoked  2026-11-29T09:59:00Z           INC-7     " +
        std::string(37, 'r') + "...\n";
    EXPECT_EQ(table, expected);
}

TEST(CtlTable, EveryUserFieldIsEscaped) {
    proto::StatusAnswer a;
    proto::GrantInfo g = grant("bg-2026-000001\x1b[2J", "mallory\r", "rm -rf\x1b]0;pwned\x07");
    g.gate = "g\x7f";
    g.incident = "INC\n1";
    g.state = "active\x9b";
    a.grants.push_back(g);
    a.truncated = true;
    const std::string table = format_grant_table(a, false, kNow);
    for (const char c : table) {
        const auto u = static_cast<unsigned char>(c);
        EXPECT_TRUE(c == '\n' || (u >= 0x20 && u != 0x7f)) << "raw byte " << int(u);
    }
    EXPECT_NE(table.find("bg-2026-000001\\x1b[2J"), std::string::npos);
    EXPECT_NE(table.find("mallory\\x0d"), std::string::npos);
    EXPECT_NE(table.find("INC\\x0a1"), std::string::npos);
    EXPECT_NE(table.find("more grants exist"), std::string::npos);
}

const char* kRecord =
    R"({"action":"grant","actor":"alice","actor_loginuid":1000,"actor_role":"requester","approver":"",)"
    R"("detail":"","event":"grant","event_id":"bg-2026-000042","expires_at":"2026-11-29T10:30:00Z",)"
    R"("factor":"totp","factor_counter":5,"gate_bypassed":"breakglass","grant_id":"","hash":"ab","host":"db1",)"
    R"("incident_ref":"INC-7","peer_uid":1000,"prev_hash":"cd","reason":"disk \"full\"\u001b[2J now",)"
    R"("review_status":"open","seal":"ef","seq":42,"source":"/dev/pts/3","target":"","timestamp":"2026-11-29T10:00:00Z"})";

TEST(CtlLog, HumanLineEscapesAndQuotes) {
    EXPECT_EQ(format_log_record(kRecord),
              R"(2026-11-29T10:00:00Z bg-2026-000042 grant actor=alice gate=breakglass incident=INC-7 )"
              R"(reason="disk \"full\"\x1b[2J now")");
}

TEST(CtlLog, DetailShownWhenPresent) {
    json r = json::parse(kRecord);
    r["detail"] = "exit=0";
    r["reason"] = "x";
    EXPECT_EQ(format_log_record(r.dump()),
              "2026-11-29T10:00:00Z bg-2026-000042 grant actor=alice gate=breakglass incident=INC-7 reason=x "
              "detail=\"exit=0\"");
}

// Issue 10, item 9: a record written before the daemon refused invisible
// format characters (or by anything else) is still shown escaped.
TEST(CtlLog, Issue10InvisibleFormatCharactersAreShownEscaped) {
    json r = json::parse(kRecord);
    r["reason"] = "invoice \xe2\x80\xaegnp.exe";  // U+202E RIGHT-TO-LEFT OVERRIDE
    r["detail"] = "zero\xe2\x80\x8bwidth \xef\xbb\xbf";  // U+200B, U+FEFF
    const std::string line = format_log_record(r.dump());
    EXPECT_EQ(line, "2026-11-29T10:00:00Z bg-2026-000042 grant actor=alice gate=breakglass incident=INC-7 "
                    "reason=\"invoice \\xe2\\x80\\xaegnp.exe\" detail=\"zero\\xe2\\x80\\x8bwidth \\xef\\xbb\\xbf\"");
    // The status table's reason column (U+2067 RIGHT-TO-LEFT ISOLATE).
    EXPECT_EQ(escape_and_truncate("\xe2\x81\xa7x", 40), "\\xe2\\x81\\xa7x");
}

TEST(CtlLog, UnparsableRecordShownEscaped) {
    EXPECT_EQ(format_log_record("{\"broken\x1b"), "(unparsable record) {\"broken\\x1b");
}

TEST(CtlLog, ExportKeepsCanonicalBytes) {
    EXPECT_EQ(export_log_record(kRecord), kRecord);
    EXPECT_EQ(export_log_record("{\"a\":\"\n\"}"), "{\"a\":\"\\x0a\"}");
}

TEST(CtlVerify, Messages) {
    VerifyOutcome ok;
    ok.ok = true;
    ok.records = 12;
    ok.seals_checked = true;
    EXPECT_EQ(format_verify(ok), "OK: 12 records, chain and seals verified");
    ok.seals_checked = false;
    EXPECT_EQ(format_verify(ok), "OK: 12 records, chain verified; seals NOT checked (no --key)");
    VerifyOutcome bad;
    bad.first_bad_seq = 7;
    bad.message = "prev_hash does not match\x1b";
    EXPECT_EQ(format_verify(bad), "FAILED at seq 7: prev_hash does not match\\x1b");
    const json j = json::parse(verify_json(bad));
    EXPECT_EQ(j["ok"], false);
    EXPECT_EQ(j["first_bad_seq"], 7);
}

TEST(CtlPolicy, OkLineAndGateList) {
    EXPECT_EQ(format_policy_ok("/etc/breakglass/policy.toml", {"breakglass", "db-emergency"}),
              "/etc/breakglass/policy.toml: OK, gates: breakglass, db-emergency");
    EXPECT_EQ(format_gate_list({}), "(none)");
}

TEST(CtlPolicy, DumpEscapedLineByLine) {
    EXPECT_EQ(escape_lines("a = 1\nb = \"\x1b\"\n"), "a = 1\nb = \"\\x1b\"\n");
    EXPECT_EQ(escape_lines("no newline"), "no newline");
    EXPECT_EQ(escape_lines(""), "");
}

TEST(CtlErrors, CodeMessageAndWhatToDo) {
    proto::ErrorAnswer e;
    e.code = proto::ErrorCode::Denied;
    e.message = "incident 'x\x1b' does not match";
    EXPECT_EQ(describe_error(e), "denied: incident 'x\\x1b' does not match");
    e.code = proto::ErrorCode::RateLimited;
    EXPECT_EQ(describe_error(e).rfind("rate_limited: ", 0), 0u);
    EXPECT_NE(describe_error(e).find("wait"), std::string::npos);
    const json j = json::parse(error_json("denied", "no"));
    EXPECT_EQ(j["error"]["code"], "denied");
    EXPECT_EQ(j["error"]["message"], "no");
}

TEST(CtlJson, StatusIsOneObjectWithRawTextAndTimes) {
    proto::StatusAnswer a;
    a.grants.push_back(grant("bg-2026-000042", "alice", "line\nbreak"));
    const std::string out = status_json(a);
    EXPECT_EQ(out.find('\n'), std::string::npos);
    const json j = json::parse(out);
    ASSERT_EQ(j["grants"].size(), 1u);
    EXPECT_EQ(j["grants"][0]["reason"], "line\nbreak");
    EXPECT_EQ(j["grants"][0]["expires_at"], kNow + 1200);
    EXPECT_EQ(j["grants"][0]["expires_at_utc"], "2026-11-29T10:20:00Z");
    EXPECT_EQ(j["grants"][0]["ended_at_utc"], "");
    EXPECT_EQ(j["truncated"], false);
}

TEST(CtlJson, InvalidUtf8DoesNotThrow) {
    proto::Enrolled e;
    e.user = "al\xffice";
    e.otpauth_uri = "otpauth://totp/breakglass:alice?secret=X&issuer=breakglass";
    EXPECT_NO_THROW({
        const json parsed = json::parse(enrolled_json(e));
        EXPECT_TRUE(parsed.is_object());
    });
}

}  // namespace
}  // namespace bg::ctl
