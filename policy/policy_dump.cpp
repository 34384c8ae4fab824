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

std::string_view sink_type_name(SinkType t) {
    switch (t) {
        case SinkType::JournalRemote: return "journal-remote";
        case SinkType::HttpJson: return "http-json";
        case SinkType::SplunkHec: return "splunk-hec";
        case SinkType::Loki: return "loki";
    }
    return "?";
}

std::string_view alert_type_name(AlertType t) {
    switch (t) {
        case AlertType::PagerDuty: return "pagerduty";
        case AlertType::Slack: return "slack";
        case AlertType::Webhook: return "webhook";
        case AlertType::Email: return "email";
    }
    return "?";
}

std::string_view alert_type_label(AlertType t) {
    switch (t) {
        case AlertType::PagerDuty: return "PagerDuty";
        case AlertType::Slack: return "Slack";
        case AlertType::Webhook: return "webhook";
        case AlertType::Email: return "email";
    }
    return "?";
}

std::string dump_policy(const Policy& p) {
    std::ostringstream out;
    out << "trusted_frontends = " << list(p.trusted_frontends) << "\n";
    if (!p.approver_keys.empty()) {
        out << "\n[approver_keys]\n";
        for (const auto& [name, key] : p.approver_keys) out << name << " = " << quote(key) << "\n";
    }
    if (!p.auditors.empty()) out << "auditors = " << list(p.auditors) << "\n";
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
        // Shown only when set, so dumps of policies without sinks keep their shape.
        if (g.remote_ack_required)
            out << "remote_ack = \"required\"\nremote_ack_timeout = " << format_duration(g.remote_ack_timeout) << "\n";
        // Shown only when the gate alerts, so older dumps keep their shape.
        if (!g.alert.empty()) out << "alert = " << list(g.alert) << "\nalert_severity = " << quote(g.alert_severity) << "\n";
        // Shown only when set, so older dumps keep their shape.
        if (!g.reviewers.empty() || g.review_within != kDefaultReviewWithin)
            out << "reviewers = " << list(g.reviewers) << "\nreview_within = " << format_duration(g.review_within) << "\n";
        if (g.postgres)
            out << "postgres = { conninfo = " << quote(g.postgres->conninfo) << ", member_of = "
                << list(g.postgres->member_of) << ", connection_limit = " << g.postgres->connection_limit << " }\n";
    }
    if (!p.alerts.empty())
        out << "\nalert_burst = { failures = " << p.alert_burst.failures << ", within = "
            << quote(format_duration(p.alert_burst.within)) << " }\nalert_fail_alarm = "
            << format_duration(p.alert_fail_alarm) << "\n";
    for (const auto& [name, c] : p.alerts) {
        out << "\n[alert." << name << "]  # line " << c.line << "\n"
            << "type = " << quote(alert_type_name(c.type)) << "\n";
        if (c.type == AlertType::Email) {
            out << "to = " << list(c.to) << "\n"
                << "sendmail = " << quote(c.sendmail) << "\n";
        } else {
            out << "url = " << quote(c.url) << "\n"
                << "url_file = " << quote(c.url_file) << "\n"
                << "routing_key_file = " << quote(c.routing_key_file) << "\n"
                << "token_file = " << quote(c.token_file) << "\n"
                << "ca_file = " << quote(c.ca_file) << "\n";
        }
    }
    // Shown only when set, so older dumps keep their shape.
    if (!p.metrics_textfile.empty()) out << "\n[metrics]\ntextfile = " << quote(p.metrics_textfile) << "\n";
    for (const auto& [name, s] : p.sinks) {
        out << "\n[sink." << name << "]  # line " << s.line << "\n"
            << "type = " << quote(sink_type_name(s.type)) << "\n"
            << "url = " << quote(s.url) << "\n"
            << "ca_file = " << quote(s.ca_file) << "\n"
            << "client_cert = " << quote(s.client_cert) << "\n"
            << "client_key = " << quote(s.client_key) << "\n"
            << "token_file = " << quote(s.token_file) << "\n"
            << "insecure = " << (s.insecure ? "true" : "false") << "\n"
            << "backlog_limit = " << format_duration(s.backlog_limit) << "\n";
    }
    return out.str();
}

}  // namespace bg::policy
