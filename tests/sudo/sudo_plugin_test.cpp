// SPDX-License-Identifier: ISC
// breakglass_sudo.so in real sudo (Debian's), as an unprivileged user, against
// a real breakglassd from the test fixture: one behaviour per test. See
// sudo_host.hpp for how nothing on the host changes.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "tests/sudo/sudo_host.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/files.hpp"
#include "tests/support/https_receiver.hpp"
#include "tests/support/journal_remote.hpp"
#include "tests/support/test_certificates.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/socket_relay.hpp"
#include "tests/support/test_daemon.hpp"

namespace bg::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBanner = "BREAK-GLASS: gate 'breakglass'";
constexpr const char* kReasonPrompt = "Reason for breaking the glass: ";
constexpr const char* kIncidentPrompt = "Incident reference: ";
constexpr const char* kCodePrompt = "One-time code";

class SudoPlugin : public ::testing::Test {
protected:
    void SetUp() override {
        if (const std::string missing = sudo_environment_missing(); !missing.empty()) GTEST_SKIP() << missing;
        accounts_ = std::make_unique<SudoAccounts>();
        daemon_ = std::make_unique<TestDaemon>(sudo_policy(*accounts_));
        secret_ = daemon_->enroll_totp(user());
        use_options(sudo_gates_option(*accounts_) + " socket=" + daemon_->socket());
    }
    void TearDown() override {
        if (!HasFailure() || !daemon_) return;
        std::fprintf(stderr, "daemon log:\n%s\naudit records:\n", daemon_->log().c_str());
        for (const nlohmann::json& r : daemon_->audit().records())
            std::fprintf(stderr, "  %s\n", r.dump().c_str());
    }

    void use_options(const std::string& options) { use_sudo_conf(plugin_sudo_conf(options)); }
    void use_sudo_conf(const std::string& conf, bool use_pty = false, const std::string& extra_defaults = "") {
        config_.reset();
        config_ = std::make_unique<SudoConfig>(daemon_->dir(), *accounts_, conf, use_pty, extra_defaults);
    }

    const std::string& user() const { return accounts_->user.name(); }
    const std::string& gate_group() const { return accounts_->gate.name(); }
    const std::string& other_group() const { return accounts_->other.name(); }
    const std::string& service_user() const { return accounts_->service.name(); }

    // sudo on a terminal as the test user; a run that hit the deadline fails
    // the test (a hang must never pass for a refusal).
    PtySession sudo(const std::vector<std::string>& argv, const std::vector<PtyAnswer>& answers = {}) {
        PtySession r = sudo_on_terminal(*accounts_, argv, answers);
        EXPECT_FALSE(r.timed_out) << "sudo still ran after 20 s:\n" << r.output;
        return r;
    }
    ProcessResult sudo_quietly(const std::vector<std::string>& argv) { return sudo_without_terminal(*accounts_, argv); }

    std::vector<PtyAnswer> answers(const std::string& code) const {
        return {{kReasonPrompt, "database on fire"}, {kIncidentPrompt, "INC-42"}, {kCodePrompt, code}};
    }
    std::string code(std::int64_t ahead = 0) const { return totp_code_now(secret_, ahead); }
    std::string grant_now() {
        const auto answer = daemon_->grant(user(), kSudoGate, code());
        const auto* g = std::get_if<proto::Granted>(&answer);
        if (g == nullptr) throw std::runtime_error("setup grant refused");
        return g->event_id;
    }
    std::string gid_line(gid_t gid) const { return std::to_string(gid) + "\r\n"; }
    std::vector<nlohmann::json> records_of(const std::string& event) const { return daemon_->audit().records_of(event); }

    std::unique_ptr<SudoAccounts> accounts_;
    std::unique_ptr<TestDaemon> daemon_;
    std::vector<unsigned char> secret_;
    std::unique_ptr<SudoConfig> config_;
};

TEST_F(SudoPlugin, NoGrantPromptsThenRunsInTheGateGroupWithAValidFactor) {
    const PtySession r = sudo({kSudo, "-g", gate_group(), "id", "-g"}, answers(code()));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.answered, 3u) << r.output;
    EXPECT_NE(r.output.find(kBanner), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("Break-glass granted"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(gid_line(accounts_->gate.gid())), std::string::npos) << r.output;
    EXPECT_TRUE(daemon_->active(user(), kSudoGate));

    const auto grants = records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0]["actor"], user());
    EXPECT_EQ(grants[0]["actor_loginuid"], accounts_->user.uid());
    EXPECT_EQ(grants[0]["reason"], "database on fire");
    EXPECT_EQ(grants[0]["incident_ref"], "INC-42");
    const auto commands = records_of("command");
    ASSERT_EQ(commands.size(), 1u) << r.output;
    EXPECT_EQ(commands[0]["actor"], user());
    EXPECT_EQ(commands[0]["actor_loginuid"], accounts_->user.uid());
    EXPECT_EQ(commands[0]["grant_id"], grants[0]["event_id"]);
    EXPECT_EQ(commands[0]["target"], "id -g");
    EXPECT_NE(commands[0]["detail"].get<std::string>().find("runas=" + user() + ":" + gate_group()), std::string::npos);
    EXPECT_NE(commands[0]["detail"].get<std::string>().find("cwd=/"), std::string::npos);
    const auto closes = records_of("session_close");
    ASSERT_EQ(closes.size(), 1u);
    EXPECT_NE(closes[0]["detail"].get<std::string>().find("exit status 0"), std::string::npos);
    EXPECT_EQ(closes[0]["grant_id"], grants[0]["event_id"]);
}

// Issue 11: a sudo break-glass, its command and its revocation reach a real
// systemd-journal-remote over HTTPS, each entry carrying the log's own line.
TEST_F(SudoPlugin, Issue11TheBreakGlassItsCommandAndItsRevocationLeaveTheHost) {
    ScratchDir out("sudo-sink");
    const TestCertificates certs = make_test_certificates(out.path());
    JournalRemote jr(out.path(), certs);
    jr.start();
    daemon_->write_policy(sudo_policy(*accounts_) + "\n[sink.central]\ntype = \"journal-remote\"\nurl = \"" + jr.url() +
                          "\"\nca_file = \"" + certs.ca.cert + "\"\n");
    ASSERT_TRUE(std::holds_alternative<proto::PolicyReloaded>(
        daemon_->call(proto::PolicyReloadRequest{}, proto::MessageType::PolicyReloaded)));
    const PtySession r = sudo({kSudo, "-g", gate_group(), "id", "-g"}, answers(code()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("shipped to 1 remote log"), std::string::npos) << r.output;
    const auto grants = records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    daemon_->revoke(grants[0]["event_id"]);
    const std::size_t local = daemon_->audit().size();
    ASSERT_TRUE(jr.wait_for_entries(local, 20s)) << jr.entry_count() << " of " << local;
    std::map<std::string, std::string> remote;  // event → its line, the last of each
    for (const std::string& line : jr.records()) remote[nlohmann::json::parse(line)["event"]] = line;
    const std::string text = read_file(daemon_->audit().path());
    for (const char* event : {"grant", "command", "session_close", "revoke"}) {
        ASSERT_TRUE(remote.count(event)) << event << " did not reach the sink";
        EXPECT_NE(text.find(remote[event] + "\n"), std::string::npos) << event << ": the sink's line is not the log's";
    }
}

// Issue 12: one sudo -g break-glass is one PagerDuty trigger at the
// receiver (Events API v2, dedup_key = the grant's event id); its expiry is
// one resolve with the same key.
TEST_F(SudoPlugin, Issue12OneSudoBreakGlassIsOneTriggerAndItsExpiryOneResolve) {
    ScratchDir out("sudo-alerts");
    const TestCertificates certs = make_test_certificates(out.path());
    write_file(out.path() + "/pd.key", "R0UTINGKEY0123456789\n", 0600);
    HttpsReceiver pd(certs.server);
    pd.set_behaviour(ReceiverBehaviour::answer(202, R"({"status":"success","message":"Event processed"})"));
    std::string policy = sudo_policy(*accounts_);
    const std::string gate_ttl = "ttl = \"10m\"\ntermination_grace";
    ASSERT_NE(policy.find(gate_ttl), std::string::npos);
    policy.replace(policy.find(gate_ttl), gate_ttl.size(),
                   "ttl = \"6s\"\nalert = [\"oncall\"]\nalert_severity = \"error\"\ntermination_grace");
    daemon_->write_policy(policy + "\n[alert.oncall]\ntype = \"pagerduty\"\nrouting_key_file = \"" + out.path() +
                          "/pd.key\"\nurl = \"" + pd.url() + "/v2/enqueue\"\nca_file = \"" + certs.ca.cert + "\"\n");
    ASSERT_TRUE(std::holds_alternative<proto::PolicyReloaded>(
        daemon_->call(proto::PolicyReloadRequest{}, proto::MessageType::PolicyReloaded)));
    const PtySession r = sudo({kSudo, "-g", gate_group(), "id", "-g"}, answers(code()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("This access is alerted to: oncall (PagerDuty)."), std::string::npos) << r.output;
    const auto grants = records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    const std::string key = grants[0]["event_id"];
    ASSERT_TRUE(pd.wait_for_requests(1, 20s));
    // The expiry (6 s), then its resolve.
    ASSERT_TRUE(eventually([&] { return !records_of("expire").empty(); }, 30s));
    ASSERT_TRUE(pd.wait_for_requests(2, 20s));
    std::this_thread::sleep_for(3s);
    // The set-group-ID sweep after the expiry has 250 ms; on a loaded machine
    // with a large /tmp (CI keeps its build trees there) it can stop early,
    // and its terminate record then says so and is alerted as a revocation
    // not carried out. That alert is the product telling the truth, not a
    // second trigger of this grant: it is left out here when its record says
    // the sweep stopped, and only then.
    std::vector<HttpRequest> sent;
    for (const HttpRequest& q : pd.requests()) {
        const nlohmann::json j = nlohmann::json::parse(q.body);
        if (j["dedup_key"] != key && j["event_action"] == "trigger" &&
            j["payload"]["custom_details"]["event"] == "terminate") {
            const std::string detail = j["payload"]["custom_details"]["detail"];
            EXPECT_NE(detail.find("the set-group-ID sweep stopped after"), std::string::npos) << q.body;
            bool recorded = false;
            for (const nlohmann::json& t : records_of("terminate"))
                recorded = recorded || (t["event_id"] == j["dedup_key"] && t["detail"] == detail);
            EXPECT_TRUE(recorded) << "the alert is of a terminate record in the log: " << q.body;
            std::fprintf(stderr, "note: the sweep stopped early and was alerted: %s\n", detail.c_str());
            continue;
        }
        sent.push_back(q);
    }
    // Nothing else (the command, session and terminate records alert nothing). Delivery is at
    // least once: an attempt whose answer was lost is sent again, with the same dedup_key, which
    // PagerDuty folds into the same incident; one run in five under load showed such a repeat.
    std::size_t triggers = 0, resolves = 0;
    for (const HttpRequest& q : sent) {
        const nlohmann::json j = nlohmann::json::parse(q.body);
        EXPECT_EQ(j["dedup_key"], key) << q.body;
        if (j["event_action"] == "trigger") {
            EXPECT_EQ(resolves, 0u) << "the trigger comes first";
            ++triggers;
        } else {
            EXPECT_EQ(j["event_action"], "resolve") << q.body;
            ++resolves;
        }
    }
    std::string bodies;
    for (const HttpRequest& q : sent) bodies += q.body + "\n";
    EXPECT_EQ(triggers, 1u) << bodies;
    EXPECT_EQ(resolves, 1u) << bodies;
    ASSERT_GE(sent.size(), 2u);
    if (sent.size() != 2) std::fprintf(stderr, "note: %zu requests (a repeat)\n", sent.size());
    const nlohmann::json trigger = nlohmann::json::parse(sent[0].body);
    EXPECT_EQ(sent[0].target, "/v2/enqueue");
    EXPECT_EQ(trigger["routing_key"], "R0UTINGKEY0123456789");
    EXPECT_EQ(trigger["event_action"], "trigger");
    EXPECT_EQ(trigger["dedup_key"], key);
    EXPECT_EQ(trigger["payload"]["severity"], "error");
    EXPECT_EQ(trigger["payload"]["custom_details"]["actor"], user());
    EXPECT_EQ(trigger["payload"]["custom_details"]["gate"], kSudoGate);
    EXPECT_EQ(trigger["payload"]["custom_details"]["reason"], "database on fire");
    EXPECT_EQ(trigger["payload"]["custom_details"]["incident"], "INC-42");
    EXPECT_FALSE(trigger["payload"]["source"].get<std::string>().empty());
    const nlohmann::json resolve = nlohmann::json::parse(sent.back().body);
    EXPECT_EQ(resolve["event_action"], "resolve");
    EXPECT_EQ(resolve["dedup_key"], key);
    EXPECT_EQ(resolve["routing_key"], "R0UTINGKEY0123456789");
}

TEST_F(SudoPlugin, WrongFactorIsRefusedWithARecordAndNothingRuns) {
    const PtySession r = sudo({kSudo, "-g", gate_group(), "id", "-g"}, answers(wrong_totp_code(secret_)));
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.answered, 3u) << r.output;
    EXPECT_NE(r.output.find("the one-time code was not accepted"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find(gid_line(accounts_->gate.gid())), std::string::npos) << r.output;
    EXPECT_FALSE(daemon_->active(user(), kSudoGate));
    const auto failures = records_of("auth_failed");
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0]["actor"], user());
    EXPECT_EQ(failures[0]["actor_loginuid"], accounts_->user.uid());
    EXPECT_TRUE(records_of("command").empty());
}

TEST_F(SudoPlugin, ActiveGrantRunsWithoutAnyPrompt) {
    const std::string grant = grant_now();
    const PtySession r = sudo({kSudo, "-g", gate_group(), "id", "-g"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.find(kReasonPrompt), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find(kBanner), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(gid_line(accounts_->gate.gid())), std::string::npos) << r.output;
    const auto commands = records_of("command");
    ASSERT_EQ(commands.size(), 1u);
    EXPECT_EQ(commands[0]["grant_id"], grant);
}

// sudo -n forbids questions: without an active grant a gated command is
// refused at once (no banner, no prompt), saying how to get a grant; under an
// active grant it runs.
TEST_F(SudoPlugin, NonInteractiveWithoutAGrantIsRefusedAtOnceAndSaysWhatToDo) {
    const PtySession r = sudo_on_terminal(*accounts_, {kSudo, "-n", "-g", gate_group(), "id", "-g"}, {}, 5000ms);
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_FALSE(r.timed_out) << "sudo -n waited for an answer: " << r.output;
    EXPECT_EQ(r.output.find(kBanner), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find(kReasonPrompt), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("no active break-glass grant"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("which sudo -n does not allow"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("breakglassctl request --gate breakglass"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find(gid_line(accounts_->gate.gid())), std::string::npos) << r.output;
    EXPECT_TRUE(records_of("command").empty());
    EXPECT_TRUE(records_of("deny").empty()) << "nothing was requested";
    EXPECT_EQ(sudo_quietly({kSudo, "-n", "-g", other_group(), "true"}).exit_code, 0) << "ungated -n is untouched";

    const std::string grant = grant_now();
    const PtySession under_grant = sudo({kSudo, "-n", "-g", gate_group(), "id", "-g"});
    EXPECT_EQ(under_grant.exit_code, 0) << under_grant.output;
    EXPECT_NE(under_grant.output.find(gid_line(accounts_->gate.gid())), std::string::npos) << under_grant.output;
    const auto commands = records_of("command");
    ASSERT_EQ(commands.size(), 1u);
    EXPECT_EQ(commands[0]["grant_id"], grant);
}

TEST_F(SudoPlugin, AfterExpiryItPromptsAgain) {
    const auto answer = daemon_->grant(user(), kSudoGate, code(), 2);
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(answer));
    ASSERT_TRUE(eventually([&] { return !daemon_->active(user(), kSudoGate); }, 10s)) << "the 2 s grant did not end";
    // The next step's code: the current one was used by the expired grant (replay protection).
    const PtySession r = sudo({kSudo, "-g", gate_group(), "id", "-g"}, answers(code(1)));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.answered, 3u) << r.output;
    EXPECT_NE(r.output.find(gid_line(accounts_->gate.gid())), std::string::npos) << r.output;
    EXPECT_EQ(records_of("grant").size(), 2u);
}

TEST_F(SudoPlugin, DaemonDownRefusesGatedCommandsAndLeavesOthersAlone) {
    daemon_->stop();
    const PtySession gated = sudo({kSudo, "-g", gate_group(), "id", "-g"});
    EXPECT_NE(gated.exit_code, 0) << gated.output;
    EXPECT_NE(gated.output.find("breakglassd is not reachable"), std::string::npos) << gated.output;
    EXPECT_EQ(gated.output.find(gid_line(accounts_->gate.gid())), std::string::npos) << gated.output;
    EXPECT_EQ(gated.output.find(kReasonPrompt), std::string::npos) << gated.output;

    const PtySession other = sudo({kSudo, "-g", other_group(), "id", "-g"});
    EXPECT_EQ(other.exit_code, 0) << other.output;
    EXPECT_NE(other.output.find(gid_line(accounts_->other.gid())), std::string::npos) << other.output;
    const ProcessResult ungated = sudo_quietly({kSudo, "-n", "-g", other_group(), "true"});
    EXPECT_EQ(ungated.exit_code, 0) << ungated.err;
    const ProcessResult as_root = sudo_quietly({kSudo, "-n", "/usr/bin/id", "-u"});
    EXPECT_EQ(as_root.exit_code, 0) << as_root.err;
    EXPECT_EQ(as_root.out, "0\n");
    const ProcessResult refused = sudo_quietly({kSudo, "-n", "-g", gate_group(), "true"});
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find("breakglassd is not reachable"), std::string::npos) << refused.err;
}

TEST_F(SudoPlugin, NumericGroupIsGatedToo) {
    const std::string numeric = "#" + std::to_string(accounts_->gate.gid());
    const PtySession r = sudo({kSudo, "-g", numeric, "id", "-g"}, answers(code()));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find(kBanner), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(gid_line(accounts_->gate.gid())), std::string::npos) << r.output;
    EXPECT_EQ(records_of("grant").size(), 1u);
}

// sudoedit's editor is the test's own script (SudoConfig): the refusal below
// must come from the plugin, never from a host without /usr/bin/editor.
TEST_F(SudoPlugin, ShellAndLoginShellAndSudoeditAreGated) {
    // The file sudoedit edits: in a directory the user cannot write (sudoedit
    // refuses those), writable by the gate group it is edited as.
    const std::string file = daemon_->dir() + "/edited.txt";
    write_file(file, "original\n", 0664);
    ASSERT_EQ(::chown(file.c_str(), 0, accounts_->gate.gid()), 0);
    daemon_->stop();  // a gated command is refused; an ungated one would run
    for (const std::vector<std::string>& argv :
         {std::vector<std::string>{kSudo, "-g", gate_group(), "-s", "id", "-g"},
          std::vector<std::string>{kSudo, "-g", gate_group(), "-i", "id", "-g"},
          std::vector<std::string>{kSudo, "-g", gate_group(), "-e", file}}) {
        const PtySession r = sudo(argv);
        EXPECT_NE(r.exit_code, 0) << argv[3] << ": " << r.output;
        EXPECT_NE(r.output.find("breakglassd is not reachable"), std::string::npos) << argv[3] << ": " << r.output;
    }
    EXPECT_EQ(read_file(file), "original\n");
    daemon_->start();
    grant_now();
    for (const char* flag : {"-s", "-i"}) {
        const PtySession r = sudo({kSudo, "-g", gate_group(), flag, "id", "-g"});
        EXPECT_EQ(r.exit_code, 0) << flag << ": " << r.output;
        EXPECT_NE(r.output.find(gid_line(accounts_->gate.gid())), std::string::npos) << flag << ": " << r.output;
    }
    const PtySession edit = sudo({kSudo, "-g", gate_group(), "-e", file});
    EXPECT_EQ(edit.exit_code, 0) << edit.output;
    EXPECT_EQ(read_file(file), SudoConfig::editor_text()) << edit.output;
    EXPECT_EQ(records_of("command").size(), 3u);
}

TEST_F(SudoPlugin, ExitStatusAndSignalOfAGatedCommandAreRecorded) {
    grant_now();
    const PtySession failing = sudo({kSudo, "-g", gate_group(), "false"});
    EXPECT_EQ(failing.exit_code, 1) << failing.output;
    const PtySession killed = sudo({kSudo, "-g", gate_group(), "sh", "-c", "kill -TERM $$"});
    EXPECT_NE(killed.exit_code, 0) << killed.output;
    const auto closes = records_of("session_close");
    ASSERT_EQ(closes.size(), 2u);
    EXPECT_EQ(closes[0]["detail"].get<std::string>().find("exit status 1") == std::string::npos, false)
        << closes[0].dump();
    EXPECT_NE(closes[1]["detail"].get<std::string>().find("killed by signal 15"), std::string::npos) << closes[1].dump();
    for (const auto& c : closes) {
        EXPECT_EQ(c["actor"], user());
        EXPECT_EQ(c["actor_loginuid"], accounts_->user.uid());
    }
}

// Issue 10, item 9: the revocation of a grant ends a gated command run through
// sudo, and sudo still reports it: the session_close record carries the
// signal, and the terminal says why the command ended. The daemon signals the
// command, not sudo's own processes (the set-uid front end and, with use_pty
// as in Debian's sudoers, the monitor), which end with it. The command ignores
// SIGTERM, so it lives until the SIGKILL at the end of the grace: a daemon
// that SIGKILLs sudo's processes with it leaves no session_close.
TEST_F(SudoPlugin, ACommandEndedByRevocationIsStillClosedWithItsSignal) {
    use_sudo_conf(plugin_sudo_conf(sudo_gates_option(*accounts_) + " socket=" + daemon_->socket()), true);
    const std::string grant = grant_now();
    PtySession session;
    std::thread terminal([&] {
        session = sudo_on_terminal(*accounts_, {kSudo, "-g", gate_group(), "/bin/sh", "-c", "trap '' TERM; exec sleep 1000"},
                                   {}, 30000ms);
    });
    // The command runs once a live process of the user's named "sleep" holds
    // the gate group. Not by uid alone: useradd hands a deleted test user's uid
    // to the next one, and a zombie "sleep" of an earlier test's user (the
    // sandbox's PID 1 reaps slowly) made this revoke before sudo had asked.
    const auto sleep_runs = [&] {
        const std::string uid = "\nUid:\t" + std::to_string(accounts_->user.uid()) + "\t";
        const std::string gid = "\nGid:\t" + std::to_string(accounts_->gate.gid()) + "\t";
        for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
            const std::string dir = entry.path().string();
            if (read_file(dir + "/comm") != "sleep\n") continue;
            const std::string status = read_file(dir + "/status");
            if (status.find(uid) != std::string::npos && status.find(gid) != std::string::npos &&
                status.find("\nState:\tZ") == std::string::npos && status.find("\nState:\tX") == std::string::npos)
                return true;
        }
        return false;
    };
    const bool ran = eventually(sleep_runs, 10s);
    daemon_->revoke(grant);
    terminal.join();
    ASSERT_TRUE(ran) << session.output;
    EXPECT_FALSE(session.timed_out) << session.output;
    EXPECT_EQ(session.exit_code, 128 + SIGKILL) << session.output;
    const auto closes = records_of("session_close");
    ASSERT_EQ(closes.size(), 1u) << daemon_->log();
    EXPECT_NE(closes[0]["detail"].get<std::string>().find("killed by signal 9"), std::string::npos) << closes[0].dump();
    EXPECT_NE(session.output.find("the break-glass grant " + grant + " has ended"), std::string::npos) << session.output;
    // The terminate record names sudo's own processes as left to end with the command.
    const auto terminates = daemon_->audit().records_of("terminate");
    ASSERT_FALSE(terminates.empty()) << daemon_->log();
    EXPECT_NE(terminates[0]["detail"].get<std::string>().find("set-uid front ends left to end with their command"),
              std::string::npos)
        << terminates[0].dump();
}

// The pids of the user's processes whose /proc/PID/comm is `comm` (with its newline).
std::vector<pid_t> processes_named(uid_t uid, const std::string& comm) {
    std::vector<pid_t> out;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        if (read_file(entry.path().string() + "/comm") != comm) continue;
        const std::string status = read_file(entry.path().string() + "/status");
        if (status.find("\nUid:\t" + std::to_string(uid) + "\t") == std::string::npos) continue;
        // A zombie of an earlier user with the same (reused) uid is not one.
        if (status.find("\nState:\tZ") != std::string::npos || status.find("\nState:\tX") != std::string::npos)
            continue;
        out.push_back(static_cast<pid_t>(std::stoi(name)));
    }
    return out;
}

// Issue 10, item 2: a process that writes a control byte into its own name
// (its status file's Name line) is still found and ended at revocation, even
// detached from sudo with setsid and ignoring SIGHUP and SIGTERM. (The
// command waits a second before it ends: until setsid has run, the process is
// in the terminal's foreground process group, which gets SIGHUP when sudo ends.)
TEST_F(SudoPlugin, AProcessWithAControlByteInItsNameIsEndedAtRevocation) {
    const std::string grant = grant_now();
    const std::string comm = std::string("x\001\n");
    const uid_t uid = accounts_->user.uid();
    const PtySession r = sudo({kSudo, "-g", gate_group(), "/bin/sh", "-c",
                               "setsid /bin/sh -c 'trap \"\" HUP TERM; printf \"x\\001\" > /proc/$$/comm; "
                               "while :; do sleep 1; done' </dev/null >/dev/null 2>&1 & sleep 1"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    struct KillLeftovers {
        uid_t uid;
        std::string comm;
        ~KillLeftovers() {
            for (const pid_t pid : processes_named(uid, comm)) ::kill(pid, SIGKILL);
        }
    } leftovers{uid, comm};
    ASSERT_TRUE(eventually([&] { return processes_named(uid, comm).size() == 1; }, 10s));
    const pid_t pid = processes_named(uid, comm)[0];
    daemon_->revoke(grant);
    // Grace 2 s (sudo_policy), then SIGKILL: gone well within 10 s.
    EXPECT_TRUE(eventually([&] { return ::kill(pid, 0) != 0; }, 10s)) << "pid " << pid << " still runs";
    bool named = false;
    for (const auto& t : records_of("terminate"))
        if (t["detail"].get<std::string>().find(std::to_string(pid) + " (") != std::string::npos) named = true;
    EXPECT_TRUE(named) << daemon_->log();
}

// Issue 10, item 6: a set-group-ID copy of a shell with the gate's group,
// left in a place users can write, loses its set-group-ID bit at revocation,
// and the terminate record names it.
TEST_F(SudoPlugin, SetgidResidueOfTheGateGroupIsClearedAtRevocation) {
    const std::string grant = grant_now();
    const std::string path = "/dev/shm/bg-residue-" + std::to_string(::getpid());
    struct Remove {
        std::string path;
        ~Remove() { ::unlink(path.c_str()); }
    } remove{path};
    const PtySession r = sudo({kSudo, "-g", gate_group(), "/bin/sh", "-c",
                               "cp /bin/sh " + path + " && chgrp " + gate_group() + " " + path + " && chmod 2755 " + path});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    ASSERT_NE(st.st_mode & S_ISGID, 0u);
    daemon_->revoke(grant);
    ASSERT_TRUE(eventually([&] { return !records_of("terminate").empty(); }, 10s)) << daemon_->log();
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & S_ISGID, 0u);
    EXPECT_EQ(st.st_mode & 0777, 0755u);
    const auto terminates = records_of("terminate");
    EXPECT_NE(terminates[0]["detail"].get<std::string>().find("set-group-ID bit removed from files of group " +
                                                              gate_group() + ": " + path),
              std::string::npos)
        << terminates[0].dump();
}

TEST_F(SudoPlugin, UngatedCommandsAreNotRecorded) {
    grant_now();
    const PtySession r = sudo({kSudo, "-g", other_group(), "true"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(records_of("command").empty());
}

TEST_F(SudoPlugin, RunAsUserGateIsGatedThroughItsOwnGate) {
    use_options("gates=" + gate_group() + ":" + kSudoGate + ",user:" + service_user() + ":" +
                kSudoServiceGate + " socket=" + daemon_->socket());
    const PtySession r = sudo({kSudo, "-u", service_user(), "id", "-u"}, answers(code()));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("BREAK-GLASS: gate 'breakglass-svc'"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(std::to_string(accounts_->service.uid()) + "\r\n"), std::string::npos) << r.output;
    EXPECT_TRUE(daemon_->active(user(), kSudoServiceGate));
    EXPECT_FALSE(daemon_->active(user(), kSudoGate));
    const auto commands = records_of("command");
    ASSERT_EQ(commands.size(), 1u);
    EXPECT_EQ(commands[0]["gate_bypassed"], kSudoServiceGate);
    EXPECT_NE(commands[0]["detail"].get<std::string>().find("runas=" + service_user() + ":" + service_user()), std::string::npos);

    daemon_->stop();  // a gated user fails closed like a gated group
    const PtySession down = sudo({kSudo, "-u", service_user(), "id", "-u"});
    EXPECT_NE(down.exit_code, 0) << down.output;
    EXPECT_NE(down.output.find("breakglassd is not reachable"), std::string::npos) << down.output;
}

// One connection per sudo run: under an active grant the check records the
// command in the same exchange, and the session_close follows on the same
// connection. The relay counts what passes.
TEST_F(SudoPlugin, AGatedCommandUnderAGrantTakesOneConnectionAndTwoExchanges) {
    const std::string grant = grant_now();
    SocketRelay relay(daemon_->socket());
    use_options(sudo_gates_option(*accounts_) + " socket=" + relay.path());
    const ProcessResult r = sudo_quietly({kSudo, "-n", "-g", gate_group(), "true"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(relay.connections(), 1);
    EXPECT_EQ(relay.requests(),
              (std::vector<proto::MessageType>{proto::MessageType::CommandRequest, proto::MessageType::SessionRequest}));
    const auto commands = records_of("command");
    ASSERT_EQ(commands.size(), 1u);
    EXPECT_EQ(commands[0]["grant_id"], grant);
    EXPECT_EQ(commands[0]["actor"], user());
    EXPECT_EQ(commands[0]["target"], "true");
    const auto closes = records_of("session_close");
    ASSERT_EQ(closes.size(), 1u);
    EXPECT_NE(closes[0]["detail"].get<std::string>().find("exit status 0"), std::string::npos) << closes[0].dump();
}

// Breaking the glass in a run: check, grant, the command recorded under the
// new grant, session_close: still one connection.
TEST_F(SudoPlugin, BreakingTheGlassAndRunningTheCommandShareOneConnection) {
    SocketRelay relay(daemon_->socket());
    use_options(sudo_gates_option(*accounts_) + " socket=" + relay.path());
    const PtySession r = sudo({kSudo, "-g", gate_group(), "id", "-g"}, answers(code()));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find(gid_line(accounts_->gate.gid())), std::string::npos) << r.output;
    EXPECT_EQ(relay.connections(), 1);
    EXPECT_EQ(relay.requests(),
              (std::vector<proto::MessageType>{proto::MessageType::CommandRequest, proto::MessageType::GrantRequest,
                                               proto::MessageType::CommandRequest, proto::MessageType::SessionRequest}));
    const auto grants = records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    const auto commands = records_of("command");
    ASSERT_EQ(commands.size(), 1u);
    EXPECT_EQ(commands[0]["grant_id"], grants[0]["event_id"]);
    EXPECT_EQ(records_of("session_close").size(), 1u);
}

// The descriptors `ls -l /proc/self/fd/` listed, number -> target, less the
// one ls reads the directory through.
std::map<std::string, std::string> listed_descriptors(const std::string& output) {
    std::map<std::string, std::string> fds;
    std::size_t arrow = 0;
    while ((arrow = output.find(" -> ", arrow)) != std::string::npos) {
        const std::size_t start = output.rfind(' ', arrow - 1) + 1;
        const std::size_t end = output.find('\r', arrow);
        std::string target = output.substr(arrow + 4, end - arrow - 4);
        // ls quotes a name such as 'socket:[123]' on a terminal.
        if (target.size() >= 2 && target.front() == '\'' && target.back() == '\'') target = target.substr(1, target.size() - 2);
        if (!(target.starts_with("/proc/") && target.ends_with("/fd")))
            fds[output.substr(start, arrow - start)] = target;
        arrow += 4;
    }
    return fds;
}

// Issue 16, item 5: the gated command inherits no descriptor of the plugin.
// The plugin's connection to the daemon stays open in sudo while the command
// runs (its session_close follows on it), so it must be close-on-exec. sudo
// closes every descriptor from 3 on before it runs a command, which would hide
// a leak: here sudoers moves that to 200 (closefrom), so only close-on-exec
// keeps the connection out of the command. The command, ls, lists its own
// /proc/PID/fd, through a break-glass on its terminal and under the grant:
// exactly what the same sudo passes to ls without the plugin (0, 1, 2 and a
// /dev/null of sudo's own), and no socket.
TEST_F(SudoPlugin, Issue16Item5AGrantedCommandInheritsNoDescriptorOfThePlugin) {
    const std::string closefrom = "Defaults closefrom=200\n";
    const std::vector<std::string> list_fds = {kSudo, "-g", gate_group(), "/bin/ls", "-l", "/proc/self/fd/"};
    for (const bool use_pty : {false, true}) {
        SCOPED_TRACE(use_pty ? "use_pty" : "no use_pty");
        use_sudo_conf(plugin_sudo_conf(""), use_pty, closefrom);
        const PtySession plain = sudo(list_fds);
        ASSERT_EQ(plain.exit_code, 0) << plain.output;
        const auto sudos_own = listed_descriptors(plain.output);
        ASSERT_TRUE(sudos_own.contains("0") && sudos_own.contains("1") && sudos_own.contains("2")) << plain.output;

        use_sudo_conf(plugin_sudo_conf(sudo_gates_option(*accounts_) + " socket=" + daemon_->socket()), use_pty,
                      closefrom);
        const std::vector<PtySession> runs = {
            use_pty ? sudo(list_fds) : sudo(list_fds, answers(code())),  // break-glass, then the command
            sudo(list_fds)};                                              // under the grant, no prompt
        for (const PtySession& r : runs) {
            EXPECT_EQ(r.exit_code, 0) << r.output;
            const auto inherited = listed_descriptors(r.output);
            for (const auto& [number, target] : inherited) {
                const auto own = sudos_own.find(number);
                EXPECT_TRUE(own != sudos_own.end() && own->second.starts_with("/dev/pts/") == target.starts_with("/dev/pts/") &&
                            (own->second.starts_with("/dev/pts/") || own->second == target))
                    << "the command inherited descriptor " << number << " -> " << target << "\n" << r.output;
                EXPECT_FALSE(target.starts_with("socket:")) << number << " -> " << target;
            }
            EXPECT_EQ(inherited.size(), sudos_own.size()) << r.output << "\nwithout the plugin:\n" << plain.output;
        }
    }
    EXPECT_EQ(records_of("grant").size(), 1u);
    EXPECT_EQ(records_of("command").size(), 4u);
}

// The daemon closes a connection left idle (a long command): the
// session_close then goes on a new connection, and is recorded.
TEST_F(SudoPlugin, SessionCloseAfterTheDaemonClosedTheConnectionGoesOnANewOne) {
    grant_now();
    SocketRelay relay(daemon_->socket());
    relay.close_after(proto::MessageType::CommandAnswer);
    use_options(sudo_gates_option(*accounts_) + " socket=" + relay.path());
    const ProcessResult r = sudo_quietly({kSudo, "-n", "-g", gate_group(), "sh", "-c", "exit 3"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(relay.connections(), 2);
    const auto closes = records_of("session_close");
    ASSERT_EQ(closes.size(), 1u) << daemon_->log();
    EXPECT_NE(closes[0]["detail"].get<std::string>().find("exit status 3"), std::string::npos) << closes[0].dump();
}

// The daemon cannot record the command (its audit log fails): sudo does not
// run it, with or without an active grant to run it under.
TEST_F(SudoPlugin, AGatedCommandThatCannotBeRecordedDoesNotRun) {
    grant_now();
    SocketRelay relay(daemon_->socket());
    relay.answer_instead(proto::MessageType::CommandRequest,
                         proto::ErrorAnswer{proto::ErrorCode::Unavailable, "the command could not be recorded"});
    use_options(sudo_gates_option(*accounts_) + " socket=" + relay.path());
    const PtySession r = sudo({kSudo, "-g", gate_group(), "id", "-g"});
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("the command could not be recorded"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find(gid_line(accounts_->gate.gid())), std::string::npos) << r.output;
    const ProcessResult quiet = sudo_quietly({kSudo, "-n", "-g", gate_group(), "id", "-g"});
    EXPECT_NE(quiet.exit_code, 0) << quiet.out;
    EXPECT_EQ(quiet.out, "") << "the command ran";
    EXPECT_TRUE(records_of("command").empty());
    EXPECT_TRUE(records_of("session_close").empty());
}

// The two Plugin lines disagree (here on the socket): the audit half cannot
// tell whether or where the approval half recorded the command, so sudo does
// not run it. The approval half had recorded it; its session_close says it
// did not run.
TEST_F(SudoPlugin, AnAuditHalfWithOtherOptionsRefusesGatedCommands) {
    grant_now();
    const std::string gates = sudo_gates_option(*accounts_);
    std::string conf = plugin_sudo_conf(gates + " socket=" + daemon_->socket());
    conf = conf.substr(0, conf.find("Plugin breakglass_audit"));
    conf += "Plugin breakglass_audit " + std::string(BG_SUDO_PLUGIN_PATH) + " " + gates + " socket=" + daemon_->dir() +
            "/no-such-socket\n";
    use_sudo_conf(conf);
    const PtySession r = sudo({kSudo, "-g", gate_group(), "id", "-g"});
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("must be loaded from the same file with the same gates= and socket="), std::string::npos)
        << r.output;
    EXPECT_EQ(r.output.find(gid_line(accounts_->gate.gid())), std::string::npos) << r.output;
    EXPECT_EQ(records_of("command").size(), 1u);
    const auto closes = records_of("session_close");
    ASSERT_EQ(closes.size(), 1u);
    EXPECT_NE(closes[0]["detail"].get<std::string>().find("no status"), std::string::npos) << closes[0].dump();
    // Ungated commands are untouched.
    EXPECT_EQ(sudo_quietly({kSudo, "-n", "-g", other_group(), "true"}).exit_code, 0);
}

// The plugin's gates= says the other group is gate "breakglass"; the policy maps
// only the gate group to it. The daemon refuses at the check, before any
// question (nothing could be granted), and records why.
TEST_F(SudoPlugin, DaemonRefusesAGroupThePolicyDoesNotMapToTheGate) {
    use_options("gates=" + std::string(other_group()) + ":" + kSudoGate + " socket=" + daemon_->socket());
    const PtySession r = sudo({kSudo, "-g", other_group(), "id", "-g"}, answers(code()));
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.answered, 0u) << r.output;
    EXPECT_NE(r.output.find(other_group()), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find(gid_line(accounts_->other.gid())), std::string::npos) << r.output;
    EXPECT_FALSE(daemon_->active(user(), kSudoGate));
    EXPECT_EQ(records_of("grant").size(), 0u);
    EXPECT_EQ(records_of("deny").size(), 1u);
}

// Issue 10, item 9: with gates=GATE:breakglass,OTHER:breakglass a grant of gate
// "breakglass" (whose policy maps only GATE) used to pass the fast path for
// sudo -g OTHER too: the command ran in a group the grant does not name, which
// its revocation never ends. The check carries the run-as group, and the
// daemon refuses one the policy does not map to the gate, grant or not, with a
// deny record; the gate's own group still runs under the grant.
TEST_F(SudoPlugin, Issue10Item9AGrantDoesNotOpenAnotherGroupMappedToItsGate) {
    use_options("gates=" + gate_group() + ":" + kSudoGate + "," + other_group() + ":" + kSudoGate +
                " socket=" + daemon_->socket());
    const std::string grant = grant_now();
    for (const bool noninteractive : {false, true}) {
        const std::size_t denies_before = records_of("deny").size();
        std::string output;
        int exit_code = 0;
        if (noninteractive) {
            const ProcessResult q = sudo_quietly({kSudo, "-n", "-g", other_group(), "id", "-g"});
            output = q.out + q.err;
            exit_code = q.exit_code;
        } else {
            const PtySession r = sudo({kSudo, "-g", other_group(), "id", "-g"}, answers(code(1)));
            output = r.output;
            exit_code = r.exit_code;
            EXPECT_EQ(r.answered, 0u) << r.output;
        }
        EXPECT_NE(exit_code, 0) << output;
        EXPECT_EQ(output.find(std::to_string(accounts_->other.gid()) + "\n"), std::string::npos) << output;
        EXPECT_EQ(output.find(gid_line(accounts_->other.gid())), std::string::npos) << output;
        EXPECT_NE(output.find("the policy does not"), std::string::npos) << output;
        EXPECT_TRUE(records_of("command").empty()) << "nothing ran under " << grant;
        const auto denies = records_of("deny");
        ASSERT_EQ(denies.size(), denies_before + 1) << output;
        EXPECT_EQ(denies.back()["actor"], user());
        EXPECT_EQ(denies.back()["grant_id"], grant);
        EXPECT_EQ(denies.back()["target"], "id -g");
        EXPECT_NE(denies.back()["detail"].get<std::string>().find("group '" + other_group() + "'"), std::string::npos)
            << denies.back().dump();
    }
    // The gate's own group runs under the grant, without a question.
    const PtySession own = sudo({kSudo, "-g", gate_group(), "id", "-g"});
    EXPECT_EQ(own.exit_code, 0) << own.output;
    EXPECT_NE(own.output.find(gid_line(accounts_->gate.gid())), std::string::npos) << own.output;
    const auto commands = records_of("command");
    ASSERT_EQ(commands.size(), 1u);
    EXPECT_EQ(commands[0]["grant_id"], grant);
}

TEST_F(SudoPlugin, BadOptionsSayWhatIsWrongAndAllowOnlyRootRootCommands) {
    use_options("gatse=" + gate_group() + ":" + kSudoGate + " socket=" + daemon_->socket());
    const PtySession gated = sudo({kSudo, "-g", gate_group(), "true"});
    EXPECT_NE(gated.exit_code, 0) << gated.output;
    EXPECT_NE(gated.output.find("unknown option 'gatse=" + gate_group() + ":breakglass'"), std::string::npos) << gated.output;
    const PtySession other = sudo({kSudo, "-g", other_group(), "true"});
    EXPECT_NE(other.exit_code, 0) << other.output;
    EXPECT_NE(other.output.find("only commands run as root:root are allowed"), std::string::npos) << other.output;
    // The administrator's way back: root:root commands still run, with the warning.
    const PtySession as_root = sudo({kSudo, "/usr/bin/id", "-u"});
    EXPECT_EQ(as_root.exit_code, 0) << as_root.output;
    EXPECT_NE(as_root.output.find("0\r\n"), std::string::npos) << as_root.output;
    EXPECT_NE(as_root.output.find("bad options in sudo.conf"), std::string::npos) << as_root.output;
}

TEST_F(SudoPlugin, WithoutThePluginSudoIsUnchanged) {
    use_options("");
    const PtySession r = sudo({kSudo, "-g", gate_group(), "id", "-g"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.find(kBanner), std::string::npos) << r.output;
}

}  // namespace
}  // namespace bg::test
