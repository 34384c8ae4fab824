// SPDX-License-Identifier: ISC
// The pure half of breakglassctl's command line: durations, times and the
// mapping from arguments to protocol requests. No I/O; unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/protocol.hpp"
#include "common/result.hpp"

namespace bg::ctl {

// Longest duration accepted anywhere (ten years); the daemon applies the
// gate's own max_ttl to requests.
inline constexpr std::int64_t kMaxDurationSeconds = 3650LL * 24 * 3600;

// "45s", "30m", "1h30m", "2d": digit+unit groups with units d, h, m, s in
// that order, each at most once; total > 0. Anything else is nullopt. Same
// grammar as the policy's durations, without the policy's 7-day cap so that
// `log --since 30d` works.
std::optional<std::int64_t> parse_duration_seconds(std::string_view s);

// RFC 3339 in UTC, e.g. "2026-11-29T10:00:00Z" (also "z" or "+00:00", and
// fractional seconds, which are dropped) → unix seconds. Other offsets are
// refused rather than guessed.
std::optional<std::int64_t> parse_utc_timestamp(std::string_view s);

// `log --since T`: an RFC 3339 UTC time, or a duration meaning "that long
// before now".
Result<std::int64_t> parse_since(std::string_view s, std::int64_t now);

// `verify --expect-head SEQ[:HASH]`; HASH is a record hash, hex SHA-256.
inline constexpr std::size_t kHashHexDigits = 64;
struct ExpectedHead {
    std::uint64_t seq = 0;
    std::string hash;  // 64 lower-case hex digits, empty when only the seq was given
};
Result<ExpectedHead> parse_expected_head(std::string_view s);

// `request` arguments as typed; the factor is not among them (never argv).
struct RequestArguments {
    std::string gate;
    std::string reason;
    std::string incident;
    std::string severity;  // may be empty
    std::string ttl;       // may be empty = the gate's ttl
    std::string tty;       // the terminal, or empty
};
inline constexpr const char* kRequestCommand = "breakglassctl request";

// Validates the arguments the way the daemon will (so the user hears about a
// typo before typing a one-time code) and builds the request, factor empty.
// Errors name the option: "--reason is empty".
Result<proto::GrantRequest> build_grant_request(const RequestArguments& a);
Result<proto::RevokeRequest> build_revoke_request(std::string_view event_id, std::string_view reason);
Result<proto::ExpireRequest> build_expire_request(std::string_view event_id);
// The secret is added by the caller (it is read from stdin, not argv).
Result<proto::EnrollTotpRequest> build_enroll_request(std::string_view user);

// Event ids look like "bg-2026-000042"; the daemon is the judge of which
// exist, this only refuses what cannot be one.
bool is_plausible_event_id(std::string_view s);

}  // namespace bg::ctl
