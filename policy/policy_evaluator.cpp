// SPDX-License-Identifier: ISC
// evaluate: may this user break this gate now, with this incident, severity,
// duration and factor? Deny by default; every refusal says which condition
// failed, with user-supplied text escaped so it is safe to show and record.
#include <algorithm>

#include "common/text.hpp"
#include "policy/policy.hpp"

namespace bg::policy {
namespace {

std::string in_quotes(std::string_view s) { return "'" + escape_for_display(s) + "'"; }

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += ", ";
        out += escape_for_display(item);
    }
    return out.empty() ? "none" : out;
}

bool contains(const std::vector<std::string>& items, std::string_view wanted) {
    return std::find(items.begin(), items.end(), wanted) != items.end();
}

bool is_member(const std::vector<Principal>& principals, std::string_view user, const std::vector<std::string>& groups) {
    return std::any_of(principals.begin(), principals.end(), [&](const Principal& p) {
        return p.is_group ? contains(groups, p.name) : p.name == user;
    });
}

Decision deny(std::string why) {
    Decision d;
    d.verdict = Verdict::Deny;
    d.why = std::move(why);
    return d;
}

}  // namespace

std::vector<std::string> gates_for(const Policy& p, std::string_view user, const std::vector<std::string>& groups) {
    std::vector<std::string> out;
    if (user.empty()) return out;
    for (const auto& [name, gate] : p.gates) {
        if (is_member(gate.requesters, user, groups)) out.push_back(name);  // std::map: already sorted
    }
    return out;
}

Decision evaluate(const Policy& p, const EvalRequest& r, std::chrono::system_clock::time_point /*now*/) {
    if (r.user.empty()) return deny("no user named in the request");

    const auto it = p.gates.find(r.gate);
    if (it == p.gates.end()) {
        return deny("unknown gate " + in_quotes(r.gate) + "; gates you may request: " + join(gates_for(p, r.user, r.groups)));
    }
    const Gate& g = it->second;
    const std::string gate = in_quotes(g.name);

    // Membership first: someone who may not request the gate learns nothing
    // about its other conditions.
    if (!is_member(g.requesters, r.user, r.groups)) {
        return deny("user " + in_quotes(r.user) + " is not a requester of gate " + gate);
    }
    if (!contains(g.factors, r.factor_kind)) {
        if (r.factor_kind.empty()) return deny("gate " + gate + " requires a second factor: one of " + join(g.factors));
        return deny("factor " + in_quotes(r.factor_kind) + " is not accepted by gate " + gate + "; use one of " +
                    join(g.factors));
    }
    bool incident_matches = false;
    try {
        incident_matches = !r.incident.empty() && std::regex_match(r.incident, g.incident_regex);
    } catch (const std::regex_error&) {
        incident_matches = false;  // e.g. error_complexity: treat as no match
    }
    if (!incident_matches) {
        return deny("incident " + in_quotes(r.incident) + " does not match the pattern " +
                    escape_for_display(g.incident_pattern) + " of gate " + gate);
    }
    if (!g.severities.empty() && !contains(g.severities, r.severity)) {
        if (r.severity.empty()) return deny("gate " + gate + " requires a severity: one of " + join(g.severities));
        return deny("severity " + in_quotes(r.severity) + " is not accepted by gate " + gate + "; use one of " +
                    join(g.severities));
    }
    if (r.ttl.count() < 0) return deny("requested ttl " + format_duration(r.ttl) + " is negative");
    const std::chrono::seconds ttl = r.ttl.count() == 0 ? g.ttl : r.ttl;
    if (ttl > g.max_ttl) {
        return deny("requested ttl " + format_duration(ttl) + " exceeds the gate's max_ttl " + format_duration(g.max_ttl));
    }

    Decision d;
    d.verdict = Verdict::Allow;
    d.why = "user " + in_quotes(r.user) + " may break gate " + gate + " for " + format_duration(ttl);
    d.ttl = ttl;
    d.approvals = g.approvals;
    return d;
}

}  // namespace bg::policy

namespace bg::policy {

bool is_approver(const Gate& gate, std::string_view user, const std::vector<std::string>& groups) {
    return is_member(gate.approvers, user, groups);
}

bool is_reviewer(const Gate& gate, std::string_view user, const std::vector<std::string>& groups) {
    return is_member(gate.reviewers, user, groups);
}

bool is_auditor(const Policy& p, std::string_view user, const std::vector<std::string>& groups) {
    return is_member(p.auditors, user, groups);
}

}  // namespace bg::policy
