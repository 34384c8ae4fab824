// SPDX-License-Identifier: ISC
// Finding what still runs under a grant: the processes of the grant's user
// that hold the gate's group, and the processes in the grant's session
// scopes. Removing a group from a user does not remove it from processes
// already running, so revocation has to find and end them.
//   parse_proc_status     pure: the text of /proc/PID/status → its ids
//   find_grant_processes  scans /proc and opens a pidfd for each match
//   find_cgroup_processes reads a cgroup's cgroup.procs and opens a pidfd for each
//
// A process chooses its own name (/proc/PID/comm): the kernel escapes only
// '\n' and '\\' in the status file's Name line, so a name may hold any other
// byte. The name decides nothing; a status that cannot be read or parsed at
// all is never a reason to skip a process (see find_grant_processes).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
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
// appear exactly once and be well formed (Uid/Gid: four decimal ids; Name:
// at most kMaxProcNameBytes of any bytes, control bytes included, since the
// process chose them); other keys are skipped. Anything else (oversized,
// malformed, missing, repeated) is nullopt.
std::optional<ProcStatus> parse_proc_status(std::string_view text);

// Whether a process runs under a grant of `actor_uid` for the gate group
// `gate_gid`: its real, effective or saved uid is the actor's, or its login
// uid is (loginuid may be nullopt when unknown), and the gate group is its
// real, effective, saved or a supplementary group.
bool runs_under_grant(const ProcStatus& s, std::optional<uid_t> loginuid, uid_t actor_uid, gid_t gate_gid);

// Whether a process whose status could not be read or parsed is taken as
// running under the grant: when its /proc/PID directory belongs to the actor
// (its effective uid) or its login uid is the actor's. Without its ids that
// is all that is known, and a process the actor may control is never skipped.
bool unreadable_runs_under_grant(uid_t proc_dir_owner, std::optional<uid_t> loginuid, uid_t actor_uid);

// The actor's set-uid-root processes (real uid the actor's, effective uid 0):
// sudo's own front end and monitor, su. The actor cannot make one except by
// running such a program, and they end when the command they run ends.
bool is_privileged_front_end(const ProcStatus& s, uid_t actor_uid);

// One of the pidfds the scans hold at once. A pidfd per process would let
// the actor exhaust the daemon's descriptors with processes (each one it
// cannot open would escape, and the daemon could not accept or write
// meanwhile), so at most pidfd_budget() are held; a process beyond them is
// kept by pid and checked again in /proc before each signal.
class PidfdSlot {
public:
    PidfdSlot() = default;
    // A slot, or an empty one when the budget is used up.
    static PidfdSlot take();
    PidfdSlot(PidfdSlot&& o) noexcept : held_(std::exchange(o.held_, false)) {}
    PidfdSlot& operator=(PidfdSlot&& o) noexcept {
        if (this != &o) {
            release();
            held_ = std::exchange(o.held_, false);
        }
        return *this;
    }
    PidfdSlot(const PidfdSlot&) = delete;
    PidfdSlot& operator=(const PidfdSlot&) = delete;
    ~PidfdSlot() { release(); }
    explicit operator bool() const { return held_; }

private:
    void release();
    bool held_ = false;
};

// How many pidfds the scans may hold at once: a quarter of the soft
// RLIMIT_NOFILE (at least 8), so the daemon keeps descriptors for its own work.
std::size_t pidfd_budget();
// How many are held now (tests).
std::size_t pidfds_held();

struct GrantProcess {
    pid_t pid = 0;
    std::string name;  // escaped for display
    // Refers to the process that matched (checked after opening). Invalid
    // when the budget was used up or pidfd_open failed otherwise than with
    // ESRCH (no_pidfd says why): then the process is signalled by pid, and
    // only while /proc still shows it matching (still_matches).
    UniqueFd pidfd;
    PidfdSlot slot;
    std::string no_pidfd;
    // What matched, for that check: the actor, and the gate group or the cgroup.
    uid_t actor_uid = 0;
    std::optional<gid_t> gate_gid;
    std::string cgroup_path;
    // Its status could not be read or parsed: matched by its owner or login
    // uid (unreadable_runs_under_grant), or as a member of a scope.
    bool status_unreadable = false;
    bool front_end = false;  // is_privileged_front_end
};

// Scans /proc for processes that run under the grant (runs_under_grant, or
// unreadable_runs_under_grant when the status cannot be read or parsed),
// never pid 1 or the calling process, and skipping zombies. For each it opens
// a pidfd and re-reads the status after opening, keeping it only when it
// still matches, so the pidfd is known to be the matched process. Processes
// that vanish while scanning are skipped.
std::vector<GrantProcess> find_grant_processes(uid_t actor_uid, gid_t gate_gid);

// Each process as soon as it is found and pinned, during the scan: a caller
// that signals it there reaches a process that changes its pid by forking
// before its next fork, not a whole scan of /proc later.
using FoundProcess = std::function<void(GrantProcess&&)>;
void scan_grant_processes(uid_t actor_uid, gid_t gate_gid, const FoundProcess& found);

// One scan of /proc for several ended grants at once (grants given together
// expire together: one scan, not one each). `found(i, p)` for a process that
// runs under keys[i]; a process under several gets one GrantProcess each,
// the second with a duplicate of the pidfd (or by pid beyond the budget).
struct ScanKey {
    uid_t actor_uid = 0;
    gid_t gate_gid = 0;
};
using FoundProcessFor = std::function<void(std::size_t key, GrantProcess&&)>;
void scan_grant_processes(const std::vector<ScanKey>& keys, const FoundProcessFor& found);

// The processes in one cgroup: `cgroup_dir` is its directory under the
// cgroup file system, `cgroup_path` its path as /proc/PID/cgroup shows it
// ("/breakglass.slice/breakglass-bg-2026-000001-7.scope"). Each gets a pidfd,
// and is kept only when /proc/PID/cgroup still names the cgroup after the
// pidfd was opened. Never pid 1 or the calling process. front_end is set
// as for find_grant_processes, with `actor_uid`.
std::vector<GrantProcess> find_cgroup_processes(const std::string& cgroup_dir, const std::string& cgroup_path,
                                                uid_t actor_uid);
void scan_cgroup_processes(const std::string& cgroup_dir, const std::string& cgroup_path, uid_t actor_uid,
                           const FoundProcess& found);

// Whether /proc still shows `p.pid` as a process that matches as it did
// when found (the actor's with the gate group, or in the cgroup), and not a
// zombie. Used for a process held without a pidfd.
bool still_matches(const GrantProcess& p);
// Sends `sig` through the pidfd; without one, with kill(2) if still_matches
// (a pid reused in between by a process that does not match is never
// signalled). False when the process is already gone.
bool signal_process(const GrantProcess& p, int sig);
// True when the process behind the pidfd has exited (POLLIN on the pidfd);
// without one, when it no longer still_matches.
bool has_exited(const GrantProcess& p);

// A small file (under /proc or /sys), whole, opened relative to `dir_fd`
// (AT_FDCWD for a path) without following a final symbolic link; nullopt
// when it cannot be read or is larger than `max_bytes`.
std::optional<std::string> read_small_file(int dir_fd, const char* name, std::size_t max_bytes);

}  // namespace bg
