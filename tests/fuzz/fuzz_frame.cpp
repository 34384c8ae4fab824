// SPDX-License-Identifier: ISC
// libFuzzer target: frame decode must never crash, and whatever decodes must
// re-encode and decode to the same message type.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto decoded = bg::proto::decode(std::span<const std::uint8_t>(data, size));
    if (!decoded) return 0;
    auto again = bg::proto::encode(*decoded);
    if (!again) return 0;  // e.g. a decoded string that is not valid UTF-8 cannot be re-encoded strictly
    auto twice = bg::proto::decode(*again);
    if (!twice || bg::proto::type_of(*twice) != bg::proto::type_of(*decoded)) std::abort();
    return 0;
}
