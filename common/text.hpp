// SPDX-License-Identifier: ISC
// Validation and display of untrusted text. Every user- or socket-supplied
// string passes validate_text() before it is accepted, and escape_for_display()
// before it is shown, so control characters never reach a terminal or log raw.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace bg {

// Hard bounds for user-supplied fields (bytes).
inline constexpr std::size_t kMaxReasonBytes = 1024;
inline constexpr std::size_t kMaxIncidentBytes = 128;
inline constexpr std::size_t kMaxUserBytes = 64;
inline constexpr std::size_t kMaxGateBytes = 64;
inline constexpr std::size_t kMaxFactorBytes = 64;
inline constexpr std::size_t kMaxTtyBytes = 128;
inline constexpr std::size_t kMaxCommandBytes = 4096;

bool is_valid_utf8(std::string_view s);

// nullopt when acceptable, else a short reason ("is empty", "is longer than
// 1024 bytes", "is not valid UTF-8", "contains a control character",
// "contains an invisible format character (U+202E)").
// Control characters are C0 (< 0x20), DEL and C1 (U+0080..U+009F). Invisible
// format characters are Unicode's general category Cf (bidi overrides and
// isolates U+202A..202E and U+2066..2069, zero-width U+200B..200F, U+2060..2064,
// U+FEFF, the soft hyphen U+00AD, tags U+E0001 and U+E0020..E007F, …) and the
// line and paragraph separators U+2028, U+2029: they draw nothing, yet they
// reorder or hide what is shown around them.
std::optional<std::string> validate_text(std::string_view s, std::size_t max_bytes,
                                         bool allow_empty = false);

// Names (users, gates): [A-Za-z0-9_.-], first char not '-', 1..max bytes.
bool is_valid_name(std::string_view s, std::size_t max_bytes);

// Printable rendering: control bytes, DEL, C1, invisible format characters
// (as validate_text() defines them; each UTF-8 byte) and invalid UTF-8 become
// \xNN, backslash becomes "\\". Valid printable UTF-8 passes through, so the
// result never holds a character validate_text() refuses.
std::string escape_for_display(std::string_view s);

}  // namespace bg
