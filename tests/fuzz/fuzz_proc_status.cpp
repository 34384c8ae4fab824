// SPDX-License-Identifier: ISC
// libFuzzer target for parse_proc_status (the daemon reads /proc/PID/status
// of processes other users control, and a process chooses its own name).
// Invariants: accepted input respects the bounds, and a canonical rendering
// of what was accepted parses back to the same value.
// Seed corpus: tests/fuzz/corpus/proc_status.
#include "helper/revocation/process_scan.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

std::string render(const bg::ProcStatus& s) {
    std::string out = "Name:\t" + s.name + "\nState:\t" + std::string(1, s.state) + "\nPid:\t" + std::to_string(s.pid);
    out += "\nUid:";
    for (const auto id : s.uid) out += "\t" + std::to_string(id);
    out += "\nGid:";
    for (const auto id : s.gid) out += "\t" + std::to_string(id);
    out += "\nGroups:\t";
    for (const auto g : s.groups) out += std::to_string(g) + " ";
    return out + "\n";
}

bool same(const bg::ProcStatus& a, const bg::ProcStatus& b) {
    for (int i = 0; i < 4; ++i)
        if (a.uid[i] != b.uid[i] || a.gid[i] != b.gid[i]) return false;
    return a.name == b.name && a.state == b.state && a.pid == b.pid && a.groups == b.groups;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto parsed = bg::parse_proc_status(input);
    if (!parsed) return 0;
    if (size > bg::kMaxProcStatusBytes || parsed->name.size() > bg::kMaxProcNameBytes ||
        parsed->groups.size() > bg::kMaxProcGroups || parsed->pid <= 0)
        std::abort();
    const auto again = bg::parse_proc_status(render(*parsed));
    if (!again || !same(*parsed, *again)) std::abort();
    return 0;
}
