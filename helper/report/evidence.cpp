// SPDX-License-Identifier: ISC
// The auditor's export: every grant of the period with its approvals,
// commands, end and review, the chain's verification per host and the
// signed checkpoints covering the period. Sorted and stable: the same
// records give the same bytes.
#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/utc_time.hpp"
#include "helper/report/report.hpp"

namespace bg::report {
namespace {

using nlohmann::json;

std::string time_or_empty(std::int64_t t) { return t == 0 ? std::string() : format_utc(t); }

std::string key_of(std::string_view host, std::string_view id) {
    return std::string(host) + "\n" + std::string(id);
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
    std::string out;
    for (const std::string& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
    return out;
}

std::string command_line_of(const CommandRun& c) {
    return format_utc(c.timestamp) + " " + c.event_id + " " + c.target + (c.detail.empty() ? "" : " (" + c.detail + ")");
}

}  // namespace

Evidence build_evidence(const std::vector<Entry>& records, const Period& period,
                        const std::vector<HostVerification>& verification) {
    Evidence out;
    out.period = period;
    out.verification = verification;
    std::sort(out.verification.begin(), out.verification.end(),
              [](const HostVerification& a, const HostVerification& b) { return a.host < b.host; });
    std::unordered_map<std::string, std::size_t> index;
    for (const Entry& e : records) {
        if (e.event != "grant" || e.timestamp < period.since || e.timestamp >= period.until) continue;
        if (!index.try_emplace(key_of(e.host, e.event_id), out.grants.size()).second) continue;
        GrantEvidence g;
        g.grant_id = e.event_id;
        g.host = e.host;
        g.actor = e.actor;
        g.gate = e.gate;
        g.reason = e.reason;
        g.incident_ref = e.incident_ref;
        g.approvers = e.approver;
        g.timestamp = e.timestamp;
        g.expires_at = e.expires_at;
        g.seq = e.seq;
        g.source_detail = e.detail;
        out.grants.push_back(std::move(g));
    }
    // Requests approved into a grant carry the request's id in the grant's
    // grant_id; their approve records name the request.
    std::unordered_map<std::string, std::size_t> by_request;
    for (const Entry& e : records)
        if (e.event == "grant" && !e.grant_id.empty() && e.grant_id != e.event_id)
            if (const auto it = index.find(key_of(e.host, e.event_id)); it != index.end())
                by_request.emplace(key_of(e.host, e.grant_id), it->second);
    // Checkpoints: those in the period and the first after it, per host.
    std::map<std::string, const Entry*> first_after;
    for (const Entry& e : records) {
        if (e.event == "checkpoint") {
            if (e.timestamp >= period.since && e.timestamp < period.until) {
                out.checkpoints.push_back({e.host, e.event_id, e.timestamp, e.seq, e.detail});
            } else if (e.timestamp >= period.until) {
                auto& f = first_after[e.host];
                if (f == nullptr || e.seq < f->seq) f = &e;
            }
            continue;
        }
        if (e.event == "approve") {
            const auto it = by_request.find(key_of(e.host, e.grant_id));
            if (it != by_request.end())
                out.grants[it->second].approvals.push_back(e.actor + " at " + format_utc(e.timestamp));
            continue;
        }
        if (e.grant_id.empty() || e.event == "grant") continue;
        const std::string k = key_of(e.host, e.grant_id);
        std::size_t at = 0;
        if (const auto it = index.find(k); it != index.end()) at = it->second;
        else if (const auto r = by_request.find(k); r != by_request.end()) at = r->second;
        else continue;
        GrantEvidence& g = out.grants[at];
        if (e.event == "command" || e.event == "session_open" || e.event == "session_close" ||
            e.event == "terminate" || e.event == "hook" || e.event == "hook_failed") {
            g.commands.push_back({e.timestamp, e.event_id, e.actor, e.event + " " + e.target, e.detail});
        } else if (e.event == "revoke" || e.event == "expire" || e.event == "grant_void") {
            if (g.ended_at == 0 || e.timestamp < g.ended_at) {
                g.ended_at = e.timestamp;
                g.ended_by = e.actor;
                g.end_event = e.event;
                g.end_reason = e.reason;
            }
        } else if (e.event == "review") {
            Entry as_grant;
            as_grant.actor = g.actor;
            as_grant.approver = g.approvers;
            if (!independent_reviewer(e.actor, as_grant)) continue;
            if (g.reviewed_at == 0 || e.timestamp < g.reviewed_at) {
                g.reviewed_at = e.timestamp;
                g.review_verdict = e.review_status;
                g.reviewer = e.actor;
                g.review_note = e.reason;
            }
        }
    }
    for (const auto& [host, e] : first_after) out.checkpoints.push_back({e->host, e->event_id, e->timestamp, e->seq, e->detail});
    std::map<std::string, const HostVerification*> ver;
    for (const HostVerification& v : out.verification) ver[v.host] = &v;
    for (GrantEvidence& g : out.grants) {
        std::stable_sort(g.commands.begin(), g.commands.end(),
                         [](const CommandRun& a, const CommandRun& b) { return std::tie(a.timestamp, a.event_id) < std::tie(b.timestamp, b.event_id); });
        std::sort(g.approvals.begin(), g.approvals.end());
        const auto v = ver.find(g.host);
        if (v == ver.end() || !v->second->checked) g.verified = "not checked";
        else if (v->second->ok || g.seq < v->second->first_bad_seq) g.verified = "yes";
        else g.verified = "no";
    }
    std::sort(out.grants.begin(), out.grants.end(), [](const GrantEvidence& a, const GrantEvidence& b) {
        return std::tie(a.timestamp, a.host, a.grant_id) < std::tie(b.timestamp, b.host, b.grant_id);
    });
    std::sort(out.checkpoints.begin(), out.checkpoints.end(), [](const Checkpoint& a, const Checkpoint& b) {
        return std::tie(a.host, a.record_seq) < std::tie(b.host, b.record_seq);
    });
    return out;
}

std::string render_evidence_json(const Evidence& e) {
    json ver = json::array();
    for (const HostVerification& v : e.verification)
        ver.push_back({{"host", v.host},
                       {"checked", v.checked},
                       {"ok", v.ok},
                       {"first_bad_seq", v.first_bad_seq},
                       {"message", v.message}});
    json grants = json::array();
    for (const GrantEvidence& g : e.grants) {
        json commands = json::array();
        for (const CommandRun& c : g.commands)
            commands.push_back({{"timestamp", format_utc(c.timestamp)},
                                {"event_id", c.event_id},
                                {"actor", c.actor},
                                {"what", c.target},
                                {"detail", c.detail}});
        grants.push_back({{"grant_id", g.grant_id},
                          {"timestamp", format_utc(g.timestamp)},
                          {"host", g.host},
                          {"actor", g.actor},
                          {"gate", g.gate},
                          {"reason", g.reason},
                          {"incident_ref", g.incident_ref},
                          {"approvers", g.approvers},
                          {"approvals", g.approvals},
                          {"expires_at", time_or_empty(g.expires_at)},
                          {"detail", g.source_detail},
                          {"commands", commands},
                          {"ended_at", time_or_empty(g.ended_at)},
                          {"ended_by", g.ended_by},
                          {"end_event", g.end_event},
                          {"end_reason", g.end_reason},
                          {"review_verdict", g.review_verdict},
                          {"reviewer", g.reviewer},
                          {"review_note", g.review_note},
                          {"reviewed_at", time_or_empty(g.reviewed_at)},
                          {"verified", g.verified}});
    }
    json cps = json::array();
    for (const Checkpoint& c : e.checkpoints)
        cps.push_back({{"host", c.host},
                       {"event_id", c.event_id},
                       {"timestamp", format_utc(c.timestamp)},
                       {"seq", c.record_seq},
                       {"detail", c.detail}});
    const json j = {{"since", format_utc(e.period.since)},
                    {"until", format_utc(e.period.until)},
                    {"verification", ver},
                    {"grants", grants},
                    {"checkpoints", cps}};
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string csv_field(std::string_view value) {
    std::string out = "\"";
    if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@' ||
                           value[0] == '\t' || value[0] == '\r'))
        out += '\'';
    for (const char c : value) {
        if (c == '"') out += "\"\"";
        else out += c;
    }
    out += '"';
    return out;
}

std::string render_evidence_csv(const Evidence& e) {
    static const char* const header[] = {"grant_id",     "timestamp", "host",        "actor",          "gate",
                                         "reason",       "incident_ref", "approvers", "expires_at",    "ended_at",
                                         "ended_by",     "end_event", "commands",    "review_verdict", "reviewer",
                                         "reviewed_at",  "verified"};
    std::string out;
    for (std::size_t i = 0; i < std::size(header); ++i) out += (i ? "," : "") + csv_field(header[i]);
    out += "\r\n";
    for (const GrantEvidence& g : e.grants) {
        std::vector<std::string> commands;
        for (const CommandRun& c : g.commands) commands.push_back(command_line_of(c));
        std::string approvers = g.approvers;
        if (approvers.empty() && !g.approvals.empty()) approvers = join(g.approvals, "; ");
        const std::string row[] = {g.grant_id,
                                   format_utc(g.timestamp),
                                   g.host,
                                   g.actor,
                                   g.gate,
                                   g.reason,
                                   g.incident_ref,
                                   approvers,
                                   time_or_empty(g.expires_at),
                                   time_or_empty(g.ended_at),
                                   g.ended_by,
                                   g.end_event,
                                   join(commands, "\n"),
                                   g.review_verdict,
                                   g.reviewer,
                                   time_or_empty(g.reviewed_at),
                                   g.verified};
        for (std::size_t i = 0; i < std::size(row); ++i) out += (i ? "," : "") + csv_field(row[i]);
        out += "\r\n";
    }
    return out;
}

}  // namespace bg::report
