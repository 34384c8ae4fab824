// SPDX-License-Identifier: ISC
// libFuzzer target for parse_ends_slot (helper/daemon/unrecorded_ends): the
// slots of ends.pending, which the daemon reads at start to keep grants that
// ended before their record could be written from coming back. The file is
// the daemon's own (0600), but a torn write or damage must be told apart, and
// nothing in it may crash the start.
// Invariants: a valid slot renders back to the same first line; a slot that is
// never-written is all zero bytes; what parses again from the rendering is
// the same list.
// Seed corpus: tests/fuzz/corpus/ends_slot.
#include "helper/daemon/unrecorded_ends.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

bool same(const bg::UnrecordedEnd& a, const bg::UnrecordedEnd& b) {
    return a.grant_id == b.grant_id && a.event == b.event && a.at == b.at && a.actor == b.actor &&
           a.peer_uid == b.peer_uid && a.actor_loginuid == b.actor_loginuid && a.detail == b.detail && a.why == b.why;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const bg::EndsSlot slot = bg::parse_ends_slot(input);
    if (slot.never_written && !std::all_of(input.begin(), input.end(), [](char c) { return c == '\0'; })) std::abort();
    if (slot.never_written && slot.valid) std::abort();
    if (!slot.valid) return 0;
    const std::string rendered = bg::render_ends_slot(slot.generation, slot.ends);
    const bg::EndsSlot again = bg::parse_ends_slot(rendered);
    if (!again.valid || again.generation != slot.generation || again.ends.size() != slot.ends.size()) std::abort();
    for (std::size_t i = 0; i < slot.ends.size(); ++i)
        if (!same(slot.ends[i], again.ends[i])) std::abort();
    return 0;
}
