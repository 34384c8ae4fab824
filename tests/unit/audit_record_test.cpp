// SPDX-License-Identifier: ISC
// Canonical form, strict parsing and the fast scanner's agreement with it.
#include <gtest/gtest.h>

#include <string>

#include "helper/audit/audit_record.hpp"
#include "helper/audit/audit_verify.hpp"

namespace bg::audit {
namespace {

Record sample_record() {
    Record r;
    r.event = "grant";
    r.actor = "alice";
    r.actor_loginuid = 1000;
    r.actor_role = "oncall";
    r.action = "sudo -g breakglass";
    r.target = "root";
    r.gate_bypassed = "breakglass";
    r.reason = "disk full \"db\"\t\x01 \xc3\xa9";
    r.incident_ref = "INC-42";
    r.expires_at = 1781500000;
    r.source = "pts/3";
    r.review_status = "pending";
    r.factor = "totp";
    r.factor_counter = 59383333;
    r.peer_uid = 0;
    r.event_id = "bg-2026-000007";
    r.seq = 7;
    r.timestamp = 1781498047;
    r.host = "bastion-1";
    r.prev_hash = std::string(64, 'a');
    r.hash = std::string(64, 'b');
    r.seal = std::string(64, 'c');
    return r;
}

// Checked independently: Python json.dumps(sort_keys=True, separators=(',',':'),
// ensure_ascii=False) produces the same bytes, hashlib.sha256 the same hash.
const std::string kGoldenLine =
    R"({"action":"sudo -g breakglass","actor":"alice","actor_loginuid":1000,"actor_role":"oncall",)"
    R"("approver":"","detail":"","event":"grant","event_id":"bg-2026-000007","expires_at":"2026-06-15T05:06:40Z",)"
    R"("factor":"totp","factor_counter":59383333,"gate_bypassed":"breakglass","grant_id":"",)"
    R"("hash":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","host":"bastion-1",)"
    R"("incident_ref":"INC-42","peer_uid":0,)"
    R"("prev_hash":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",)"
    "\"reason\":\"disk full \\\"db\\\"\\t\\u0001 \xc3\xa9\",\"review_status\":\"pending\","
    R"("seal":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","seq":7,"source":"pts/3",)"
    R"("target":"root","timestamp":"2026-06-15T04:34:07Z"})";
constexpr const char* kGoldenHash = "0f6dc55cdf795ebb630288cc0f50868751858450a5772eb5f2aaec61550f3a27";

bool scanner_accepts(const std::string& line) {
    LineScan s;
    return scan_line(line, &s) == nullptr;
}

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
    const auto pos = s.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    if (pos != std::string::npos) s.replace(pos, from.size(), to);
    return s;
}

TEST(AuditRecord, CanonicalFormGolden) {
    EXPECT_EQ(canonical_json(sample_record()), kGoldenLine);
    EXPECT_EQ(compute_hash(sample_record()), kGoldenHash);
}

TEST(AuditRecord, UnsealedFormIsLineWithoutHashAndSeal) {
    const std::string unsealed = canonical_json_unsealed(sample_record());
    std::string cut = replace_once(kGoldenLine, ",\"hash\":\"" + std::string(64, 'b') + "\"", "");
    cut = replace_once(cut, ",\"seal\":\"" + std::string(64, 'c') + "\"", "");
    EXPECT_EQ(unsealed, cut);
}

TEST(AuditRecord, RoundTrip) {
    const Record r = sample_record();
    auto parsed = parse_record(canonical_json(r));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(canonical_json(*parsed), canonical_json(r));
    EXPECT_EQ(parsed->reason, r.reason);
    EXPECT_EQ(parsed->actor_loginuid, 1000);
    EXPECT_EQ(parsed->peer_uid, 0);
    EXPECT_EQ(parsed->factor_counter, 59383333u);
    EXPECT_EQ(parsed->expires_at, 1781500000);
    EXPECT_EQ(parsed->timestamp, 1781498047);
    EXPECT_EQ(parsed->seq, 7u);
}

TEST(AuditRecord, RoundTripNegativeAndEmpty) {
    Record r = sample_record();
    r.actor_loginuid = -1;
    r.peer_uid = -1;
    r.expires_at = 0;
    r.reason.clear();
    const std::string line = canonical_json(r);
    EXPECT_NE(line.find("\"expires_at\":\"\""), std::string::npos);
    EXPECT_NE(line.find("\"actor_loginuid\":-1"), std::string::npos);
    auto parsed = parse_record(line);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed->actor_loginuid, -1);
    EXPECT_EQ(parsed->expires_at, 0);
    EXPECT_TRUE(scanner_accepts(line));
}

TEST(AuditRecord, ControlCharactersAreEscapedInTheLine) {
    Record r = sample_record();
    r.detail = std::string("a\x01" "b\x1f" "c\n\r\b\f\x7f", 10);
    const std::string line = canonical_json(r);
    EXPECT_NE(line.find(R"("detail":"a\u0001b\u001fc\n\r\b\f)" "\x7f\""), std::string::npos) << line;
    for (const char c : line) EXPECT_GE(static_cast<unsigned char>(c), 0x20u);
    EXPECT_TRUE(scanner_accepts(line));
    auto parsed = parse_record(line);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed->detail, r.detail);
}

TEST(AuditRecord, EventIdFormat) {
    EXPECT_EQ(format_event_id(1781498047, 7), "bg-2026-000007");
    EXPECT_EQ(format_event_id(0, 1), "bg-1970-000001");
    EXPECT_EQ(format_event_id(1781498047, 123456), "bg-2026-123456");
    EXPECT_EQ(format_event_id(1781498047, 1234567), "bg-2026-1234567");
    EXPECT_EQ(format_event_id(1798761599, 1), "bg-2026-000001");  // 2026-12-31T23:59:59Z
    EXPECT_EQ(format_event_id(1798761600, 1), "bg-2027-000001");
}

TEST(AuditRecord, UtcFormatting) {
    EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_utc(1781498047), "2026-06-15T04:34:07Z");
    EXPECT_EQ(format_utc(951782400), "2000-02-29T00:00:00Z");
    EXPECT_EQ(format_utc(kMaxTimestamp), "9999-12-31T23:59:59Z");
    for (std::int64_t t : {std::int64_t{0}, std::int64_t{951782400}, std::int64_t{1781498047}, kMaxTimestamp}) {
        EXPECT_EQ(parse_utc(format_utc(t)), t);
    }
    EXPECT_FALSE(parse_utc("2026-02-29T00:00:00Z"));
    EXPECT_FALSE(parse_utc("2026-06-15T24:00:00Z"));
    EXPECT_FALSE(parse_utc("2026-06-15 04:34:07Z"));
    EXPECT_FALSE(parse_utc("1969-12-31T23:59:59Z"));
    EXPECT_FALSE(parse_utc("2026-06-15T04:34:07"));
}

TEST(AuditRecord, EventNames) {
    EXPECT_TRUE(is_valid_event_name("session_open"));
    EXPECT_TRUE(is_valid_event_name(std::string(32, 'a')));
    EXPECT_FALSE(is_valid_event_name(std::string(33, 'a')));
    EXPECT_FALSE(is_valid_event_name(""));
    EXPECT_FALSE(is_valid_event_name("Grant"));
    EXPECT_FALSE(is_valid_event_name("grant-1"));
}

TEST(AuditRecord, ValidateFields) {
    RecordFields f;
    f.event = "grant";
    EXPECT_FALSE(validate_fields(f));
    f.reason = std::string("\xff\xfe");
    EXPECT_TRUE(validate_fields(f));
    f.reason = std::string(kMaxFieldBytes + 1, 'x');
    EXPECT_TRUE(validate_fields(f));
    f.reason.clear();
    f.event = "Bad";
    EXPECT_TRUE(validate_fields(f));
}

// Every rejected variant must also be rejected by the fast scanner.
void expect_rejected(const std::string& line, const char* what) {
    EXPECT_FALSE(parse_record(line).ok()) << what;
    EXPECT_FALSE(scanner_accepts(line)) << what;
}

TEST(AuditRecord, RejectsMissingExtraMistypedKeys) {
    const std::string good = kGoldenLine;
    ASSERT_TRUE(parse_record(good).ok());
    ASSERT_TRUE(scanner_accepts(good));
    expect_rejected(replace_once(good, "\"actor\":\"alice\",", ""), "missing actor");
    expect_rejected(replace_once(good, "\"seq\":7,", ""), "missing seq");
    expect_rejected(replace_once(good, "\"seq\":7,", "\"seq\":7,\"extra\":\"x\","), "extra key");
    expect_rejected(replace_once(good, "{", "{\"aaa\":1,"), "extra key first");
    expect_rejected(replace_once(good, "\"seq\":7", "\"seq\":\"7\""), "seq as string");
    expect_rejected(replace_once(good, "\"seq\":7", "\"seq\":-7"), "negative seq");
    expect_rejected(replace_once(good, "\"seq\":7", "\"seq\":7.0"), "seq as float");
    expect_rejected(replace_once(good, "\"seq\":7", "\"seq\":07"), "seq with leading zero");
    expect_rejected(replace_once(good, "\"seq\":7", "\"seq\":0"), "seq 0");
    expect_rejected(replace_once(good, "\"actor\":\"alice\"", "\"actor\":5"), "actor as int");
    expect_rejected(replace_once(good, "\"actor\":\"alice\"", "\"actor\":null"), "actor null");
    expect_rejected(replace_once(good, "\"peer_uid\":0", "\"peer_uid\":\"0\""), "peer_uid as string");
    expect_rejected(replace_once(good, "\"peer_uid\":0", "\"peer_uid\":-0"), "peer_uid -0");
    expect_rejected(replace_once(good, "\"peer_uid\":0", "\"peer_uid\":99999999999999999999"), "peer_uid too big");
    expect_rejected(replace_once(good, "\"factor_counter\":59383333", "\"factor_counter\":-1"), "negative counter");
    expect_rejected(replace_once(good, "\"event\":\"grant\"", "\"event\":\"Grant\""), "bad event");
    expect_rejected(replace_once(good, "2026-06-15T04:34:07Z", "2026-06-15T04:34:07"), "bad timestamp");
    expect_rejected(replace_once(good, "bg-2026-000007", "bg-2026-000008"), "event_id/seq mismatch");
    expect_rejected(replace_once(good, "bg-2026-000007", "bg-2025-000007"), "event_id/year mismatch");
    expect_rejected(replace_once(good, std::string(64, 'b'), std::string(64, 'B')), "upper-case hash");
    expect_rejected(replace_once(good, std::string(64, 'c'), std::string(63, 'c')), "short seal");
    expect_rejected(replace_once(good, "\"expires_at\":\"2026-06-15T05:06:40Z\"",
                                 "\"expires_at\":\"1970-01-01T00:00:00Z\""), "expires_at epoch");
    expect_rejected(good + " ", "trailing space");
    expect_rejected(good + "\n", "newline inside");
    expect_rejected("[" + good + "]", "array");
    expect_rejected("", "empty");
    expect_rejected(std::string(kMaxLineBytes + 1, ' '), "too long");
}

TEST(AuditRecord, RejectsNonCanonicalLines) {
    const std::string good = kGoldenLine;
    expect_rejected(replace_once(good, "\"seq\":7", "\"seq\": 7"), "space after colon");
    expect_rejected(replace_once(good, ",\"source\"", ", \"source\""), "space after comma");
    expect_rejected(replace_once(good, "{", "{ "), "space after brace");
    // Keys reordered (valid JSON, same content).
    expect_rejected(replace_once(replace_once(good, "\"actor\":\"alice\",", ""), "\"action\":\"sudo -g breakglass\",",
                                 "\"actor\":\"alice\",\"action\":\"sudo -g breakglass\","),
                    "reordered keys");
    // Duplicate hash key: a second member after the real one.
    expect_rejected(replace_once(good, ",\"host\"", ",\"hash\":\"" + std::string(64, 'd') + "\",\"host\""),
                    "duplicate hash key");
    expect_rejected(replace_once(good, ",\"seq\"", ",\"seal\":\"" + std::string(64, 'd') + "\",\"seq\""),
                    "duplicate seal key");
    expect_rejected(replace_once(good, "\"action\"", "\"action\":\"x\",\"action\""), "duplicate first key");
    // Escapes nlohmann never writes.
    expect_rejected(replace_once(good, "pts/3", "pts\\/3"), "escaped slash");
    expect_rejected(replace_once(good, "alice", "\\u0061lice"), "unicode escape of a letter");
    expect_rejected(replace_once(good, "\\t", "\\u0009"), "long form of tab");
    expect_rejected(replace_once(good, "\\u0001", "\\x0001"), "unknown escape letter");
    expect_rejected(replace_once(good, "\\u0001", "\\u000A"), "upper-case hex escape");
    expect_rejected(replace_once(good, "\\t", "\t"), "raw tab");
    expect_rejected(replace_once(good, "\xc3\xa9", "\xc3"), "truncated UTF-8");
    expect_rejected(replace_once(good, "\xc3\xa9", "\xc0\xa9"), "overlong UTF-8");
    expect_rejected(replace_once(good, "\xc3\xa9", "\xed\xa0\x80"), "surrogate in UTF-8");
}

TEST(AuditRecord, QuotesInsideValuesAreNotStructure) {
    // A reason that imitates the hash member must stay a plain string value.
    Record r = sample_record();
    r.reason = "\",\"hash\":\"" + std::string(64, 'e') + "\",\"seal\":\"x";
    r.detail = "\\\",\"hash\":\"";
    const std::string line = canonical_json(r);
    LineScan s;
    ASSERT_EQ(scan_line(line, &s), nullptr);
    EXPECT_EQ(s.hash, std::string(64, 'b'));
    EXPECT_EQ(s.seal, std::string(64, 'c'));
    EXPECT_EQ(line.substr(s.hash_member_begin, s.hash_member_end - s.hash_member_begin),
              ",\"hash\":\"" + std::string(64, 'b') + "\"");
    auto parsed = parse_record(line);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed->reason, r.reason);
}

// The scanner and the full parser agree on every single-byte mutation of a
// canonical line (the property the fast verifier relies on; the fuzz target
// checks it on arbitrary inputs).
TEST(AuditRecord, ScannerAgreesWithParserOnMutations) {
    const std::string good = kGoldenLine;
    const unsigned char replacements[] = {' ', '"', '\\', ',', ':', '0', '9', 'a', 'u', '}', '{', 0x01, 0x7f, 0xc3, 0xff};
    for (std::size_t i = 0; i < good.size(); ++i) {
        for (const unsigned char c : replacements) {
            std::string m = good;
            m[i] = static_cast<char>(c);
            EXPECT_EQ(scanner_accepts(m), parse_record(m).ok()) << "offset " << i << " byte " << int(c);
        }
        std::string deleted = good;
        deleted.erase(i, 1);
        EXPECT_EQ(scanner_accepts(deleted), parse_record(deleted).ok()) << "deleted " << i;
    }
}

TEST(AuditRecord, ParseNeverThrowsOnGarbage) {
    const char* inputs[] = {"{", "}", "{\"a\":", "nul", "[[[[[[[[[[[[", "{\"action\":\"\xff\"}", "\"", "1e999999"};
    for (const char* in : inputs) EXPECT_FALSE(parse_record(in).ok()) << in;
    EXPECT_FALSE(parse_record(std::string(10000, '[')).ok());
}

}  // namespace
}  // namespace bg::audit
