// SPDX-License-Identifier: ISC
// libFuzzer target for parse_checkpoint_detail (helper/audit/signed_checkpoint):
// the detail of a `checkpoint` record, read from a remote copy the verifier
// does not trust.
// Invariants: what parses renders back to exactly the input (the parse
// accepts only the canonical form), and the rendering parses to the same value.
// Seed corpus: tests/fuzz/corpus/checkpoint.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "helper/audit/signed_checkpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    auto parsed = bg::audit::parse_checkpoint_detail(input);
    if (!parsed) return 0;
    if (bg::audit::render_checkpoint_detail(*parsed) != input) std::abort();
    auto again = bg::audit::parse_checkpoint_detail(bg::audit::render_checkpoint_detail(*parsed));
    if (!again || again->seq != parsed->seq || again->head != parsed->head || again->time != parsed->time ||
        again->signature != parsed->signature)
        std::abort();
    return 0;
}
