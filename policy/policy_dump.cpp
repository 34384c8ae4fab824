// SPDX-License-Identifier: ISC
// dump_policy: the canonical text of a parsed policy. Golden tests compare
// it, so it must be stable: gates sorted by name, every field of every gate
// in a fixed order, inherited values shown resolved.
#include <sstream>

#include "common/text.hpp"
#include "policy/policy.hpp"

namespace bg::policy {
namespace {

// Double-quoted, with the quote itself and control bytes escaped.
std::string quote(std::string_view s) {
    std::string out = "\"";
    for (const char c : escape_for_display(s)) {
        if (c == '"') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + quote(items[i]);
    return out + "]";
}

std::string list(const std::vector<Principal>& principals) {
    std::vector<std::string> items;
    for (const auto& p : principals) items.push_back((p.is_group ? "%" : "") + p.name);
    return list(items);
}

}  // namespace

std::string dump_policy(const Policy& p) {
    std::ostringstream out;
    out << "trusted_frontends = " << list(p.trusted_frontends) << "\n";
    for (const auto& [name, g] : p.gates) {
        out << "\n[gate." << name << "]  # line " << g.line << "\n"
            << "description = " << quote(g.description) << "\n"
            << "requesters = " << list(g.requesters) << "\n"
            << "incident_pattern = " << quote(g.incident_pattern) << "\n"
            << "ttl = " << format_duration(g.ttl) << "\n"
            << "max_ttl = " << format_duration(g.max_ttl) << "\n"
            << "factors = " << list(g.factors) << "\n"
            << "severities = " << list(g.severities) << "\n"
            << "sudo_runas_group = " << quote(g.sudo_runas_group) << "\n"
            << "sudo_runas_user = " << quote(g.sudo_runas_user) << "\n"
            << "pam_service = " << quote(g.pam_service) << "\n"
            << "approvals = " << g.approvals << "\n"
            << "approvers = " << list(g.approvers) << "\n"
            << "approval_timeout = " << format_duration(g.approval_timeout) << "\n"
            << "termination_grace = " << format_duration(g.termination_grace) << "\n"
            << "on_grant = " << quote(g.on_grant) << "\n"
            << "on_revoke = " << quote(g.on_revoke) << "\n";
    }
    return out.str();
}

}  // namespace bg::policy
