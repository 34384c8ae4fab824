// SPDX-License-Identifier: ISC
// alerts.hpp: records → alerts → channel bodies. Pure but for BurstCounter's
// memory; every piece of record text passes escape_for_display() (no control
// characters) and a bound before it is put anywhere.
#include "helper/alerts/alerts.hpp"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "common/json_build.hpp"
#include "common/json_parse.hpp"
#include "common/text.hpp"
#include "common/utc_time.hpp"

namespace bg::alerts {
namespace {

// The approvers of a request's gate, as the policy names them ("%group", user),
// for the "approval needed" alert (the request record names none).
std::string gate_approvers(const policy::Gate* gate) {
    if (!gate || gate->approvers.empty()) return "(see the gate)";
    std::string out;
    for (const policy::Principal& a : gate->approvers) {
        if (out.size() > 256) return out + ", …";
        out += (out.empty() ? "" : ", ") + std::string(a.is_group ? "%" : "") + a.name;
    }
    return out;
}

// Escaped for display, then cut at `max_bytes` without splitting a UTF-8 sequence.
std::string bounded(std::string_view s, std::size_t max_bytes) {
    std::string out = escape_for_display(s);
    if (out.size() <= max_bytes) return out;
    std::size_t cut = max_bytes - 3;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    return out + "...";
}

// "user=alice" → "alice"; the target of a record of a grant's end.
std::string target_user(const audit::Record& r) {
    if (r.target.rfind("user=", 0) == 0) return r.target.substr(5);
    return r.target;
}

std::string when(std::int64_t t) { return t > 0 ? format_utc(t) : std::string(); }

void add_detail(Alert& a, std::string key, std::string_view value) {
    a.details.emplace_back(std::move(key), bounded(value, kMaxDetailBytes));
}

// The common details, in a fixed order.
void add_record_details(Alert& a, const audit::Record& r, std::string_view actor) {
    add_detail(a, "event", r.event);
    add_detail(a, "actor", actor);
    add_detail(a, "gate", r.gate_bypassed);
    add_detail(a, "reason", r.reason);
    add_detail(a, "incident", r.incident_ref);
    add_detail(a, "expires_at", when(r.expires_at));
    add_detail(a, "host", r.host);
    add_detail(a, "event_id", r.event_id);
    if (!r.detail.empty()) add_detail(a, "detail", r.detail);
}

const policy::Gate* gate_of(const policy::Policy& p, std::string_view gate) {
    const auto it = p.gates.find(std::string(gate));
    return it == p.gates.end() ? nullptr : &it->second;
}

}  // namespace

std::string_view kind_name(Kind k) {
    switch (k) {
        case Kind::Trigger: return "trigger";
        case Kind::Resolve: return "resolve";
        case Kind::Burst: return "burst";
        case Kind::Problem: return "problem";
        case Kind::Approval: return "approval";
    }
    return "?";
}

bool BurstCounter::feed(const audit::Record& r, const policy::AlertBurst& rule) {
    if (r.event != "deny" && r.event != "auth_failed" && r.event != "rate_limited") return false;
    const std::string& user = r.actor;
    auto it = users_.find(user);
    if (it == users_.end()) {
        if (users_.size() >= kMaxBurstUsers) {
            const auto oldest = std::min_element(users_.begin(), users_.end(), [](const auto& a, const auto& b) {
                return a.second.last_seen < b.second.last_seen;
            });
            users_.erase(oldest);
        }
        it = users_.emplace(user, User{}).first;
    }
    User& u = it->second;
    u.last_seen = ++tick_;
    const std::int64_t t = r.timestamp;
    const std::int64_t within = rule.within.count();
    while (!u.failures.empty() && u.failures.front() <= t - within) u.failures.pop_front();
    u.failures.push_back(t);
    while (u.failures.size() > static_cast<std::size_t>(std::max(rule.failures, 1))) u.failures.pop_front();
    if (t < u.quiet_until) return false;
    if (u.failures.size() < static_cast<std::size_t>(std::max(rule.failures, 1))) return false;
    // One alert per user per window: the next may come once this one's window has passed.
    u.quiet_until = t + within;
    u.failures.clear();
    return true;
}

std::vector<std::string> channels_for(const policy::Policy& p, std::string_view gate) {
    std::set<std::string> out;
    if (const policy::Gate* g = gate_of(p, gate)) {
        out.insert(g->alert.begin(), g->alert.end());
    } else if (!p.alert_defaults.empty()) {
        out.insert(p.alert_defaults.begin(), p.alert_defaults.end());
    } else {
        for (const auto& [name, c] : p.alerts) out.insert(name);
    }
    std::vector<std::string> v;
    for (const auto& name : out)
        if (p.alerts.contains(name)) v.push_back(name);
    return v;
}

namespace {

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

// A terminate record that says the grant's processes were not all dealt with.
bool revocation_not_carried_out(const audit::Record& r) {
    if (r.event != "terminate") return false;
    if (contains(r.detail, kNotCarriedOut)) return true;
    return contains(r.detail, kNothingTerminated) && !contains(r.detail, kNoGroupNoScope);
}

bool written_late(const audit::Record& r) {
    return (r.event == "revoke" || r.event == "expire" || r.event == "terminate") && contains(r.detail, kRecordedLate);
}

Alert base_alert(const audit::Record& r) {
    Alert a;
    a.event = r.event;
    a.event_id = r.event_id;
    a.seq = r.seq;
    a.host = bounded(r.host, 255);
    a.dedup_key = r.event_id;
    a.severity = "error";
    return a;
}

}  // namespace

std::vector<Alert> alerts_for(const audit::Record& r, const policy::Policy& p, BurstCounter& bursts) {
    const bool burst = bursts.feed(r, p.alert_burst);
    std::vector<Alert> out;
    Alert a = base_alert(r);
    const policy::Gate* gate = gate_of(p, r.gate_bypassed);
    const std::string gate_text = bounded(r.gate_bypassed, 64);
    const std::string grant_text = bounded(r.grant_id, 64);
    if (r.event == "grant") {
        a.kind = Kind::Trigger;
        a.severity = gate ? gate->alert_severity : "critical";
        const std::string who = bounded(r.actor, 64);
        const std::string account = r.action.rfind("pam:", 0) == 0 ? " (account " + bounded(r.target, 64) + ")" : "";
        const bool unshipped = contains(r.detail, kEverySinkDown);
        a.summary = "break-glass: " + who + " was granted gate " + gate_text + account + " on " + a.host + " until " +
                    when(r.expires_at) + ", incident " + bounded(r.incident_ref, 128) + ": " + bounded(r.reason, 256) +
                    (unshipped ? " (while every remote log sink was failing: the record is only on this host)" : "");
        add_record_details(a, r, r.actor);
        out.push_back(a);
        if (unshipped) {
            // Its own alert too: a trigger's severity is the gate's, this is not.
            Alert u = base_alert(r);
            u.kind = Kind::Problem;
            u.severity = "critical";
            u.dedup_key = r.event_id + "-unshipped";
            u.summary = "break-glass: " + who + " was granted gate " + gate_text + " on " + u.host +
                        " while every remote log sink was failing: " + bounded(r.detail, 512);
            add_record_details(u, r, r.actor);
            out.push_back(std::move(u));
        }
    } else if (r.event == "revoke" || r.event == "expire") {
        if (r.grant_id.empty()) return out;  // nothing to resolve
        a.kind = Kind::Resolve;
        a.dedup_key = r.grant_id;
        a.severity = gate ? gate->alert_severity : "critical";
        const std::string user = bounded(target_user(r), 64);
        a.summary = "break-glass: the grant " + grant_text + " of " + user + " on gate " + gate_text + " on " + a.host +
                    (r.event == "expire" ? " expired" : " was revoked by " + bounded(r.actor, 64));
        add_record_details(a, r, target_user(r));
        out.push_back(std::move(a));
    } else if (burst) {
        a.kind = Kind::Burst;
        a.severity = "warning";
        a.summary = "break-glass: " + std::to_string(p.alert_burst.failures) + " failed requests by " +
                    bounded(r.actor, 64) + " within " + policy::format_duration(p.alert_burst.within) + " on " +
                    a.host + " (the last: " + r.event + " on gate " + gate_text + ")";
        add_record_details(a, r, r.actor);
        out.push_back(std::move(a));
    } else if (r.event == "hook_failed" || r.event == "grant_void" || r.event == "sink_gap") {
        a.kind = Kind::Problem;
        a.severity = "error";
        a.summary = "break-glass: " + r.event + " on " + a.host +
                    (r.gate_bypassed.empty() ? std::string() : " (gate " + gate_text + ")") + ": " +
                    bounded(r.detail, 512);
        add_record_details(a, r, r.actor);
        out.push_back(std::move(a));
    } else if (revocation_not_carried_out(r)) {
        a.kind = Kind::Problem;
        a.severity = "critical";
        a.summary = "break-glass: the revocation of grant " + grant_text + " of " + bounded(target_user(r), 64) +
                    " on gate " + gate_text + " on " + a.host + " was not carried out: " + bounded(r.detail, 512);
        add_record_details(a, r, target_user(r));
        out.push_back(std::move(a));
    } else if (r.event == "verify_failed") {
        a.kind = Kind::Problem;
        a.severity = "critical";
        a.summary = "break-glass: the audit log on " + a.host + " does not verify: " + bounded(r.detail, 512);
        add_record_details(a, r, r.actor);
        out.push_back(std::move(a));
    } else if (r.event == "request") {
        a.kind = Kind::Approval;
        a.severity = "warning";
        a.summary = "break-glass: approval needed: request " + (r.grant_id.empty() ? bounded(r.event_id, 64) : grant_text) +
                    " by " + bounded(r.actor, 64) + " for gate " + gate_text + " on " + a.host + ", approvers " +
                    (r.approver.empty() ? gate_approvers(gate) : bounded(r.approver, 256));
        add_record_details(a, r, r.actor);
        out.push_back(std::move(a));
    } else if (r.event == "review_overdue") {
        a.kind = Kind::Problem;
        a.severity = "warning";
        a.summary = "break-glass: the review of grant " + grant_text + " of " + bounded(r.actor, 64) + " on gate " +
                    gate_text + " on " + a.host + " is overdue: " + bounded(r.detail, 512);
        add_record_details(a, r, r.actor);
        out.push_back(std::move(a));
    }
    if (written_late(r)) {
        Alert late = base_alert(r);
        late.kind = Kind::Problem;
        late.severity = "critical";
        late.dedup_key = r.event_id + "-late";
        late.summary = "break-glass: the " + r.event + " of grant " + grant_text + " on gate " + gate_text + " on " +
                       late.host + " could not be recorded when it happened: " + bounded(r.detail, 512);
        add_record_details(late, r, target_user(r));
        out.push_back(std::move(late));
    }
    const std::vector<std::string> channels = channels_for(p, r.gate_bypassed);
    if (channels.empty()) return {};
    for (Alert& each : out) {
        each.summary = bounded(each.summary, kMaxSummaryBytes);
        each.channels = channels;
    }
    return out;
}

std::optional<Alert> alert_for(const audit::Record& r, const policy::Policy& p, BurstCounter& bursts) {
    std::vector<Alert> all = alerts_for(r, p, bursts);
    if (all.empty()) return std::nullopt;
    return std::move(all.front());
}

// The channels' bodies: every json here built member by member and emptied
// before it is freed (common/json_build.hpp; this runs in the daemon).
std::string pagerduty_body(const Alert& a, std::string_view routing_key) {
    nlohmann::json details = nlohmann::json::object();
    EmptiedBeforeDestruction details_emptied(details);
    std::string gate;
    for (const auto& [k, v] : a.details) {
        details[k] = v;
        if (k == "gate") gate = v;
    }
    nlohmann::json j = JsonObject()("routing_key", std::string(routing_key))("dedup_key", a.dedup_key)(
                           "event_action", a.kind == Kind::Resolve ? "resolve" : "trigger")
                           .take();
    EmptiedBeforeDestruction j_emptied(j);
    if (a.kind != Kind::Resolve) {
        nlohmann::json& payload = j["payload"];
        payload = JsonObject()("summary", a.summary)("source", a.host)("severity", a.severity)(
                      "component", "breakglass")("group", gate)("class", a.event)("custom_details", std::move(details))
                      .take();
    }
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string slack_escape(std::string_view s) {
    std::string out;
    for (const char c : s) {
        if (c == '&') out += "&amp;";
        else if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else out += c;
    }
    return out;
}

std::string slack_body(const Alert& a) {
    static const std::map<std::string, std::string> kLabels = {
        {"actor", "Who"}, {"gate", "Gate"}, {"reason", "Why"}, {"incident", "Incident"},
        {"expires_at", "Until"}, {"host", "Host"}, {"detail", "Detail"}};
    nlohmann::json fields = nlohmann::json::array();
    EmptiedBeforeDestruction fields_emptied(fields);
    for (const auto& [k, v] : a.details) {
        const auto label = kLabels.find(k);
        if (label == kLabels.end() || v.empty()) continue;
        // Slack allows at most 10 fields of at most 2000 characters.
        if (fields.size() == 10) break;
        push_emptied(fields, JsonObject()("type", "mrkdwn")("text", "*" + label->second + "*\n" + slack_escape(v)).take());
    }
    const std::string title = a.kind == Kind::Trigger   ? ":rotating_light: Break-glass access granted"
                              : a.kind == Kind::Resolve ? ":white_check_mark: Break-glass access ended"
                              : a.kind == Kind::Burst   ? ":warning: Repeated failed break-glass requests"
                              : a.kind == Kind::Approval ? ":hourglass: Break-glass approval needed"
                                                        : ":warning: Break-glass problem";
    nlohmann::json blocks = nlohmann::json::array();
    EmptiedBeforeDestruction blocks_emptied(blocks);
    push_emptied(blocks, JsonObject()("type", "section")(
                             "text", JsonObject()("type", "mrkdwn")("text", "*" + title + "*\n" + slack_escape(a.summary))
                                         .take())
                             .take());
    if (!fields.empty()) push_emptied(blocks, JsonObject()("type", "section")("fields", std::move(fields)).take());
    nlohmann::json elements = nlohmann::json::array();
    EmptiedBeforeDestruction elements_emptied(elements);
    push_emptied(elements, JsonObject()("type", "mrkdwn")("text", "event " + slack_escape(a.event_id)).take());
    push_emptied(blocks, JsonObject()("type", "context")("elements", std::move(elements)).take());
    nlohmann::json j = JsonObject()("text", slack_escape(a.summary))("blocks", std::move(blocks)).take();
    EmptiedBeforeDestruction j_emptied(j);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string webhook_body(const Alert& a, std::string_view record_line) {
    nlohmann::json record;
    EmptiedBeforeDestruction record_emptied(record);
    if (parse_into(record_line, record) != JsonParse::Ok) {
        empty_bottom_up(record, 8);
        record = nullptr;
    }
    nlohmann::json j =
        JsonObject()("summary", a.summary)("record", std::move(record))("record_line", std::string(record_line)).take();
    EmptiedBeforeDestruction j_emptied(j);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string header_text(std::string_view s, std::size_t max_bytes) {
    std::string out;
    for (const char c : s) {
        if (out.size() >= max_bytes) break;
        out += (c >= ' ' && c <= '~') ? c : '?';
    }
    return out;
}

std::string email_message(const Alert& a, const std::vector<std::string>& to, std::int64_t now) {
    // Host names are [A-Za-z0-9.-]; anything else is left out of the addresses.
    std::string host;
    for (const char c : a.host)
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-') host += c;
    if (host.empty()) host = "localhost";
    std::string to_line;
    for (const auto& address : to) {
        if (policy::email_address_problem(address)) continue;  // never reaches a header
        to_line += (to_line.empty() ? "" : ", ") + address;
    }
    std::string m;
    m += "From: breakglassd <root@" + host + ">\n";
    m += "To: " + to_line + "\n";
    m += "Subject: " + header_text("[breakglass] " + a.summary, kMaxSubjectBytes) + "\n";
    m += "Date: " + header_text(format_utc(now), 64) + "\n";
    // A record's second alert has its own key ("<event id>-late"): its own Message-ID.
    const std::string& id = a.dedup_key.rfind(a.event_id, 0) == 0 ? a.dedup_key : a.event_id;
    m += "Message-ID: <" + header_text(id, 80) + "." + std::string(kind_name(a.kind)) + "@" + host + ">\n";
    m += "Auto-Submitted: auto-generated\n";
    m += "MIME-Version: 1.0\n";
    m += "Content-Type: text/plain; charset=utf-8\n";
    m += "Content-Transfer-Encoding: 8bit\n";
    m += "\n";
    m += a.summary + "\n\n";
    for (const auto& [k, v] : a.details) m += k + ": " + v + "\n";
    return m;
}

}  // namespace bg::alerts
