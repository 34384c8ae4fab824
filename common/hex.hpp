// SPDX-License-Identifier: ISC
// Lower-case hex for hashes, seals and keys.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bg {

std::string hex_encode(std::span<const unsigned char> bytes);
// Exactly `size` bytes of hex (either case), else nullopt. A partial result is
// wiped before it is discarded; the caller wipes a returned secret.
std::optional<std::vector<unsigned char>> hex_decode(std::string_view text, std::size_t size);

}  // namespace bg
