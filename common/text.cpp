// SPDX-License-Identifier: ISC
#include "common/text.hpp"

#include <cstdint>
#include <cstdio>
#include <iterator>

namespace bg {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i, std::uint32_t* cp) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    std::size_t len = 0;
    std::uint32_t value = 0;
    std::uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
        len = 2; value = c & 0x1Fu; min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3; value = c & 0x0Fu; min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4; value = c & 0x07u; min = 0x10000;
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        const unsigned char cc = byte(i + k);
        if ((cc & 0xC0) != 0x80) return 0;
        value = (value << 6) | (cc & 0x3Fu);
    }
    if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
    *cp = value;
    return len;
}

bool is_control(std::uint32_t cp) { return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F); }

struct CodePointRange {
    std::uint32_t first, last;
};

// Unicode 15.1 general category Cf (format) plus Zl and Zp (U+2028, U+2029):
// characters that draw nothing yet reorder what follows (U+202E RIGHT-TO-LEFT
// OVERRIDE, the isolates U+2066..2069), hide in a word (U+200B ZERO WIDTH
// SPACE, U+00AD SOFT HYPHEN, U+FEFF) or break a line where none is shown. In
// a reason or a command they make a record read differently from what it
// holds. Sorted, for the binary search below.
constexpr CodePointRange kInvisibleFormat[] = {
    {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},   {0x070F, 0x070F},
    {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x180E, 0x180E},   {0x200B, 0x200F},   {0x2028, 0x202E},
    {0x2060, 0x2064},   {0x2066, 0x206F},   {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD},
    {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
    {0xE0020, 0xE007F},
};

bool is_invisible_format(std::uint32_t cp) {
    if (cp < kInvisibleFormat[0].first) return false;  // all of ASCII and most text: one compare
    std::size_t lo = 0, hi = std::size(kInvisibleFormat);
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (cp < kInvisibleFormat[mid].first) hi = mid;
        else if (cp > kInvisibleFormat[mid].last) lo = mid + 1;
        else return true;
    }
    return false;
}

std::string code_point_name(std::uint32_t cp) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
    return buf;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        std::uint32_t cp = 0;
        const std::size_t n = utf8_sequence_length(s, i, &cp);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::optional<std::string> validate_text(std::string_view s, std::size_t max_bytes, bool allow_empty) {
    if (s.empty() && !allow_empty) return std::string("is empty");
    if (s.size() > max_bytes) return "is longer than " + std::to_string(max_bytes) + " bytes";
    for (std::size_t i = 0; i < s.size();) {
        std::uint32_t cp = 0;
        const std::size_t n = utf8_sequence_length(s, i, &cp);
        if (n == 0) return std::string("is not valid UTF-8");
        if (is_control(cp)) return std::string("contains a control character");
        if (is_invisible_format(cp))
            return "contains an invisible format character (" + code_point_name(cp) + ")";
        i += n;
    }
    return std::nullopt;
}

bool is_valid_name(std::string_view s, std::size_t max_bytes) {
    if (s.empty() || s.size() > max_bytes || s.front() == '-') return false;
    for (const char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '_' || c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string escape_for_display(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    const auto hex_byte = [&](unsigned char b) {
        out += "\\x";
        out += kHex[b >> 4];
        out += kHex[b & 0xF];
    };
    for (std::size_t i = 0; i < s.size();) {
        std::uint32_t cp = 0;
        const std::size_t n = utf8_sequence_length(s, i, &cp);
        if (n == 0) {
            hex_byte(static_cast<unsigned char>(s[i]));
            ++i;
            continue;
        }
        if (cp == '\\') {
            out += "\\\\";
        } else if (is_control(cp) || is_invisible_format(cp)) {
            for (std::size_t k = 0; k < n; ++k) hex_byte(static_cast<unsigned char>(s[i + k]));
        } else {
            out.append(s.substr(i, n));
        }
        i += n;
    }
    return out;
}

}  // namespace bg
