// SPDX-License-Identifier: ISC
#include "common/text.hpp"

#include <cstdint>

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
        } else if (is_control(cp)) {
            for (std::size_t k = 0; k < n; ++k) hex_byte(static_cast<unsigned char>(s[i + k]));
        } else {
            out.append(s.substr(i, n));
        }
        i += n;
    }
    return out;
}

}  // namespace bg
