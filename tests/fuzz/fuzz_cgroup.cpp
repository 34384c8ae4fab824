// SPDX-License-Identifier: ISC
// libFuzzer target for the session-scope parsers (helper/revocation/
// session_scopes): cgroup_path_in reads /proc/PID/cgroup of processes other
// users control, pids_in reads cgroup.procs and task children files, and
// is_scope_of/unit_name decide which cgroups revocation kills.
// Invariants: a path found is an absolute path taken from one line of the
// input; every pid is positive and came from a token of the input; a unit
// name made for a grant id is one of that grant's scopes and of no other's.
// Seed corpus: tests/fuzz/corpus/cgroup.
#include "helper/revocation/session_scopes.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    if (const auto path = bg::scopes::cgroup_path_in(input)) {
        if (path->empty() || path->front() != '/' || path->find('\n') != std::string::npos) std::abort();
        if (input.find(*path) == std::string_view::npos) std::abort();
    }

    const auto pids = bg::scopes::pids_in(input);
    if (pids.size() > size / 2 + 1) std::abort();  // each pid needs a digit and a separator
    for (const pid_t pid : pids)
        if (pid <= 0 || input.find(std::to_string(pid)) == std::string_view::npos) std::abort();

    // Split the input into a grant id and a second id at the first NUL.
    const std::size_t nul = input.find('\0');
    const std::string_view id = input.substr(0, nul);
    const std::string_view other = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
    if (const auto unit = bg::scopes::unit_name(id, size)) {
        if (!bg::scopes::is_scope_of(*unit, id)) std::abort();
        if (other != id && bg::scopes::is_scope_of(*unit, other) &&
            bg::scopes::unit_name(other, 0).has_value() && other.find('-') == std::string_view::npos &&
            id.find('-') == std::string_view::npos)
            std::abort();  // two ids without '-' can never share a scope name
        if (bg::scopes::cgroup_path(*unit) != "/" + std::string(bg::scopes::kSlice) + "/" + *unit) std::abort();
    }
    (void)bg::scopes::is_scope_of(input, other);
    return 0;
}
