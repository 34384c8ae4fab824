// SPDX-License-Identifier: ISC
// Ending what still runs under a grant that has ended (docs/ARCHITECTURE.md,
// "One break-glass, step by step", 7). Removing a group from a user does not
// remove it from processes already running, so the terminator finds the
// user's processes that hold the gate's group (process_scan.hpp), sends them
// SIGTERM through pidfds, and at the gate's grace deadline SIGKILLs the
// survivors and whatever gained the group meanwhile.
//
// It decides nothing about grants and writes nothing: each step returns a
// report for the daemon to record. It runs after the end record is durable
// and after the answer, so a /proc scan never delays a request.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "helper/revocation/process_scan.hpp"

namespace bg {

// One ended grant, as the daemon knows it from the grant and its gate.
struct TerminationTarget {
    std::string grant_id;
    std::string user;
    std::string gate;
    std::string incident;
    std::int64_t expires_at = 0;
    std::string group;            // the gate's sudo_runas_group; "" when there is none to look for
    std::string why_no_group;     // when group is "": why, for the record ("the gate names no sudo_runas_group")
    std::int64_t grace_seconds = 10;
};

// What one step did, for a terminate record.
struct TerminationReport {
    TerminationTarget target;
    std::string detail;
};

class Terminator {
public:
    // Finds what of target.user runs with target.group and sends it SIGTERM
    // now, SIGKILL after the grace (finish_due). The report says whom, or why
    // nothing was terminated. `context` leads the detail ("after the revoke").
    TerminationReport begin(const TerminationTarget& target, std::int64_t now, std::string_view context);
    // The same, but only when something runs with the group: nullopt (and
    // nothing to record) otherwise. For the startup sweep.
    std::optional<TerminationReport> begin_if_running(const TerminationTarget& target, std::int64_t now,
                                                      std::string_view context);

    // true when (user, gate) holds a new grant: then a process with the group
    // that appeared after the scan belongs to it and is left alone.
    using GrantedAgain = std::function<bool(const std::string& user, const std::string& gate)>;
    // Terminations whose grace is over: survivors and late arrivals get
    // SIGKILL. A report only for those where something needed SIGKILL.
    std::vector<TerminationReport> finish_due(std::int64_t now, const GrantedAgain& granted_again);

    std::optional<std::int64_t> next_deadline() const;
    bool pending_for(const std::string& user, const std::string& gate) const;

private:
    struct Pending {
        TerminationTarget target;
        uid_t uid = 0;
        gid_t gid = 0;
        std::int64_t deadline = 0;
        std::vector<GrantProcess> processes;
    };
    // Resolves the user and group; nullopt and `why` when nothing can be terminated.
    std::optional<Pending> resolve(const TerminationTarget& target, std::int64_t now, std::string* why) const;

    std::vector<Pending> pending_;
};

// "1234 (sleep)"
std::string describe_process(const GrantProcess& p);

}  // namespace bg
