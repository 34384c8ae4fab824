// SPDX-License-Identifier: ISC
// Approvals with separation of duties (issue 13), through the real daemon and
// breakglassctl run as real users unique to the run: the requester waits in
// `breakglassctl request` while approvers use `pending`, `approve` and
// `deny`. Needs root.
#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/protocol.hpp"
#include "common/transport.hpp"
#include "helper/mfa/totp.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/files.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_accounts.hpp"
#include "tests/support/test_daemon.hpp"

namespace bg::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

class ApprovalTest : public ::testing::Test {
protected:
    void TearDown() override {
        if (HasFailure() && daemon_) std::fprintf(stderr, "daemon log:\n%s\n", daemon_->log().c_str());
    }
    // Gate "pair": alice requests, two of %leads (alice, bob, carol) approve.
    void start(const std::string& timeout = "15m", int approvals = 2) {
        const std::string policy = "[defaults]\nincident_pattern = '^INC-[0-9]+$'\nfactors = [\"totp\"]\n\n"
                                   "[gate.pair]\nrequesters = [\"" + alice_.name() + "\"]\nttl = \"30m\"\n"
                                   "approvals = " + std::to_string(approvals) + "\napprovers = [\"%" + leads_.name() +
                                   "\"]\napproval_timeout = \"" + timeout + "\"\n";
        daemon_ = std::make_unique<TestDaemon>(policy);
        ASSERT_EQ(daemon_->log().find("no valid policy"), std::string::npos) << daemon_->log();
        for (const TestUser* u : {&alice_, &bob_, &carol_, &mallory_}) {
            const auto secret = random_totp_secret();
            const auto r = run(daemon_->ctl({"enroll", "totp", u->name(), "--secret-stdin"}),
                               totp::base32_encode(secret) + "\n");
            ASSERT_EQ(r.exit_code, 0) << r.err;
            secrets_[u->name()] = secret;
        }
    }
    std::string code(const TestUser& u) { return totp_code_now(secrets_.at(u.name())); }
    // `breakglassctl request` as alice, left waiting; its stdin is a here
    // document with her code, so that the process is breakglassctl itself (signals).
    std::unique_ptr<ChildProcess> request_in_background() {
        std::string command = "exec";
        for (const std::string& a :
             daemon_->ctl({"request", "--gate", "pair", "--reason", "db down", "--incident", "INC-7"}))
            command += " '" + a + "'";
        command += " <<'END'\n" + code(alice_) + "\nEND\n";
        SpawnOptions options;
        options.log_path = daemon_->dir() + "/request.log";
        options.as = credentials_of(alice_.name());
        auto child = std::make_unique<ChildProcess>(std::vector<std::string>{"/bin/sh", "-c", command}, options);
        const auto requests = daemon_->audit().wait_for("request", 1, 20s);
        EXPECT_EQ(requests.size(), 1u) << read_file(options.log_path);
        request_id_ = requests.empty() ? "" : requests.back()["event_id"].get<std::string>();
        return child;
    }
    std::string request_log() const { return read_file(daemon_->dir() + "/request.log"); }
    ProcessResult approve(const TestUser& u, const std::string& id) {
        return run_as(u.name(), daemon_->ctl({"approve", id, "--note", "ok"}), code(u) + "\n");
    }
    std::vector<json> refused_by(const TestUser& u) const {
        std::vector<json> out;
        for (const json& r : daemon_->audit().records_of("approval_refused"))
            if (r["actor"] == u.name()) out.push_back(r);
        return out;
    }

    TestGroup leads_{"leads"};
    TestUser alice_{"alice", {.groups = {leads_.name()}}};
    TestUser bob_{"bob", {.groups = {leads_.name()}}};
    TestUser carol_{"carol", {.groups = {leads_.name()}}};
    TestUser mallory_{"mallory"};
    std::map<std::string, std::vector<unsigned char>> secrets_;
    std::unique_ptr<TestDaemon> daemon_;
    std::string request_id_;
};

// Self-approval, an approver not in `approvers` and the same approver twice
// are refused (exit 1) with approval_refused records; two different approvers
// make the grant, whose record names them; the waiting request prints it.
TEST_F(ApprovalTest, TwoDifferentApproversGrantAndEveryRefusalIsRecorded) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto waiting = request_in_background();
    ASSERT_FALSE(request_id_.empty());
    const json request = daemon_->audit().records_of("request").back();
    EXPECT_EQ(request["actor"], alice_.name());
    EXPECT_EQ(request["reason"], "db down");
    EXPECT_EQ(request["incident_ref"], "INC-7");
    EXPECT_EQ(request["factor"], "totp");
    EXPECT_FALSE(daemon_->active(alice_.name(), "pair"));

    const auto by_mallory = approve(mallory_, request_id_);
    EXPECT_EQ(by_mallory.exit_code, 1) << by_mallory.out << by_mallory.err;
    EXPECT_NE(by_mallory.err.find("not an approver"), std::string::npos) << by_mallory.err;
    EXPECT_EQ(refused_by(mallory_).size(), 1u);

    const auto by_alice = approve(alice_, request_id_);
    EXPECT_EQ(by_alice.exit_code, 1) << by_alice.out << by_alice.err;
    EXPECT_NE(by_alice.err.find("own request"), std::string::npos) << by_alice.err;
    ASSERT_EQ(refused_by(alice_).size(), 1u);
    EXPECT_EQ(refused_by(alice_)[0]["grant_id"], request_id_);

    // What each may approve: bob sees the request, mallory and alice nothing.
    const auto bob_pending = run_as(bob_.name(), daemon_->ctl({"pending"}));
    EXPECT_EQ(bob_pending.exit_code, 0) << bob_pending.err;
    EXPECT_NE(bob_pending.out.find(request_id_), std::string::npos) << bob_pending.out;
    for (const TestUser* u : {&mallory_, &alice_}) {
        const auto none = run_as(u->name(), daemon_->ctl({"pending"}));
        EXPECT_EQ(none.exit_code, 0) << none.err;
        EXPECT_EQ(none.out.find(request_id_), std::string::npos) << u->name() << ": " << none.out;
    }

    const auto first = approve(bob_, request_id_);
    EXPECT_EQ(first.exit_code, 0) << first.out << first.err;
    EXPECT_NE(first.out.find("1 of 2"), std::string::npos) << first.out;
    EXPECT_FALSE(daemon_->active(alice_.name(), "pair")) << "one approval of two grants nothing";

    const auto twice = approve(bob_, request_id_);
    EXPECT_EQ(twice.exit_code, 1) << twice.out << twice.err;
    EXPECT_NE(twice.err.find("already approved"), std::string::npos) << twice.err;
    EXPECT_EQ(refused_by(bob_).size(), 1u);
    EXPECT_FALSE(daemon_->active(alice_.name(), "pair")) << "the same approver twice counts once";

    const auto second = approve(carol_, request_id_);
    EXPECT_EQ(second.exit_code, 0) << second.out << second.err;
    EXPECT_NE(second.out.find("granted as"), std::string::npos) << second.out;
    EXPECT_TRUE(daemon_->active(alice_.name(), "pair"));

    ASSERT_TRUE(waiting->ended_within(10s)) << request_log();
    EXPECT_TRUE(waiting->exited_with(0)) << request_log();
    EXPECT_NE(request_log().find("waiting for approval by %" + leads_.name() + " \u2014 request " + request_id_),
              std::string::npos)
        << request_log();
    const auto grants = daemon_->audit().records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0]["actor"], alice_.name());
    EXPECT_EQ(grants[0]["approver"], bob_.name() + ", " + carol_.name());
    EXPECT_EQ(grants[0]["grant_id"], request_id_);
    EXPECT_NE(request_log().find(grants[0]["event_id"].get<std::string>()), std::string::npos) << request_log();
    const auto approvals = daemon_->audit().records_of("approve");
    ASSERT_EQ(approvals.size(), 2u);
    EXPECT_EQ(approvals[0]["actor"], bob_.name());
    EXPECT_EQ(approvals[0]["approver"], bob_.name());
    EXPECT_EQ(approvals[0]["factor"], "totp");
}

// An approver's deny ends the request: a reject record, the waiting request
// exits 1, and a later approval is refused.
TEST_F(ApprovalTest, DenyEndsTheRequest) {
    ASSERT_NO_FATAL_FAILURE(start("15m", 1));
    auto waiting = request_in_background();
    ASSERT_FALSE(request_id_.empty());
    const auto denied = run_as(bob_.name(), daemon_->ctl({"deny", request_id_, "--reason", "not this way"}));
    EXPECT_EQ(denied.exit_code, 0) << denied.out << denied.err;
    ASSERT_TRUE(waiting->ended_within(10s)) << request_log();
    EXPECT_TRUE(waiting->exited_with(1)) << request_log();
    EXPECT_NE(request_log().find("rejected by " + bob_.name() + ": not this way"), std::string::npos) << request_log();
    const auto rejects = daemon_->audit().records_of("reject");
    ASSERT_EQ(rejects.size(), 1u);
    EXPECT_EQ(rejects[0]["actor"], bob_.name());
    EXPECT_EQ(rejects[0]["grant_id"], request_id_);
    EXPECT_EQ(rejects[0]["reason"], "not this way");
    const auto late = approve(carol_, request_id_);
    EXPECT_EQ(late.exit_code, 1) << late.out << late.err;
    EXPECT_FALSE(daemon_->active(alice_.name(), "pair"));
    EXPECT_EQ(daemon_->audit().records_of("grant").size(), 0u);
}

// Nobody approves within approval_timeout: request_expired, exit 1, nothing granted.
TEST_F(ApprovalTest, TimeoutExpiresTheRequest) {
    ASSERT_NO_FATAL_FAILURE(start("10s", 1));
    auto waiting = request_in_background();
    ASSERT_FALSE(request_id_.empty());
    ASSERT_TRUE(waiting->ended_within(30s)) << request_log();
    EXPECT_TRUE(waiting->exited_with(1)) << request_log();
    EXPECT_NE(request_log().find("expired"), std::string::npos) << request_log();
    const auto expired = daemon_->audit().records_of("request_expired");
    ASSERT_EQ(expired.size(), 1u);
    EXPECT_EQ(expired[0]["grant_id"], request_id_);
    const auto late = approve(bob_, request_id_);
    EXPECT_EQ(late.exit_code, 1) << late.out << late.err;
    EXPECT_FALSE(daemon_->active(alice_.name(), "pair"));
}

// Ctrl-C in the waiting `breakglassctl request` ends the request with a record.
TEST_F(ApprovalTest, InterruptCancelsTheRequest) {
    ASSERT_NO_FATAL_FAILURE(start("15m", 1));
    auto waiting = request_in_background();
    ASSERT_FALSE(request_id_.empty());
    ASSERT_TRUE(eventually([&] { return request_log().find("Ctrl-C cancels") != std::string::npos; }, 10s))
        << request_log();
    ::kill(waiting->pid(), SIGINT);
    ASSERT_TRUE(waiting->ended_within(10s)) << request_log();
    EXPECT_TRUE(waiting->exited_with(1)) << request_log();
    const auto cancelled = daemon_->audit().records_of("request_cancelled");
    ASSERT_EQ(cancelled.size(), 1u) << request_log();
    EXPECT_EQ(cancelled[0]["actor"], alice_.name());
    EXPECT_EQ(cancelled[0]["grant_id"], request_id_);
    const auto late = approve(bob_, request_id_);
    EXPECT_EQ(late.exit_code, 1) << late.out << late.err;
    EXPECT_FALSE(daemon_->active(alice_.name(), "pair"));
}

// A request survives a daemon restart (rebuilt from the log); the waiting
// front-end reconnects and keeps waiting; and an approval still grants.
TEST_F(ApprovalTest, PendingRequestSurvivesARestart) {
    ASSERT_NO_FATAL_FAILURE(start("15m", 1));
    auto waiting = request_in_background();
    ASSERT_FALSE(request_id_.empty());
    daemon_->restart();
    const auto listed = run_as(bob_.name(), daemon_->ctl({"pending"}));
    EXPECT_NE(listed.out.find(request_id_), std::string::npos) << listed.out << listed.err;
    EXPECT_TRUE(waiting->running()) << request_log();
    const auto approved = approve(bob_, request_id_);
    EXPECT_EQ(approved.exit_code, 0) << approved.out << approved.err;
    EXPECT_TRUE(daemon_->active(alice_.name(), "pair"));
    ASSERT_TRUE(waiting->ended_within(10s)) << request_log();
    EXPECT_TRUE(waiting->exited_with(0)) << request_log();
}

// Nobody waits (the requester's front-end is gone): the approval still grants.
TEST_F(ApprovalTest, AnApprovalWhenNobodyWaitsStillGrants) {
    ASSERT_NO_FATAL_FAILURE(start("15m", 1));
    const std::string c = code(alice_);
    const std::string socket = daemon_->socket();
    const int pending = run_function_as(alice_.name(), [&] {
        proto::GrantRequest g{"", "pair", "db down", "INC-7", "", 0, c, "", ""};
        const auto r = proto::call(socket, g, proto::MessageType::Granted);
        const auto* s = r.answer ? std::get_if<proto::RequestState>(&*r.answer) : nullptr;
        return s && s->state == "pending" && s->approvals_needed == 1 ? 0 : 1;
    });
    ASSERT_EQ(pending, 0);
    const auto requests = daemon_->audit().records_of("request");
    ASSERT_EQ(requests.size(), 1u);
    const auto approved = approve(bob_, requests[0]["event_id"].get<std::string>());
    EXPECT_EQ(approved.exit_code, 0) << approved.out << approved.err;
    EXPECT_TRUE(daemon_->active(alice_.name(), "pair"));
}

// How long a two-person break-glass takes when the approver answers at once:
// from starting `breakglassctl request` (the requester's code already typed)
// to its printing the grant, with `breakglassctl approve` run by the approver
// as soon as the request record exists. Printed for the README; it fails only
// when no grant comes.
TEST_F(ApprovalTest, MeasuresRequestToGrantWhenTheApproverAnswersAtOnce) {
    ASSERT_NO_FATAL_FAILURE(start("15m", 1));
    const auto started = std::chrono::steady_clock::now();
    auto waiting = request_in_background();
    ASSERT_FALSE(request_id_.empty());
    const auto requested = std::chrono::steady_clock::now();
    const auto approved = approve(bob_, request_id_);
    ASSERT_EQ(approved.exit_code, 0) << approved.out << approved.err;
    const auto approve_done = std::chrono::steady_clock::now();
    ASSERT_TRUE(waiting->ended_within(10s)) << request_log();
    ASSERT_TRUE(waiting->exited_with(0)) << request_log();
    const auto granted = std::chrono::steady_clock::now();
    const auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
    std::fprintf(stderr,
                 "two-person break-glass: request recorded after %lld ms, approve (run as the approver, with its "
                 "code) took %lld ms, the waiting request printed the grant %lld ms later; %lld ms in all\n",
                 static_cast<long long>(ms(requested - started)), static_cast<long long>(ms(approve_done - requested)),
                 static_cast<long long>(ms(granted - approve_done)), static_cast<long long>(ms(granted - started)));
    RecordProperty("request_to_grant_ms", static_cast<int>(ms(granted - started)));
}

// Two requests of one user for one gate: once the first is granted, the
// second is not approved while that grant is active (one grant per gate).
TEST_F(ApprovalTest, ASecondRequestIsNotApprovedWhileTheFirstOnesGrantIsActive) {
    ASSERT_NO_FATAL_FAILURE(start("15m", 1));
    while (unix_now() % 30 > 25) std::this_thread::sleep_for(500ms);
    const std::vector<std::string> codes = {totp_code_now(secrets_.at(alice_.name()), -1), code(alice_)};
    const std::string socket = daemon_->socket();
    ASSERT_EQ(run_function_as(alice_.name(), [&] {
                  for (const std::string& c : codes) {
                      proto::GrantRequest g{"", "pair", "db down", "INC-7", "", 0, c, "", ""};
                      const auto r = proto::call(socket, g, proto::MessageType::Granted);
                      if (!r.answer || !std::holds_alternative<proto::RequestState>(*r.answer)) return 1;
                  }
                  return 0;
              }),
              0);
    const auto requests = daemon_->audit().records_of("request");
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(approve(bob_, requests[0]["event_id"].get<std::string>()).exit_code, 0);
    ASSERT_TRUE(daemon_->active(alice_.name(), "pair"));
    const auto second = approve(carol_, requests[1]["event_id"].get<std::string>());
    EXPECT_EQ(second.exit_code, 1) << second.out << second.err;
    EXPECT_NE(second.err.find("already holds"), std::string::npos) << second.err;
    EXPECT_EQ(refused_by(carol_).size(), 1u);
    EXPECT_EQ(daemon_->audit().records_of("grant").size(), 1u);
}

// A waiting request costs the daemon a few hundred bytes and nothing else
// (no connection, no timer of its own), and a requester may have at most
// three at once: a local user cannot open a thousand.
TEST_F(ApprovalTest, ARequesterHasAtMostThreePendingRequests) {
    ASSERT_NO_FATAL_FAILURE(start("15m", 1));
    // Three accepted codes: the steps before, at and after now, in that order
    // (each must be newer than the last), away from a step's edge.
    while (unix_now() % 30 > 25) std::this_thread::sleep_for(500ms);
    const std::vector<std::string> codes = {totp_code_now(secrets_.at(alice_.name()), -1), code(alice_),
                                            totp_code_now(secrets_.at(alice_.name()), 1), "000000"};
    const std::string socket = daemon_->socket();
    const int outcome = run_function_as(alice_.name(), [&] {
        for (std::size_t i = 0; i < codes.size(); ++i) {
            proto::GrantRequest g{"", "pair", "db down", "INC-7", "", 0, codes[i], "", ""};
            const auto r = proto::call(socket, g, proto::MessageType::Granted);
            if (!r.answer) return 10;
            const auto* s = std::get_if<proto::RequestState>(&*r.answer);
            const auto* e = std::get_if<proto::ErrorAnswer>(&*r.answer);
            if (i < 3 && !(s && s->state == "pending")) return 20 + static_cast<int>(i);
            if (i == 3 && !(e && e->code == proto::ErrorCode::Denied &&
                            e->message.find("requests waiting for approval already") != std::string::npos))
                return 30;
        }
        return 0;
    });
    EXPECT_EQ(outcome, 0);
    EXPECT_EQ(daemon_->audit().records_of("request").size(), 3u);
    const auto denied = daemon_->audit().records_of("deny");
    ASSERT_EQ(denied.size(), 1u);
    EXPECT_EQ(denied[0]["actor"], alice_.name());
    EXPECT_EQ(daemon_->audit().records_of("auth_failed").size(), 0u) << "refused before its code was looked at";
}

// `status` and `list` show pending requests to whom they concern: the
// requester their own, an approver those they may approve, root all, a
// stranger none; `--json` lists them under "pending".
TEST_F(ApprovalTest, StatusAndListShowPendingRequestsToWhomTheyConcern) {
    ASSERT_NO_FATAL_FAILURE(start("15m", 1));
    auto waiting = request_in_background();
    ASSERT_FALSE(request_id_.empty());
    const auto shows = [&](const std::string& user, const std::vector<std::string>& args) {
        const auto r = user.empty() ? run(daemon_->ctl(args)) : run_as(user, daemon_->ctl(args));
        EXPECT_EQ(r.exit_code, 0) << user << ": " << r.err;
        return r.out;
    };
    for (const std::vector<std::string>& args : {std::vector<std::string>{"status"}, std::vector<std::string>{"list"}}) {
        const std::string own = shows(alice_.name(), args);
        EXPECT_NE(own.find("pending " + request_id_), std::string::npos) << own;
        EXPECT_NE(own.find("[yours: waiting for approval]"), std::string::npos) << own;
        EXPECT_NE(own.find("reason: db down"), std::string::npos) << own;
        const std::string approver = shows(bob_.name(), args);
        EXPECT_NE(approver.find("pending " + request_id_), std::string::npos) << approver;
        EXPECT_NE(approver.find("breakglassctl approve " + request_id_), std::string::npos) << approver;
        const std::string stranger = shows(mallory_.name(), args);
        EXPECT_EQ(stranger.find(request_id_), std::string::npos) << stranger;
        const std::string root = shows("", args);
        EXPECT_NE(root.find("pending " + request_id_), std::string::npos) << root;
    }
    const json as_json = json::parse(shows(bob_.name(), {"status", "--json"}));
    ASSERT_EQ(as_json["pending"].size(), 1u) << as_json.dump();
    EXPECT_EQ(as_json["pending"][0]["request_id"], request_id_);
    EXPECT_EQ(as_json["pending"][0]["user"], alice_.name());
    EXPECT_EQ(as_json["pending"][0]["approvals_needed"], 1);
    EXPECT_EQ(json::parse(shows(mallory_.name(), {"list", "--json"}))["pending"].size(), 0u);
    // Once it has ended, it is no longer shown.
    const auto denied = run_as(bob_.name(), daemon_->ctl({"deny", request_id_, "--reason", "no"}));
    EXPECT_EQ(denied.exit_code, 0) << denied.err;
    ASSERT_TRUE(waiting->ended_within(10s)) << request_log();
    EXPECT_EQ(shows(alice_.name(), {"status"}).find("pending " + request_id_), std::string::npos);
}

// Another local user can neither watch nor cancel someone else's request,
// whether naming nobody (their own) or the requester: it is answered as if it
// did not exist, or refused, and stays pending for its approver.
TEST_F(ApprovalTest, AnotherUserCanNeitherWatchNorCancelSomeoneElsesRequest) {
    ASSERT_NO_FATAL_FAILURE(start("15m", 1));
    auto waiting = request_in_background();
    ASSERT_FALSE(request_id_.empty());
    const std::string socket = daemon_->socket(), id = request_id_, alice = alice_.name();
    const int status = run_function_as(mallory_.name(), [&] {
        int step = 0;
        for (const std::string& user : {std::string(), alice}) {
            const auto w = proto::call(socket, proto::WaitRequest{user, id}, proto::MessageType::RequestState);
            ++step;
            if (!w.answer || !std::holds_alternative<proto::ErrorAnswer>(*w.answer)) return step;
            const auto c = proto::call(socket, proto::CancelRequest{user, id}, proto::MessageType::RequestCancelled);
            ++step;
            if (!c.answer || !std::holds_alternative<proto::ErrorAnswer>(*c.answer)) return step;
        }
        return 0;
    });
    EXPECT_EQ(status, 0) << "the step that was not refused";
    EXPECT_TRUE(daemon_->audit().records_of("request_cancelled").empty());
    const auto approved = approve(bob_, request_id_);
    EXPECT_EQ(approved.exit_code, 0) << approved.out << approved.err;
    ASSERT_TRUE(waiting->ended_within(10s)) << request_log();
    EXPECT_TRUE(waiting->exited_with(0)) << request_log();
}

}  // namespace
}  // namespace bg::test
