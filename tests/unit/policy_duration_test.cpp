// SPDX-License-Identifier: ISC
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "policy/policy.hpp"

namespace {

using bg::policy::format_duration;
using bg::policy::parse_duration;
using std::chrono::seconds;

struct DurationCase {
    const char* text;
    std::optional<long> seconds;
};

TEST(PolicyDuration, ParseTable) {
    const DurationCase cases[] = {
        {"30m", 1800},       {"1h30m", 5400},     {"45s", 45},          {"2h", 7200},
        {"1d", 86400},       {"7d", 604800},      {"6d23h59m60s", 604800}, {"1h0m", 3600},
        {"0h5m", 300},       {"90m", 5400},       {"007s", 7},          {"1d2h3m4s", 93784},
        {"", std::nullopt},  {"0s", std::nullopt}, {"0h0m", std::nullopt}, {"8d", std::nullopt},
        {"7d1s", std::nullopt}, {"604801s", std::nullopt}, {"30", std::nullopt}, {"m", std::nullopt},
        {"30M", std::nullopt}, {"30 m", std::nullopt}, {" 30m", std::nullopt}, {"30m ", std::nullopt},
        {"-5m", std::nullopt}, {"+5m", std::nullopt}, {"1.5h", std::nullopt}, {"30m1h", std::nullopt},
        {"1h1h", std::nullopt}, {"1w", std::nullopt}, {"1hm", std::nullopt},
        {"99999999999999999999s", std::nullopt}, {"1000000000s", std::nullopt},
    };
    for (const auto& c : cases) {
        const auto got = parse_duration(c.text);
        if (c.seconds) {
            ASSERT_TRUE(got.has_value()) << '"' << c.text << '"';
            EXPECT_EQ(got->count(), *c.seconds) << '"' << c.text << '"';
        } else {
            EXPECT_FALSE(got.has_value()) << '"' << c.text << "\" parsed as " << got->count();
        }
    }
}

TEST(PolicyDuration, FormatTable) {
    EXPECT_EQ(format_duration(seconds(0)), "0s");
    EXPECT_EQ(format_duration(seconds(45)), "45s");
    EXPECT_EQ(format_duration(seconds(1800)), "30m");
    EXPECT_EQ(format_duration(seconds(5400)), "1h30m");
    EXPECT_EQ(format_duration(seconds(3601)), "1h1s");
    EXPECT_EQ(format_duration(seconds(93784)), "1d2h3m4s");
    EXPECT_EQ(format_duration(seconds(604800)), "7d");
    EXPECT_EQ(format_duration(seconds(-90)), "-1m30s");
}

TEST(PolicyDuration, FormatThenParseRoundTrips) {
    for (long s = 1; s <= 604800; s += 997) {
        const auto back = parse_duration(format_duration(seconds(s)));
        ASSERT_TRUE(back.has_value()) << s;
        EXPECT_EQ(back->count(), s);
    }
}

}  // namespace
