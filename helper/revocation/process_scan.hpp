// SPDX-License-Identifier: ISC
// Finding what still runs under a grant: the processes of the grant's user
// that hold the gate's group. Removing a group from a user does not remove it
// from processes already running, so revocation has to find and end them.
//   parse_proc_status     pure: the text of /proc/PID/status → its ids
//   find_grant_processes  scans /proc and opens a pidfd for each match
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "common/file_io.hpp"

namespace bg {

// The fields of /proc/PID/status that decide whether a process runs under a
// grant. Uid and Gid keep the kernel's order: real, effective, saved, fs.
struct ProcStatus {
    std::string name;  // as the kernel prints it (already escaped by the kernel; escape again to display)
    char state = '?';  // R, S, D, Z, X, ...
    pid_t pid = 0;
    uid_t uid[4] = {};
    gid_t gid[4] = {};
    std::vector<gid_t> groups;  // supplementary groups
};

// Limits: the whole text, a process name, the supplementary groups.
inline constexpr std::size_t kMaxProcStatusBytes = 1024 * 1024;
inline constexpr std::size_t kMaxProcNameBytes = 64;
inline constexpr std::size_t kMaxProcGroups = 65536;

// Pure. Every line must be "Key:<tab or space>value" with a key of letters,
// digits, '_', '(' or ')'. Name, State, Pid, Uid, Gid and Groups must each
// appear exactly once and be well formed (Uid/Gid: four decimal ids); other
// keys are skipped. Anything else (oversized, malformed, missing, repeated)
// is nullopt.
std::optional<ProcStatus> parse_proc_status(std::string_view text);

// Whether a process runs under a grant of `actor_uid` for the gate group
// `gate_gid`: its real, effective or saved uid is the actor's, or its login
// uid is (loginuid may be nullopt when unknown), and the gate group is its
// real, effective, saved or a supplementary group.
bool runs_under_grant(const ProcStatus& s, std::optional<uid_t> loginuid, uid_t actor_uid, gid_t gate_gid);

struct GrantProcess {
    pid_t pid = 0;
    std::string name;  // escaped for display
    UniqueFd pidfd;    // refers to the process that matched (checked after opening)
};

// Scans /proc for processes that run under the grant (runs_under_grant),
// never pid 1 or the calling process, and skipping zombies. For each it opens
// a pidfd and re-reads the status after opening, keeping it only when it
// still matches, so the pidfd is known to be the matched process. Processes
// that vanish while scanning are skipped.
std::vector<GrantProcess> find_grant_processes(uid_t actor_uid, gid_t gate_gid);

// Sends `sig` through the pidfd. False when the process is already gone.
bool signal_process(const GrantProcess& p, int sig);
// True when the process behind the pidfd has exited (POLLIN on the pidfd).
bool has_exited(const GrantProcess& p);

}  // namespace bg
