// SPDX-License-Identifier: ISC
// libFuzzer target for common/text: validate_text, escape_for_display,
// is_valid_utf8 and is_valid_name, which stand between every user- or
// socket-supplied string and the audit log, the journal and a terminal.
// Invariants:
//   - escaping is total and its output is text validate_text accepts (valid
//     UTF-8, no control or invisible format character: issue 10, item 9),
//     and, checked here without text.cpp's table, holds no bidi control;
//   - escaping loses nothing: "\\" and "\xNN" decode back to the input;
//   - accepted text passes through unchanged but for doubled backslashes;
//   - accepted text is valid UTF-8, and a valid name is accepted text.
// Seed corpus: tests/fuzz/corpus/text; dictionary: tests/fuzz/text.dict.
#include "common/text.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// The inverse of escape_for_display; nullopt for text it cannot have made.
std::optional<std::string> unescape(std::string_view e) {
    std::string out;
    for (std::size_t i = 0; i < e.size(); ++i) {
        if (e[i] != '\\') {
            out += e[i];
            continue;
        }
        if (i + 1 < e.size() && e[i + 1] == '\\') {
            out += '\\';
            ++i;
            continue;
        }
        if (i + 3 >= e.size() || e[i + 1] != 'x') return std::nullopt;
        const int hi = hex_digit(e[i + 2]), lo = hex_digit(e[i + 3]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 3;
    }
    return out;
}

std::string doubled_backslashes(std::string_view s) {
    std::string out;
    for (const char c : s) {
        if (c == '\\') out += '\\';
        out += c;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t unbounded = size + 1;
    const bool accepted = !bg::validate_text(input, unbounded, true).has_value();

    const std::string escaped = bg::escape_for_display(input);
    if (!bg::is_valid_utf8(escaped)) std::abort();
    if (bg::validate_text(escaped, escaped.size() + 1, true).has_value()) std::abort();
    const auto back = unescape(escaped);
    if (!back || *back != input) std::abort();
    // Independently of text.cpp's table: no bidi control reaches a terminal
    // (U+202A..202E are E2 80 AA..AE, U+2066..2069 are E2 81 A6..A9).
    for (std::size_t i = 0; i + 2 < escaped.size(); ++i) {
        const auto b1 = static_cast<unsigned char>(escaped[i + 1]), b2 = static_cast<unsigned char>(escaped[i + 2]);
        if (static_cast<unsigned char>(escaped[i]) == 0xE2 &&
            ((b1 == 0x80 && b2 >= 0xAA && b2 <= 0xAE) || (b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9))) {
            std::abort();
        }
    }

    if (accepted) {
        if (!bg::is_valid_utf8(input)) std::abort();
        if (escaped != doubled_backslashes(input)) std::abort();
    }
    if (bg::is_valid_name(input, unbounded) && !accepted) std::abort();
    // The bounds: exactly max_bytes is fine, one less is not.
    if (size > 0 && accepted) {
        if (bg::validate_text(input, size, false).has_value()) std::abort();
        if (!bg::validate_text(input, size - 1, false).has_value()) std::abort();
    }
    return 0;
}
