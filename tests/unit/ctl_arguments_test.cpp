// SPDX-License-Identifier: ISC
#include "helper/ctl/arguments.hpp"

#include <gtest/gtest.h>

namespace bg::ctl {
namespace {

TEST(CtlDuration, AcceptsUnitGroupsInOrder) {
    EXPECT_EQ(parse_duration_seconds("10s"), 10);
    EXPECT_EQ(parse_duration_seconds("30m"), 1800);
    EXPECT_EQ(parse_duration_seconds("1h"), 3600);
    EXPECT_EQ(parse_duration_seconds("1h30m"), 5400);
    EXPECT_EQ(parse_duration_seconds("2d"), 172800);
    EXPECT_EQ(parse_duration_seconds("1d2h3m4s"), 86400 + 7200 + 180 + 4);
    EXPECT_EQ(parse_duration_seconds("90m"), 5400);
}

TEST(CtlDuration, RefusesEverythingElse) {
    for (const char* bad : {"", "10", "m", "1x", "1h1h", "30m1h", "1H", " 1h", "1h ", "-5m", "0s", "0h0m",
                            "1.5h", "1h-", "99999999999999999999s", "3651d"}) {
        EXPECT_FALSE(parse_duration_seconds(bad).has_value()) << bad;
    }
}

TEST(CtlDuration, CapIsInclusive) { EXPECT_EQ(parse_duration_seconds("3650d"), kMaxDurationSeconds); }

TEST(CtlTimestamp, ParsesRfc3339Utc) {
    EXPECT_EQ(parse_utc_timestamp("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_utc_timestamp("2026-11-29T10:00:00Z"), 1795946400);
    EXPECT_EQ(parse_utc_timestamp("2026-11-29t10:00:00z"), 1795946400);
    EXPECT_EQ(parse_utc_timestamp("2026-11-29T10:00:00+00:00"), 1795946400);
    EXPECT_EQ(parse_utc_timestamp("2026-11-29T10:00:00.123Z"), 1795946400);
    EXPECT_EQ(parse_utc_timestamp("2024-02-29T23:59:59Z"), 1709251199);
    EXPECT_EQ(parse_utc_timestamp("2016-12-31T23:59:60Z"), 1483228799);  // leap second folds onto :59
}

TEST(CtlTimestamp, RefusesOtherFormsAndImpossibleDates) {
    for (const char* bad : {"", "2026-11-29", "2026-11-29T10:00:00", "2026-11-29T10:00:00+01:00",
                            "2026-11-29 10:00:00Z", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z",
                            "2026-04-31T00:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T10:60:00Z",
                            "2026-11-29T10:00:00.Z", "2026-11-29T10:00:00ZZ", "2026-1a-29T10:00:00Z"}) {
        EXPECT_FALSE(parse_utc_timestamp(bad).has_value()) << bad;
    }
}

TEST(CtlSince, TimeOrDurationAgo) {
    EXPECT_EQ(parse_since("2026-11-29T10:00:00Z", 0).value(), 1795946400);
    EXPECT_EQ(parse_since("1h", 10000).value(), 6400);
    EXPECT_EQ(parse_since("30m", 10000).value(), 8200);
    const auto bad = parse_since("yesterday", 10000);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("--since 'yesterday'"), std::string::npos);
}

TEST(CtlExpectedHead, SeqAloneOrWithHash) {
    const auto seq_only = parse_expected_head("42");
    ASSERT_TRUE(seq_only.ok());
    EXPECT_EQ(seq_only->seq, 42u);
    EXPECT_TRUE(seq_only->hash.empty());

    const std::string hash(64, 'A');
    const auto with_hash = parse_expected_head("7:" + hash);
    ASSERT_TRUE(with_hash.ok());
    EXPECT_EQ(with_hash->seq, 7u);
    EXPECT_EQ(with_hash->hash, std::string(64, 'a'));  // lower-cased, as the log writes it

    EXPECT_EQ(parse_expected_head("18446744073709551615")->seq, 18446744073709551615u);
    for (const std::string& bad : {std::string(""), std::string(":"), std::string("x"), std::string("-1"),
                                  std::string("18446744073709551616"), std::string("7:"), std::string("7:abc"),
                                  "7:" + std::string(63, 'a') + "g", ":" + hash}) {
        EXPECT_FALSE(parse_expected_head(bad).ok()) << bad;
    }
}

RequestArguments valid_request() {
    RequestArguments a;
    a.gate = "db-emergency";
    a.reason = "primary is down, failover stuck";
    a.incident = "INC-1234";
    a.severity = "sev1";
    a.ttl = "30m";
    a.tty = "/dev/pts/3";
    return a;
}

TEST(CtlGrantRequest, MapsEveryArgument) {
    const auto r = build_grant_request(valid_request());
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->gate, "db-emergency");
    EXPECT_EQ(r->reason, "primary is down, failover stuck");
    EXPECT_EQ(r->incident, "INC-1234");
    EXPECT_EQ(r->severity, "sev1");
    EXPECT_EQ(r->ttl_seconds, 1800);
    EXPECT_EQ(r->tty, "/dev/pts/3");
    EXPECT_EQ(r->command, "breakglassctl request");
    EXPECT_TRUE(r->user.empty());    // the daemon takes the user from the kernel
    EXPECT_TRUE(r->factor.empty());  // never from argv
}

TEST(CtlGrantRequest, OptionalFieldsMayBeEmpty) {
    RequestArguments a = valid_request();
    a.severity.clear();
    a.ttl.clear();
    a.tty.clear();
    const auto r = build_grant_request(a);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->ttl_seconds, 0);  // the gate's ttl
}

TEST(CtlGrantRequest, RefusesBadFieldsNamingTheOption) {
    const auto expect_error = [](RequestArguments a, const std::string& option) {
        const auto r = build_grant_request(a);
        ASSERT_FALSE(r.ok()) << option;
        EXPECT_EQ(r.error().message.rfind(option, 0), 0u) << r.error().message;
    };
    RequestArguments a = valid_request();
    a.gate = "bad gate";
    expect_error(a, "--gate");
    a = valid_request();
    a.gate = "-x";
    expect_error(a, "--gate");
    a = valid_request();
    a.reason.clear();
    expect_error(a, "--reason is empty");
    a = valid_request();
    a.reason = "line\nbreak";
    expect_error(a, "--reason contains a control character");
    a = valid_request();
    a.reason = std::string(1025, 'r');
    expect_error(a, "--reason is longer");
    a = valid_request();
    a.incident = "INC\x1b[31m";
    expect_error(a, "--incident");
    a = valid_request();
    a.ttl = "30 minutes";
    expect_error(a, "--ttl");
    a = valid_request();
    a.severity = "sev 1";
    expect_error(a, "--severity");
    a = valid_request();
    a.tty = std::string("\xff", 1);
    expect_error(a, "--tty");
}

TEST(CtlGrantRequest, ErrorEscapesWhatTheUserTyped) {
    RequestArguments a = valid_request();
    a.gate = "evil\x1b]0;title\x07";
    const auto r = build_grant_request(a);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message.find('\x1b'), std::string::npos);
    EXPECT_NE(r.error().message.find("\\x1b"), std::string::npos);
}

TEST(CtlOtherRequests, RevokeExpireEnroll) {
    const auto revoke = build_revoke_request("bg-2026-000042", "done");
    ASSERT_TRUE(revoke.ok());
    EXPECT_EQ(revoke->event_id, "bg-2026-000042");
    EXPECT_EQ(revoke->reason, "done");
    EXPECT_TRUE(build_revoke_request("bg-2026-000042", "").ok());
    EXPECT_FALSE(build_revoke_request("bg 42", "").ok());
    EXPECT_FALSE(build_revoke_request("bg-2026-000042", "a\tb").ok());

    EXPECT_EQ(build_expire_request("bg-2026-000042")->event_id, "bg-2026-000042");
    EXPECT_FALSE(build_expire_request("").ok());

    const auto enroll = build_enroll_request("alice");
    ASSERT_TRUE(enroll.ok());
    EXPECT_EQ(enroll->user, "alice");
    EXPECT_TRUE(enroll->secret_base32.empty());  // the daemon generates one unless --secret-stdin
    EXPECT_FALSE(build_enroll_request("alice; rm").ok());
}

}  // namespace
}  // namespace bg::ctl
