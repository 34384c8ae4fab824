// SPDX-License-Identifier: ISC
// helper/alerts: which record raises which alert (trigger on grant, resolve
// with the same dedup key on revoke/expire, one burst per user per window,
// problems), routing to the gate's channels, and the bodies: PagerDuty
// Events v2's documented fields, Slack's escaping, the webhook's record and
// line, and an e-mail whose headers no record text can add to.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/alerts/alerts.hpp"
#include "helper/audit/audit_record.hpp"
#include "helper/revocation/terminator.hpp"
#include "policy/policy.hpp"

namespace bg::alerts {
namespace {

policy::Policy make_policy(const std::string& extra_defaults = "") {
    const std::string text = R"([alert.oncall]
type = "pagerduty"
routing_key_file = "/etc/breakglass/pd.key"

[alert.security]
type = "slack"
url_file = "/etc/breakglass/slack.url"

[alert.mail]
type = "email"
to = ["security@example.net"]

[defaults]
alert = ["mail"]
)" + extra_defaults + R"(

[gate.ops]
requesters = ["alice"]
incident_pattern = '^INC-[0-9]+$'
factors = ["totp"]
alert = ["oncall", "security"]
alert_severity = "error"
approvals = 1
approvers = ["%secops", "bob"]

[gate.quiet]
requesters = ["alice"]
incident_pattern = '^INC-[0-9]+$'
factors = ["totp"]
alert = []
)";
    auto p = policy::parse_policy(text, "test.toml");
    EXPECT_TRUE(p) << (p ? "" : p.error().message);
    return std::move(p).value();
}

audit::Record record(std::uint64_t seq, const std::string& event, const std::string& gate, std::int64_t t = 0) {
    audit::Record r;
    r.event = event;
    r.actor = "alice";
    r.actor_role = "requester";
    r.action = "break_glass";
    r.gate_bypassed = gate;
    r.reason = "disk full";
    r.incident_ref = "INC-42";
    r.target = "id";
    r.seq = seq;
    r.timestamp = t ? t : 1782000000 + static_cast<std::int64_t>(seq);
    r.event_id = audit::format_event_id(r.timestamp, seq);
    r.host = "bastion-1";
    r.prev_hash = std::string(audit::kGenesisPrevHash);
    r.hash = audit::compute_hash(r);
    r.seal = std::string(64, 'a');
    return r;
}

audit::Record grant(std::uint64_t seq, const std::string& gate = "ops") {
    audit::Record r = record(seq, "grant", gate);
    r.expires_at = r.timestamp + 3600;
    r.grant_id = "";
    return r;
}

audit::Record end_of(const audit::Record& g, std::uint64_t seq, const std::string& event) {
    audit::Record r = record(seq, event, g.gate_bypassed);
    r.actor = event == "expire" ? "breakglassd" : "root";
    r.target = "user=alice";
    r.grant_id = g.event_id;
    r.expires_at = g.expires_at;
    return r;
}

std::string detail(const Alert& a, const std::string& key) {
    for (const auto& [k, v] : a.details)
        if (k == key) return v;
    return "<none>";
}

TEST(Alerts, GrantTriggersWithItsEventIdAndTheGatesSeverity) {
    const auto p = make_policy();
    BurstCounter bursts;
    const auto g = grant(7);
    const auto a = alert_for(g, p, bursts);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, Kind::Trigger);
    EXPECT_EQ(a->dedup_key, g.event_id);
    EXPECT_EQ(a->severity, "error");
    EXPECT_EQ(a->channels, (std::vector<std::string>{"oncall", "security"}));
    EXPECT_EQ(detail(*a, "actor"), "alice");
    EXPECT_EQ(detail(*a, "gate"), "ops");
    EXPECT_EQ(detail(*a, "reason"), "disk full");
    EXPECT_EQ(detail(*a, "incident"), "INC-42");
    EXPECT_EQ(detail(*a, "expires_at"), audit::format_utc(g.expires_at));
    EXPECT_EQ(detail(*a, "host"), "bastion-1");
    EXPECT_NE(a->summary.find("alice was granted gate ops on bastion-1"), std::string::npos) << a->summary;
}

TEST(Alerts, RevokeAndExpireResolveWithTheGrantsKey) {
    const auto p = make_policy();
    BurstCounter bursts;
    const auto g = grant(7);
    for (const std::string event : {"revoke", "expire"}) {
        const auto a = alert_for(end_of(g, 8, event), p, bursts);
        ASSERT_TRUE(a) << event;
        EXPECT_EQ(a->kind, Kind::Resolve);
        EXPECT_EQ(a->dedup_key, g.event_id) << event;
        EXPECT_EQ(a->channels, (std::vector<std::string>{"oncall", "security"}));
    }
}

TEST(Alerts, NothingForOtherRecordsOrAGateWithoutChannels) {
    const auto p = make_policy();
    BurstCounter bursts;
    for (const std::string event : {"command", "daemon_start", "policy_load", "enroll", "session_open"})
        EXPECT_FALSE(alert_for(record(1, event, "ops"), p, bursts)) << event;
    EXPECT_FALSE(alert_for(grant(2, "quiet"), p, bursts)) << "alert = [] turns the gate's alerts off";
    policy::Policy none = p;
    none.alerts.clear();
    none.alert_defaults.clear();
    for (auto& [n, gate] : none.gates) gate.alert.clear();
    EXPECT_FALSE(alert_for(grant(3), none, bursts));
}

TEST(Alerts, ProblemsGoToTheGateOrTheDefaults) {
    const auto p = make_policy();
    BurstCounter bursts;
    const auto hook = alert_for(record(1, "hook_failed", "ops"), p, bursts);
    ASSERT_TRUE(hook);
    EXPECT_EQ(hook->kind, Kind::Problem);
    EXPECT_EQ(hook->channels, (std::vector<std::string>{"oncall", "security"}));
    const auto gap = alert_for(record(2, "sink_gap", ""), p, bursts);
    ASSERT_TRUE(gap);
    EXPECT_EQ(gap->channels, (std::vector<std::string>{"mail"})) << "no gate: [defaults] alert";
    policy::Policy no_defaults = p;
    no_defaults.alert_defaults.clear();
    const auto all = alert_for(record(3, "grant_void", "gone"), no_defaults, bursts);
    ASSERT_TRUE(all);
    EXPECT_EQ(all->channels, (std::vector<std::string>{"mail", "oncall", "security"})) << "no defaults: every channel";
}

TEST(Alerts, FiveFailuresInAMinuteAreOneBurstAlertNotFive) {
    const auto p = make_policy();  // alert_burst: 5 within 1m (the default)
    BurstCounter bursts;
    int alerts = 0;
    const std::int64_t t0 = 1782000000;
    for (int i = 0; i < 12; ++i) {
        auto r = record(static_cast<std::uint64_t>(i + 1), i % 2 ? "deny" : "auth_failed", "ops", t0 + i * 3);
        if (const auto a = alert_for(r, p, bursts)) {
            EXPECT_EQ(a->kind, Kind::Burst);
            EXPECT_EQ(i, 4) << "the fifth failure raises it";
            ++alerts;
        }
    }
    EXPECT_EQ(alerts, 1) << "12 failures within a minute: one alert";
    // After the window a new burst is a new alert.
    int later = 0;
    for (int i = 0; i < 5; ++i)
        if (alert_for(record(static_cast<std::uint64_t>(100 + i), "deny", "ops", t0 + 120 + i), p, bursts)) ++later;
    EXPECT_EQ(later, 1);
}

TEST(Alerts, FailuresSpreadBeyondTheWindowAreNoBurstAndUsersCountApart) {
    const auto p = make_policy();
    BurstCounter bursts;
    const std::int64_t t0 = 1782000000;
    for (int i = 0; i < 10; ++i)
        EXPECT_FALSE(alert_for(record(static_cast<std::uint64_t>(i + 1), "deny", "ops", t0 + i * 20), p, bursts))
            << "one failure every 20 s is at most 3 a minute";
    BurstCounter apart;
    for (int i = 0; i < 8; ++i) {
        auto r = record(static_cast<std::uint64_t>(i + 1), "deny", "ops", t0 + i);
        r.actor = i % 2 ? "bob" : "carol";
        EXPECT_FALSE(alert_for(r, p, apart)) << "4 each, not 5";
    }
}

TEST(Alerts, BurstRuleFromThePolicy) {
    const auto p = make_policy("alert_burst = { failures = 2, within = \"10s\" }");
    BurstCounter bursts;
    EXPECT_FALSE(alert_for(record(1, "deny", "nosuchgate", 1782000000), p, bursts));
    const auto a = alert_for(record(2, "deny", "nosuchgate", 1782000005), p, bursts);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->channels, (std::vector<std::string>{"mail"})) << "an unknown gate: [defaults] alert";
}

TEST(Alerts, BurstCounterForgetsTheLeastRecentUserBeyondItsBound) {
    const auto p = make_policy();
    BurstCounter bursts;
    for (std::size_t i = 0; i < kMaxBurstUsers + 100; ++i) {
        auto r = record(i + 1, "deny", "ops");
        r.actor = "u" + std::to_string(i);
        (void)bursts.feed(r, p.alert_burst);
    }
    EXPECT_EQ(bursts.users(), kMaxBurstUsers);
}

TEST(AlertBodies, PagerDutyTriggerHasEveryDocumentedField) {
    const auto p = make_policy();
    BurstCounter bursts;
    const auto g = grant(7);
    const auto a = alert_for(g, p, bursts);
    ASSERT_TRUE(a);
    const auto j = nlohmann::json::parse(pagerduty_body(*a, "R0UTING"));
    EXPECT_EQ(j.at("routing_key"), "R0UTING");
    EXPECT_EQ(j.at("event_action"), "trigger");
    EXPECT_EQ(j.at("dedup_key"), g.event_id);
    EXPECT_EQ(j.at("payload").at("summary"), a->summary);
    EXPECT_LE(j.at("payload").at("summary").get<std::string>().size(), 1024u);
    EXPECT_EQ(j.at("payload").at("source"), "bastion-1");
    EXPECT_EQ(j.at("payload").at("severity"), "error");
    const auto& d = j.at("payload").at("custom_details");
    for (const char* key : {"actor", "gate", "reason", "incident", "expires_at", "host"}) EXPECT_TRUE(d.contains(key)) << key;
}

TEST(AlertBodies, PagerDutyResolveCarriesTheKeyOnly) {
    const auto p = make_policy();
    BurstCounter bursts;
    const auto g = grant(7);
    const auto a = alert_for(end_of(g, 9, "expire"), p, bursts);
    ASSERT_TRUE(a);
    const auto j = nlohmann::json::parse(pagerduty_body(*a, "R0UTING"));
    EXPECT_EQ(j.at("event_action"), "resolve");
    EXPECT_EQ(j.at("dedup_key"), g.event_id);
    EXPECT_FALSE(j.contains("payload"));
}

TEST(AlertBodies, SlackTextIsEscaped) {
    const auto p = make_policy();
    BurstCounter bursts;
    auto g = grant(7);
    g.reason = "<!channel> & <https://evil.example|click>";
    const auto a = alert_for(g, p, bursts);
    ASSERT_TRUE(a);
    const std::string body = slack_body(*a);
    const auto j = nlohmann::json::parse(body);
    EXPECT_TRUE(j.at("blocks").is_array());
    EXPECT_EQ(body.find("<!channel>"), std::string::npos) << body;
    EXPECT_EQ(body.find("<https://evil"), std::string::npos) << body;
    EXPECT_NE(body.find("&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"), std::string::npos) << body;
    EXPECT_EQ(slack_escape("a&b<c>d"), "a&amp;b&lt;c&gt;d");
}

TEST(AlertBodies, WebhookCarriesTheRecordAndItsExactLine) {
    const auto p = make_policy();
    BurstCounter bursts;
    const auto g = grant(7);
    const auto a = alert_for(g, p, bursts);
    ASSERT_TRUE(a);
    const std::string line = audit::canonical_json(g);
    const auto j = nlohmann::json::parse(webhook_body(*a, line));
    EXPECT_EQ(j.at("summary"), a->summary);
    EXPECT_EQ(j.at("record_line"), line);
    EXPECT_EQ(j.at("record").at("event_id"), g.event_id);
    EXPECT_EQ(j.at("record").dump(), line) << "the record object is the line, parsed";
}

// The header block of a message: lines up to the first empty one.
std::vector<std::string> headers_of(const std::string& message) {
    std::vector<std::string> out;
    std::istringstream in(message);
    std::string line;
    while (std::getline(in, line) && !line.empty()) out.push_back(line);
    return out;
}

TEST(AlertBodies, EmailHeadersCannotBeAddedByRecordText) {
    const auto p = make_policy();
    BurstCounter bursts;
    auto g = grant(7);
    g.reason = "x\r\nBcc: victim@example.com\r\n\r\nforged body";
    g.actor = "alice\nCc: other@example.com";
    g.incident_ref = "INC-1\rTo: x@example.com";
    const auto a = alert_for(g, p, bursts);
    ASSERT_TRUE(a);
    const std::string m = email_message(*a, {"security@example.net"}, 1782000000);
    const auto headers = headers_of(m);
    std::vector<std::string> names;
    for (const auto& h : headers) names.push_back(h.substr(0, h.find(':')));
    EXPECT_EQ(names, (std::vector<std::string>{"From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted",
                                               "MIME-Version", "Content-Type", "Content-Transfer-Encoding"}))
        << m;
    EXPECT_EQ(m.find('\r'), std::string::npos);
    EXPECT_EQ(headers.at(1), "To: security@example.net");
    for (const auto& h : headers)
        for (const char c : h) EXPECT_TRUE(c >= ' ' && c <= '~') << "header byte " << int(c) << " in " << h;
    EXPECT_EQ(m.find("\nBcc:"), std::string::npos) << m;
    EXPECT_EQ(m.find("\nCc:"), std::string::npos) << m;
    EXPECT_EQ(m.find("\nTo: x@"), std::string::npos) << m;
}

TEST(AlertBodies, EmailLeavesOutAddressesThePolicyWouldRefuse) {
    const auto p = make_policy();
    BurstCounter bursts;
    const auto a = alert_for(grant(7), p, bursts);
    ASSERT_TRUE(a);
    const std::string m = email_message(*a, {"ok@example.net", "bad@example.net\nBcc: evil@example.com"}, 1782000000);
    EXPECT_EQ(headers_of(m).at(1), "To: ok@example.net");
    EXPECT_EQ(header_text("a\r\nb\xc3\xa9", 100), "a??b??");
    EXPECT_EQ(header_text(std::string(500, 'x'), 200).size(), 200u);
}

// What the revocation loop records when it could not end a grant's
// processes: written from the real Terminator's report, as
// Daemon::record_termination writes it.
audit::Record terminate_record(std::uint64_t seq, const TerminationReport& report) {
    audit::Record r = record(seq, "terminate", report.target.gate);
    r.actor = "breakglassd";
    r.actor_role = "daemon";
    r.target = "user=" + report.target.user;
    r.grant_id = report.target.grant_id;
    r.reason = "";
    r.detail = report.detail;
    return r;
}

TEST(Alerts, ARevocationThatCouldNotBeCarriedOutIsACriticalProblem) {
    const auto p = make_policy();
    BurstCounter bursts;
    Terminator terminator;
    TerminationTarget t;
    t.grant_id = grant(7).event_id;
    t.user = "bg-no-such-user-for-alerts";
    t.gate = "ops";
    t.group = "bg-no-such-group";
    const TerminationReport failed = terminator.begin(t, 1782000100, "after the revoke");
    const auto a = alert_for(terminate_record(9, failed), p, bursts);
    ASSERT_TRUE(a) << failed.detail;
    EXPECT_EQ(a->kind, Kind::Problem);
    EXPECT_EQ(a->severity, "critical");
    EXPECT_EQ(a->channels, (std::vector<std::string>{"oncall", "security"}));
    EXPECT_NE(a->summary.find("the revocation of grant " + t.grant_id), std::string::npos) << a->summary;
    EXPECT_NE(a->summary.find("was not carried out"), std::string::npos) << a->summary;
    // The lookup that failed: "check by hand".
    audit::Record lookup = terminate_record(10, failed);
    lookup.detail = "after the revoke; cannot look up user alice (I/O error), so no process was terminated: check by hand";
    EXPECT_TRUE(alert_for(lookup, p, bursts));
    lookup.detail = "after the revoke; could not remove the set-group-ID bit of /srv/x: check by hand";
    EXPECT_TRUE(alert_for(lookup, p, bursts));
    // A terminate that did its job, or a gate that has nothing to terminate by design: no alert.
    audit::Record fine = terminate_record(11, failed);
    fine.detail = "after the revoke; SIGTERM to pids 123 (sh) (group ops), SIGKILL after the 10 s grace to any that remain";
    EXPECT_FALSE(alert_for(fine, p, bursts));
    TerminationTarget nothing = t;
    nothing.user = "root";
    nothing.group = "";
    nothing.why_no_group = "the gate names no sudo_runas_group";
    const TerminationReport by_design = terminator.begin(nothing, 1782000100, "after the expiry");
    EXPECT_FALSE(alert_for(terminate_record(12, by_design), p, bursts)) << by_design.detail;
}

TEST(Alerts, AnEndRecordedLateIsAProblemAsWellAsTheResolve) {
    const auto p = make_policy();
    BurstCounter bursts;
    const auto g = grant(7);
    auto late = end_of(g, 8, "revoke");
    // As Daemon::write_late_records writes it.
    late.detail = "revoked at 2026-06-21T00:00:08Z; recorded late: No space left on device; revoked by root";
    const auto all = alerts_for(late, p, bursts);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].kind, Kind::Resolve);
    EXPECT_EQ(all[0].dedup_key, g.event_id);
    EXPECT_EQ(all[1].kind, Kind::Problem);
    EXPECT_EQ(all[1].severity, "critical");
    EXPECT_NE(all[1].dedup_key, all[0].dedup_key);
    EXPECT_NE(all[1].summary.find("could not be recorded when it happened"), std::string::npos) << all[1].summary;
    EXPECT_NE(email_message(all[0], {"a@example.net"}, 0).find("Message-ID: <" + late.event_id + ".resolve@"),
              std::string::npos);
    EXPECT_NE(email_message(all[1], {"a@example.net"}, 0).find("Message-ID: <" + late.event_id + "-late.problem@"),
              std::string::npos);
    auto on_time = end_of(g, 9, "expire");
    EXPECT_EQ(alerts_for(on_time, p, bursts).size(), 1u);
}

TEST(Alerts, AVerifyFailureAtStartIsACriticalProblemToTheDefaults) {
    const auto p = make_policy();
    BurstCounter bursts;
    auto r = record(3, "verify_failed", "");
    r.actor = "breakglassd";
    r.detail = "the audit log does not verify (first bad seq 2): hash mismatch; run breakglassctl verify";
    const auto a = alert_for(r, p, bursts);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, Kind::Problem);
    EXPECT_EQ(a->severity, "critical");
    EXPECT_EQ(a->channels, (std::vector<std::string>{"mail"}));
    EXPECT_NE(a->summary.find("does not verify"), std::string::npos) << a->summary;
}

TEST(Alerts, AGrantWhileEverySinkWasDownSaysSoAndIsItsOwnProblem) {
    const auto p = make_policy();
    BurstCounter bursts;
    auto g = grant(7);
    EXPECT_EQ(alerts_for(g, p, bursts).size(), 1u);
    g.detail = "ttl 1h; every remote log sink was failing: siem (last attempt 2026-06-21T00:00:00Z: HTTP 500)";
    const auto all = alerts_for(g, p, bursts);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].kind, Kind::Trigger);
    EXPECT_NE(all[0].summary.find("while every remote log sink was failing"), std::string::npos) << all[0].summary;
    EXPECT_EQ(all[1].kind, Kind::Problem);
    EXPECT_EQ(all[1].severity, "critical");
    EXPECT_NE(all[1].summary.find("siem (last attempt"), std::string::npos) << all[1].summary;
}

TEST(Alerts, ARequestWaitingForApprovalTellsTheGatesChannels) {
    const auto p = make_policy();
    BurstCounter bursts;
    auto r = record(4, "request", "ops");
    r.grant_id = "20260621T000004Z-000004";
    r.approver = "group:secops";
    const auto a = alert_for(r, p, bursts);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, Kind::Approval);
    EXPECT_EQ(a->channels, (std::vector<std::string>{"oncall", "security"}));
    EXPECT_NE(a->summary.find("approval needed: request 20260621T000004Z-000004 by alice for gate ops"),
              std::string::npos) << a->summary;
    EXPECT_NE(a->summary.find("approvers group:secops"), std::string::npos) << a->summary;
    EXPECT_NE(slack_body(*a).find("approval needed"), std::string::npos);
    // As the daemon writes it: the request record names no approver; the gate's are shown.
    r.approver.clear();
    const auto b = alert_for(r, p, bursts);
    ASSERT_TRUE(b);
    EXPECT_NE(b->summary.find("approvers %secops, bob"), std::string::npos) << b->summary;
}

TEST(Alerts, AnOverdueReviewIsAProblem) {
    const auto p = make_policy();
    BurstCounter bursts;
    const auto g = grant(7);
    auto r = record(20, "review_overdue", "ops");
    r.actor = "alice";
    r.actor_role = "daemon";
    r.grant_id = g.event_id;
    r.detail = "review due at 2026-06-22T00:00:07Z";
    const auto a = alert_for(r, p, bursts);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, Kind::Problem);
    EXPECT_EQ(a->severity, "warning");
    EXPECT_NE(a->summary.find("the review of grant " + g.event_id + " of alice on gate ops"), std::string::npos)
        << a->summary;
    EXPECT_NE(a->summary.find("review due at 2026-06-22T00:00:07Z"), std::string::npos) << a->summary;
}

}  // namespace
}  // namespace bg::alerts
