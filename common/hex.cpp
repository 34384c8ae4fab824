// SPDX-License-Identifier: ISC
#include "common/hex.hpp"

#include <cstring>

namespace bg {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string hex_encode(std::span<const unsigned char> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const unsigned char b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0x0F]);
    }
    return out;
}

std::optional<std::vector<unsigned char>> hex_decode(std::string_view text, std::size_t size) {
    if (text.size() != size * 2) return std::nullopt;
    std::vector<unsigned char> out(size);
    for (std::size_t i = 0; i < size; ++i) {
        const int high = hex_value(text[2 * i]);
        const int low = hex_value(text[2 * i + 1]);
        if (high < 0 || low < 0) {
            ::explicit_bzero(out.data(), out.size());
            return std::nullopt;
        }
        out[i] = static_cast<unsigned char>((high << 4) | low);
    }
    return out;
}

}  // namespace bg
