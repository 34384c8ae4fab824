// SPDX-License-Identifier: ISC
// Verification of an audit log (what `breakglassctl verify` runs). Pure: the
// caller hands over the bytes (read_key_file is the one I/O helper).
//
// Speed: the log is not JSON-parsed record by record. scan_line() is a strict
// single-pass acceptor of the canonical record layout (audit_record.hpp):
// exactly the 25 keys in sorted order, no whitespace, only the escapes
// nlohmann emits (\" \\ \b \f \n \r \t and \u00xx for other C0 controls),
// well-formed UTF-8, canonical integers, and the same value checks as
// parse_record(). It therefore accepts only lines that are byte-exactly
// canonical, which is what makes the hash reconstruction sound: the hashed
// bytes are the line with the ,"hash":"…" and ,"seal":"…" members cut out,
// and a line that is not canonical (added whitespace, reordered or duplicate
// keys, an escaped quote inside a value that imitates a member) is refused
// rather than hashed. As a second line of defence verify_log() also runs the
// full parse_record() (nlohmann parse + canonical re-serialisation, byte
// equality) on the first record, every kFullCheckEvery-th and the last; the
// fuzz target checks scan_line() against parse_record() on every input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "helper/audit/seal_key.hpp"

namespace bg::audit {

inline constexpr std::uint64_t kFullCheckEvery = 1024;
// Logs at least this large are verified as two halves on two threads (the
// result is identical to a single pass).
inline constexpr std::size_t kParallelVerifyMinBytes = 1 << 20;

struct VerifyOptions {
    // key_1 (audit.key.initial). Without it seals are not checked.
    std::optional<std::array<unsigned char, 32>> initial_key;
    // The log must end exactly at this seq (fewer records = truncated tail,
    // more = records beyond the expected end).
    std::optional<std::uint64_t> expect_last_seq;
    // Hash of record expect_last_seq (or of the last record when
    // expect_last_seq is not given).
    std::optional<std::string> expect_head_hash;
    // audit.key as read (decode_key_file): the index of the seq it seals
    // next, and its key. The index is at most last_seq + 1; greater ⇒ the
    // tail was truncated. Smaller ⇒ the key file is behind: normal on a
    // running daemon (deferred records since its last update) and after a
    // crash (breakglassd hashes it forward on start); the result says so.
    // With initial_key, the key must also be initial_key evolved to that
    // index (compared in constant time): an index alone is no evidence, since
    // anyone who can write the file can write any index with a valid
    // checksum (issue 10, item 7: cut the log, write index last_seq + 1).
    // Without initial_key only the index is checked.
    std::optional<KeyState> key_file;
};

struct VerifyResult {
    bool ok = false;
    std::uint64_t records = 0;  // records that verified before the first problem
    // The seq of the first bad record, position-based (records are gap-free
    // from 1, so the Nth line must carry seq N; a deleted, duplicated or
    // reordered record is reported at the line where the wrong seq appears).
    // Tail truncation: last_seq + 1. 0 if ok (a key file behind the log is ok).
    // A key file whose key is not the initial key evolved to its index:
    // last_seq + 1, as for a truncation (which it may hide).
    std::uint64_t first_bad_seq = 0;
    // "N records verified, …"; anything after the first "; " is a note that
    // belongs to the verdict (a key file behind the log, an end that nothing
    // could check).
    std::string message;
    bool seals_checked = false;
};

VerifyResult verify_log(std::string_view log_bytes, const VerifyOptions& options);

// Reads a hex key file such as audit.key.initial (64 hex digits + "\n").
Result<std::array<unsigned char, 32>> read_key_file(const std::string& path);

// What scan_line() extracts from a canonical line; views point into it.
struct LineScan {
    std::uint64_t seq = 0;
    std::string_view event, event_id, timestamp, prev_hash, hash, seal;
    // [begin, end) of the ,"hash":"…" and ,"seal":"…" members.
    std::size_t hash_member_begin = 0, hash_member_end = 0;
    std::size_t seal_member_begin = 0, seal_member_end = 0;
};

// Accepts exactly the canonical lines (without '\n') parse_record() accepts.
// Returns nullptr on success, else a static description of the problem.
const char* scan_line(std::string_view line, LineScan* out);

}  // namespace bg::audit
