// SPDX-License-Identifier: ISC
// evaluate / gates_for as a table: each row one request and the exact answer.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy/policy.hpp"

namespace {

using namespace std::chrono_literals;
using bg::policy::Decision;
using bg::policy::EvalRequest;
using bg::policy::Verdict;

constexpr const char* kPolicy = R"([defaults]
max_ttl = "60m"
ttl = "30m"
incident_pattern = '^INC-[0-9]+$'
factors = ["totp", "yubikey"]

[gate.breakglass]
sudo_runas_group = "breakglass"
requesters = ["%oncall", "alice"]

[gate.db-emergency]
pam_service = "postgresql-breakglass"
requesters = ["%dba"]
max_ttl = "2h"
ttl = "1h"
factors = ["yubikey"]
severities = ["sev1", "sev2"]
approvals = 1
approvers = ["%dba-leads"]

[gate.audit]
requesters = ["%dba", "erin"]
)";

const bg::policy::Policy& policy() {
    static const bg::policy::Policy p = [] {
        auto r = bg::policy::parse_policy(kPolicy, "eval.toml");
        if (!r) throw std::runtime_error(r.error().message);
        return std::move(r).value();
    }();
    return p;
}

EvalRequest request(std::string user, std::vector<std::string> groups, std::string gate) {
    EvalRequest r;
    r.user = std::move(user);
    r.groups = std::move(groups);
    r.gate = std::move(gate);
    r.incident = "INC-1234";
    r.factor_kind = "totp";
    return r;
}

struct Row {
    const char* name;
    EvalRequest req;
    Verdict verdict;
    std::string why;  // exact for Deny; ignored for Allow
    std::chrono::seconds ttl{0};
    int approvals = 0;
};

template <typename F>
EvalRequest with(EvalRequest r, F change) {
    change(r);
    return r;
}

TEST(PolicyEvaluator, Table) {
    const auto alice = request("alice", {"users"}, "breakglass");
    const auto dba = with(request("dan", {"dan", "dba"}, "db-emergency"), [](auto& r) {
        r.factor_kind = "yubikey";
        r.severity = "sev1";
    });
    const std::vector<Row> rows = {
        {"allow by user name, default ttl", alice, Verdict::Allow, "", 30min},
        {"allow by group", request("bob", {"bob", "oncall"}, "breakglass"), Verdict::Allow, "", 30min},
        {"allow explicit ttl", with(alice, [](auto& r) { r.ttl = 45min; }), Verdict::Allow, "", 45min},
        {"allow ttl equal to max", with(alice, [](auto& r) { r.ttl = 60min; }), Verdict::Allow, "", 60min},
        {"allow with severity, approvals copied", dba, Verdict::Allow, "", 1h, 1},
        {"allow gate with severities and a longer max", with(dba, [](auto& r) { r.ttl = 2h; }), Verdict::Allow, "", 2h, 1},
        {"deny ttl over max", with(alice, [](auto& r) { r.ttl = 2h; }), Verdict::Deny,
         "requested ttl 2h exceeds the gate's max_ttl 1h"},
        {"deny ttl over max, seconds", with(alice, [](auto& r) { r.ttl = 3601s; }), Verdict::Deny,
         "requested ttl 1h1s exceeds the gate's max_ttl 1h"},
        {"deny negative ttl", with(alice, [](auto& r) { r.ttl = -5s; }), Verdict::Deny, "requested ttl -5s is negative"},
        {"deny not a requester", request("bob", {"bob", "users"}, "breakglass"), Verdict::Deny,
         "user 'bob' is not a requester of gate 'breakglass'"},
        {"deny group name is not a user name", request("oncall", {}, "breakglass"), Verdict::Deny,
         "user 'oncall' is not a requester of gate 'breakglass'"},
        {"deny user name is not a group name", request("mallory", {"alice"}, "breakglass"), Verdict::Deny,
         "user 'mallory' is not a requester of gate 'breakglass'"},
        {"deny incident mismatch", with(alice, [](auto& r) { r.incident = "INC-12x"; }), Verdict::Deny,
         "incident 'INC-12x' does not match the pattern ^INC-[0-9]+$ of gate 'breakglass'"},
        {"deny incident must match whole", with(alice, [](auto& r) { r.incident = "see INC-12"; }), Verdict::Deny,
         "incident 'see INC-12' does not match the pattern ^INC-[0-9]+$ of gate 'breakglass'"},
        {"deny empty incident", with(alice, [](auto& r) { r.incident = ""; }), Verdict::Deny,
         "incident '' does not match the pattern ^INC-[0-9]+$ of gate 'breakglass'"},
        {"deny escapes control characters", with(alice, [](auto& r) { r.incident = "INC-1\n\x1b[31m"; }), Verdict::Deny,
         "incident 'INC-1\\x0a\\x1b[31m' does not match the pattern ^INC-[0-9]+$ of gate 'breakglass'"},
        {"deny unknown gate lists the user's gates", request("dan", {"dba"}, "root"), Verdict::Deny,
         "unknown gate 'root'; gates you may request: audit, db-emergency"},
        {"deny unknown gate, user may request none", request("zoe", {"users"}, "nope"), Verdict::Deny,
         "unknown gate 'nope'; gates you may request: none"},
        {"deny unknown gate escapes its name", request("zoe", {}, "a\x07"), Verdict::Deny,
         "unknown gate 'a\\x07'; gates you may request: none"},
        {"deny factor kind not allowed", with(dba, [](auto& r) { r.factor_kind = "totp"; }), Verdict::Deny,
         "factor 'totp' is not accepted by gate 'db-emergency'; use one of yubikey"},
        {"deny no factor", with(alice, [](auto& r) { r.factor_kind = ""; }), Verdict::Deny,
         "gate 'breakglass' requires a second factor: one of totp, yubikey"},
        {"deny severity missing", with(dba, [](auto& r) { r.severity = ""; }), Verdict::Deny,
         "gate 'db-emergency' requires a severity: one of sev1, sev2"},
        {"deny severity not listed", with(dba, [](auto& r) { r.severity = "sev3"; }), Verdict::Deny,
         "severity 'sev3' is not accepted by gate 'db-emergency'; use one of sev1, sev2"},
        {"severity ignored when the gate lists none", with(alice, [](auto& r) { r.severity = "whatever"; }),
         Verdict::Allow, "", 30min},
        {"deny empty user", request("", {"oncall"}, "breakglass"), Verdict::Deny, "no user named in the request"},
        {"non-requester learns nothing else", with(request("bob", {}, "db-emergency"), [](auto& r) { r.incident = "x"; }),
         Verdict::Deny, "user 'bob' is not a requester of gate 'db-emergency'"},
    };
    for (const auto& row : rows) {
        SCOPED_TRACE(row.name);
        const Decision d = bg::policy::evaluate(policy(), row.req, std::chrono::system_clock::now());
        EXPECT_EQ(d.verdict, row.verdict) << d.why;
        if (row.verdict == Verdict::Deny) {
            EXPECT_EQ(d.why, row.why);
        } else {
            EXPECT_EQ(d.ttl, row.ttl);
            EXPECT_EQ(d.approvals, row.approvals);
        }
    }
}

TEST(PolicyEvaluator, EmptyPolicyDeniesEverything) {
    const bg::policy::Policy empty;
    const auto d = bg::policy::evaluate(empty, request("root", {"root"}, "breakglass"), std::chrono::system_clock::now());
    EXPECT_EQ(d.verdict, Verdict::Deny);
    EXPECT_EQ(d.why, "unknown gate 'breakglass'; gates you may request: none");
}

TEST(PolicyEvaluator, GatesFor) {
    using V = std::vector<std::string>;
    EXPECT_EQ(bg::policy::gates_for(policy(), "alice", {}), V{"breakglass"});
    EXPECT_EQ(bg::policy::gates_for(policy(), "dan", {"dba", "oncall"}), (V{"audit", "breakglass", "db-emergency"}));
    EXPECT_EQ(bg::policy::gates_for(policy(), "erin", {}), V{"audit"});
    EXPECT_EQ(bg::policy::gates_for(policy(), "zoe", {"users"}), V{});
    EXPECT_EQ(bg::policy::gates_for(policy(), "", {"dba"}), V{});
}

}  // namespace
