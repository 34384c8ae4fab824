// SPDX-License-Identifier: ISC
// Sessions in a cgroup (issue 10): with systemd, each session or command run
// under a grant is moved into a transient scope of that grant,
// breakglass-<grant id>-<n>.scope under breakglass.slice, and revocation ends
// what is in the grant's scopes. This file holds what both sides agree on
// without talking to systemd: the names, where a scope's cgroup is, which
// scopes a grant has, and a process's descendants. systemd_scopes.hpp makes
// the scopes; terminator.hpp ends what is in them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace bg::scopes {

inline constexpr const char* kSlice = "breakglass.slice";

// "breakglass-bg-2026-000123-45.scope" for grant "bg-2026-000123" and session
// number 45 (the seq of the record that opened the session, unique in the
// log). nullopt when the id holds a character a unit name may not.
std::optional<std::string> unit_name(std::string_view grant_id, std::uint64_t session);

// Whether `unit` is one of the grant's scopes ("breakglass-<id>-<digits>.scope").
bool is_scope_of(std::string_view unit, std::string_view grant_id);

// The scope's cgroup path as /proc/PID/cgroup shows it: "/breakglass.slice/UNIT".
std::string cgroup_path(std::string_view unit);

// The directory where systemd's cgroup hierarchy is mounted: /sys/fs/cgroup
// (unified), /sys/fs/cgroup/unified (hybrid) or /sys/fs/cgroup/systemd
// (legacy); nullopt when none is.
std::optional<std::string> cgroup_root();

// The grant's scopes that exist now (their cgroup directories under
// breakglass.slice), by unit name, sorted. Empty without a cgroup root.
std::vector<std::string> grant_scopes(std::string_view grant_id);

// The cgroup path in the text of a /proc/PID/cgroup file: the unified
// hierarchy's ("0::/PATH"), else the legacy name=systemd one; nullopt when
// neither line holds an absolute path. Pure (fuzz_cgroup).
std::optional<std::string> cgroup_path_in(std::string_view proc_pid_cgroup);

// The process ids in a cgroup.procs or task children file (whitespace
// separated decimals; anything else is skipped). Pure (fuzz_cgroup).
std::vector<pid_t> pids_in(std::string_view text);

// The cgroup path of a process (cgroup_path_in of its /proc/PID/cgroup);
// nullopt when it cannot be read.
std::optional<std::string> cgroup_of(pid_t pid);

// The descendants of `pid` (children, their children, ...) found through
// /proc/PID/task/TID/children, at most `limit` of them. Processes that end
// or fork meanwhile may be missed or included: callers repeat.
std::vector<pid_t> descendants_of(pid_t pid, std::size_t limit = 4096);

// Moving `leader` and its descendants out of a logind session scope
// ("/user.slice/.../session-N.scope") that holds nothing else would empty
// it, and logind would end the session (sshd's or login's own session):
// the reason not to, or nullopt when moving leaves the session as it was.
std::optional<std::string> would_empty_login_session(pid_t leader);

}  // namespace bg::scopes
