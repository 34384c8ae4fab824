// SPDX-License-Identifier: ISC
// Approvals in pam_breakglass.so (issue 13) through real libpam on a
// terminal: pam_terminal (misc_conv, as login(1) converses) runs the module
// from a service file loaded with pam_start_confdir, on a pseudo-terminal,
// against a real breakglassd; another real user approves or denies with
// breakglassctl while the module waits; Ctrl-C at the waiting line cancels
// the request with its record. Needs root.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "tests/pam/pam_harness.hpp"
#include "tests/pam/pam_test_policy.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/process.hpp"
#include "tests/support/pty_session.hpp"
#include "tests/support/test_accounts.hpp"
#include "tests/support/test_daemon.hpp"

namespace bg::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kTerminal = BG_PAM_TERMINAL_PATH;
constexpr const char* kWaiting = "Ctrl-C cancels";

class PamApproval : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (creates users)";
        approver_ = std::make_unique<TestUser>("pam-bob");
        daemon_ = std::make_unique<TestDaemon>(std::string(kPamTestPolicy) + "approvals = 1\napprovers = [\"" +
                                               approver_->name() + "\"]\napproval_timeout = \"2m\"\n");
        ASSERT_EQ(daemon_->log().find("no valid policy"), std::string::npos) << daemon_->log();
        secret_ = daemon_->enroll_totp(kRequester);
        approver_secret_ = daemon_->enroll_totp(approver_->name());
        write_service(daemon_->dir(), "bg-pam-test",
                      {"auth required " + kModulePath + " gate=" + kGate + " socket=" + daemon_->socket()});
    }
    void TearDown() override {
        if (HasFailure() && daemon_) std::fprintf(stderr, "daemon log:\n%s\n", daemon_->log().c_str());
    }

    std::vector<PtyAnswer> answers() const {
        return {{"Reason for breaking the glass: ", "database on fire"},
                {"Incident reference: ", "INC-42"},
                {"One-time code", totp_code_now(secret_)}};
    }
    std::vector<nlohmann::json> records_of(const std::string& event) const { return daemon_->audit().records_of(event); }
    std::string request_id() const {
        const auto requests = records_of("request");
        return requests.empty() ? "" : requests.back()["event_id"].get<std::string>();
    }

    // pam_authenticate as login(1) would, on a terminal; `approver_args`
    // (breakglassctl approve/deny ...) run as the approver once the waiting
    // line shows, the request id inserted after the subcommand.
    PtySession login(std::vector<PtyAnswer> typed, const std::vector<std::string>& approver_args = {}) {
        std::atomic<bool> waiting{false};
        std::string seen;
        std::thread approver([&] {
            if (approver_args.empty()) return;
            const auto until = std::chrono::steady_clock::now() + 30s;
            while (!waiting.load() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
            if (!waiting.load()) return;
            std::vector<std::string> args = approver_args;
            args.insert(args.begin() + 1, request_id());
            approver_result_ = run_as(approver_->name(), daemon_->ctl(args), totp_code_now(approver_secret_) + "\n");
        });
        PtyOptions options;
        options.environment = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=dumb", "LANG=C.UTF-8"};
        options.timeout = 30s;
        options.on_output = [&](std::string_view chunk) {
            seen.append(chunk);
            if (seen.find(kWaiting) != std::string::npos) waiting.store(true);
        };
        PtySession r = run_on_pty({kTerminal, daemon_->dir(), "bg-pam-test", kRequester}, typed, options);
        approver.join();
        EXPECT_FALSE(r.timed_out) << "still waiting after 30 s:\n" << r.output;
        return r;
    }

    std::unique_ptr<TestUser> approver_;
    std::unique_ptr<TestDaemon> daemon_;
    std::vector<unsigned char> secret_, approver_secret_;
    ProcessResult approver_result_;
};

TEST_F(PamApproval, AnApprovalWhileTheModuleWaitsAuthenticates) {
    const PtySession r = login(answers(), {"approve", "--note", "go"});
    EXPECT_EQ(approver_result_.exit_code, 0) << approver_result_.out << approver_result_.err;
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const std::string id = request_id();
    ASSERT_FALSE(id.empty()) << r.output;
    EXPECT_NE(r.output.find("waiting for approval by " + approver_->name() + " \u2014 request " + id + ", 2:00 left"),
              std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("Break-glass granted"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("pam_authenticate: Success"), std::string::npos) << r.output;
    const auto grants = records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0]["actor"], kRequester);
    EXPECT_EQ(grants[0]["approver"], approver_->name());
    EXPECT_TRUE(daemon_->active(kRequester, kGate));
}

TEST_F(PamApproval, CtrlCWhileWaitingCancelsTheRequestWithItsRecord) {
    std::vector<PtyAnswer> typed = answers();
    typed.push_back({kWaiting, "\x03", true});
    const PtySession r = login(typed);
    EXPECT_EQ(r.answered, 4u) << r.output;
    const std::string id = request_id();
    ASSERT_FALSE(id.empty()) << r.output;
    EXPECT_NE(r.output.find("break-glass request " + id + " cancelled (record"), std::string::npos) << r.output;
    // The module returns (PAM_CONV_ERR): the application decides what Ctrl-C does next.
    EXPECT_NE(r.output.find("pam_authenticate: Conversation error"), std::string::npos) << r.output;
    EXPECT_EQ(r.exit_code, 1) << r.output;
    const auto cancelled = records_of("request_cancelled");
    ASSERT_EQ(cancelled.size(), 1u) << r.output;
    EXPECT_EQ(cancelled[0]["actor"], kRequester);
    EXPECT_EQ(cancelled[0]["grant_id"], id);
    EXPECT_TRUE(records_of("grant").empty());
    EXPECT_FALSE(daemon_->active(kRequester, kGate));
}

TEST_F(PamApproval, ADenyWhileTheModuleWaitsIsShownAndRefused) {
    const PtySession r = login(answers(), {"deny", "--reason", "not this way"});
    EXPECT_EQ(approver_result_.exit_code, 0) << approver_result_.out << approver_result_.err;
    EXPECT_NE(r.output.find("rejected by " + approver_->name() + ": not this way"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("pam_authenticate: Permission denied"), std::string::npos) << r.output;
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_EQ(records_of("reject").size(), 1u);
    EXPECT_TRUE(records_of("grant").empty());
}

}  // namespace
}  // namespace bg::test
