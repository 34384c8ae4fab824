// SPDX-License-Identifier: ISC
// Offline approvals (issue 13, item 3), through the real daemon and
// breakglassctl, with real users unique to the run: the requester waits in
// `breakglassctl request`, which shows a request code; approvers sign tokens
// with `breakglassctl approve --offline` (no daemon) and keys from
// `breakglassctl approver-key generate`; the token is pasted at the waiting
// request or submitted by the requester. Every refused token is an
// approval_refused record saying why. Needs root.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/protocol.hpp"
#include "common/transport.hpp"
#include "helper/mfa/totp.hpp"
#include "helper/workflow/offline_token.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/files.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/process.hpp"
#include "tests/support/run_directory.hpp"
#include "tests/support/test_accounts.hpp"
#include "tests/support/test_daemon.hpp"

namespace bg::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

std::string last_line(const std::string& s) {
    std::string t = s;
    while (!t.empty() && t.back() == '\n') t.pop_back();
    const auto nl = t.rfind('\n');
    return nl == std::string::npos ? t : t.substr(nl + 1);
}

class OfflineApprovalTest : public ::testing::Test {
protected:
    void TearDown() override {
        if (HasFailure() && daemon_) std::fprintf(stderr, "daemon log:\n%s\n", daemon_->log().c_str());
        if (fifo_fd_ >= 0) ::close(fifo_fd_);
    }
    // Gates "pair" and "other": alice (and mallory) request, `approvals` of
    // %leads (alice, bob, carol) approve. Keys: bob, carol and alice in
    // [approver_keys], mallory's too (not an approver); eve's key is not.
    void start(int approvals = 1) {
        DaemonOptions options;
        options.start = false;
        daemon_ = std::make_unique<TestDaemon>("", options);
        std::string keys = "\n[approver_keys]\n";
        for (const TestUser* u : {&alice_, &bob_, &carol_, &mallory_}) keys += generate_key(u->name()) + "\n";
        (void)generate_key("eve");
        const std::string gate_body = "requesters = [\"" + alice_.name() + "\", \"" + mallory_.name() +
                                      "\"]\nttl = \"30m\"\napprovals = " + std::to_string(approvals) +
                                      "\napprovers = [\"%" + leads_.name() + "\"]\n";
        daemon_->write_policy("[defaults]\nincident_pattern = '^INC-[0-9]+$'\nfactors = [\"totp\"]\n\n[gate.pair]\n" +
                              gate_body + "\n[gate.other]\n" + gate_body + keys);
        daemon_->start();
        ASSERT_EQ(daemon_->log().find("no valid policy"), std::string::npos) << daemon_->log();
        for (const TestUser* u : {&alice_, &mallory_}) {
            const auto secret = random_totp_secret();
            const auto r = run(daemon_->ctl({"enroll", "totp", u->name(), "--secret-stdin"}),
                               totp::base32_encode(secret) + "\n");
            ASSERT_EQ(r.exit_code, 0) << r.err;
            secrets_[u->name()] = secret;
        }
    }
    std::string key_file(const std::string& name) const { return daemon_->dir() + "/" + name + ".key"; }
    // `approver-key generate` as root (the approver's own machine); the policy line.
    std::string generate_key(const std::string& name) {
        const auto r = run(daemon_->ctl({"approver-key", "generate", "--out", key_file(name), "--name", name}));
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        return last_line(r.out);
    }
    // `approve --offline` as root with NAME's key; the token ("" if refused).
    std::string sign(const std::string& name, const std::string& code, const std::string& valid = "1h") {
        const auto r =
            run(daemon_->ctl({"approve", "--offline", "--code", code, "--key", key_file(name), "--valid", valid}));
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        return last_line(r.out);
    }
    std::string code(const TestUser& u) { return totp_code_now(secrets_.at(u.name())); }

    // `breakglassctl request` as `who`, left waiting; stdin a FIFO the test
    // writes (the one-time code first, tokens later) when `fifo`, else a
    // here document with the code only.
    std::unique_ptr<ChildProcess> request_in_background(const TestUser& who, const std::string& gate = "pair",
                                                        bool fifo = false) {
        std::string command = "exec";
        for (const std::string& a :
             daemon_->ctl({"request", "--gate", gate, "--reason", "db down", "--incident", "INC-7"}))
            command += " '" + a + "'";
        const std::string fifo_path = daemon_->dir() + "/request.in";
        if (fifo) {
            EXPECT_EQ(::mkfifo(fifo_path.c_str(), 0600), 0);
            EXPECT_EQ(::chown(fifo_path.c_str(), who.uid(), who.gid()), 0);
            command += " < '" + fifo_path + "'";
        } else {
            command += " <<'END'\n" + code(who) + "\nEND\n";
        }
        SpawnOptions options;
        options.log_path = request_log_path();
        options.as = credentials_of(who.name());
        const std::size_t before = daemon_->audit().records_of("request").size();
        auto child = std::make_unique<ChildProcess>(std::vector<std::string>{"/bin/sh", "-c", command}, options);
        if (fifo) {
            fifo_fd_ = ::open(fifo_path.c_str(), O_WRONLY | O_CLOEXEC);  // the shell opened it for reading
            EXPECT_GE(fifo_fd_, 0);
            type(code(who));
        }
        const auto requests = daemon_->audit().wait_for("request", before + 1, 20s);
        EXPECT_EQ(requests.size(), before + 1) << read_file(options.log_path);
        request_id_ = requests.size() == before + 1 ? requests.back()["event_id"].get<std::string>() : "";
        // The whole line: the log is written as the command writes it.
        EXPECT_TRUE(eventually(
            [&] {
                const std::string log = request_log();
                const auto at = log.rfind("Request code: ");
                return at != std::string::npos && log.find('\n', at) != std::string::npos;
            },
            10s))
            << request_log();
        const std::string log = request_log();
        const auto at = log.rfind("Request code: ");
        request_code_ = at == std::string::npos ? "" : log.substr(at + 14, log.find('\n', at) - at - 14);
        return child;
    }
    void type(const std::string& line) {
        const std::string text = line + "\n";
        EXPECT_EQ(::write(fifo_fd_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    }
    std::string request_log_path() const { return daemon_->dir() + "/request.log"; }
    std::string request_log() const { return read_file(request_log_path()); }
    // The requester submits a token through the protocol (as the waiting
    // front-end does); 0 when accepted.
    int submit(const TestUser& who, const std::string& request_id, const std::string& token) {
        const std::string socket = daemon_->socket();
        return run_function_as(who.name(), [&] {
            const auto r = proto::call(socket, proto::SubmitTokenRequest{"", request_id, token},
                                       proto::MessageType::TokenAccepted);
            if (!r.answer) return 2;
            return std::holds_alternative<proto::TokenAccepted>(*r.answer) ? 0 : 1;
        });
    }
    // The approval_refused records of offline tokens, oldest first.
    std::vector<json> refused_tokens() const {
        std::vector<json> out;
        for (const json& r : daemon_->audit().records_of("approval_refused"))
            if (r["factor"] == "offline_token") out.push_back(r);
        return out;
    }
    // The code with one part replaced (the check recomputed: the approver's
    // tool would sign it as readily).
    std::string altered_code(const std::string& part, const std::string& value) const {
        auto c = workflow::parse_request_code(request_code_);
        EXPECT_TRUE(c) << request_code_;
        if (part == "host") c->host = value;
        if (part == "actor") c->actor = value;
        if (part == "gate") c->gate = value;
        if (part == "request") c->digest[3] ^= 0x40;
        return workflow::format_request_code(*c);
    }

    TestGroup leads_{"leads"};
    TestUser alice_{"alice", {.groups = {leads_.name()}}};
    TestUser bob_{"bob", {.groups = {leads_.name()}}};
    TestUser carol_{"carol", {.groups = {leads_.name()}}};
    TestUser mallory_{"mallory"};
    std::map<std::string, std::vector<unsigned char>> secrets_;
    std::unique_ptr<TestDaemon> daemon_;
    std::string request_id_, request_code_;
    int fifo_fd_ = -1;
};

// The whole path on the requester's side: the waiting `request` shows the
// code, the approver signs it offline, the token pasted at the waiting
// request grants; the approve record names the approver and the token's
// digest, the grant record the approver.
TEST_F(OfflineApprovalTest, AValidTokenPastedAtTheWaitingRequestGrants) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto waiting = request_in_background(alice_, "pair", true);
    ASSERT_FALSE(request_id_.empty());
    ASSERT_FALSE(request_code_.empty()) << request_log();
    EXPECT_EQ(request_code_.rfind(alice_.name() + "@", 0), 0u) << request_code_;
    EXPECT_NE(request_code_.find("/pair/"), std::string::npos) << request_code_;
    const auto parsed = workflow::parse_request_code(request_code_);
    ASSERT_TRUE(parsed) << parsed.error().message;

    const std::string token = sign(bob_.name(), request_code_);
    ASSERT_TRUE(workflow::parse_approval_token(token)) << token;
    EXPECT_FALSE(daemon_->active(alice_.name(), "pair"));
    type(token);
    ASSERT_TRUE(waiting->ended_within(10s)) << request_log();
    EXPECT_TRUE(waiting->exited_with(0)) << request_log();
    EXPECT_NE(request_log().find("approval token accepted: approved by " + bob_.name()), std::string::npos)
        << request_log();
    EXPECT_TRUE(daemon_->active(alice_.name(), "pair"));

    const auto approvals = daemon_->audit().records_of("approve");
    ASSERT_EQ(approvals.size(), 1u);
    EXPECT_EQ(approvals[0]["actor"], bob_.name());
    EXPECT_EQ(approvals[0]["approver"], bob_.name());
    EXPECT_EQ(approvals[0]["factor"], "offline_token");
    EXPECT_EQ(approvals[0]["grant_id"], request_id_);
    const std::string digest = workflow::token_digest(*workflow::parse_approval_token(token));
    EXPECT_NE(approvals[0]["detail"].get<std::string>().find("offline token " + digest), std::string::npos)
        << approvals[0].dump();
    const auto grants = daemon_->audit().records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0]["approver"], bob_.name());
    EXPECT_EQ(grants[0]["grant_id"], request_id_);
    EXPECT_TRUE(refused_tokens().empty());
}

// Tokens made for another host, another user's request, another gate or
// another request are refused, each with an approval_refused record that
// says which; the request stays pending and a fitting token still grants.
TEST_F(OfflineApprovalTest, ATokenForAnotherHostUserGateOrRequestIsRefused) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto waiting = request_in_background(alice_);
    ASSERT_FALSE(request_code_.empty()) << request_log();
    const std::vector<std::pair<std::string, std::string>> cases = {
        {altered_code("host", "elsewhere"), "another host"},
        {altered_code("actor", mallory_.name()), "another user's request"},
        {altered_code("gate", "other"), "another gate"},
        {altered_code("request", ""), "another request"}};
    for (const auto& [other_code, why] : cases) {
        const std::string token = sign(bob_.name(), other_code);
        EXPECT_EQ(submit(alice_, request_id_, token), 1) << why;
        const auto refused = refused_tokens();
        ASSERT_FALSE(refused.empty()) << why;
        EXPECT_NE(refused.back()["detail"].get<std::string>().find(why), std::string::npos) << refused.back().dump();
        EXPECT_EQ(refused.back()["actor"], alice_.name());
        EXPECT_EQ(refused.back()["approver"], bob_.name());
        EXPECT_EQ(refused.back()["grant_id"], request_id_);
    }
    EXPECT_EQ(refused_tokens().size(), cases.size());
    EXPECT_FALSE(daemon_->active(alice_.name(), "pair"));
    EXPECT_EQ(daemon_->audit().records_of("approve").size(), 0u);
    EXPECT_TRUE(waiting->running()) << request_log();
    EXPECT_EQ(submit(alice_, request_id_, sign(carol_.name(), request_code_)), 0);
    EXPECT_TRUE(daemon_->active(alice_.name(), "pair"));
    ASSERT_TRUE(waiting->ended_within(10s)) << request_log();
    EXPECT_TRUE(waiting->exited_with(0)) << request_log();
}

// Expired, truncated, signed by a key not in the policy, signed by the
// requester herself, signed by someone who is no approver of the gate:
// refused, each with its record.
TEST_F(OfflineApprovalTest, ExpiredTruncatedUnknownKeySelfAndNonApproverTokensAreRefused) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto waiting = request_in_background(alice_);
    ASSERT_FALSE(request_code_.empty()) << request_log();
    const std::string short_lived = sign(bob_.name(), request_code_, "1s");
    const std::string valid = sign(bob_.name(), request_code_);
    const std::vector<std::pair<std::string, std::string>> cases = {
        {valid.substr(0, valid.size() - 6), "truncated"},
        {sign("eve", request_code_), "not in the policy's [approver_keys]"},
        {sign(alice_.name(), request_code_), "may not approve their own request"},
        {sign(mallory_.name(), request_code_), "is not an approver of gate 'pair'"}};
    for (const auto& [token, why] : cases) {
        EXPECT_EQ(submit(alice_, request_id_, token), 1) << why;
        const auto refused = refused_tokens();
        ASSERT_FALSE(refused.empty()) << why;
        EXPECT_NE(refused.back()["detail"].get<std::string>().find(why), std::string::npos) << refused.back().dump();
    }
    wait_until_unix_time(unix_now() + 3);
    EXPECT_EQ(submit(alice_, request_id_, short_lived), 1);
    ASSERT_EQ(refused_tokens().size(), cases.size() + 1);
    EXPECT_NE(refused_tokens().back()["detail"].get<std::string>().find("expired at"), std::string::npos)
        << refused_tokens().back().dump();
    EXPECT_FALSE(daemon_->active(alice_.name(), "pair"));
    EXPECT_EQ(daemon_->audit().records_of("approve").size(), 0u);
    EXPECT_TRUE(waiting->running()) << request_log();
}

// A token counts once: replayed on the same request (which needs two
// approvals) it is refused, and still after a daemon restart, from the log.
// Another user cannot submit it for the requester.
TEST_F(OfflineApprovalTest, AReplayedTokenIsRefusedAlsoAfterARestart) {
    ASSERT_NO_FATAL_FAILURE(start(2));
    auto waiting = request_in_background(alice_);
    ASSERT_FALSE(request_code_.empty()) << request_log();
    const std::string token = sign(bob_.name(), request_code_);
    EXPECT_EQ(submit(mallory_, request_id_, token), 1) << "not mallory's request";
    EXPECT_EQ(daemon_->audit().records_of("approve").size(), 0u);
    EXPECT_EQ(submit(alice_, request_id_, token), 0);
    EXPECT_EQ(daemon_->audit().records_of("approve").size(), 1u);
    EXPECT_EQ(submit(alice_, request_id_, token), 1);
    ASSERT_FALSE(refused_tokens().empty());
    EXPECT_NE(refused_tokens().back()["detail"].get<std::string>().find("used already"), std::string::npos)
        << refused_tokens().back().dump();
    daemon_->restart();
    const std::size_t before = refused_tokens().size();
    EXPECT_EQ(submit(alice_, request_id_, token), 1);
    ASSERT_EQ(refused_tokens().size(), before + 1);
    EXPECT_NE(refused_tokens().back()["detail"].get<std::string>().find("used already"), std::string::npos)
        << refused_tokens().back().dump();
    EXPECT_FALSE(daemon_->active(alice_.name(), "pair")) << "one token, one approval of two";
    EXPECT_EQ(submit(alice_, request_id_, sign(carol_.name(), request_code_)), 0);
    EXPECT_TRUE(daemon_->active(alice_.name(), "pair"));
    const auto grants = daemon_->audit().records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0]["approver"], bob_.name() + ", " + carol_.name());
    ASSERT_TRUE(waiting->ended_within(10s)) << request_log();
    EXPECT_TRUE(waiting->exited_with(0)) << request_log();
}

// `approver-key generate` as the approver: a 0600 key of theirs, the policy
// line on stdout, never over an existing file; `approve --offline` needs no
// daemon and refuses a mistyped code.
TEST_F(OfflineApprovalTest, ApproverKeyGenerateAndOfflineApproveWorkWithoutADaemon) {
    DaemonOptions options;
    options.start = false;  // no daemon: its socket does not exist
    daemon_ = std::make_unique<TestDaemon>("", options);
    ScratchDir home("approver-home");
    ASSERT_EQ(::chown(home.path().c_str(), bob_.uid(), bob_.gid()), 0);
    ASSERT_EQ(::chmod(home.path().c_str(), 0755), 0);
    const std::string key = home.path() + "/bob.key";
    const auto ctl = [&](std::vector<std::string> args) { return daemon_->ctl(std::move(args)); };
    const auto made = run_as(bob_.name(), ctl({"approver-key", "generate", "--out", key}));
    ASSERT_EQ(made.exit_code, 0) << made.err;
    EXPECT_EQ(made.out.rfind(bob_.name() + " = \"ed25519:", 0), 0u) << made.out;
    struct stat st {};
    ASSERT_EQ(::stat(key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_uid, bob_.uid());
    const std::string before = read_file(key);
    const auto again = run_as(bob_.name(), ctl({"approver-key", "generate", "--out", key}));
    EXPECT_NE(again.exit_code, 0) << again.out;
    EXPECT_EQ(read_file(key), before) << "an existing key is never replaced";

    const workflow::RequestCode c{alice_.name(), "web1", "pair",
                                  workflow::request_digest("web1", alice_.name(), "pair", "r", "INC-1", "bg-1", "n")};
    const std::string code_text = workflow::format_request_code(c);
    const auto token = run_as(bob_.name(), ctl({"approve", "--offline", "--code", code_text, "--key", key}));
    ASSERT_EQ(token.exit_code, 0) << token.err;
    EXPECT_NE(token.err.find("approving " + alice_.name() + "'s request on host web1 for gate 'pair'"),
              std::string::npos)
        << token.err;
    const auto parsed = workflow::parse_approval_token(last_line(token.out));
    ASSERT_TRUE(parsed) << token.out;
    const auto public_key = audit::parse_ed25519_public_key(
        made.out.substr(made.out.find('"') + 1, made.out.rfind('"') - made.out.find('"') - 1));
    ASSERT_TRUE(public_key);
    EXPECT_TRUE(workflow::check_approval_token(*parsed, c, {{bob_.name(), *public_key}}).ok);

    std::string typo = code_text;
    typo.back() = typo.back() == 'A' ? 'B' : 'A';
    const auto mistyped = run_as(bob_.name(), ctl({"approve", "--offline", "--code", typo, "--key", key}));
    EXPECT_EQ(mistyped.exit_code, 2) << mistyped.out;
    EXPECT_NE(mistyped.err.find("mistyped"), std::string::npos) << mistyped.err;
    // Someone else's key file is not theirs to sign with.
    const auto stolen = run_as(carol_.name(), ctl({"approve", "--offline", "--code", code_text, "--key", key}));
    EXPECT_NE(stolen.exit_code, 0) << stolen.out;
}

}  // namespace
}  // namespace bg::test
