// SPDX-License-Identifier: ISC
#include "helper/revocation/terminator.hpp"

#include <algorithm>
#include <csignal>
#include <set>

#include "common/nss.hpp"

namespace bg {
namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

std::string describe_all(const std::vector<GrantProcess>& processes) {
    std::vector<std::string> items;
    for (const GrantProcess& p : processes) items.push_back(describe_process(p));
    return join(items);
}

}  // namespace

std::string describe_process(const GrantProcess& p) { return std::to_string(p.pid) + " (" + p.name + ")"; }

std::optional<Terminator::Pending> Terminator::resolve(const TerminationTarget& target, std::int64_t now,
                                                       std::string* why) const {
    if (target.group.empty()) {
        *why = target.why_no_group.empty() ? "the gate names no sudo_runas_group" : target.why_no_group;
        *why += ", so no process was terminated";
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
    const nss::Lookup<nss::Group> group = nss::group_by_name(target.group);
    if (group.failed()) {
        *why = "cannot look up group " + target.group + " (" + group.error +
               "), so no process was terminated: check by hand";
        return std::nullopt;
    }
    if (group.not_found()) {
        *why = "group " + target.group + " does not exist, so no process was terminated";
        return std::nullopt;
    }
    Pending p;
    p.target = target;
    p.uid = user.value.uid;
    p.gid = group.value.gid;
    // `now` is truncated to the second: one more keeps the grace at least as long as configured.
    p.deadline = now + target.grace_seconds + 1;
    return p;
}

TerminationReport Terminator::begin(const TerminationTarget& target, std::int64_t now, std::string_view context) {
    TerminationReport report{target, std::string(context)};
    std::string why;
    std::optional<Pending> p = resolve(target, now, &why);
    if (!p) {
        report.detail += "; " + why;
        return report;
    }
    p->processes = find_grant_processes(p->uid, p->gid);
    if (p->processes.empty()) {
        report.detail += "; no process ran under group " + target.group;
        return report;
    }
    for (const GrantProcess& proc : p->processes) (void)signal_process(proc, SIGTERM);
    report.detail += "; SIGTERM to pids " + describe_all(p->processes) + " (group " + target.group +
                     "), SIGKILL after the " + std::to_string(target.grace_seconds) + " s grace to any that remain";
    pending_.push_back(std::move(*p));
    return report;
}

std::optional<TerminationReport> Terminator::begin_if_running(const TerminationTarget& target, std::int64_t now,
                                                              std::string_view context) {
    std::string why;
    std::optional<Pending> p = resolve(target, now, &why);
    if (!p) return std::nullopt;
    p->processes = find_grant_processes(p->uid, p->gid);
    if (p->processes.empty()) return std::nullopt;
    for (const GrantProcess& proc : p->processes) (void)signal_process(proc, SIGTERM);
    TerminationReport report{target, std::string(context) + "; SIGTERM to pids " + describe_all(p->processes) +
                                         " (group " + target.group + "), SIGKILL after the " +
                                         std::to_string(target.grace_seconds) + " s grace to any that remain"};
    pending_.push_back(std::move(*p));
    return report;
}

std::vector<TerminationReport> Terminator::finish_due(std::int64_t now, const GrantedAgain& granted_again) {
    std::vector<TerminationReport> reports;
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->deadline > now) {
            ++it;
            continue;
        }
        const Pending t = std::move(*it);
        it = pending_.erase(it);
        std::set<pid_t> known;
        std::vector<std::string> killed, late;
        for (const GrantProcess& p : t.processes) {
            known.insert(p.pid);
            if (!has_exited(p) && signal_process(p, SIGKILL)) killed.push_back(describe_process(p));
        }
        // A process forked while the first scan ran is not in it. Unless the
        // user holds a new grant of the gate by now, whatever runs with the
        // group is left over from this one.
        if (!granted_again(t.target.user, t.target.gate))
            for (const GrantProcess& p : find_grant_processes(t.uid, t.gid))
                if (known.count(p.pid) == 0 && signal_process(p, SIGKILL)) late.push_back(describe_process(p));
        if (killed.empty() && late.empty()) continue;  // everything ended on SIGTERM
        std::string detail = "grace over";
        if (!killed.empty()) detail += "; SIGKILL to pids " + join(killed) + " that survived SIGTERM";
        if (!late.empty())
            detail += "; SIGKILL to pids " + join(late) + " that appeared with group " + t.target.group +
                      " after the grant ended";
        reports.push_back({t.target, std::move(detail)});
    }
    return reports;
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
