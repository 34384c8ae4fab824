// SPDX-License-Identifier: ISC
#include "helper/ctl/arguments.hpp"

#include <array>
#include <limits>

#include "common/text.hpp"
#include "common/utc_time.hpp"

namespace bg::ctl {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

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

std::optional<std::int64_t> parse_utc_timestamp(std::string_view s) { return parse_utc(s, UtcSyntax::Rfc3339); }

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
