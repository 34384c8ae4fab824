// SPDX-License-Identifier: ISC
// The pure half of breakglassctl's output: times, the grant table, audit log
// lines, JSON renderings and error messages. Every string that came from a
// user (through the daemon) is escaped with bg::escape_for_display before it
// reaches a terminal. No I/O; unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol.hpp"
#include "common/utc_time.hpp"

namespace bg::ctl {

inline constexpr std::size_t kReasonColumnWidth = 40;

using bg::format_utc;  // common/utc_time.hpp
// A span of time, rounded for people: "45s", "30m", "1h30m", "2d3h". Spans of
// a minute or more round to the nearest minute, of a day or more to the hour.
std::string format_span(std::int64_t seconds);

// Columns a string occupies once escaped (one per code point).
std::size_t display_width(std::string_view escaped);
// Escapes `raw` and keeps at most `max_columns` columns, ending in "..." when
// something was cut. Never splits a character or an escape sequence.
std::string escape_and_truncate(std::string_view raw, std::size_t max_columns);

// "granted: bg-2026-000042 gate=G expires_at=2026-…Z (in 30m)"
std::string format_granted(std::string_view gate, const proto::Granted& g, std::int64_t now);
// The status/list table, with a header; "no active grants" when empty.
std::string format_grant_table(const proto::StatusAnswer& a, bool all, std::int64_t now);

// One audit record (canonical JSON) as a human line:
// "TIMESTAMP EVENT_ID EVENT actor=… gate=… incident=… reason=… detail=…".
// Values are escaped and quoted when they hold spaces; absent fields are left
// out. A record that does not parse is shown escaped, marked as such.
std::string format_log_record(std::string_view record_json);
// The record as an export line (JSON lines): the canonical text unchanged,
// unless it holds raw control bytes (never valid JSON), which are escaped.
std::string export_log_record(std::string_view record_json);

// Offline verification result, independent of the audit library's types.
struct VerifyOutcome {
    bool ok = false;
    std::uint64_t records = 0;
    std::uint64_t first_bad_seq = 0;
    std::string message;
    bool seals_checked = false;
};
std::string format_verify(const VerifyOutcome& v);

// Multi-line text (the policy dump) escaped line by line, newlines kept.
std::string escape_lines(std::string_view text);

// "FILE: OK, gates: a, b" (names escaped).
std::string format_policy_ok(std::string_view path, const std::vector<std::string>& gates);
// "a, b", or "(none)".
std::string format_gate_list(const std::vector<std::string>& gates);

// "denied: <message>; <what to do>" for an ErrorAnswer, message escaped.
std::string describe_error(const proto::ErrorAnswer& e);

// --json renderings: one JSON object per command, user text as-is (JSON
// escaping makes it safe), times as unix seconds plus an RFC 3339 copy.
std::string granted_json(std::string_view gate, const proto::Granted& g);
std::string status_json(const proto::StatusAnswer& a);
// One paragraph per remote sink (root's status): its cursor, backlog and last error.
std::string format_sinks(const std::vector<proto::SinkInfo>& sinks, std::int64_t now);
// One paragraph per alert channel: delivered, waiting, failing since when.
std::string format_channels(const std::vector<proto::ChannelInfo>& channels, std::int64_t now);
// The requests waiting for approvals that `status`/`list` show (StatusAnswer.pending);
// `me` is the caller's user name: their own requests say so, the others how to approve.
std::string format_pending(const std::vector<proto::PendingInfo>& pending, const std::string& me, std::int64_t now);
std::string revoked_json(const proto::Revoked& r);
std::string expired_json(const proto::Expired& e);
std::string verify_json(const VerifyOutcome& v);
std::string policy_check_json(const proto::PolicyCheckAnswer& a);
std::string policy_reloaded_json(const proto::PolicyReloaded& r);
std::string enrolled_json(const proto::Enrolled& e);
// {"error": {"code": code, "message": message}}: what --json prints on a refusal.
std::string error_json(std::string_view code, std::string_view message);

}  // namespace bg::ctl
