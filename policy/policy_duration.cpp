// SPDX-License-Identifier: ISC
// Durations as policy files and requests write them: "30m", "1h30m", "7d".
#include <cstdint>

#include "policy/policy.hpp"

namespace bg::policy {
namespace {

// Seconds per unit, in the only order units may appear.
struct Unit {
    char letter;
    std::int64_t seconds;
};
constexpr Unit kUnits[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

}  // namespace

std::optional<std::chrono::seconds> parse_duration(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::int64_t total = 0;
    std::size_t next_unit = 0;  // index into kUnits: units only go down
    std::size_t i = 0;
    while (i < s.size()) {
        std::int64_t number = 0;
        std::size_t digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            // More digits than this cannot be <= 7d in any unit; stop before overflow.
            if (++digits > 9) return std::nullopt;
            number = number * 10 + (s[i] - '0');
            ++i;
        }
        if (digits == 0 || i == s.size()) return std::nullopt;
        const char letter = s[i++];
        std::size_t u = next_unit;
        while (u < std::size(kUnits) && kUnits[u].letter != letter) ++u;
        if (u == std::size(kUnits)) return std::nullopt;  // unknown unit, or out of order / repeated
        next_unit = u + 1;
        total += number * kUnits[u].seconds;
        if (total > kMaxDuration.count()) return std::nullopt;
    }
    if (total <= 0) return std::nullopt;
    return std::chrono::seconds(total);
}

std::string format_duration(std::chrono::seconds d) {
    std::int64_t left = d.count();
    if (left == 0) return "0s";
    std::string out;
    if (left < 0) {
        out = "-";
        // -(INT64_MIN) overflows; such a duration never comes from parse_duration.
        left = left == INT64_MIN ? INT64_MAX : -left;
    }
    for (const Unit& unit : kUnits) {
        const std::int64_t n = left / unit.seconds;
        if (n > 0) {
            out += std::to_string(n);
            out += unit.letter;
            left -= n * unit.seconds;
        }
    }
    return out;
}

}  // namespace bg::policy
