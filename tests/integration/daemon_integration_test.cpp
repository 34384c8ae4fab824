// SPDX-License-Identifier: ISC
// breakglassd and breakglassctl as real processes: a daemon from the test
// fixture (tests/support/test_daemon.hpp), the CLI as root and as users this
// test creates with names unique to the run, and hostile raw clients. Every
// case asserts both the answer and what the audit log recorded.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <latch>
#include <optional>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "common/protocol.hpp"
#include "common/transport.hpp"
#include "helper/audit/audit_verify.hpp"
#include "helper/audit/seal_key.hpp"
#include "helper/mfa/totp.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/files.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_accounts.hpp"
#include "tests/support/test_daemon.hpp"
#include "tests/unit/yubikey_test_tokens.hpp"

namespace bg::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Gates race-1..race-8 take the same YubiKey OTP in the concurrency test:
// one user, eight gates, so only replay protection can refuse the copies.
constexpr int kRaceGates = 8;

// `oncall`: the requesters' group (alice is in it, mallory is not).
std::string integration_policy(const std::string& oncall) {
    std::string p = R"(# integration-test policy
[defaults]
max_ttl = "1h"
incident_pattern = '^INC-[0-9]+$'
factors = ["totp", "yubikey"]

[gate.breakglass]
description = "integration test gate"
sudo_runas_group = "breakglass"
requesters = ["%)" + oncall + R"(", "root"]
ttl = "2s"

[gate.totp-only]
requesters = ["%)" + oncall + R"("]
factors = ["totp"]

[gate.needs-approval]
requesters = ["%)" + oncall + R"("]
approvals = 1
approvers = ["%bg-no-such-group"]
ttl = "5m"
)";
    for (int i = 1; i <= kRaceGates; ++i)
        p += "\n[gate.race-" + std::to_string(i) + "]\nrequesters = [\"%" + oncall + "\"]\nfactors = [\"yubikey\"]\n";
    return p;
}

class DaemonTest : public ::testing::Test {
protected:
    void SetUp() override {
        daemon_ = std::make_unique<TestDaemon>(integration_policy(oncall_.name()));
        dir_ = daemon_->dir();
        state_ = daemon_->state_dir();
        socket_ = daemon_->socket();
        policy_ = daemon_->policy_path();
    }
    void TearDown() override {
        if (HasFailure() && daemon_) std::fprintf(stderr, "daemon log:\n%s\n", daemon_->log().c_str());
    }

    const std::string& alice() const { return alice_.name(); }      // in oncall: a requester
    const std::string& mallory() const { return mallory_.name(); }  // not a requester

    std::vector<std::string> ctl(std::vector<std::string> args) const { return daemon_->ctl(std::move(args)); }

    // Enrolls a fresh random TOTP secret for `user` through the CLI (stdin, never argv).
    std::vector<unsigned char> enroll(const std::string& user) {
        const auto secret = random_totp_secret();
        const auto r = run(ctl({"enroll", "totp", user, "--secret-stdin"}), totp::base32_encode(secret) + "\n");
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.out.find("otpauth://totp/"), std::string::npos) << r.out;
        return secret;
    }
    static std::string code(const std::vector<unsigned char>& secret, std::int64_t step_offset = 0) {
        return totp_code_now(secret, step_offset);
    }

    ProcessResult request_as(const std::string& user, const std::string& code_text,
                             std::vector<std::string> extra = {}) const {
        std::vector<std::string> args = {"request", "--gate", "breakglass", "--reason", "db primary down, failover stuck",
                                         "--incident", "INC-4242"};
        args.insert(args.end(), extra.begin(), extra.end());
        if (user == "root") return run(ctl(args), code_text + "\n");
        return run_as(user, ctl(args), code_text + "\n");
    }

    std::vector<json> records() const { return daemon_->audit().records(); }
    std::vector<json> records_of(const std::string& event) const { return daemon_->audit().records_of(event); }
    proto::StatusAnswer status(bool all) const { return daemon_->status(all); }

    // The daemon allows 3 failed factors per 30 s per user (in memory): tests
    // that need more failures restart it, which clears the limiter.
    void restart_clearing_rate_limit() {
        daemon_->restart();
        failures_left_ = 3;
    }
    int failures_left_ = 3;

    TestGroup oncall_{"oncall"};
    TestUser alice_{"alice", {.groups = {oncall_.name()}}};
    TestUser mallory_{"mallory"};
    std::unique_ptr<TestDaemon> daemon_;
    std::string dir_, state_, socket_, policy_;
};

TEST_F(DaemonTest, GrantThenStatusThenExpiryAfterTwoSeconds) {
    const auto secret = enroll(alice());
    const auto granted = request_as(alice(), code(secret));
    ASSERT_EQ(granted.exit_code, 0) << granted.err;
    EXPECT_NE(granted.out.find("granted"), std::string::npos);

    auto st = status(false);
    ASSERT_EQ(st.grants.size(), 1u);
    EXPECT_EQ(st.grants[0].user, alice());
    EXPECT_EQ(st.grants[0].state, "active");
    const std::string id = st.grants[0].event_id;
    EXPECT_EQ(st.grants[0].expires_at - st.grants[0].granted_at, 2);

    const auto grants = records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0]["event_id"], id);
    EXPECT_EQ(grants[0]["actor"], alice());
    EXPECT_EQ(grants[0]["gate_bypassed"], "breakglass");
    EXPECT_EQ(grants[0]["incident_ref"], "INC-4242");
    EXPECT_EQ(grants[0]["reason"], "db primary down, failover stuck");
    EXPECT_EQ(grants[0]["review_status"], "pending");
    EXPECT_EQ(grants[0]["peer_uid"], static_cast<std::int64_t>(alice_.uid()));
    // The one-time code never reaches the log.
    EXPECT_EQ(read_file(state_ + "/audit.log").find(code(secret)), std::string::npos);

    // Expiry is the daemon's own doing: the log file is read, nothing is asked
    // of the daemon until its expire record exists.
    const std::int64_t expires_at = st.grants[0].expires_at;
    const auto expires = daemon_->audit().wait_for("expire", 1, 10s);
    ASSERT_EQ(expires.size(), 1u) << "no expire record within 10 s of a 2 s grant";
    EXPECT_EQ(expires[0]["grant_id"], id);
    EXPECT_GT(expires[0]["seq"].get<int>(), grants[0]["seq"].get<int>());
    EXPECT_EQ(expires[0]["expires_at"], grants[0]["expires_at"]);
    // Not before expires_at (the record's timestamp is UTC to the second).
    EXPECT_GE(expires[0]["timestamp"].get<std::string>(), grants[0]["expires_at"].get<std::string>());
    EXPECT_GE(unix_now(), expires_at);
    // A test daemon leaves the host's systemd alone (it may be a production
    // host): it said so once, and its own timer ended the grant at expires_at.
    const std::string log = daemon_->log();
    const std::string said = "no per-grant systemd timers (--systemd-timers=no)";
    const auto first = log.find(said);
    EXPECT_NE(first, std::string::npos) << log;
    EXPECT_EQ(log.find(said, first + 1), std::string::npos) << log;
    EXPECT_EQ(expires[0]["detail"].get<std::string>().rfind("expired at expires_at by the daemon's timer", 0), 0u)
        << expires[0]["detail"];
    EXPECT_TRUE(status(false).grants.empty());
    const auto ended = status(true);
    ASSERT_EQ(ended.grants.size(), 1u);
    EXPECT_EQ(ended.grants[0].state, "expired");

    // The CLI's own view as the user agrees.
    const auto listed = run_as(alice(), ctl({"list", "--all", "--json"}));
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_NE(listed.out.find(id), std::string::npos);
}

// breakglassd's own default (--systemd-timers=auto): a daemon on its own
// socket, not started by systemd, creates no timers in the host's systemd and
// says so once. (Every other test daemon passes --systemd-timers=no; on a
// systemd host the ctest host_check_* fixture also asserts that no
// breakglass-expire-* unit appeared during the suite.)
TEST(DaemonDefaults, OnItsOwnSocketItCreatesNoSystemdTimers) {
    TestGroup oncall("oncall");
    DaemonOptions options;
    options.systemd_timers = "auto";
    TestDaemon daemon(integration_policy(oncall.name()), options);
    const auto secret = daemon.enroll_totp("root");
    const auto granted = daemon.grant("root", "breakglass", totp_code_now(secret), 1);
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(granted));
    const std::string log = daemon.log();
    const std::string said = "no per-grant systemd timers (--systemd-timers=auto)";
    const auto first = log.find(said);
    EXPECT_NE(first, std::string::npos) << log;
    EXPECT_EQ(log.find(said, first + 1), std::string::npos) << log;
    const auto expires = daemon.audit().wait_for("expire", 1, 10s);
    ASSERT_EQ(expires.size(), 1u) << daemon.log();
    EXPECT_EQ(expires[0]["detail"].get<std::string>().rfind("expired at expires_at by the daemon's timer", 0), 0u)
        << expires[0]["detail"];
}

// Valid user text is stored exactly: a backslash is a backslash in the
// record (display escapes it, the record does not escape it twice).
TEST_F(DaemonTest, ValidTextIsStoredExactlyInTheRecord) {
    const auto secret = enroll(alice());
    const std::string reason = R"(restore C:\backup\x01 from "tape" \u202e)";
    const auto granted = run_as(alice(), ctl({"request", "--gate", "breakglass", "--reason", reason, "--incident",
                                              "INC-4242"}),
                                code(secret) + "\n");
    ASSERT_EQ(granted.exit_code, 0) << granted.err;
    const auto grants = records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0]["reason"], reason);
}

TEST_F(DaemonTest, ActiveGrantIsVisibleToCheck) {
    const auto secret = enroll(alice());
    ASSERT_EQ(request_as(alice(), code(secret), {"--ttl", "10m"}).exit_code, 0);
    auto r = proto::call(socket_, proto::CheckRequest{alice(), "breakglass"}, proto::MessageType::CheckAnswer);
    ASSERT_TRUE(r.answer);
    const auto& a = std::get<proto::CheckAnswer>(*r.answer);
    EXPECT_TRUE(a.active);
    EXPECT_NEAR(static_cast<double>(a.expires_at - unix_now()), 600.0, 3.0);
    r = proto::call(socket_, proto::CheckRequest{mallory(), "breakglass"}, proto::MessageType::CheckAnswer);
    ASSERT_TRUE(r.answer);
    EXPECT_FALSE(std::get<proto::CheckAnswer>(*r.answer).active);
}

TEST_F(DaemonTest, EveryBadRequestIsRefusedAndRecorded) {
    const auto secret = enroll(alice());
    (void)enroll(mallory());
    struct Case {
        const char* name;
        std::string user;
        std::vector<std::string> args;
        std::string code_text;
        const char* message;
    };
    const std::vector<Case> cases = {
        {"incident does not match", alice(), {"request", "--gate", "breakglass", "--reason", "r", "--incident", "JIRA-1"}, "000000", "^INC-[0-9]+$"},
        {"unknown gate", alice(), {"request", "--gate", "nosuchgate", "--reason", "r", "--incident", "INC-1"}, "000000", "breakglass"},
        {"ttl above max", alice(), {"request", "--gate", "breakglass", "--reason", "r", "--incident", "INC-1", "--ttl", "2h"}, "000000", "max_ttl"},
        {"not a requester", mallory(), {"request", "--gate", "breakglass", "--reason", "r", "--incident", "INC-1"}, "000000", "not a requester"},
        {"no approver but the requester", alice(), {"request", "--gate", "needs-approval", "--reason", "r", "--incident", "INC-1"}, "000000", "approval(s) from people other than"},
        {"wrong code", alice(), {"request", "--gate", "breakglass", "--reason", "r", "--incident", "INC-1"}, "wrong", "6 digits"},
    };
    std::size_t before = records().size();
    for (const Case& c : cases) {
        const auto r = run_as(c.user, ctl(c.args), c.code_text + "\n");
        EXPECT_EQ(r.exit_code, 1) << c.name << ": " << r.out << r.err;
        EXPECT_NE(r.err.find(c.message), std::string::npos) << c.name << ": " << r.err;
        // No control character reaches the terminal raw.
        EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << c.name;
        const auto all = records();
        ASSERT_EQ(all.size(), before + 1) << c.name << ": each refusal is exactly one record";
        EXPECT_NE(all.back()["event"], "grant") << c.name;
        EXPECT_EQ(read_file(state_ + "/audit.log").find('\x1b'), std::string::npos) << c.name;
        before = all.size();
    }
    EXPECT_TRUE(status(true).grants.empty());
    // After all that, the right code still works (the wrong one counted once).
    EXPECT_EQ(request_as(alice(), code(secret)).exit_code, 0);
}

// The CLI refuses malformed text itself (usage error, nothing sent); the
// daemon refuses it again from any client, and records each refusal.
TEST_F(DaemonTest, MalformedTextIsRefusedByTheCliAndByTheDaemon) {
    const auto secret = enroll(alice());
    const std::vector<std::pair<std::string, std::string>> reasons = {
        {std::string(1025, 'r'), "longer than 1024"},
        {"a\x1b[2Jb", "control character"},
        {std::string("nul\0inside", 10), "control character"},
        {"invoice \xe2\x80\xaegnp.exe", "invisible format character (U+202E)"},  // issue 10, item 9
    };
    for (const auto& [reason, message] : reasons) {
        if (reason.find('\0') == std::string::npos) {  // argv cannot carry a NUL
            const std::size_t before = records().size();
            const auto r = run_as(alice(), ctl({"request", "--gate", "breakglass", "--reason", reason, "--incident", "INC-1"}), "000000\n");
            EXPECT_EQ(r.exit_code, 2) << r.err;
            EXPECT_EQ(r.err.find('\x1b'), std::string::npos);
            EXPECT_EQ(records().size(), before) << "nothing reaches the daemon";
        }
        const std::size_t before = records().size();
        const int rc = run_function_as(alice(), [&, reason = reason, message = message] {
            proto::GrantRequest g{"", "breakglass", reason, "INC-1", "", 0, code(secret), "", ""};
            auto r = proto::call(socket_, g, proto::MessageType::Granted);
            if (!r.answer) return 10;
            const auto* e = std::get_if<proto::ErrorAnswer>(&*r.answer);
            if (!e || e->code != proto::ErrorCode::BadRequest) return 11;
            return e->message.find(message) != std::string::npos ? 0 : 12;
        });
        EXPECT_EQ(rc, 0) << message;
        const auto all = records();
        ASSERT_EQ(all.size(), before + 1) << message;
        EXPECT_EQ(all.back()["event"], "deny");
        EXPECT_LE(all.back()["reason"].get<std::string>().size(), 1024u);
        const std::string log = read_file(state_ + "/audit.log");
        EXPECT_EQ(log.find('\x1b'), std::string::npos);
        EXPECT_EQ(log.find('\0'), std::string::npos);
        EXPECT_EQ(log.find("\xe2\x80\xae"), std::string::npos) << "stored escaped in the deny record";
    }
    // And `log` shows the refusals without a raw control or format character.
    const auto shown = run(ctl({"log"}));
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_EQ(shown.out.find("\xe2\x80\xae"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("\\\\xe2\\\\x80\\\\xae"), std::string::npos) << shown.out;
    EXPECT_TRUE(status(true).grants.empty());

    // Invalid UTF-8 cannot be carried in a JSON body: such a frame is
    // malformed, so the connection closes before any request exists. The
    // frame is a well-formed GrantRequest but for one byte of its reason; the
    // same frame with that byte valid is answered (a grant), so nothing else
    // about it was wrong.
    const auto r = run_as(alice(), ctl({"request", "--gate", "breakglass", "--reason", "bad \xff byte", "--incident", "INC-1"}), "000000\n");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    const auto encoded = proto::encode(proto::GrantRequest{"", "breakglass", "bad ~ byte", "INC-1", "", 0, code(secret), "", ""});
    ASSERT_TRUE(encoded);
    std::vector<std::uint8_t> valid = *encoded, invalid = *encoded;
    const std::string text(valid.begin(), valid.end());
    const std::size_t at = text.find("bad ~ byte");
    ASSERT_NE(at, std::string::npos);
    ASSERT_EQ(text.find('~', at + 5), std::string::npos) << "the marker byte is unique in the frame";
    invalid[at + 4] = 0xff;
    const auto send_raw = [&](const std::vector<std::uint8_t>& frame) {
        return run_function_as(alice(), [&] {
            auto fd = proto::connect_socket(socket_);
            if (!fd) return 10;
            if (::send(fd->get(), frame.data(), frame.size(), MSG_NOSIGNAL) < 0) return 11;
            proto::Received got = proto::receive_message(fd->get(), 5000);
            if (got.message) return std::holds_alternative<proto::Granted>(*got.message) ? 20 : 21;
            return got.failure == proto::ReceiveFailure::Closed ? 0 : 12;
        });
    };
    const std::size_t before = records().size();
    EXPECT_EQ(send_raw(invalid), 0) << "the frame with invalid UTF-8 closes the connection unanswered";
    EXPECT_EQ(records().size(), before);
    EXPECT_TRUE(daemon_->running());
    EXPECT_EQ(send_raw(valid), 20) << "the same frame with valid UTF-8 is a request that is granted";
    const auto grants = records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0]["reason"], "bad ~ byte");
}

TEST_F(DaemonTest, RunasGroupMustMapToTheGateInThePolicy) {
    const auto secret = enroll(alice());
    proto::GrantRequest g{alice(), "breakglass", "r", "INC-1", "", 0, code(secret), "", "sudo -g wheel id"};
    g.runas_group = "wheel";  // the policy maps group "breakglass" to this gate, not "wheel"
    auto r = proto::call(socket_, g, proto::MessageType::Granted);
    ASSERT_TRUE(r.answer);
    const auto* e = std::get_if<proto::ErrorAnswer>(&*r.answer);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->code, proto::ErrorCode::Denied);
    EXPECT_NE(e->message.find("sudo.conf"), std::string::npos) << e->message;
    EXPECT_EQ(records().back()["event"], "deny");
    g.runas_group = "breakglass";
    r = proto::call(socket_, g, proto::MessageType::Granted);
    ASSERT_TRUE(r.answer);
    EXPECT_TRUE(std::holds_alternative<proto::Granted>(*r.answer));
}

TEST_F(DaemonTest, ReplayedCodeIsRefused) {
    const auto secret = enroll(alice());
    const std::string c = code(secret);
    ASSERT_EQ(request_as(alice(), c, {"--ttl", "1s"}).exit_code, 0);
    // Once the grant has expired only the code is reused ("already holds" would hide the replay).
    ASSERT_EQ(daemon_->audit().wait_for("expire", 1, 10s).size(), 1u);
    const auto again = request_as(alice(), c);
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_NE(again.err.find("already used"), std::string::npos) << again.err;
    // An older step after a newer one is a replay too.
    const auto older = request_as(alice(), code(secret, -1));
    EXPECT_EQ(older.exit_code, 1);
    EXPECT_NE(older.err.find("already used"), std::string::npos) << older.err;
    const auto fails = records_of("auth_failed");
    EXPECT_EQ(fails.size(), 2u);
    EXPECT_EQ(records_of("grant").size(), 1u);
}

TEST_F(DaemonTest, FailedCodesAreRateLimited) {
    const auto secret = enroll(alice());
    const std::string right = code(secret);
    std::string wrong = right;
    wrong[0] = wrong[0] == '9' ? '0' : static_cast<char>(wrong[0] + 1);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(request_as(alice(), wrong).exit_code, 1);
    const auto limited = request_as(alice(), right);
    EXPECT_EQ(limited.exit_code, 1);
    EXPECT_NE(limited.err.find("try again"), std::string::npos) << limited.err;
    EXPECT_EQ(records_of("auth_failed").size(), 3u);
    EXPECT_EQ(records_of("rate_limited").size(), 1u);
    EXPECT_TRUE(status(true).grants.empty());
}

TEST_F(DaemonTest, KilledDaemonExpiresOverdueGrantAtStartup) {
    const auto secret = enroll(alice());
    ASSERT_EQ(request_as(alice(), code(secret)).exit_code, 0);  // ttl 2s
    const auto grant = status(false).grants.at(0);
    const std::string id = grant.event_id;
    daemon_->kill();
    wait_until_unix_time(grant.expires_at + 1);  // overdue while nobody ran
    ASSERT_TRUE(records_of("expire").empty());
    daemon_->start();
    const auto expires = records_of("expire");
    ASSERT_EQ(expires.size(), 1u);
    EXPECT_EQ(expires[0]["grant_id"], id);
    EXPECT_NE(expires[0]["detail"].get<std::string>().find("startup"), std::string::npos);
    const auto st = status(true);
    ASSERT_EQ(st.grants.size(), 1u);
    EXPECT_EQ(st.grants[0].state, "expired");
    // The chain continued across the crash.
    const auto verified = run(ctl({"verify", "--state-dir", state_, "--key", state_ + "/audit.key.initial"}));
    EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

TEST_F(DaemonTest, RestartResumesActiveGrantAndItsTimer) {
    const auto secret = enroll(alice());
    ASSERT_EQ(request_as(alice(), code(secret), {"--ttl", "4s"}).exit_code, 0);
    daemon_->kill();
    ::unlink((state_ + "/state.json").c_str());  // even without the checkpoint the log rebuilds it
    daemon_->start();
    auto st = status(false);
    ASSERT_EQ(st.grants.size(), 1u);
    EXPECT_EQ(st.grants[0].state, "active");
    // The re-armed timer of the new process ends it at expires_at (not a startup sweep).
    const auto expires = daemon_->audit().wait_for("expire", 1, 15s);
    ASSERT_EQ(expires.size(), 1u);
    EXPECT_EQ(expires[0]["grant_id"], st.grants[0].event_id);
    EXPECT_EQ(expires[0]["detail"].get<std::string>().rfind("expired at expires_at by the daemon's timer", 0), 0u)
        << expires[0]["detail"];
    EXPECT_GE(unix_now(), st.grants[0].expires_at);
    EXPECT_TRUE(status(false).grants.empty());
}

// SIGTERM is a clean stop from any thread's point of view: exit status 0, the
// deferred (closing) records synced, the seal key's sync done and the last
// checkpoint written, so the next start replays nothing. (The journald and
// state-writer threads once took SIGTERM's default action and killed the
// daemon with status 143 before any of this ran.)
TEST_F(DaemonTest, SigtermStopsCleanlyWithTheLastCheckpointWritten) {
    const auto secret = enroll(alice());
    ASSERT_EQ(request_as(alice(), code(secret), {"--ttl", "10m"}).exit_code, 0);
    proto::SessionRequest close{alice(), "breakglass", "session_close", "sudo", "pts/9", "", 4242, "/bin/true", "exit status 0"};
    auto r = daemon_->call(close, proto::MessageType::SessionRecorded);
    ASSERT_TRUE(std::holds_alternative<proto::SessionRecorded>(r));
    const std::uint64_t last_seq = records().back()["seq"].get<std::uint64_t>();
    ASSERT_NO_THROW(daemon_->stop());  // throws unless the exit status is 0
    const json checkpoint = json::parse(read_file(state_ + "/state.json"));
    EXPECT_EQ(checkpoint["applied_seq"].get<std::uint64_t>(), last_seq) << "the final checkpoint covers every record";
    const auto verified = run(ctl({"verify", "--state-dir", state_, "--key", state_ + "/audit.key.initial"}));
    EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
    EXPECT_EQ(verified.out.find("behind"), std::string::npos) << "the key file caught up at the stop: " << verified.out;
}

TEST_F(DaemonTest, RevokeByOwnerAndNotByOthers) {
    const auto secret = enroll(alice());
    ASSERT_EQ(request_as(alice(), code(secret), {"--ttl", "10m"}).exit_code, 0);
    const std::string id = status(false).grants.at(0).event_id;
    const auto denied = run_as(mallory(), ctl({"revoke", id}));
    EXPECT_EQ(denied.exit_code, 1);
    // The refusal does not tell mallory that the id is someone's active grant:
    // it reads as for an id that was never granted.
    const auto unknown = run_as(mallory(), ctl({"revoke", "bg-2026-999999"}));
    EXPECT_EQ(unknown.exit_code, 1);
    const auto without_id = [](std::string text, const std::string& id_text) {
        for (std::size_t at; (at = text.find(id_text)) != std::string::npos;) text.replace(at, id_text.size(), "ID");
        return text;
    };
    EXPECT_EQ(without_id(denied.err, id), without_id(unknown.err, "bg-2026-999999"));
    const auto ok = run_as(alice(), ctl({"revoke", id, "--reason", "incident resolved"}));
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_TRUE(status(false).grants.empty());
    const auto revokes = records_of("revoke");
    ASSERT_EQ(revokes.size(), 1u);
    EXPECT_EQ(revokes[0]["grant_id"], id);
    EXPECT_EQ(revokes[0]["actor"], alice());
}

std::vector<std::uint8_t> frame(const proto::Message& m) { return *proto::encode(m); }

TEST_F(DaemonTest, HostileClientsGetNothingAndTheDaemonKeepsServing) {
    const auto secret = enroll(alice());
    std::vector<std::pair<const char*, std::vector<std::uint8_t>>> attacks;
    attacks.emplace_back("garbage", std::vector<std::uint8_t>{'h', 'e', 'l', 'l', 'o'});
    attacks.emplace_back("empty datagram", std::vector<std::uint8_t>{});
    auto truncated = frame(proto::CheckRequest{"", "breakglass"});
    truncated.resize(truncated.size() - 3);
    attacks.emplace_back("truncated frame", truncated);
    auto oversized = frame(proto::CheckRequest{"", "breakglass"});
    oversized.resize(proto::kMaxFrameBytes + 1000, ' ');
    attacks.emplace_back("oversized frame", oversized);
    attacks.emplace_back("answer type from a client", frame(proto::Granted{"bg-2026-000001", unix_now() + 3600}));
    attacks.emplace_back("root-only message", frame(proto::EnrollTotpRequest{alice(), ""}));

    for (const auto& [name, bytes] : attacks) {
        const int rc = run_function_as(alice(), [&, &bytes = bytes] {
            auto fd = proto::connect_socket(socket_);
            if (!fd) return 10;
            int sndbuf = 1 << 20;
            ::setsockopt(fd->get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
            // A frame the kernel will not carry would test nothing: that is a failure here.
            if (::send(fd->get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) < 0) return 15;
            proto::Received r = proto::receive_message(fd->get(), 5000);
            if (r.message && std::holds_alternative<proto::ErrorAnswer>(*r.message)) {
                // A not_permitted answer is allowed; the connection must then close.
                r = proto::receive_message(fd->get(), 5000);
            }
            if (r.message) return std::holds_alternative<proto::Granted>(*r.message) ? 12 : 13;
            return r.failure == proto::ReceiveFailure::Closed ? 0 : 14;
        });
        EXPECT_EQ(rc, 0) << name;
        EXPECT_TRUE(daemon_->running()) << name;
    }

    // Out of order: a second GrantRequest on one connection closes it.
    const int twice = run_function_as(alice(), [&] {
        auto fd = proto::connect_socket(socket_);
        if (!fd) return 10;
        proto::GrantRequest g{"", "breakglass", "r", "INC-1", "", 0, "000000", "", ""};
        if (!proto::send_message(fd->get(), g)) return 11;
        proto::Received first = proto::receive_message(fd->get(), 5000);
        if (!first.message || !std::holds_alternative<proto::ErrorAnswer>(*first.message)) return 12;
        if (!proto::send_message(fd->get(), g)) return 0;
        proto::Received second = proto::receive_message(fd->get(), 5000);
        return second.failure == proto::ReceiveFailure::Closed ? 0 : 13;
    });
    EXPECT_EQ(twice, 0);

    // An unprivileged peer naming another user is refused and recorded.
    const int impersonate = run_function_as(mallory(), [&] {
        proto::GrantRequest g{alice(), "breakglass", "r", "INC-1", "", 0, code(secret), "", ""};
        auto r = proto::call(socket_, g, proto::MessageType::Granted);
        if (!r.answer) return 10;
        const auto* e = std::get_if<proto::ErrorAnswer>(&*r.answer);
        return e && e->code == proto::ErrorCode::NotPermitted ? 0 : 11;
    });
    EXPECT_EQ(impersonate, 0);
    const auto denies = records_of("deny");
    ASSERT_FALSE(denies.empty());
    EXPECT_EQ(denies.back()["peer_uid"], static_cast<std::int64_t>(mallory_.uid()));

    EXPECT_TRUE(daemon_->running());
    EXPECT_TRUE(status(true).grants.empty());
    // And it still serves a legitimate request.
    EXPECT_EQ(request_as(alice(), code(secret)).exit_code, 0);
}

TEST_F(DaemonTest, BadPolicyFailsClosedAndReloadRecovers) {
    const auto secret = enroll(alice());
    write_file(policy_, "[gate.breakglass]\nrequesters = []\n", 0644);
    const auto reload = run(ctl({"policy", "reload"}));
    EXPECT_EQ(reload.exit_code, 1);
    // The last good policy stays in force.
    EXPECT_EQ(request_as(alice(), code(secret, -1), {"--ttl", "10m"}).exit_code, 0);
    EXPECT_EQ(run(ctl({"revoke", status(false).grants.at(0).event_id})).exit_code, 0);

    // A daemon started on a bad policy grants nothing.
    daemon_->restart();
    const auto refused = request_as(alice(), code(secret, 0));
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("no valid policy"), std::string::npos) << refused.err;
    EXPECT_FALSE(records_of("policy_error").empty());

    // A world-writable policy is refused with its own message.
    write_file(policy_, integration_policy(oncall_.name()), 0666);
    const auto check = run(ctl({"policy", "check", policy_}));
    EXPECT_EQ(check.exit_code, 1);
    EXPECT_NE((check.out + check.err).find("writable"), std::string::npos) << check.out << check.err;

    ::chmod(policy_.c_str(), 0644);
    EXPECT_EQ(run(ctl({"policy", "reload"})).exit_code, 0);
    const auto granted = request_as(alice(), code(secret, 1));
    EXPECT_EQ(granted.exit_code, 0) << granted.err;
}

TEST_F(DaemonTest, SymlinkedPolicyIsRefused) {
    const std::string link = dir_ + "/link.toml";
    ASSERT_EQ(::symlink(policy_.c_str(), link.c_str()), 0);
    const auto check = run(ctl({"policy", "check", link}));
    EXPECT_EQ(check.exit_code, 1);
    EXPECT_NE((check.out + check.err).find("symbolic link"), std::string::npos) << check.out << check.err;
}

TEST_F(DaemonTest, VerifyDetectsTamperingOfTheLiveLog) {
    const auto secret = enroll(alice());
    ASSERT_EQ(request_as(alice(), code(secret)).exit_code, 0);
    const std::string key = state_ + "/audit.key.initial";
    auto ok = run(ctl({"verify", "--state-dir", state_, "--key", key}));
    EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;

    daemon_->stop();
    std::string log = read_file(state_ + "/audit.log");
    const auto pos = log.find("INC-4242");
    ASSERT_NE(pos, std::string::npos);
    log[pos + 4] = '9';
    write_file(state_ + "/audit.log", log, 0600);
    const auto bad = run(ctl({"verify", "--state-dir", state_, "--key", key}));
    EXPECT_EQ(bad.exit_code, 4) << bad.out << bad.err;
    const int grant_seq = records_of("grant").at(0)["seq"].get<int>();
    EXPECT_NE((bad.out + bad.err).find("seq " + std::to_string(grant_seq)), std::string::npos) << bad.out << bad.err;
}

// Issue 10, item 7, as an intruder with root would do it: cut a copy of the
// log and rewrite audit.key with the index right after the cut, any key and a
// valid checksum. `verify --key audit.key.initial` must fail at the cut; the
// same copy with the key the initial key evolves to there (what an honest
// daemon stopped at that point leaves) verifies.
TEST_F(DaemonTest, Issue10VerifyRefusesATruncatedLogWithARewrittenKeyFile) {
    const auto secret = enroll(alice());
    ASSERT_EQ(request_as(alice(), code(secret)).exit_code, 0);
    daemon_->restart();  // more records: daemon_start, policy_load
    daemon_->restart();
    daemon_->stop();
    const std::string initial = state_ + "/audit.key.initial";
    const std::string log = read_file(state_ + "/audit.log");
    const auto all = records();
    ASSERT_GE(all.size(), 6u);
    const std::uint64_t keep = all.size() - 3;
    std::size_t cut = 0;
    for (std::uint64_t i = 0; i < keep; ++i) cut = log.find('\n', cut) + 1;

    const std::string copy = dir_ + "/cut";
    ASSERT_EQ(::mkdir(copy.c_str(), 0700), 0);
    write_file(copy + "/audit.log", log.substr(0, cut), 0600);
    const auto verify_copy = [&] { return run(ctl({"verify", "--state-dir", copy, "--key", initial})); };

    // The current key file, now ahead of the cut log: caught before this issue too.
    write_file(copy + "/audit.key", read_file(state_ + "/audit.key"), 0600);
    auto r = verify_copy();
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;

    // Rewritten: index keep + 1, a key of the intruder's choosing.
    const std::string at_cut = "FAILED at seq " + std::to_string(keep + 1) + ":";
    auto forged = audit::generate_key();
    ASSERT_TRUE(forged.ok());
    write_file(copy + "/audit.key", audit::encode_key_file(audit::KeyState(*forged, keep + 1)), 0600);
    r = verify_copy();
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_EQ(r.out.rfind(at_cut, 0), 0u) << r.out << r.err;
    EXPECT_NE(r.out.find("audit.key does not hold the key"), std::string::npos) << r.out;
    // The same with the key the intruder does hold: the current one.
    const auto current = audit::decode_key_file(read_file(state_ + "/audit.key"));
    ASSERT_TRUE(current.ok());
    write_file(copy + "/audit.key", audit::encode_key_file(audit::KeyState(current->key, keep + 1)), 0600);
    r = verify_copy();
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_EQ(r.out.rfind(at_cut, 0), 0u) << r.out << r.err;
    // Or rewritten behind the cut, with --json.
    write_file(copy + "/audit.key", audit::encode_key_file(audit::KeyState(current->key, keep - 1)), 0600);
    r = run(ctl({"verify", "--json", "--state-dir", copy, "--key", initial}));
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    const json verdict = json::parse(r.out, nullptr, false);
    EXPECT_EQ(verdict.value("ok", true), false) << r.out;
    EXPECT_EQ(verdict.value("first_bad_seq", 0u), keep + 1) << r.out;

    // What a daemon stopped at the cut would have left verifies, level or behind.
    auto key = audit::read_key_file(initial);
    ASSERT_TRUE(key.ok());
    audit::KeyBytes k = *key;
    for (std::uint64_t i = 1; i < keep - 1; ++i) ASSERT_TRUE(audit::evolve_key(k));
    write_file(copy + "/audit.key", audit::encode_key_file(audit::KeyState(k, keep - 1)), 0600);
    r = verify_copy();
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("audit.key is 2 record(s) behind the log"), std::string::npos) << r.out;
    for (std::uint64_t i = keep - 1; i < keep + 1; ++i) ASSERT_TRUE(audit::evolve_key(k));
    write_file(copy + "/audit.key", audit::encode_key_file(audit::KeyState(k, keep + 1)), 0600);
    r = verify_copy();
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out, "OK: " + std::to_string(keep) + " records, chain and seals verified\n");

    // No key file at all: OK, but the verdict says the end went unchecked.
    ASSERT_EQ(::unlink((copy + "/audit.key").c_str()), 0);
    r = verify_copy();
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("the end of the log was not checked"), std::string::npos) << r.out;
}

// Global options before the subcommand (breakglassctl --socket PATH status),
// against the real daemon: every exit code means what it meant.
TEST_F(DaemonTest, CliGlobalOptionsBeforeTheSubcommandKeepEveryExitCode) {
    const auto ok = run({ctl_program(), "--socket", socket_, "--json", "status"});
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_TRUE(json::parse(ok.out, nullptr, false).is_object()) << ok.out;
    const auto refused = run({ctl_program(), "--socket", socket_, "revoke", "bg-2026-999999"});
    EXPECT_EQ(refused.exit_code, 1) << refused.err;
    EXPECT_NE(refused.err.find("not_found"), std::string::npos) << refused.err;
    const auto misplaced = run({ctl_program(), "--socket", socket_, "--state-dir", state_, "status"});
    EXPECT_EQ(misplaced.exit_code, 2) << misplaced.err;
    EXPECT_NE(misplaced.err.find("--state-dir does not apply to 'status'"), std::string::npos) << misplaced.err;
    const auto unreachable = run({ctl_program(), "--socket", dir_ + "/no-such-socket", "status"});
    EXPECT_EQ(unreachable.exit_code, 3) << unreachable.err;

    // verify reads --state-dir given before it too: 0 on the live log, 4 on a tampered copy.
    const auto verified = run({ctl_program(), "--state-dir", state_, "verify"});
    EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
    const std::string copy = dir_ + "/copy";
    ASSERT_EQ(::mkdir(copy.c_str(), 0700), 0);
    std::string log = read_file(state_ + "/audit.log");
    const auto pos = log.find("daemon_start");
    ASSERT_NE(pos, std::string::npos);
    log[pos] = 'D';
    write_file(copy + "/audit.log", log, 0600);
    const auto tampered = run({ctl_program(), "--json", "--state-dir", copy, "verify"});
    EXPECT_EQ(tampered.exit_code, 4) << tampered.out << tampered.err;
    EXPECT_TRUE(json::parse(tampered.out, nullptr, false).is_object()) << tampered.out;
}

TEST_F(DaemonTest, LogAndStatusNeedTheirPrivileges) {
    const auto log_as_user = run_as(alice(), ctl({"log"}));
    EXPECT_EQ(log_as_user.exit_code, 1);
    EXPECT_NE(log_as_user.err.find("not_permitted"), std::string::npos) << log_as_user.err;
    EXPECT_EQ(log_as_user.out.find("daemon_start"), std::string::npos) << log_as_user.out;
    const auto log_as_root = run(ctl({"log", "--json"}));
    EXPECT_EQ(log_as_root.exit_code, 0) << log_as_root.err;
    EXPECT_NE(log_as_root.out.find("\"event\":\"daemon_start\""), std::string::npos);
    const auto enroll_as_user = run_as(alice(), ctl({"enroll", "totp", alice()}));
    EXPECT_EQ(enroll_as_user.exit_code, 1);
    EXPECT_NE(enroll_as_user.err.find("not_permitted"), std::string::npos) << enroll_as_user.err;
    // Status: a user sees only their own grants, root sees everyone's.
    const auto root_secret = enroll("root");
    ASSERT_EQ(request_as("root", code(root_secret), {"--ttl", "10m"}).exit_code, 0);
    const std::string roots = status(false).grants.at(0).event_id;
    const auto list_as_user = run_as(alice(), ctl({"list", "--all", "--json"}));
    EXPECT_EQ(list_as_user.exit_code, 0) << list_as_user.err;
    EXPECT_EQ(list_as_user.out.find(roots), std::string::npos) << list_as_user.out;
    const auto list_as_root = run(ctl({"list", "--all", "--json"}));
    EXPECT_NE(list_as_root.out.find(roots), std::string::npos) << list_as_root.out;
}

TEST_F(DaemonTest, SessionsAreRecordedUnderTheGrantAndOnlyForTrustedPeers) {
    const auto secret = enroll(alice());
    ASSERT_EQ(request_as(alice(), code(secret), {"--ttl", "10m"}).exit_code, 0);
    const std::string grant_id = status(false).grants.at(0).event_id;

    proto::SessionRequest open{alice(), "breakglass", "session_open", "sshd", "pts/7", "192.0.2.10", 4242, "", ""};
    auto r = proto::call(socket_, open, proto::MessageType::SessionRecorded);
    ASSERT_TRUE(r.answer) << r.error;
    const auto* recorded = std::get_if<proto::SessionRecorded>(&*r.answer);
    ASSERT_NE(recorded, nullptr);
    EXPECT_EQ(recorded->grant_id, grant_id);
    const auto opens = records_of("session_open");
    ASSERT_EQ(opens.size(), 1u);
    EXPECT_EQ(opens[0]["grant_id"], grant_id);
    EXPECT_EQ(opens[0]["actor"], alice());
    EXPECT_EQ(opens[0]["source"], "pts/7 from 192.0.2.10");
    EXPECT_NE(opens[0]["detail"].get<std::string>().find("pid 4242"), std::string::npos);

    // A session outside any grant is still recorded, and says so.
    proto::SessionRequest stray{mallory(), "breakglass", "session_close", "sshd", "", "", 1, "", "exit status 0"};
    r = proto::call(socket_, stray, proto::MessageType::SessionRecorded);
    ASSERT_TRUE(r.answer);
    EXPECT_EQ(std::get<proto::SessionRecorded>(*r.answer).grant_id, "");
    EXPECT_NE(records_of("session_close").at(0)["detail"].get<std::string>().find("no active grant"), std::string::npos);

    // An unprivileged peer cannot write session records.
    const std::size_t before = records().size();
    const int rc = run_function_as(alice(), [&] {
        auto answer = proto::call(socket_, open, proto::MessageType::SessionRecorded);
        if (!answer.answer) return 10;
        const auto* e = std::get_if<proto::ErrorAnswer>(&*answer.answer);
        return e && e->code == proto::ErrorCode::NotPermitted ? 0 : 11;
    });
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(records().size(), before);

    // Control characters are refused, not recorded.
    proto::SessionRequest hostile = open;
    hostile.tty = "pts/1\x1b[2J";
    r = proto::call(socket_, hostile, proto::MessageType::SessionRecorded);
    ASSERT_TRUE(r.answer);
    EXPECT_TRUE(std::holds_alternative<proto::ErrorAnswer>(*r.answer));
    EXPECT_EQ(records().size(), before);
}

// The sudo plugin's check: a CommandRequest records the command only under an
// active grant, durably, and answers as a Check would without one.
TEST_F(DaemonTest, CommandIsRecordedInTheCheckOnlyUnderAnActiveGrant) {
    const proto::CommandRequest command{alice(), "breakglass", "sudo", "pts/3", 4242, "id -g",
                                        "cwd=/ runas=" + alice() + ":breakglass", "breakglass"};
    proto::Client client(socket_);
    auto r = client.call(command, proto::MessageType::CommandAnswer);
    ASSERT_TRUE(r.answer) << r.error;
    const auto* none = std::get_if<proto::CommandAnswer>(&*r.answer);
    ASSERT_NE(none, nullptr);
    EXPECT_FALSE(none->active);
    EXPECT_EQ(none->record_event_id, "");
    EXPECT_TRUE(records_of("command").empty()) << "nothing is recorded without a grant";

    const auto secret = enroll(alice());
    ASSERT_EQ(request_as(alice(), code(secret), {"--ttl", "10m"}).exit_code, 0);
    const proto::GrantInfo grant = status(false).grants.at(0);
    // The same connection: one per sudo run.
    r = client.call(command, proto::MessageType::CommandAnswer);
    ASSERT_TRUE(r.answer) << r.error;
    const auto* recorded = std::get_if<proto::CommandAnswer>(&*r.answer);
    ASSERT_NE(recorded, nullptr);
    EXPECT_TRUE(recorded->active);
    EXPECT_EQ(recorded->grant_id, grant.event_id);
    EXPECT_EQ(recorded->expires_at, grant.expires_at);
    EXPECT_EQ(client.connections_made(), 1);
    const auto commands = records_of("command");
    ASSERT_EQ(commands.size(), 1u);
    EXPECT_EQ(commands[0]["event_id"], recorded->record_event_id);
    EXPECT_EQ(commands[0]["grant_id"], grant.event_id);
    EXPECT_EQ(commands[0]["actor"], alice());
    EXPECT_EQ(commands[0]["target"], "id -g");
    EXPECT_EQ(commands[0]["source"], "pts/3");
    EXPECT_EQ(commands[0]["action"], "sudo");
    EXPECT_EQ(commands[0]["detail"], "pid 4242; cwd=/ runas=" + alice() + ":breakglass");

    // Only root or a trusted front-end may record a command.
    const std::size_t before = records().size();
    const int rc = run_function_as(alice(), [&] {
        auto answer = proto::call(socket_, command, proto::MessageType::CommandAnswer);
        if (!answer.answer) return 10;
        const auto* e = std::get_if<proto::ErrorAnswer>(&*answer.answer);
        return e && e->code == proto::ErrorCode::NotPermitted ? 0 : 11;
    });
    EXPECT_EQ(rc, 0);
    // Control characters are refused, not recorded.
    proto::CommandRequest hostile = command;
    hostile.command = "id\x1b[2J";
    r = client.call(hostile, proto::MessageType::CommandAnswer);
    ASSERT_TRUE(r.answer);
    EXPECT_TRUE(std::holds_alternative<proto::ErrorAnswer>(*r.answer));
    EXPECT_EQ(records().size(), before);

    // Issue 10, item 9: the check names the run-as group (or user) that made
    // the command gated, and the policy must map it to the gate, grant or not.
    proto::CommandRequest unnamed = command;
    unnamed.runas_group.clear();
    r = client.call(unnamed, proto::MessageType::CommandAnswer);
    ASSERT_TRUE(r.answer);
    const auto* bad = std::get_if<proto::ErrorAnswer>(&*r.answer);
    ASSERT_NE(bad, nullptr);
    EXPECT_EQ(bad->code, proto::ErrorCode::BadRequest) << bad->message;
    EXPECT_EQ(records().size(), before);
    proto::CommandRequest unmapped = command;
    unmapped.runas_group = "not-breakglass";
    r = client.call(unmapped, proto::MessageType::CommandAnswer);
    ASSERT_TRUE(r.answer);
    const auto* denied = std::get_if<proto::ErrorAnswer>(&*r.answer);
    ASSERT_NE(denied, nullptr);
    EXPECT_EQ(denied->code, proto::ErrorCode::Denied) << denied->message;
    const auto denies = records_of("deny");
    ASSERT_FALSE(denies.empty());
    EXPECT_EQ(denies.back()["grant_id"], grant.event_id);
    EXPECT_NE(denies.back()["detail"].get<std::string>().find("'not-breakglass'"), std::string::npos)
        << denies.back().dump();
    EXPECT_EQ(records_of("command").size(), 1u) << "nothing recorded as run";
}

// ---- YubiKey OTP through the daemon: enrolment by the CLI (secrets on stdin),
// OTPs made by libyubikey from a key generated here.

class YubikeyDaemonTest : public DaemonTest {
protected:
    yubikey::test::TestYubikey enroll_yubikey(const std::string& user) {
        auto key = yubikey::test::TestYubikey::random();
        const std::string line = to_hex(key.aes_key.data(), key.aes_key.size()) + " " +
                                 to_hex(key.private_uid.data(), key.private_uid.size()) + "\n";
        const auto r = run(ctl({"enroll", "yubikey", user, "--public-id", key.public_id}), line);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        // The secrets never reach the log.
        EXPECT_EQ(read_file(state_ + "/audit.log").find(to_hex(key.aes_key.data(), key.aes_key.size())), std::string::npos);
        return key;
    }
    static std::string to_hex(const unsigned char* p, std::size_t n) {
        static constexpr char kHex[] = "0123456789abcdef";
        std::string out;
        for (std::size_t i = 0; i < n; ++i) {
            out += kHex[p[i] >> 4];
            out += kHex[p[i] & 0xF];
        }
        return out;
    }
    proto::Message grant_with(const std::string& user, const std::string& factor) const {
        proto::GrantRequest g{user, "breakglass", "disk full on db-3", "INC-77", "", 600, factor, "pts/2", "test"};
        auto r = proto::call(socket_, g, proto::MessageType::Granted);
        EXPECT_TRUE(r.answer) << r.error;
        return r.answer ? *r.answer : proto::Message(proto::ErrorAnswer{});
    }
    // Revokes every active grant and waits for each revoke's terminate
    // record, which the daemon writes after it answers.
    void revoke_all() {
        const std::size_t terminates = records_of("terminate").size();
        std::size_t revoked = 0;
        for (const auto& g : status(false).grants) {
            EXPECT_EQ(run(ctl({"revoke", g.event_id})).exit_code, 0);
            ++revoked;
        }
        EXPECT_EQ(daemon_->audit().wait_for("terminate", terminates + revoked, 5s).size(), terminates + revoked);
    }
};

TEST_F(YubikeyDaemonTest, ValidOtpGrantsAndEveryBadOneIsRefusedWithARecord) {
    const auto key = enroll_yubikey(alice());
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(grant_with(alice(), key.otp(5, 10))));
    const auto grants = records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0]["factor"], "yubikey:" + key.public_id);
    EXPECT_EQ(grants[0]["factor_counter"], (5u << 8) | 10u);
    revoke_all();

    auto other = yubikey::test::TestYubikey::random();
    other.public_id = key.public_id;  // same public id, different secrets
    auto unknown = yubikey::test::TestYubikey::random();
    const struct {
        const char* name;
        std::string otp;
        const char* message;
    } cases[] = {
        {"replay of the same OTP", key.otp(5, 10), "replayed"},
        {"lower session counter", key.otp(4, 200), "replayed"},
        {"equal session, lower use counter", key.otp(5, 9), "replayed"},
        {"equal session, equal use counter", key.otp(5, 10), "replayed"},
        {"flipped CRC", key.otp(6, 0, false), "CRC"},
        {"wrong key", other.otp(7, 0), "CRC"},
        {"unknown public id", unknown.otp(1, 0), "not enrolled"},
    };
    for (const auto& c : cases) {
        const std::size_t before = records().size();
        const auto answer = grant_with(alice(), c.otp);
        const auto* e = std::get_if<proto::ErrorAnswer>(&answer);
        ASSERT_NE(e, nullptr) << c.name;
        EXPECT_EQ(e->code, proto::ErrorCode::AuthFailed) << c.name;
        EXPECT_NE(e->message.find(c.message), std::string::npos) << c.name << ": " << e->message;
        const auto all = records();
        ASSERT_EQ(all.size(), before + 1) << c.name;
        EXPECT_EQ(all.back()["event"], "auth_failed") << c.name;
        if (failures_left_ > 0 && --failures_left_ == 0) restart_clearing_rate_limit();
    }
    // Wrong private uid: same AES key, different uid.
    auto wrong_uid = key;
    wrong_uid.private_uid[0] ^= 0xFF;
    const auto answer = grant_with(alice(), wrong_uid.otp(9, 0));
    ASSERT_TRUE(std::holds_alternative<proto::ErrorAnswer>(answer));
    EXPECT_NE(std::get<proto::ErrorAnswer>(answer).message.find("private id"), std::string::npos);
    // A higher counter from the real key still works afterwards.
    restart_clearing_rate_limit();
    EXPECT_TRUE(std::holds_alternative<proto::Granted>(grant_with(alice(), key.otp(5, 11))));
}

TEST_F(YubikeyDaemonTest, GateThatAcceptsOnlyTotpRefusesAYubikeyOtp) {
    const auto key = enroll_yubikey(alice());
    proto::GrantRequest g{alice(), "totp-only", "r", "INC-1", "", 0, key.otp(1, 1), "", ""};
    auto r = proto::call(socket_, g, proto::MessageType::Granted);
    ASSERT_TRUE(r.answer);
    const auto* e = std::get_if<proto::ErrorAnswer>(&*r.answer);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->code, proto::ErrorCode::Denied);
    EXPECT_NE(e->message.find("yubikey"), std::string::npos) << e->message;
    EXPECT_EQ(records().back()["event"], "deny");
}

// One OTP submitted eight times at once, each copy for a different gate: no
// "already holds" stands in the way, so only replay protection can refuse
// the copies. Exactly one grants; the first refusals say "replayed", and once
// those three failures have counted, the limiter refuses the rest. Of the
// seven refusals the first five are records of their own; the other two are
// only counted (RefusalBudget: five refusal records a minute per requester).
TEST_F(YubikeyDaemonTest, EightConcurrentSubmissionsOfOneOtpGrantExactlyOnce) {
    const auto key = enroll_yubikey(alice());
    const std::string otp = key.otp(1, 1);
    std::vector<std::thread> threads;
    std::vector<std::optional<proto::Message>> answers(kRaceGates);
    std::latch start(kRaceGates);
    for (int i = 0; i < kRaceGates; ++i)
        threads.emplace_back([&, i] {
            proto::GrantRequest g{alice(), "race-" + std::to_string(i + 1), "race", "INC-8", "", 600, otp, "", ""};
            start.arrive_and_wait();
            auto r = proto::call(socket_, g, proto::MessageType::Granted);
            answers[static_cast<std::size_t>(i)] = r.answer;
        });
    for (auto& t : threads) t.join();
    int granted = 0, replayed = 0, rate_limited = 0;
    for (const auto& answer : answers) {
        ASSERT_TRUE(answer.has_value()) << "every submission is answered";
        if (std::holds_alternative<proto::Granted>(*answer)) {
            ++granted;
            continue;
        }
        const auto* e = std::get_if<proto::ErrorAnswer>(&*answer);
        ASSERT_NE(e, nullptr);
        if (e->code == proto::ErrorCode::AuthFailed && e->message.find("replayed") != std::string::npos) ++replayed;
        else if (e->code == proto::ErrorCode::RateLimited) ++rate_limited;
        else ADD_FAILURE() << "refused for another reason: " << e->message;
    }
    EXPECT_EQ(granted, 1);
    EXPECT_EQ(replayed, 3);
    EXPECT_EQ(rate_limited, kRaceGates - 4);
    EXPECT_EQ(records_of("grant").size(), 1u);
    EXPECT_EQ(records_of("auth_failed").size(), 3u);
    EXPECT_EQ(records_of("rate_limited").size(), 2u);
    EXPECT_EQ(status(false).grants.size(), 1u);
}

TEST_F(YubikeyDaemonTest, ReplayStateSurvivesARestart) {
    const auto key = enroll_yubikey(alice());
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(grant_with(alice(), key.otp(3, 3))));
    revoke_all();
    daemon_->kill();
    ::unlink((state_ + "/state.json").c_str());  // the counter comes back from the log alone
    daemon_->start();
    const auto answer = grant_with(alice(), key.otp(3, 3));
    ASSERT_TRUE(std::holds_alternative<proto::ErrorAnswer>(answer));
    EXPECT_NE(std::get<proto::ErrorAnswer>(answer).message.find("replayed"), std::string::npos);
}

TEST(DaemonUnreachable, CliSaysSoWithExitThree) {
    const auto r = run({ctl_program(), "status", "--socket", "/nonexistent/socket"});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("breakglassd"), std::string::npos);
}

}  // namespace
}  // namespace bg::test
