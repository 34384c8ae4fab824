// SPDX-License-Identifier: ISC
// A sink's cursor: the last seq the sink acknowledged, persisted in
// <state_dir>/sinks/<name>.cursor by write, fsync, rename (and an fsync of
// the directory), so a crash leaves the old cursor or the new one, never a
// torn one. The cursor names the sink's URL: a sink whose URL changed is a
// new sink and starts again from seq 1.
//
// The text (parse_cursor is pure, strict and fuzzed, tests/fuzz):
//   breakglass-sink-cursor 1\n
//   url=<the sink's url>\n
//   acked_seq=<decimal, no leading zeros>\n
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace bg::ship {

inline constexpr std::size_t kMaxCursorBytes = 1024;

struct Cursor {
    std::string url;
    std::uint64_t acked_seq = 0;
    bool operator==(const Cursor&) const = default;
};

std::string render_cursor(const Cursor& c);
Result<Cursor> parse_cursor(std::string_view text);

// <dir>/<sink>.cursor; a missing file is a cursor at 0 for `url`, a cursor
// for another URL too (with *reset set, when given). A damaged file is an
// error: the shipper does not guess where it was.
Result<Cursor> load_cursor(const std::string& path, const std::string& url, bool* reset = nullptr);
Status store_cursor(const std::string& path, const Cursor& c);

}  // namespace bg::ship
