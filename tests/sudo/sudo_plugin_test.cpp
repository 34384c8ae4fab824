// SPDX-License-Identifier: ISC
// breakglass_sudo.so in real sudo (Debian's), as an unprivileged user, against
// a real breakglassd: one behaviour per test. See sudo_env.hpp for how nothing
// on the host changes.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/pam/test_daemon.hpp"
#include "tests/sudo/sudo_env.hpp"

namespace bg::test {
namespace {

constexpr const char* kSudo = "/usr/bin/sudo";
constexpr const char* kBanner = "BREAK-GLASS: gate 'breakglass'";
constexpr const char* kReasonPrompt = "Reason for breaking the glass: ";
constexpr const char* kIncidentPrompt = "Incident reference: ";
constexpr const char* kCodePrompt = "One-time code";

class SudoPlugin : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (sudo_environment_missing().empty()) host_ = std::make_unique<SudoHost>();
    }
    static void TearDownTestSuite() { host_.reset(); }

    void SetUp() override {
        if (const std::string missing = sudo_environment_missing(); !missing.empty()) GTEST_SKIP() << missing;
        daemon_ = std::make_unique<TestDaemon>(kSudoPolicy);
        secret_ = daemon_->enroll(kSudoUser);
        use_options("gates=" + std::string(kSudoGateGroup) + ":" + kSudoGate + " socket=" + daemon_->socket());
    }

    void use_options(const std::string& options) {
        config_.reset();
        config_ = std::make_unique<SudoConfig>(daemon_->dir(), plugin_sudo_conf(options));
    }

    std::vector<std::pair<std::string, std::string>> answers(const std::string& code) const {
        return {{kReasonPrompt, "database on fire"}, {kIncidentPrompt, "INC-42"}, {kCodePrompt, code}};
    }
    std::string code(std::uint64_t ahead = 0) const { return totp_code(secret_, totp_step_now() + ahead); }
    std::string grant_now() {
        const auto answer = daemon_->grant(kSudoUser, code(), 0, kSudoGate);
        const auto* g = std::get_if<proto::Granted>(&answer);
        if (g == nullptr) throw std::runtime_error("setup grant refused");
        return g->event_id;
    }
    std::string gid_line(gid_t gid) const { return std::to_string(gid) + "\r\n"; }

    static std::unique_ptr<SudoHost> host_;
    std::unique_ptr<TestDaemon> daemon_;
    std::vector<unsigned char> secret_;
    std::unique_ptr<SudoConfig> config_;
};
std::unique_ptr<SudoHost> SudoPlugin::host_;

TEST_F(SudoPlugin, NoGrantPromptsThenRunsInTheGateGroupWithAValidFactor) {
    const SudoRun r = run_on_terminal({kSudo, "-g", kSudoGateGroup, "id", "-g"}, answers(code()));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.answered, 3u) << r.output;
    EXPECT_NE(r.output.find(kBanner), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("Break-glass granted"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(gid_line(host_->gate_gid())), std::string::npos) << r.output;
    EXPECT_TRUE(daemon_->active(kSudoUser, kSudoGate));

    const auto grants = daemon_->records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0]["actor"], kSudoUser);
    EXPECT_EQ(grants[0]["actor_loginuid"], host_->user_uid());
    EXPECT_EQ(grants[0]["reason"], "database on fire");
    EXPECT_EQ(grants[0]["incident_ref"], "INC-42");
    const auto commands = daemon_->records_of("command");
    ASSERT_EQ(commands.size(), 1u) << r.output;
    EXPECT_EQ(commands[0]["actor"], kSudoUser);
    EXPECT_EQ(commands[0]["actor_loginuid"], host_->user_uid());
    EXPECT_EQ(commands[0]["grant_id"], grants[0]["event_id"]);
    EXPECT_EQ(commands[0]["target"], "id -g");
    EXPECT_NE(commands[0]["detail"].get<std::string>().find("runas=bgsudo-alice:bgsudo-gate"), std::string::npos);
    EXPECT_NE(commands[0]["detail"].get<std::string>().find("cwd=/"), std::string::npos);
    const auto closes = daemon_->records_of("session_close");
    ASSERT_EQ(closes.size(), 1u);
    EXPECT_NE(closes[0]["detail"].get<std::string>().find("exit status 0"), std::string::npos);
    EXPECT_EQ(closes[0]["grant_id"], grants[0]["event_id"]);
}

TEST_F(SudoPlugin, WrongFactorIsRefusedWithARecordAndNothingRuns) {
    const SudoRun r = run_on_terminal({kSudo, "-g", kSudoGateGroup, "id", "-g"}, answers(wrong_code(secret_)));
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.answered, 3u) << r.output;
    EXPECT_NE(r.output.find("the one-time code was not accepted"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find(gid_line(host_->gate_gid())), std::string::npos) << r.output;
    EXPECT_FALSE(daemon_->active(kSudoUser, kSudoGate));
    const auto failures = daemon_->records_of("auth_failed");
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0]["actor"], kSudoUser);
    EXPECT_EQ(failures[0]["actor_loginuid"], host_->user_uid());
    EXPECT_TRUE(daemon_->records_of("command").empty());
}

TEST_F(SudoPlugin, ActiveGrantRunsWithoutAnyPrompt) {
    const std::string grant = grant_now();
    const SudoRun r = run_on_terminal({kSudo, "-g", kSudoGateGroup, "id", "-g"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.find(kReasonPrompt), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find(kBanner), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(gid_line(host_->gate_gid())), std::string::npos) << r.output;
    const auto commands = daemon_->records_of("command");
    ASSERT_EQ(commands.size(), 1u);
    EXPECT_EQ(commands[0]["grant_id"], grant);
}

// sudo -n forbids questions: without an active grant a gated command is
// refused at once (no banner, no prompt), saying how to get a grant; under an
// active grant it runs.
TEST_F(SudoPlugin, NonInteractiveWithoutAGrantIsRefusedAtOnceAndSaysWhatToDo) {
    const SudoRun r = run_on_terminal({kSudo, "-n", "-g", kSudoGateGroup, "id", "-g"}, {}, 5000);
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_NE(r.exit_code, -2) << "sudo -n waited for an answer: " << r.output;
    EXPECT_EQ(r.output.find(kBanner), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find(kReasonPrompt), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("no active break-glass grant"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("which sudo -n does not allow"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("breakglassctl request --gate breakglass"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find(gid_line(host_->gate_gid())), std::string::npos) << r.output;
    EXPECT_TRUE(daemon_->records_of("command").empty());
    EXPECT_TRUE(daemon_->records_of("deny").empty()) << "nothing was requested";
    EXPECT_EQ(run_quietly({kSudo, "-n", "-g", kSudoOtherGroup, "true"}), 0) << "ungated -n is untouched";

    const std::string grant = grant_now();
    const SudoRun under_grant = run_on_terminal({kSudo, "-n", "-g", kSudoGateGroup, "id", "-g"});
    EXPECT_EQ(under_grant.exit_code, 0) << under_grant.output;
    EXPECT_NE(under_grant.output.find(gid_line(host_->gate_gid())), std::string::npos) << under_grant.output;
    const auto commands = daemon_->records_of("command");
    ASSERT_EQ(commands.size(), 1u);
    EXPECT_EQ(commands[0]["grant_id"], grant);
}

TEST_F(SudoPlugin, AfterExpiryItPromptsAgain) {
    const auto answer = daemon_->grant(kSudoUser, code(), 2, kSudoGate);
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(answer));
    std::this_thread::sleep_for(std::chrono::milliseconds(3200));
    ASSERT_FALSE(daemon_->active(kSudoUser, kSudoGate));
    // The next step's code: the current one was used by the expired grant (replay protection).
    const SudoRun r = run_on_terminal({kSudo, "-g", kSudoGateGroup, "id", "-g"}, answers(code(1)));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.answered, 3u) << r.output;
    EXPECT_NE(r.output.find(gid_line(host_->gate_gid())), std::string::npos) << r.output;
    EXPECT_EQ(daemon_->records_of("grant").size(), 2u);
}

TEST_F(SudoPlugin, DaemonDownRefusesGatedCommandsAndLeavesOthersAlone) {
    daemon_->stop();
    const SudoRun gated = run_on_terminal({kSudo, "-g", kSudoGateGroup, "id", "-g"});
    EXPECT_NE(gated.exit_code, 0) << gated.output;
    EXPECT_NE(gated.output.find("breakglassd is not reachable"), std::string::npos) << gated.output;
    EXPECT_EQ(gated.output.find(gid_line(host_->gate_gid())), std::string::npos) << gated.output;
    EXPECT_EQ(gated.output.find(kReasonPrompt), std::string::npos) << gated.output;

    const SudoRun other = run_on_terminal({kSudo, "-g", kSudoOtherGroup, "id", "-g"});
    EXPECT_EQ(other.exit_code, 0) << other.output;
    EXPECT_NE(other.output.find(gid_line(host_->other_gid())), std::string::npos) << other.output;
    EXPECT_EQ(run_quietly({kSudo, "-n", "-g", kSudoOtherGroup, "true"}), 0);
    EXPECT_EQ(run_quietly({kSudo, "-n", "/usr/bin/id"}), 0);  // as root
    EXPECT_NE(run_quietly({kSudo, "-n", "-g", kSudoGateGroup, "true"}), 0);
}

TEST_F(SudoPlugin, NumericGroupIsGatedToo) {
    const std::string numeric = "#" + std::to_string(host_->gate_gid());
    const SudoRun r = run_on_terminal({kSudo, "-g", numeric, "id", "-g"}, answers(code()));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find(kBanner), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(gid_line(host_->gate_gid())), std::string::npos) << r.output;
    EXPECT_EQ(daemon_->records_of("grant").size(), 1u);
}

TEST_F(SudoPlugin, ShellAndLoginShellAndSudoeditAreGated) {
    daemon_->stop();  // a gated command is refused; an ungated one would run
    for (const std::vector<std::string>& argv :
         {std::vector<std::string>{kSudo, "-g", kSudoGateGroup, "-s", "id", "-g"},
          std::vector<std::string>{kSudo, "-g", kSudoGateGroup, "-i", "id", "-g"},
          std::vector<std::string>{kSudo, "-g", kSudoGateGroup, "-e", "/tmp/bgsudo-never-created"}}) {
        const SudoRun r = run_on_terminal(argv);
        EXPECT_NE(r.exit_code, 0) << argv[3] << ": " << r.output;
        EXPECT_NE(r.output.find("breakglassd is not reachable"), std::string::npos) << argv[3] << ": " << r.output;
    }
    daemon_->start();
    grant_now();
    for (const char* flag : {"-s", "-i"}) {
        const SudoRun r = run_on_terminal({kSudo, "-g", kSudoGateGroup, flag, "id", "-g"});
        EXPECT_EQ(r.exit_code, 0) << flag << ": " << r.output;
        EXPECT_NE(r.output.find(gid_line(host_->gate_gid())), std::string::npos) << flag << ": " << r.output;
    }
    EXPECT_EQ(daemon_->records_of("command").size(), 2u);
}

TEST_F(SudoPlugin, ExitStatusAndSignalOfAGatedCommandAreRecorded) {
    grant_now();
    const SudoRun failing = run_on_terminal({kSudo, "-g", kSudoGateGroup, "false"});
    EXPECT_EQ(failing.exit_code, 1) << failing.output;
    const SudoRun killed = run_on_terminal({kSudo, "-g", kSudoGateGroup, "sh", "-c", "kill -TERM $$"});
    EXPECT_NE(killed.exit_code, 0) << killed.output;
    const auto closes = daemon_->records_of("session_close");
    ASSERT_EQ(closes.size(), 2u);
    EXPECT_EQ(closes[0]["detail"].get<std::string>().find("exit status 1") == std::string::npos, false)
        << closes[0].dump();
    EXPECT_NE(closes[1]["detail"].get<std::string>().find("killed by signal 15"), std::string::npos) << closes[1].dump();
    for (const auto& c : closes) {
        EXPECT_EQ(c["actor"], kSudoUser);
        EXPECT_EQ(c["actor_loginuid"], host_->user_uid());
    }
}

TEST_F(SudoPlugin, UngatedCommandsAreNotRecorded) {
    grant_now();
    const SudoRun r = run_on_terminal({kSudo, "-g", kSudoOtherGroup, "true"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(daemon_->records_of("command").empty());
}

TEST_F(SudoPlugin, RunAsUserGateIsGatedThroughItsOwnGate) {
    use_options("gates=" + std::string(kSudoGateGroup) + ":" + kSudoGate + ",user:" + kSudoServiceUser + ":" +
                kSudoServiceGate + " socket=" + daemon_->socket());
    const SudoRun r = run_on_terminal({kSudo, "-u", kSudoServiceUser, "id", "-u"}, answers(code()));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("BREAK-GLASS: gate 'breakglass-svc'"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(std::to_string(host_->service_uid()) + "\r\n"), std::string::npos) << r.output;
    EXPECT_TRUE(daemon_->active(kSudoUser, kSudoServiceGate));
    EXPECT_FALSE(daemon_->active(kSudoUser, kSudoGate));
    const auto commands = daemon_->records_of("command");
    ASSERT_EQ(commands.size(), 1u);
    EXPECT_EQ(commands[0]["gate_bypassed"], kSudoServiceGate);
    EXPECT_NE(commands[0]["detail"].get<std::string>().find("runas=bgsudo-svc:bgsudo-svc"), std::string::npos);

    daemon_->stop();  // a gated user fails closed like a gated group
    const SudoRun down = run_on_terminal({kSudo, "-u", kSudoServiceUser, "id", "-u"});
    EXPECT_NE(down.exit_code, 0) << down.output;
    EXPECT_NE(down.output.find("breakglassd is not reachable"), std::string::npos) << down.output;
}

// The audit half cannot record the command (its socket leads nowhere): sudo does
// not run it, although the approval half found the grant.
TEST_F(SudoPlugin, AGatedCommandThatCannotBeRecordedDoesNotRun) {
    grant_now();
    const std::string gates = "gates=" + std::string(kSudoGateGroup) + ":" + kSudoGate;
    std::string conf = plugin_sudo_conf(gates + " socket=" + daemon_->socket());
    conf = conf.substr(0, conf.find("Plugin breakglass_audit"));
    conf += "Plugin breakglass_audit " + std::string(BG_SUDO_PLUGIN_PATH) + " " + gates + " socket=" + daemon_->dir() +
            "/no-such-socket\n";
    config_.reset();
    config_ = std::make_unique<SudoConfig>(daemon_->dir(), conf);
    const SudoRun r = run_on_terminal({kSudo, "-g", kSudoGateGroup, "id", "-g"});
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("the gated command was not recorded"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find(gid_line(host_->gate_gid())), std::string::npos) << r.output;
    EXPECT_TRUE(daemon_->records_of("command").empty());
}

// The plugin's gates= says bgsudo-other is gate "breakglass"; the policy maps
// only bgsudo-gate to it. The daemon refuses the grant and records why.
TEST_F(SudoPlugin, DaemonRefusesAGroupThePolicyDoesNotMapToTheGate) {
    use_options("gates=" + std::string(kSudoOtherGroup) + ":" + kSudoGate + " socket=" + daemon_->socket());
    const SudoRun r = run_on_terminal({kSudo, "-g", kSudoOtherGroup, "id", "-g"}, answers(code()));
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.answered, 3u) << r.output;
    EXPECT_NE(r.output.find("bgsudo-other"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find(gid_line(host_->other_gid())), std::string::npos) << r.output;
    EXPECT_FALSE(daemon_->active(kSudoUser, kSudoGate));
    EXPECT_EQ(daemon_->records_of("grant").size(), 0u);
    EXPECT_EQ(daemon_->records_of("deny").size(), 1u);
}

TEST_F(SudoPlugin, BadOptionsSayWhatIsWrongAndAllowOnlyRootRootCommands) {
    use_options("gatse=" + std::string(kSudoGateGroup) + ":" + kSudoGate + " socket=" + daemon_->socket());
    const SudoRun gated = run_on_terminal({kSudo, "-g", kSudoGateGroup, "true"});
    EXPECT_NE(gated.exit_code, 0) << gated.output;
    EXPECT_NE(gated.output.find("unknown option 'gatse=bgsudo-gate:breakglass'"), std::string::npos) << gated.output;
    const SudoRun other = run_on_terminal({kSudo, "-g", kSudoOtherGroup, "true"});
    EXPECT_NE(other.exit_code, 0) << other.output;
    EXPECT_NE(other.output.find("only commands run as root:root are allowed"), std::string::npos) << other.output;
    // The administrator's way back: root:root commands still run, with the warning.
    const SudoRun as_root = run_on_terminal({kSudo, "/usr/bin/id", "-u"});
    EXPECT_EQ(as_root.exit_code, 0) << as_root.output;
    EXPECT_NE(as_root.output.find("0\r\n"), std::string::npos) << as_root.output;
    EXPECT_NE(as_root.output.find("bad options in sudo.conf"), std::string::npos) << as_root.output;
}

TEST_F(SudoPlugin, WithoutThePluginSudoIsUnchanged) {
    use_options("");
    const SudoRun r = run_on_terminal({kSudo, "-g", kSudoGateGroup, "id", "-g"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.find(kBanner), std::string::npos) << r.output;
}

}  // namespace
}  // namespace bg::test
