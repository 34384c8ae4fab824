// SPDX-License-Identifier: ISC
#include "common/utc_time.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace bg {
namespace {

using namespace std::chrono;

// Reads exactly `width` digits at text[pos].
std::optional<int> digits_at(std::string_view text, std::size_t pos, std::size_t width) {
    if (pos + width > text.size()) return std::nullopt;
    int value = 0;
    for (std::size_t i = pos; i < pos + width; ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

bool is_separator(char c, char expected, UtcSyntax syntax) {
    if (c == expected) return true;
    return syntax == UtcSyntax::Rfc3339 && (expected == 'T' || expected == 'Z') && c == expected + ('a' - 'A');
}

}  // namespace

std::string format_utc(std::int64_t unix_seconds) {
    const sys_seconds tp{seconds{unix_seconds}};
    const auto day = floor<days>(tp);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> time{tp - day};
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                  static_cast<int>(time.seconds().count()));
    return buf;
}

std::optional<std::int64_t> parse_utc(std::string_view text, UtcSyntax syntax) {
    if (text.size() < 20) return std::nullopt;
    const auto y = digits_at(text, 0, 4), mo = digits_at(text, 5, 2), d = digits_at(text, 8, 2);
    const auto h = digits_at(text, 11, 2), mi = digits_at(text, 14, 2), s = digits_at(text, 17, 2);
    if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
    if (text[4] != '-' || text[7] != '-' || !is_separator(text[10], 'T', syntax) || text[13] != ':' ||
        text[16] != ':')
        return std::nullopt;
    std::string_view zone = text.substr(19);
    if (syntax == UtcSyntax::Rfc3339 && !zone.empty() && zone.front() == '.') {
        std::size_t i = 1;
        while (i < zone.size() && zone[i] >= '0' && zone[i] <= '9') ++i;
        if (i == 1) return std::nullopt;
        zone.remove_prefix(i);
    }
    const bool zulu = zone.size() == 1 && is_separator(zone.front(), 'Z', syntax);
    if (!zulu && !(syntax == UtcSyntax::Rfc3339 && zone == "+00:00")) return std::nullopt;

    const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
    const int max_second = syntax == UtcSyntax::Rfc3339 ? 60 : 59;  // unix time has no leap second
    if (!ymd.ok() || *h > 23 || *mi > 59 || *s > max_second) return std::nullopt;
    if (syntax == UtcSyntax::Canonical && *y < 1970) return std::nullopt;
    const std::int64_t day_start = sys_days{ymd}.time_since_epoch().count() * std::int64_t{86400};
    return day_start + *h * 3600 + *mi * 60 + (*s == 60 ? 59 : *s);
}

int utc_year(std::int64_t unix_seconds) {
    const year_month_day ymd{floor<days>(sys_seconds{seconds{unix_seconds}})};
    return static_cast<int>(ymd.year());
}

std::int64_t wall_clock_seconds() {
    struct timespec ts {};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec);
}

}  // namespace bg
