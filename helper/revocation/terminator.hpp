// SPDX-License-Identifier: ISC
// Ending what still runs under a grant that has ended (docs/ARCHITECTURE.md,
// "One break-glass, step by step", 7). Two ways to find it, used together:
//   - the /proc scan (process_scan.hpp): the user's processes that hold the
//     gate's group (or whose status cannot be parsed), the only way without
//     systemd and the sweep for processes that gained the group outside a scope;
//   - with target.scopes (systemd is PID 1 and the daemon makes scopes,
//     systemd_scopes.hpp), the grant's session scopes (session_scopes.hpp):
//     every process in breakglass-<grant id>-*.scope, whatever it did to its
//     name, session or parent (setsid, double forks, comm tricks cannot
//     leave a cgroup).
// What it finds gets SIGTERM through pidfds, and at the gate's grace deadline
// SIGKILL for the survivors and whatever appeared meanwhile; then the scopes
// are killed as a whole by systemd (take_scope_kills).
//
// The actor's set-uid-root processes (sudo's own front end and monitor, su)
// are not signalled with the command: they wait for it, then report its end
// (sudo's session_close with the signal) and exit. Only if one is still there
// kFrontEndGraceSeconds after the grace does it get SIGKILL.
//
// At the start it also removes the set-group-ID bit from files the grant
// left with the gate's group (setgid_sweep.hpp).
//
// It decides nothing about grants and writes nothing: each step returns a
// report for the daemon to record. It runs after the end record is durable
// and after the answer, so a /proc scan never delays a request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "helper/revocation/process_scan.hpp"
#include "helper/revocation/setgid_sweep.hpp"

namespace bg {

// How long the set-uid front ends get, after the grace, to end on their own.
inline constexpr std::int64_t kFrontEndGraceSeconds = 2;
// After the grace, /proc (and the scopes) are scanned again until kQuietRounds
// scans in a row find nothing new, at most kRescanRounds times. A record lists at most kMaxListedLate
// processes of each kind (signalled, killed, found late) and counts the rest.
inline constexpr int kRescanRounds = 64;
inline constexpr int kQuietRounds = 8;  // scans in a row that find nothing new end the rescan
inline constexpr std::size_t kMaxListedLate = 32;

// One ended grant, as the daemon knows it from the grant and its gate.
struct TerminationTarget {
    std::string grant_id;
    std::string user;
    std::string gate;
    std::string incident;
    std::int64_t granted_at = 0;  // the set-group-ID sweep looks at files changed since
    std::int64_t expires_at = 0;
    std::string group;            // the gate's sudo_runas_group; "" when there is none to look for
    std::string why_no_group;     // when group is "": why, for the record ("the gate names no sudo_runas_group")
    std::int64_t grace_seconds = 10;
    bool scopes = false;          // the daemon makes session scopes: look in the grant's
    // Where the set-group-ID sweep looks; empty: default_setgid_roots() with the user's home.
    std::vector<std::string> setgid_roots;
};

// What one step did, for a terminate record.
struct TerminationReport {
    TerminationTarget target;
    std::string detail;
};

class Terminator {
public:
    // Finds what of target.user runs with target.group or in the grant's
    // scopes, sends it SIGTERM now and SIGKILL after the grace (finish_due),
    // and clears set-group-ID residue. The report says whom, or why nothing
    // was terminated. `context` leads the detail ("after the revoke").
    TerminationReport begin(const TerminationTarget& target, std::int64_t now, std::string_view context);
    // The same for grants that ended together (a batch expiring in one
    // second, given together): their scopes first, then one scan of /proc for
    // all of them, each process signalled as soon as it is found; the
    // set-group-ID sweeps only after every grant's processes were signalled.
    // One report per ending, in order.
    struct Ending {
        TerminationTarget target;
        std::string context;
    };
    std::vector<TerminationReport> begin(const std::vector<Ending>& endings, std::int64_t now);
    // The same, but only when something runs: nullopt (and nothing to
    // record) otherwise. For the startup sweep; no set-group-ID sweep.
    std::optional<TerminationReport> begin_if_running(const TerminationTarget& target, std::int64_t now,
                                                      std::string_view context);

    // true when (user, gate) holds a new grant: then a process with the group
    // that appeared after the scan belongs to it and is left alone (a process
    // in one of the ended grant's scopes never does).
    using GrantedAgain = std::function<bool(const std::string& user, const std::string& gate)>;
    // Terminations whose deadline is over: at the grace, survivors and late
    // arrivals get SIGKILL; kFrontEndGraceSeconds later, the set-uid front
    // ends still there. A report only when something needed SIGKILL.
    std::vector<TerminationReport> finish_due(std::int64_t now, const GrantedAgain& granted_again);

    // Scopes whose termination is over, for the daemon to have systemd kill
    // (KillUnit, SIGKILL), so nothing a scan could not see stays in them.
    std::vector<std::string> take_scope_kills();

    std::optional<std::int64_t> next_deadline() const;
    bool pending_for(const std::string& user, const std::string& gate) const;

private:
    struct Pending {
        TerminationTarget target;
        uid_t uid = 0;
        std::optional<gid_t> gid;  // nullopt: no group to look for (scopes only)
        std::vector<std::string> scopes;
        std::int64_t deadline = 0;
        bool front_end_stage = false;  // past the grace, waiting for the front ends
        std::vector<GrantProcess> processes;  // signalled with SIGTERM
        std::vector<GrantProcess> front_ends;  // left to end with their command
    };
    // Resolves the user and group and lists the scopes; nullopt and `why`
    // when nothing can be terminated.
    std::optional<Pending> resolve(const TerminationTarget& target, std::int64_t now, std::string* why) const;
    // Everything in the scopes and, with a group, what the scan finds (unless
    // `scan` is false), one call per pid, each as soon as it is found (the
    // caller signals it there: a pid-hopping process is reached before it
    // forks again).
    static void collect(const Pending& p, bool scan, const FoundProcess& each);
    // The first scan: SIGTERM to each but the front ends as it is found;
    // empty when nothing was found, else the detail of what was done.
    static std::string signal_first(Pending& p);
    // A process of the first scan: SIGTERM unless it is a front end; kept.
    static void take_first(Pending& p, GrantProcess&& proc);
    // signal_first's detail for what take_first kept.
    static std::string first_detail(const Pending& p);
    void finish_scopes(const Pending& p);

    std::vector<Pending> pending_;
    std::vector<std::string> scope_kills_;
};

// "1234 (sleep)"; "1234 (status unreadable)" for a process whose status
// could not be read or parsed.
std::string describe_process(const GrantProcess& p);

}  // namespace bg
