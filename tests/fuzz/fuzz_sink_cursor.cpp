// SPDX-License-Identifier: ISC
// libFuzzer target for parse_cursor (helper/ship/cursor): the per-sink cursor
// the shipper reads at every start. A damaged file must be refused, never
// read as another seq. Invariant: what parses renders back to the same bytes.
// Seed corpus: tests/fuzz/corpus/sink_cursor.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "helper/ship/cursor.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto c = bg::ship::parse_cursor(input);
    if (c && bg::ship::render_cursor(*c) != input) std::abort();
    return 0;
}
