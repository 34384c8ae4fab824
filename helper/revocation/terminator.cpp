// SPDX-License-Identifier: ISC
#include "helper/revocation/terminator.hpp"

#include <algorithm>
#include <csignal>
#include <set>

#include "common/nss.hpp"
#include "helper/revocation/session_scopes.hpp"

namespace bg {
namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

// At most kMaxListedLate of them, then how many more: a record stays
// readable (and under the recorder's field limit) whatever the actor forked.
std::string describe_all(const std::vector<GrantProcess>& processes) {
    std::vector<std::string> items;
    for (const GrantProcess& p : processes) {
        if (items.size() == kMaxListedLate) break;
        items.push_back(describe_process(p));
    }
    std::string out = join(items);
    if (processes.size() > items.size()) out += " and " + std::to_string(processes.size() - items.size()) + " more";
    return out;
}

bool alive(const GrantProcess& p) { return !has_exited(p); }

// "group G", "group G; scopes S1, S2" or "scopes S1": where they were found.
std::string where(const TerminationTarget& t, const std::vector<std::string>& scopes) {
    std::string out = t.group.empty() ? "" : "group " + t.group;
    if (!scopes.empty()) out += (out.empty() ? "" : "; ") + std::string(scopes.size() == 1 ? "scope " : "scopes ") + join(scopes);
    return out;
}

// "with group G", "in scope S" or "with group G or in scope S": how a late one was found.
std::string appeared(const TerminationTarget& t, const std::vector<std::string>& scopes) {
    std::string out = t.group.empty() ? "" : "with group " + t.group;
    if (!scopes.empty())
        out += (out.empty() ? "in " : " or in ") + std::string(scopes.size() == 1 ? "scope " : "scopes ") + join(scopes);
    return out;
}

std::string unreadable_note(const std::vector<GrantProcess>& processes) {
    const bool any = std::any_of(processes.begin(), processes.end(), [](const GrantProcess& p) { return p.status_unreadable; });
    return any ? "; a process whose status could not be read is taken as running under the grant" : "";
}

// Processes held without a pidfd (process_scan.hpp, PidfdSlot): how many, and why.
std::string by_pid_note(const std::vector<GrantProcess>& processes) {
    std::size_t n = 0;
    std::string why;
    for (const GrantProcess& p : processes)
        if (!p.pidfd.valid()) {
            ++n;
            if (why.empty()) why = p.no_pidfd;
        }
    if (n == 0) return "";
    return "; " + std::to_string(n) + " of them without a pidfd (" + why +
           "): each signalled by pid after /proc showed it still under the grant";
}

}  // namespace

std::string describe_process(const GrantProcess& p) {
    return std::to_string(p.pid) + " (" + (p.status_unreadable ? std::string("status unreadable") : p.name) + ")";
}

std::optional<Terminator::Pending> Terminator::resolve(const TerminationTarget& target, std::int64_t now,
                                                       std::string* why) const {
    Pending p;
    p.target = target;
    if (target.scopes) p.scopes = scopes::grant_scopes(target.grant_id);
    if (target.group.empty() && p.scopes.empty()) {
        *why = target.why_no_group.empty() ? "the gate names no sudo_runas_group" : target.why_no_group;
        *why += target.scopes ? " and the grant has no session scope, so no process was terminated"
                              : ", so no process was terminated";
        return std::nullopt;
    }
    const nss::Lookup<nss::User> user = nss::user_by_name(target.user);
    if (user.failed()) {
        *why = "cannot look up user " + target.user + " (" + user.error + "), so no process was terminated: check by hand";
        return std::nullopt;
    }
    if (user.not_found()) {
        *why = "user " + target.user + " does not exist, so no process was terminated";
        return std::nullopt;
    }
    p.uid = user.value.uid;
    if (!target.group.empty()) {
        const nss::Lookup<nss::Group> group = nss::group_by_name(target.group);
        if (group.failed() || group.not_found()) {
            const std::string problem = group.failed() ? "cannot look up group " + target.group + " (" + group.error + ")"
                                                       : "group " + target.group + " does not exist";
            if (p.scopes.empty()) {
                *why = problem + ", so no process was terminated" + (group.failed() ? ": check by hand" : "");
                return std::nullopt;
            }
            p.target.group.clear();  // the scopes still say what belongs to the grant
            p.target.why_no_group = problem;
        } else {
            p.gid = group.value.gid;
        }
    }
    if (p.target.setgid_roots.empty() && p.gid) p.target.setgid_roots = default_setgid_roots(user.value.home, p.uid);
    // `now` is truncated to the second: one more keeps the grace at least as long as configured.
    p.deadline = now + target.grace_seconds + 1;
    return p;
}

void Terminator::collect(const Pending& p, bool scan, const FoundProcess& each) {
    std::set<pid_t> seen;
    const FoundProcess once = [&](GrantProcess&& proc) {
        if (seen.insert(proc.pid).second) each(std::move(proc));
    };
    if (const auto root = scopes::cgroup_root())
        for (const std::string& unit : p.scopes)
            scan_cgroup_processes(*root + scopes::cgroup_path(unit), scopes::cgroup_path(unit), p.uid, once);
    if (p.gid && scan) scan_grant_processes(p.uid, *p.gid, once);
}

void Terminator::take_first(Pending& p, GrantProcess&& proc) {
    if (proc.front_end) {
        p.front_ends.push_back(std::move(proc));
        return;
    }
    (void)signal_process(proc, SIGTERM);
    p.processes.push_back(std::move(proc));
}

std::string Terminator::first_detail(const Pending& p) {
    if (p.processes.empty() && p.front_ends.empty()) return "";
    const TerminationTarget& t = p.target;
    std::string detail;
    if (!p.processes.empty())
        detail += "; SIGTERM to pids " + describe_all(p.processes) + " (" + where(t, p.scopes) + "), SIGKILL after the " +
                  std::to_string(t.grace_seconds) + " s grace to any that remain";
    else
        detail += "; no process but set-uid front ends ran (" + where(t, p.scopes) + ")";
    if (!p.front_ends.empty())
        detail += "; set-uid front ends left to end with their command and report it: pids " + describe_all(p.front_ends) +
                  " (SIGKILL " + std::to_string(kFrontEndGraceSeconds) + " s after the grace if still there)";
    return detail + unreadable_note(p.processes) + by_pid_note(p.processes);
}

std::string Terminator::signal_first(Pending& p) {
    collect(p, true, [&](GrantProcess&& proc) { take_first(p, std::move(proc)); });
    return first_detail(p);
}

TerminationReport Terminator::begin(const TerminationTarget& target, std::int64_t now, std::string_view context) {
    std::vector<TerminationReport> reports = begin(std::vector<Ending>{{target, std::string(context)}}, now);
    return std::move(reports.front());
}

std::vector<TerminationReport> Terminator::begin(const std::vector<Ending>& endings, std::int64_t now) {
    // Out of memory on the way throws before anything is kept: the caller
    // begins the same endings again (a second SIGTERM is harmless), and the
    // room for them in pending_ is made first, so keeping them cannot fail half-way.
    pending_.reserve(pending_.size() + endings.size());
    std::vector<TerminationReport> reports;
    std::vector<std::optional<Pending>> pendings;
    for (const Ending& e : endings) {
        reports.push_back({e.target, e.context});
        std::string why;
        pendings.push_back(resolve(e.target, now, &why));
        if (!pendings.back()) reports.back().detail += "; " + why;
    }
    // The scopes first (a few pids each), then one scan of /proc for every
    // grant with a group: a batch that ends together costs one scan, and
    // each process is signalled the moment it is pinned.
    std::vector<std::set<pid_t>> seen(endings.size());
    const auto take = [&](std::size_t i, GrantProcess&& proc) {
        if (seen[i].insert(proc.pid).second) take_first(*pendings[i], std::move(proc));
    };
    for (std::size_t i = 0; i < pendings.size(); ++i)
        if (pendings[i]) collect(*pendings[i], false, [&](GrantProcess&& proc) { take(i, std::move(proc)); });
    std::vector<ScanKey> keys;
    std::vector<std::size_t> key_of;
    for (std::size_t i = 0; i < pendings.size(); ++i)
        if (pendings[i] && pendings[i]->gid) {
            keys.push_back({pendings[i]->uid, *pendings[i]->gid});
            key_of.push_back(i);
        }
    scan_grant_processes(keys, [&](std::size_t k, GrantProcess&& proc) { take(key_of[k], std::move(proc)); });

    for (std::size_t i = 0; i < pendings.size(); ++i) {
        if (!pendings[i]) continue;
        Pending& p = *pendings[i];
        TerminationReport& report = reports[i];
        const std::string signalled = first_detail(p);
        report.detail += signalled.empty() ? "; no process ran under " + where(p.target, p.scopes) : signalled;
        if (!p.target.why_no_group.empty() && !report.target.group.empty())
            report.detail += "; " + p.target.why_no_group + ": only the scopes were searched";
        if (p.gid) {
            const std::string residue =
                describe(clear_setgid_files(*p.gid, report.target.granted_at, p.target.setgid_roots), report.target.group);
            if (!residue.empty()) report.detail += "; " + residue;
        }
        // Even when nothing ran: the scan after the grace finds what started (or
        // changed its pid) while this one ran.
        pending_.push_back(std::move(p));
    }
    return reports;
}

std::optional<TerminationReport> Terminator::begin_if_running(const TerminationTarget& target, std::int64_t now,
                                                              std::string_view context) {
    std::string why;
    std::optional<Pending> p = resolve(target, now, &why);
    if (!p) return std::nullopt;
    const std::string signalled = signal_first(*p);
    if (signalled.empty()) return std::nullopt;
    TerminationReport report{target, std::string(context) + signalled};
    pending_.push_back(std::move(*p));
    return report;
}

void Terminator::finish_scopes(const Pending& p) {
    // Re-listed: a scope made while the first scan ran is the grant's too.
    std::vector<std::string> units = p.target.scopes ? scopes::grant_scopes(p.target.grant_id) : std::vector<std::string>{};
    for (const std::string& u : p.scopes)
        if (std::find(units.begin(), units.end(), u) == units.end()) units.push_back(u);
    scope_kills_.insert(scope_kills_.end(), units.begin(), units.end());
}

std::vector<TerminationReport> Terminator::finish_due(std::int64_t now, const GrantedAgain& granted_again) {
    std::vector<TerminationReport> reports;
    std::vector<Pending> still;
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->deadline > now) {
            ++it;
            continue;
        }
        Pending t = std::move(*it);
        it = pending_.erase(it);
        std::set<pid_t> known;
        std::vector<std::string> killed, late, front_ends_killed;
        std::size_t late_unlisted = 0, killed_unlisted = 0;
        for (const GrantProcess& p : t.processes) {
            known.insert(p.pid);
            if (alive(p) && signal_process(p, SIGKILL)) {
                if (killed.size() < kMaxListedLate)
                    killed.push_back(describe_process(p));
                else
                    ++killed_unlisted;
            }
        }
        for (const GrantProcess& p : t.front_ends) known.insert(p.pid);
        if (t.front_end_stage)
            for (const GrantProcess& p : t.front_ends)
                if (alive(p) && signal_process(p, SIGKILL)) front_ends_killed.push_back(describe_process(p));
        // A process forked while the first scan ran is not in it. Whatever is
        // in the grant's scopes is left over from it; with the group, unless
        // the user holds a new grant of the gate by now, too.
        // Scanned again until kQuietRounds scans in a row find nothing new: a
        // process that forks and exits to change its pid is caught when a scan
        // sees it and the SIGKILL lands before its next fork. One that changes
        // faster than a scan of /proc takes can still slip through; the
        // grant's scope, with systemd, holds it whatever it does.
        const bool with_group = !granted_again(t.target.user, t.target.gate);
        for (int round = 0, quiet = 0; round < kRescanRounds && quiet < kQuietRounds; ++round) {
            bool fresh = false;
            collect(t, with_group, [&](GrantProcess&& p) {
                if (!known.insert(p.pid).second) return;
                fresh = true;
                if (p.front_end && !t.front_end_stage) {
                    t.front_ends.push_back(std::move(p));  // a front end that appeared: it waits like the others
                    return;
                }
                if (!signal_process(p, SIGKILL)) return;
                if (late.size() < kMaxListedLate)
                    late.push_back(describe_process(p));
                else
                    ++late_unlisted;
            });
            quiet = fresh ? 0 : quiet + 1;
        }
        const bool front_ends_left =
            !t.front_end_stage && std::any_of(t.front_ends.begin(), t.front_ends.end(), alive);
        // Swept again: a process that ignored SIGTERM may have made one during the grace.
        std::string residue;
        if (t.gid && !t.front_end_stage)
            residue = describe(clear_setgid_files(*t.gid, t.target.granted_at, t.target.setgid_roots), t.target.group);
        if (!killed.empty() || !late.empty() || !front_ends_killed.empty() || !residue.empty()) {
            std::string detail = t.front_end_stage ? "front-end grace over" : "grace over";
            if (!killed.empty())
                detail += "; SIGKILL to pids " + join(killed) +
                          (killed_unlisted ? " and " + std::to_string(killed_unlisted) + " more" : std::string()) +
                          " that survived SIGTERM";
            if (!late.empty())
                detail += "; SIGKILL to pids " + join(late) +
                          (late_unlisted ? " and " + std::to_string(late_unlisted) + " more" : std::string()) +
                          " that appeared " + appeared(t.target, t.scopes) + " after the grant ended";
            if (!front_ends_killed.empty())
                detail += "; SIGKILL to set-uid front ends " + join(front_ends_killed) + " still there " +
                          std::to_string(kFrontEndGraceSeconds) + " s after the grace";
            if (!residue.empty()) detail += "; " + residue;
            reports.push_back({t.target, std::move(detail)});
        }
        if (front_ends_left) {
            t.front_end_stage = true;
            t.deadline = now + kFrontEndGraceSeconds;
            t.processes.clear();
            still.push_back(std::move(t));
        } else {
            finish_scopes(t);
        }
    }
    for (Pending& p : still) pending_.push_back(std::move(p));
    return reports;
}

std::vector<std::string> Terminator::take_scope_kills() {
    std::vector<std::string> out = std::move(scope_kills_);
    scope_kills_.clear();
    return out;
}

std::optional<std::int64_t> Terminator::next_deadline() const {
    std::optional<std::int64_t> next;
    for (const Pending& t : pending_)
        if (!next || t.deadline < *next) next = t.deadline;
    return next;
}

bool Terminator::pending_for(const std::string& user, const std::string& gate) const {
    return std::any_of(pending_.begin(), pending_.end(),
                       [&](const Pending& t) { return t.target.user == user && t.target.gate == gate; });
}

}  // namespace bg
