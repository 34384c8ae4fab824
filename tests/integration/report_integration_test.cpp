// SPDX-License-Identifier: ISC
// report and export through a real breakglassd (issue 14): an auditor named
// in the policy reads the log through the daemon, without root and without
// the state directory, and gets what root gets from the files; anyone else
// is refused and gets nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/protocol.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_accounts.hpp"
#include "tests/support/test_daemon.hpp"

namespace bg::test {
namespace {

using json = nlohmann::json;

std::string policy_for(const std::string& auditor) {
    return "auditors = [\"" + auditor + "\"]\n" + R"(
[defaults]
max_ttl = "1h"
incident_pattern = '^INC-[0-9]+$'
factors = ["totp"]

[gate.db]
requesters = ["root"]
ttl = "10m"

[gate.web]
requesters = ["root"]
ttl = "10m"
)";
}

class ReportThroughDaemon : public ::testing::Test {
protected:
    void SetUp() override {
        daemon_ = std::make_unique<TestDaemon>(policy_for(auditor_.name()));
        const auto secret = daemon_->enroll_totp("root");
        const char* gates[] = {"db", "web", "db"};
        for (std::int64_t step = 0; step < 3; ++step) {
            const auto answer = daemon_->grant("root", gates[step], totp_code_now(secret, step - 1));
            const auto* granted = std::get_if<proto::Granted>(&answer);
            const auto* refused = std::get_if<proto::ErrorAnswer>(&answer);
            ASSERT_NE(granted, nullptr) << (refused ? refused->message : "") << daemon_->log();
            grants_.push_back(granted->event_id);
            if (step < 2) daemon_->revoke(granted->event_id);
        }
    }
    void TearDown() override {
        if (HasFailure() && daemon_) std::fprintf(stderr, "daemon log:\n%s\n", daemon_->log().c_str());
    }

    TestUser auditor_{"auditor"};
    TestUser mallory_{"mallory"};
    std::unique_ptr<TestDaemon> daemon_;
    std::vector<std::string> grants_;
};

TEST_F(ReportThroughDaemon, AnAuditorGetsWhatRootGetsFromTheFiles) {
    const auto as_auditor = run_as(auditor_.name(), daemon_->ctl({"report", "--json", "--since", "1h"}));
    ASSERT_EQ(as_auditor.exit_code, 0) << as_auditor.err;
    const auto as_root = run(daemon_->ctl({"report", "--json", "--since", "1h", "--state-dir", daemon_->state_dir()}));
    ASSERT_EQ(as_root.exit_code, 0) << as_root.err;
    const json a = json::parse(as_auditor.out), r = json::parse(as_root.out);
    EXPECT_EQ(a["gates"], r["gates"]);
    ASSERT_EQ(a["gates"].size(), 2u);
    EXPECT_EQ(a["gates"][0]["gate"], "db");
    EXPECT_EQ(a["gates"][0]["breaks"], 2);
    EXPECT_EQ(a["gates"][1]["breaks"], 1);

    const auto csv = run_as(auditor_.name(), daemon_->ctl({"export", "--format", "csv", "--since", "1h"}));
    ASSERT_EQ(csv.exit_code, 0) << csv.err;
    for (const std::string& id : grants_) EXPECT_NE(csv.out.find("\"" + id + "\""), std::string::npos) << csv.out;
    EXPECT_EQ(csv.out.find("\"no\""), std::string::npos) << csv.out;
    const auto ej = run_as(auditor_.name(), daemon_->ctl({"export", "--format", "json", "--since", "1h"}));
    ASSERT_EQ(ej.exit_code, 0) << ej.err;
    const json e = json::parse(ej.out);
    ASSERT_EQ(e["verification"].size(), 1u);
    EXPECT_EQ(e["verification"][0]["ok"], true) << e.dump();
    EXPECT_NE(e["verification"][0]["message"].get<std::string>().find("read through breakglassd"), std::string::npos);
    EXPECT_EQ(e["grants"].size(), 3u);
}

TEST_F(ReportThroughDaemon, SomeoneElseIsRefusedAndGetsNothing) {
    for (const auto& args : std::vector<std::vector<std::string>>{{"report", "--json", "--since", "1h"},
                                                                   {"export", "--format", "csv", "--since", "1h"}}) {
        const auto r = run_as(mallory_.name(), daemon_->ctl(args));
        EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
        EXPECT_EQ(r.out, "") << args[0];
        EXPECT_NE(r.err.find("not_permitted"), std::string::npos) << r.err;
    }
}

}  // namespace
}  // namespace bg::test
