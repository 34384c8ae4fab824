// SPDX-License-Identifier: ISC
#include "helper/ctl/grant_story.hpp"

#include "common/text.hpp"
#include "helper/audit/story_index.hpp"

namespace bg::ctl {

using nlohmann::json;

std::optional<std::uint64_t> seq_of_event_id(std::string_view id) { return audit::seq_of_event_id(id); }

bool in_story(const audit::Record& r, const std::string& grant_id, const std::string& request_id) {
    if (r.event == "checkpoint") return false;
    if (r.event_id == grant_id || r.grant_id == grant_id) return true;
    return !request_id.empty() && (r.event_id == request_id || r.grant_id == request_id);
}

namespace {

std::string time_of(const audit::Record& r) { return audit::format_utc(r.timestamp); }

json base(const audit::Record& r) {
    return {{"event", r.event}, {"event_id", r.event_id}, {"timestamp", time_of(r)}, {"actor", r.actor},
            {"detail", r.detail}};
}

bool is_one_of(std::string_view e, std::initializer_list<std::string_view> names) {
    for (auto n : names)
        if (e == n) return true;
    return false;
}

}  // namespace

json story_json(const GrantStory& s, const StoryVerification& v) {
    json out = {{"grant_id", s.grant_id},
                {"verification",
                 {{"ok", v.ok}, {"scope", v.scope}, {"records", v.records}, {"message", v.message}}},
                {"request", nullptr},
                {"approvals", json::array()},
                {"grant", nullptr},
                {"activity", json::array()},
                {"terminations", json::array()},
                {"hooks", json::array()},
                {"end", nullptr},
                {"review", nullptr},
                {"review_overdue", nullptr},
                {"review_refusals", json::array()},
                {"other", json::array()}};
    for (const audit::Record& r : s.records) {
        json e = base(r);
        if (r.event == "request" && r.event_id == s.request_id) {
            e["reason"] = r.reason;
            e["incident"] = r.incident_ref;
            e["factor"] = r.factor;
            out["request"] = e;
        } else if (is_one_of(r.event, {"approve", "reject", "approval_refused"}) && r.grant_id == s.request_id) {
            e["reason"] = r.reason;
            out["approvals"].push_back(e);
        } else if (r.event == "grant" && r.event_id == s.grant_id) {
            e["gate"] = r.gate_bypassed;
            e["action"] = r.action;
            e["target"] = r.target;
            e["source"] = r.source;
            e["reason"] = r.reason;
            e["incident"] = r.incident_ref;
            e["factor"] = r.factor;
            e["approvers"] = r.approver;
            e["expires_at"] = r.expires_at == 0 ? std::string() : audit::format_utc(r.expires_at);
            e["host"] = r.host;
            out["grant"] = e;
        } else if (is_one_of(r.event, {"session_open", "session_close", "command"})) {
            e["action"] = r.action;
            e["target"] = r.target;
            e["source"] = r.source;
            out["activity"].push_back(e);
        } else if (r.event == "terminate") {
            out["terminations"].push_back(e);
        } else if (is_one_of(r.event, {"hook", "hook_failed"})) {
            e["target"] = r.target;
            out["hooks"].push_back(e);
        } else if (is_one_of(r.event, {"revoke", "expire", "grant_void"}) && out["end"].is_null()) {
            e["reason"] = r.reason;
            out["end"] = e;
        } else if (r.event == "review" && out["review"].is_null()) {
            e["verdict"] = r.review_status;
            e["note"] = r.reason;
            out["review"] = e;
        } else if (r.event == "review_overdue" && out["review_overdue"].is_null()) {
            out["review_overdue"] = e;
        } else if (r.event == "review_refused") {
            out["review_refusals"].push_back(e);
        } else {
            out["other"].push_back(e);
        }
    }
    return out;
}

namespace {

std::string field(const json& j, const char* key) {
    const auto it = j.find(key);
    return it == j.end() || !it->is_string() ? std::string() : escape_for_display(it->get<std::string>());
}

void line_for(std::string& out, const json& e, const std::string& what) {
    out += "  " + field(e, "timestamp") + "  " + what;
    const std::string detail = field(e, "detail");
    if (!detail.empty()) out += " — " + detail;
    out += "  [" + field(e, "event_id") + "]\n";
}

}  // namespace

std::string format_story(const GrantStory& s, const StoryVerification& v) {
    const json j = story_json(s, v);
    std::string out = "grant " + escape_for_display(s.grant_id) + "\n";
    out += std::string("verified: ") + (v.ok ? "yes" : "NO") + ", " + escape_for_display(v.scope) + " (" +
           escape_for_display(v.message) + ")\n";
    if (!j["request"].is_null()) {
        const json& r = j["request"];
        out += "request\n";
        line_for(out, r, "requested by " + field(r, "actor") + ": " + field(r, "reason") + " (" + field(r, "incident") + ")");
    }
    if (!j["approvals"].empty()) {
        out += "approvals\n";
        for (const json& a : j["approvals"]) line_for(out, a, field(a, "event") + " by " + field(a, "actor"));
    }
    if (!j["grant"].is_null()) {
        const json& g = j["grant"];
        out += "grant\n";
        line_for(out, g, "granted gate " + field(g, "gate") + " to " + field(g, "actor") + " until " +
                             field(g, "expires_at") + " on " + field(g, "host"));
        out += "    why: " + field(g, "reason") + "\n    incident: " + field(g, "incident") +
               "\n    factor: " + field(g, "factor") + "\n";
        if (!field(g, "approvers").empty()) out += "    approved by: " + field(g, "approvers") + "\n";
        if (!field(g, "target").empty()) out += "    target: " + field(g, "target") + "\n";
    } else {
        out += "grant: not found in the records read\n";
    }
    if (!j["activity"].empty()) {
        out += "commands and sessions\n";
        for (const json& a : j["activity"])
            line_for(out, a, field(a, "event") + (field(a, "target").empty() ? "" : " " + field(a, "target")));
    }
    if (!j["terminations"].empty()) {
        out += "terminations\n";
        for (const json& t : j["terminations"]) line_for(out, t, "terminate");
    }
    if (!j["hooks"].empty()) {
        out += "hooks\n";
        for (const json& h : j["hooks"]) line_for(out, h, field(h, "event") + " " + field(h, "target"));
    }
    if (!j["end"].is_null()) {
        const json& e = j["end"];
        out += "end\n";
        line_for(out, e, field(e, "event") + " by " + field(e, "actor") +
                             (field(e, "reason").empty() ? "" : ": " + field(e, "reason")));
    } else {
        out += "end: not ended in the records read (still active?)\n";
    }
    out += "review\n";
    for (const json& r : j["review_refusals"]) line_for(out, r, "review refused for " + field(r, "actor"));
    if (!j["review_overdue"].is_null()) line_for(out, j["review_overdue"], "review overdue");
    if (!j["review"].is_null()) {
        const json& r = j["review"];
        line_for(out, r, field(r, "verdict") + " by " + field(r, "actor") + ": " + field(r, "note"));
    } else {
        out += "  not reviewed yet\n";
    }
    if (!j["other"].empty()) {
        out += "other records\n";
        for (const json& o : j["other"]) line_for(out, o, field(o, "event") + " by " + field(o, "actor"));
    }
    return out;
}

}  // namespace bg::ctl
