#include "helper/ctl_arguments.hpp"

#include <array>
#include <limits>

#include "common/text.hpp"

namespace bg::ctl {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `width` digits at s[pos]; nullopt if any is not a digit.
std::optional<int> fixed_digits(std::string_view s, std::size_t pos, std::size_t width) {
    if (pos + width > s.size()) return std::nullopt;
    int value = 0;
    for (std::size_t i = pos; i < pos + width; ++i) {
        if (!is_digit(s[i])) return std::nullopt;
        value = value * 10 + (s[i] - '0');
    }
    return value;
}

bool is_leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
    static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29 : kDays[static_cast<std::size_t>(m - 1)];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil); pure arithmetic, no TZ environment involved.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

std::optional<std::int64_t> parse_duration_seconds(std::string_view s) {
    static constexpr std::array<std::pair<char, std::int64_t>, 4> kUnits = {
        {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}}};
    if (s.empty()) return std::nullopt;
    std::int64_t total = 0;
    std::size_t next_unit = 0;  // units must come in kUnits order, each at most once
    std::size_t i = 0;
    while (i < s.size()) {
        std::int64_t number = 0;
        const std::size_t start = i;
        while (i < s.size() && is_digit(s[i])) {
            number = number * 10 + (s[i] - '0');
            if (number > kMaxDurationSeconds) return std::nullopt;
            ++i;
        }
        if (i == start || i == s.size()) return std::nullopt;  // no digits, or digits without a unit
        const char unit = s[i++];
        std::size_t u = next_unit;
        while (u < kUnits.size() && kUnits[u].first != unit) ++u;
        if (u == kUnits.size()) return std::nullopt;
        next_unit = u + 1;
        total += number * kUnits[u].second;
        if (total > kMaxDurationSeconds) return std::nullopt;
    }
    if (total <= 0) return std::nullopt;
    return total;
}

std::optional<std::int64_t> parse_utc_timestamp(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|z|+00:00)
    if (s.size() < 20) return std::nullopt;
    const auto year = fixed_digits(s, 0, 4);
    const auto month = fixed_digits(s, 5, 2);
    const auto day = fixed_digits(s, 8, 2);
    const auto hour = fixed_digits(s, 11, 2);
    const auto minute = fixed_digits(s, 14, 2);
    const auto second = fixed_digits(s, 17, 2);
    if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
    if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        return std::nullopt;
    std::size_t i = 19;
    if (i < s.size() && s[i] == '.') {
        ++i;
        const std::size_t start = i;
        while (i < s.size() && is_digit(s[i])) ++i;
        if (i == start) return std::nullopt;
    }
    const std::string_view zone = s.substr(i);
    if (zone != "Z" && zone != "z" && zone != "+00:00") return std::nullopt;
    if (*month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month)) return std::nullopt;
    // Second 60 is a leap second; unix time has none, so it folds onto :59.
    if (*hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
    const std::int64_t days =
        days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
    return days * 86400 + *hour * 3600 + *minute * 60 + (*second == 60 ? 59 : *second);
}

Result<std::int64_t> parse_since(std::string_view s, std::int64_t now) {
    if (const auto t = parse_utc_timestamp(s)) return *t;
    if (const auto d = parse_duration_seconds(s)) return now - *d;
    return make_error("--since '" + escape_for_display(s) +
                      "' is neither an RFC 3339 UTC time (2026-11-29T10:00:00Z) nor a duration (30m, 1h, 2d)");
}

Result<ExpectedHead> parse_expected_head(std::string_view s) {
    const auto bad = [&] {
        return make_error("--expect-head '" + escape_for_display(s) +
                          "' is not SEQ or SEQ:HASH (HASH: the record's 64 hex digit hash)");
    };
    const std::size_t colon = s.find(':');
    const std::string_view seq_text = s.substr(0, colon);
    if (seq_text.empty() || seq_text.size() > 20) return bad();
    std::uint64_t seq = 0;
    for (const char c : seq_text) {
        if (!is_digit(c)) return bad();
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (seq > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return bad();
        seq = seq * 10 + digit;
    }
    ExpectedHead head;
    head.seq = seq;
    if (colon != std::string_view::npos) {
        const std::string_view hash = s.substr(colon + 1);
        if (hash.size() != kHashHexDigits) return bad();
        for (const char c : hash) {
            if (!is_hex(c)) return bad();
            head.hash.push_back(c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c);
        }
    }
    return head;
}

bool is_plausible_event_id(std::string_view s) { return is_valid_name(s, kMaxUserBytes); }

Result<proto::GrantRequest> build_grant_request(const RequestArguments& a) {
    if (!is_valid_name(a.gate, kMaxGateBytes))
        return make_error("--gate '" + escape_for_display(a.gate) +
                          "' is not a gate name (letters, digits, '_', '.', '-'; at most 64 bytes)");
    if (const auto why = validate_text(a.reason, kMaxReasonBytes)) return make_error("--reason " + *why);
    if (const auto why = validate_text(a.incident, kMaxIncidentBytes)) return make_error("--incident " + *why);
    if (!a.severity.empty() && !is_valid_name(a.severity, kMaxGateBytes))
        return make_error("--severity '" + escape_for_display(a.severity) + "' is not a severity name (e.g. sev1)");
    if (const auto why = validate_text(a.tty, kMaxTtyBytes, /*allow_empty=*/true)) return make_error("--tty " + *why);
    std::int64_t ttl = 0;
    if (!a.ttl.empty()) {
        const auto d = parse_duration_seconds(a.ttl);
        if (!d) return make_error("--ttl '" + escape_for_display(a.ttl) + "' is not a duration (e.g. 10m, 1h, 1h30m)");
        ttl = *d;
    }
    proto::GrantRequest r;
    r.gate = a.gate;
    r.reason = a.reason;
    r.incident = a.incident;
    r.severity = a.severity;
    r.ttl_seconds = ttl;
    r.tty = a.tty;
    r.command = kRequestCommand;
    return r;
}

Result<proto::RevokeRequest> build_revoke_request(std::string_view event_id, std::string_view reason) {
    if (!is_plausible_event_id(event_id))
        return make_error("'" + escape_for_display(event_id) + "' is not an event id (like bg-2026-000042)");
    if (const auto why = validate_text(reason, kMaxReasonBytes, /*allow_empty=*/true))
        return make_error("--reason " + *why);
    proto::RevokeRequest r;
    r.event_id = std::string(event_id);
    r.reason = std::string(reason);
    return r;
}

Result<proto::ExpireRequest> build_expire_request(std::string_view event_id) {
    if (!is_plausible_event_id(event_id))
        return make_error("'" + escape_for_display(event_id) + "' is not an event id (like bg-2026-000042)");
    proto::ExpireRequest r;
    r.event_id = std::string(event_id);
    return r;
}

Result<proto::EnrollTotpRequest> build_enroll_request(std::string_view user) {
    if (!is_valid_name(user, kMaxUserBytes))
        return make_error("'" + escape_for_display(user) + "' is not a user name");
    proto::EnrollTotpRequest r;
    r.user = std::string(user);
    return r;
}

}  // namespace bg::ctl
