// SPDX-License-Identifier: ISC
// The audit record (docs/ARCHITECTURE.md, "The audit record"): one JSON object per
// event, one per line of <state_dir>/audit.log, in canonical form — sorted
// keys (nlohmann::json's std::map), no insignificant whitespace, UTF-8 passed
// through (ensure_ascii=false), control characters escaped by nlohmann
// (\n, \t, ... and \u00XX). The canonical line is what is hashed and sealed,
// so its exact bytes matter: see canonical_json() and parse_record().
//
// Line layout (every key always present, 25 in all, in this order):
//   action actor actor_loginuid actor_role approver detail event event_id
//   expires_at factor factor_counter gate_bypassed grant_id hash host
//   incident_ref peer_uid prev_hash reason review_status seal seq source
//   target timestamp
// Integers: actor_loginuid, peer_uid (int64, -1 = unset); factor_counter,
// seq (uint64). Everything else is a string; timestamps are UTC
// "YYYY-MM-DDTHH:MM:SSZ", expires_at is "" when the record has none.
//
// hash = hex SHA-256 of the canonical line without the "hash" and "seal"
// members; prev_hash = previous record's hash (64 '0' for seq 1); seal = hex
// HMAC-SHA256(key_seq, hash) with a forward-evolving key (seal_key.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "common/utc_time.hpp"

namespace bg::audit {

// A canonical line never exceeds this (bytes, without the '\n').
inline constexpr std::size_t kMaxLineBytes = 16 * 1024;
// Bound on every decoded string field (reason, detail, ...). Callers apply
// tighter bounds on user input (common/text.hpp); this is the store's cap.
inline constexpr std::size_t kMaxFieldBytes = 4096;
// Event names: [a-z_]+, at most this long.
inline constexpr std::size_t kMaxEventBytes = 32;
// Timestamps are kept within four-digit years: 1970-01-01 .. 9999-12-31.
inline constexpr std::int64_t kMaxTimestamp = 253402300799;
// Length of a hex SHA-256 / HMAC-SHA256 (hash, prev_hash, seal).
inline constexpr std::size_t kHexDigestChars = 64;
// prev_hash of the first record.
inline constexpr std::string_view kGenesisPrevHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// What the caller supplies; the store fills the rest of Record.
struct RecordFields {
    std::string event, actor;
    std::int64_t actor_loginuid = -1;
    std::string actor_role, action, target, gate_bypassed, reason, incident_ref, approver;
    std::int64_t expires_at = 0;  // unix seconds, 0 = none (written as "")
    std::string source, review_status, grant_id, detail, factor;
    std::uint64_t factor_counter = 0;  // TOTP step / OTP counter accepted (not secret)
    std::int64_t peer_uid = -1;
};

struct Record : RecordFields {
    std::string event_id;     // "bg-YYYY-NNNNNN"
    std::uint64_t seq = 0;    // 1-based, gap-free
    std::int64_t timestamp = 0;  // unix seconds, UTC
    std::string host, prev_hash, hash, seal;
};

// The full canonical line (without '\n'). Never throws: invalid UTF-8 in a
// field (which append() refuses up front) is replaced by U+FFFD.
std::string canonical_json(const Record& r);

// The canonical line without the "hash" and "seal" members: the hashed bytes.
std::string canonical_json_unsealed(const Record& r);

// Hex SHA-256 of canonical_json_unsealed(r).
std::string compute_hash(const Record& r);

// Pure and strict; never throws. Accepts exactly the lines canonical_json()
// produces for a valid record: every key present with the right type, no
// extra or duplicate keys, no whitespace, the canonical escapes, sizes
// bounded (line <= kMaxLineBytes, strings <= kMaxFieldBytes), event matching
// [a-z_]{1,32}, valid UTC timestamps, event_id consistent with timestamp and
// seq, seq >= 1, lowercase 64-hex prev_hash/hash/seal. Does not check that
// hash matches the content or the seal (that is verify_log()'s job).
Result<Record> parse_record(std::string_view line);

// Timestamps: "2026-06-22T03:14:07Z" (common/utc_time.hpp). Records accept
// only the canonical form, which covers exactly 0 <= t <= kMaxTimestamp.
using bg::format_utc;
inline std::optional<std::int64_t> parse_utc(std::string_view text) { return bg::parse_utc(text, UtcSyntax::Canonical); }

// "bg-" + year of the timestamp + "-" + seq zero-padded to at least 6 digits.
std::string format_event_id(std::int64_t unix_seconds, std::uint64_t seq);

// [a-z_]{1,32}
bool is_valid_event_name(std::string_view event);

// nullopt when append() may store these fields, else why not (names the
// field). Strings must be valid UTF-8 and <= kMaxFieldBytes; the event name
// must be valid; expires_at must be 0 or within [1, kMaxTimestamp].
std::optional<std::string> validate_fields(const RecordFields& f);

// Lowercase hex of `n` bytes.
std::string to_hex(const unsigned char* data, std::size_t n);
// 64 lowercase hex digits.
bool is_hex_digest(std::string_view s);

}  // namespace bg::audit
