// SPDX-License-Identifier: ISC
// UTC timestamps as the records and the CLI write them: "2026-06-22T03:14:07Z".
// Pure calendar arithmetic (std::chrono), no TZ environment involved.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bg {

std::string format_utc(std::int64_t unix_seconds);

enum class UtcSyntax {
    Canonical,  // exactly YYYY-MM-DDTHH:MM:SSZ, year >= 1970 (what records contain)
    Rfc3339,    // also t/z in lower case, a fraction (ignored), +00:00, and second 60 (folded onto :59)
};
std::optional<std::int64_t> parse_utc(std::string_view text, UtcSyntax syntax = UtcSyntax::Canonical);

// The calendar year of a unix time (for event ids).
int utc_year(std::int64_t unix_seconds);

// The wall clock in whole seconds, from clock_gettime(CLOCK_REALTIME). Not
// time(2): glibc's reads the clock as of the last tick, up to a few ms
// behind, so a timer set for a second could still see the second before.
// Every part of breakglass reads the time through this one.
std::int64_t wall_clock_seconds();

}  // namespace bg
