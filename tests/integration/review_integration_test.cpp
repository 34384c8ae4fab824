// SPDX-License-Identifier: ISC
// Reviews, auditors and `breakglassctl show` (issue 14), through the real
// daemon and breakglassctl run as real users unique to the run: separation
// of duties (the grant's actor and its approvers may not review it, nor may
// anyone outside the gate's reviewers), each refusal a review_refused record;
// review_overdue written once per grant, also across a restart; the audit log
// read through the daemon by auditors only; and `show --json` of a grant made
// by this daemon, compared with a golden file once times, ids and the run's
// names are normalised. Needs root.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>

#include "common/protocol.hpp"
#include "common/utc_time.hpp"
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

class ReviewTest : public ::testing::Test {
protected:
    void TearDown() override {
        if (HasFailure() && daemon_) std::fprintf(stderr, "daemon log:\n%s\n", daemon_->log().c_str());
    }
    // Gate "solo": alice or carol break it alone. Gate "pair": alice, with
    // bob's approval. Reviewers of both: %security (bob, carol). Auditors: %audit (erin).
    void start(const std::string& review_within = "72h") {
        const std::string policy =
            "auditors = [\"%" + audit_.name() + "\"]\n\n"
            "[defaults]\nincident_pattern = '^INC-[0-9]+$'\nfactors = [\"totp\"]\nreviewers = [\"%" +
            security_.name() + "\"]\nreview_within = \"" + review_within + "\"\n\n"
            "[gate.solo]\nrequesters = [\"" + alice_.name() + "\", \"" + carol_.name() + "\"]\nttl = \"30m\"\n\n"
            "[gate.pair]\nrequesters = [\"" + alice_.name() + "\"]\nttl = \"30m\"\napprovals = 1\napprovers = [\"" +
            bob_.name() + "\"]\n";
        daemon_ = std::make_unique<TestDaemon>(policy);
        ASSERT_EQ(daemon_->log().find("no valid policy"), std::string::npos) << daemon_->log();
        for (const TestUser* u : {&alice_, &bob_, &carol_}) {
            const auto secret = random_totp_secret();
            const auto r = run(daemon_->ctl({"enroll", "totp", u->name(), "--secret-stdin"}),
                               totp::base32_encode(secret) + "\n");
            ASSERT_EQ(r.exit_code, 0) << r.err;
            secrets_[u->name()] = secret;
        }
    }
    std::string code(const TestUser& u) { return totp_code_now(secrets_.at(u.name())); }
    std::string grant(const TestUser& u, const std::string& gate) {
        const proto::Message m = daemon_->grant(u.name(), gate, code(u));
        const auto* g = std::get_if<proto::Granted>(&m);
        EXPECT_NE(g, nullptr) << (std::holds_alternative<proto::ErrorAnswer>(m) ? std::get<proto::ErrorAnswer>(m).message : "");
        return g ? g->event_id : "";
    }
    // alice asks for "pair", bob approves: the grant's id.
    std::string approved_grant() {
        proto::GrantRequest request;
        request.user = alice_.name();
        request.gate = "pair";
        request.reason = "disk full on db1";
        request.incident = "INC-9";
        request.factor = code(alice_);
        const proto::Message m = daemon_->grant(request);
        const auto* state = std::get_if<proto::RequestState>(&m);
        EXPECT_NE(state, nullptr);
        if (state == nullptr) return "";
        const auto approved = run_as(bob_.name(), daemon_->ctl({"approve", state->request_id, "--note", "seen"}),
                                     code(bob_) + "\n");
        EXPECT_EQ(approved.exit_code, 0) << approved.out << approved.err;
        const json g = daemon_->audit().wait_for_record("grant", "grant_id", state->request_id, 10s);
        return g.is_object() ? g["event_id"].get<std::string>() : "";
    }
    ProcessResult review(const TestUser& u, const std::string& id, const std::string& verdict = "justified") {
        return run_as(u.name(), daemon_->ctl({"review", id, "--verdict", verdict, "--note", "checked the runbook"}));
    }
    std::vector<json> refused_of(const TestUser& u) const {
        std::vector<json> out;
        for (const json& r : daemon_->audit().records_of("review_refused"))
            if (r["actor"] == u.name()) out.push_back(r);
        return out;
    }

    TestGroup security_{"security"};
    TestGroup audit_{"audit"};
    TestUser alice_{"alice"};
    TestUser bob_{"bob", {.groups = {security_.name()}}};
    TestUser carol_{"carol", {.groups = {security_.name()}}};
    TestUser erin_{"erin", {.groups = {audit_.name()}}};
    TestUser mallory_{"mallory"};
    std::map<std::string, std::vector<unsigned char>> secrets_;
    std::unique_ptr<TestDaemon> daemon_;
};

// The actor, an approver and a non-reviewer are refused, each with a
// review_refused record that says why; a reviewer's verdict is a review
// record; a second review and an unknown grant are refused too.
TEST_F(ReviewTest, SeparationOfDutiesAndEveryRefusalIsRecorded) {
    ASSERT_NO_FATAL_FAILURE(start());
    const std::string own = grant(carol_, "solo");
    ASSERT_FALSE(own.empty());

    const auto by_actor = review(carol_, own);
    EXPECT_EQ(by_actor.exit_code, 1) << by_actor.out << by_actor.err;
    EXPECT_NE(by_actor.err.find("their own"), std::string::npos) << by_actor.err;
    ASSERT_EQ(refused_of(carol_).size(), 1u);
    EXPECT_EQ(refused_of(carol_)[0]["grant_id"], own);
    EXPECT_EQ(refused_of(carol_)[0]["gate_bypassed"], "solo");
    EXPECT_NE(refused_of(carol_)[0]["detail"].get<std::string>().find("their own"), std::string::npos);

    const auto by_outsider = review(mallory_, own);
    EXPECT_EQ(by_outsider.exit_code, 1) << by_outsider.out << by_outsider.err;
    EXPECT_NE(by_outsider.err.find("not a reviewer"), std::string::npos) << by_outsider.err;
    ASSERT_EQ(refused_of(mallory_).size(), 1u);
    EXPECT_NE(refused_of(mallory_)[0]["detail"].get<std::string>().find("not a reviewer"), std::string::npos);

    const std::string approved = approved_grant();
    ASSERT_FALSE(approved.empty());
    const auto by_approver = review(bob_, approved);
    EXPECT_EQ(by_approver.exit_code, 1) << by_approver.out << by_approver.err;
    EXPECT_NE(by_approver.err.find("approved it"), std::string::npos) << by_approver.err;
    ASSERT_EQ(refused_of(bob_).size(), 1u);
    EXPECT_EQ(refused_of(bob_)[0]["grant_id"], approved);
    EXPECT_EQ(refused_of(bob_)[0]["gate_bypassed"], "pair");

    // Reviewers see the open reviews of their gates; others see none.
    const auto listed = run_as(carol_.name(), daemon_->ctl({"reviews", "--json"}));
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    const json open = json::parse(listed.out, nullptr, false);
    ASSERT_TRUE(open.is_object()) << listed.out;
    EXPECT_EQ(open["reviews"].size(), 2u) << listed.out;
    const auto none = run_as(mallory_.name(), daemon_->ctl({"reviews", "--json"}));
    ASSERT_EQ(none.exit_code, 0) << none.err;
    EXPECT_EQ(json::parse(none.out)["reviews"].size(), 0u) << none.out;

    const auto ok = review(carol_, approved, "gate-needs-fix");
    EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
    const auto reviews = daemon_->audit().records_of("review");
    ASSERT_EQ(reviews.size(), 1u);
    EXPECT_EQ(reviews[0]["actor"], carol_.name());
    EXPECT_EQ(reviews[0]["grant_id"], approved);
    EXPECT_EQ(reviews[0]["gate_bypassed"], "pair");
    EXPECT_EQ(reviews[0]["review_status"], "gate-needs-fix");
    EXPECT_EQ(reviews[0]["reason"], "checked the runbook");

    const auto twice = review(carol_, approved);
    EXPECT_EQ(twice.exit_code, 1) << twice.out << twice.err;
    EXPECT_NE(twice.err.find("already been reviewed"), std::string::npos) << twice.err;
    const auto unknown = review(carol_, "bg-2026-999999");
    EXPECT_EQ(unknown.exit_code, 1) << unknown.out << unknown.err;
    EXPECT_EQ(refused_of(carol_).size(), 3u);
    EXPECT_EQ(daemon_->audit().records_of("review").size(), 1u);

    // The reviewed grant is no longer open; the other one still is, also after a restart.
    daemon_->restart();
    const auto after = run(daemon_->ctl({"reviews", "--json"}));
    ASSERT_EQ(after.exit_code, 0) << after.err;
    const json left = json::parse(after.out);
    ASSERT_EQ(left["reviews"].size(), 1u) << after.out;
    EXPECT_EQ(left["reviews"][0]["grant_id"], own);
    const auto again = review(carol_, approved);
    EXPECT_NE(again.err.find("already been reviewed"), std::string::npos) << again.err;
}

// A grant not reviewed within review_within (1m, the shortest the policy
// takes) raises one review_overdue record, and only one, also after a restart.
TEST_F(ReviewTest, OverdueReviewIsRecordedOnce) {
    ASSERT_NO_FATAL_FAILURE(start("1m"));
    const std::string id = grant(alice_, "solo");
    ASSERT_FALSE(id.empty());
    const auto early = run(daemon_->ctl({"reviews", "--overdue", "--json"}));
    ASSERT_EQ(early.exit_code, 0) << early.err;
    EXPECT_EQ(json::parse(early.out)["reviews"].size(), 0u) << early.out;

    const auto overdue = daemon_->audit().wait_for("review_overdue", 1, 90s);
    ASSERT_EQ(overdue.size(), 1u);
    EXPECT_EQ(overdue[0]["actor"], alice_.name());
    EXPECT_EQ(overdue[0]["grant_id"], id);
    EXPECT_EQ(overdue[0]["gate_bypassed"], "solo");
    const json grant_record = daemon_->audit().records_of("grant").back();
    const auto granted = bg::parse_utc(grant_record["timestamp"].get<std::string>(), UtcSyntax::Canonical);
    ASSERT_TRUE(granted.has_value());
    EXPECT_EQ(overdue[0]["detail"], "due " + bg::format_utc(*granted + 60));

    const auto listed = run(daemon_->ctl({"reviews", "--overdue", "--json"}));
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    const json l = json::parse(listed.out);
    ASSERT_EQ(l["reviews"].size(), 1u) << listed.out;
    EXPECT_TRUE(l["reviews"][0]["overdue"].get<bool>());

    std::this_thread::sleep_for(7s);  // more than one watch (every 5 s)
    EXPECT_EQ(daemon_->audit().records_of("review_overdue").size(), 1u);
    daemon_->restart();
    std::this_thread::sleep_for(7s);
    EXPECT_EQ(daemon_->audit().records_of("review_overdue").size(), 1u) << "a restart writes it again";
}

// Root and auditors read the log through the daemon; anyone else is refused.
TEST_F(ReviewTest, AuditorsReadTheLogThroughTheDaemonOthersDoNot) {
    ASSERT_NO_FATAL_FAILURE(start());
    const std::string id = grant(alice_, "solo");
    ASSERT_FALSE(id.empty());
    const auto by_auditor = run_as(erin_.name(), daemon_->ctl({"log", "--json"}));
    EXPECT_EQ(by_auditor.exit_code, 0) << by_auditor.err;
    EXPECT_NE(by_auditor.out.find("\"event_id\":\"" + id + "\""), std::string::npos) << by_auditor.out;
    const auto shown = run_as(erin_.name(), daemon_->ctl({"show", id, "--json"}));
    EXPECT_EQ(shown.exit_code, 0) << shown.out << shown.err;
    const json story = json::parse(shown.out, nullptr, false);
    ASSERT_TRUE(story.is_object()) << shown.out;
    EXPECT_EQ(story["grant"]["actor"], alice_.name());
    EXPECT_TRUE(story["verification"]["ok"].get<bool>()) << shown.out;

    for (const TestUser* u : {&mallory_, &alice_}) {
        const auto log = run_as(u->name(), daemon_->ctl({"log", "--json"}));
        EXPECT_EQ(log.exit_code, 1) << u->name() << ": " << log.out;
        EXPECT_NE(log.err.find("auditors"), std::string::npos) << log.err;
        EXPECT_EQ(log.out.find(id), std::string::npos) << log.out;
        const auto show = run_as(u->name(), daemon_->ctl({"show", id}));
        EXPECT_EQ(show.exit_code, 1) << u->name() << ": " << show.out;
        EXPECT_EQ(show.out.find("disk"), std::string::npos) << show.out;
    }
}

// Times, event ids, the run's user and group names and the host become
// placeholders, so that the story of one run compares with a fixed file.
std::string normalise(std::string text, const std::map<std::string, std::string>& names) {
    for (const auto& [from, to] : names)
        for (std::size_t p = text.find(from); p != std::string::npos; p = text.find(from, p + to.size()))
            text.replace(p, from.size(), to);
    text = std::regex_replace(text, std::regex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"), "TIME");
    // The request's nonce (offline approval codes) is random per run.
    text = std::regex_replace(text, std::regex("nonce [0-9a-f]{32}"), "nonce NONCE");
    std::map<std::string, std::string> ids;
    std::string out;
    const std::regex id("bg-[0-9]{4}-[0-9]{6,}");
    auto begin = std::sregex_iterator(text.begin(), text.end(), id);
    std::size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
        out += text.substr(last, static_cast<std::size_t>(it->position()) - last);
        auto [slot, fresh] = ids.try_emplace(it->str(), "ID" + std::to_string(ids.size() + 1));
        out += slot->second;
        last = static_cast<std::size_t>(it->position() + it->length());
    }
    return out + text.substr(last);
}

// show --json of a grant made here, through the daemon and from the files:
// request, approval, grant, a command and its exit status, a session, the
// revocation and its termination, the review.
TEST_F(ReviewTest, ShowTellsTheWholeStoryOfAGrantAsTheGoldenFileSays) {
    ASSERT_NO_FATAL_FAILURE(start());
    const std::string id = approved_grant();
    ASSERT_FALSE(id.empty());
    const auto command = daemon_->call(
        proto::SessionRequest{alice_.name(), "pair", "command", "sudo", "pts/3", "", 4242, "systemctl restart db",
                              "cwd=/root runas=root:root", ""},
        proto::MessageType::SessionRecorded);
    ASSERT_TRUE(std::holds_alternative<proto::SessionRecorded>(command));
    const auto closed = daemon_->call(proto::SessionRequest{alice_.name(), "pair", "session_close", "sudo", "pts/3", "",
                                                            4242, "systemctl restart db", "exit status 0", ""},
                                      proto::MessageType::SessionRecorded);
    ASSERT_TRUE(std::holds_alternative<proto::SessionRecorded>(closed));
    daemon_->revoke(id);
    daemon_->audit().wait_for("terminate", 1, 10s);
    ASSERT_EQ(review(carol_, id, "justified").exit_code, 0);
    ASSERT_EQ(review(carol_, id).exit_code, 1);  // a refusal is part of the story too

    const std::map<std::string, std::string> names = {
        {alice_.name(), "ALICE"}, {bob_.name(), "BOB"}, {carol_.name(), "CAROL"}};
    const std::string golden = read_file(std::string(BG_SHOW_GOLDEN_DIR) + "/show_approved_grant.json");
    auto compare = [&](const ProcessResult& r, const std::string& how) {
        ASSERT_EQ(r.exit_code, 0) << how << ": " << r.out << r.err;
        json story = json::parse(r.out, nullptr, false);
        ASSERT_TRUE(story.is_object()) << r.out;
        EXPECT_TRUE(story["verification"]["ok"].get<bool>()) << how << ": " << r.out;
        story.erase("verification");  // its scope and counts depend on how it was read
        story["grant"]["host"] = "HOST";
        // The loginuid note (absent or present, depending on how the test was started) is no part of the story.
        for (auto& [section, value] : story.items()) {
            auto strip = [](json& e) {
                if (e.is_object() && e.contains("detail"))
                    e["detail"] = std::regex_replace(e["detail"].get<std::string>(), std::regex(";[^;]*loginuid.*$"), "");
            };
            if (value.is_array())
                for (json& e : value) strip(e);
            else
                strip(value);
        }
        const std::string actual = normalise(story.dump(2), names) + "\n";
        if (const char* update = std::getenv("BG_UPDATE_GOLDEN"); update && std::string(update) == "1")
            write_file(std::string(BG_SHOW_GOLDEN_DIR) + "/show_approved_grant.json", actual, 0644);
        EXPECT_EQ(golden, actual) << how;
    };
    compare(run_as(erin_.name(), daemon_->ctl({"show", id, "--json"})), "through the daemon, as an auditor");
    daemon_->stop();
    compare(run({ctl_program(), "--json", "--state-dir", daemon_->state_dir(), "show", id}), "from the files, as root");
    const auto text = run({ctl_program(), "--state-dir", daemon_->state_dir(), "show", id});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("verified: yes, seq "), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("(checkpoint at seq "), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("found by story index (audit.index)"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("justified by " + carol_.name()), std::string::npos) << text.out;
}

// show through the daemon (issue 14): the daemon lists the story from its
// index (StoryRequest) and the runs up to their signed checkpoints are
// checked with the key it holds; a byte changed in a story record on the disk
// makes the same show say NO and exit 4; someone who is neither root nor an
// auditor is refused the story as they are the log.
TEST_F(ReviewTest, ShowThroughTheDaemonUsesItsIndexAndCatchesATamperedStoryRecord) {
    ASSERT_NO_FATAL_FAILURE(start());
    const std::string id = approved_grant();
    ASSERT_FALSE(id.empty());
    const auto command = daemon_->call(
        proto::SessionRequest{alice_.name(), "pair", "command", "sudo", "pts/3", "", 4242, "systemctl restart db",
                              "cwd=/root runas=root:root", ""},
        proto::MessageType::SessionRecorded);
    ASSERT_TRUE(std::holds_alternative<proto::SessionRecorded>(command));
    daemon_->revoke(id);  // a grant's end: the checkpoint after the command follows within the maintenance
    daemon_->audit().wait_for("terminate", 1, 10s);

    const auto shown = run_as(erin_.name(), daemon_->ctl({"show", id, "--json"}));
    ASSERT_EQ(shown.exit_code, 0) << shown.out << shown.err;
    const json story = json::parse(shown.out, nullptr, false);
    ASSERT_TRUE(story.is_object()) << shown.out;
    EXPECT_TRUE(story["verification"]["ok"].get<bool>()) << shown.out;
    const std::string scope = story["verification"]["scope"].get<std::string>();
    EXPECT_NE(scope.find("found by breakglassd's story index"), std::string::npos) << scope;
    EXPECT_NE(scope.find("(checkpoint at seq "), std::string::npos) << scope;
    EXPECT_NE(scope.find("the checkpoint key breakglassd holds (ed25519:"), std::string::npos) << scope;
    ASSERT_EQ(story["activity"].size(), 1u) << shown.out;

    const auto refused = run_as(mallory_.name(), daemon_->ctl({"show", id, "--json"}));
    EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
    EXPECT_NE(refused.err.find("not_permitted"), std::string::npos) << refused.err;

    // Without the index file the daemon says it cannot answer from it, and
    // show reads the log to its end instead, and says so.
    ASSERT_EQ(::rename((daemon_->state_dir() + "/audit.index").c_str(),
                       (daemon_->state_dir() + "/audit.index.away").c_str()),
              0);
    const auto scanned = run_as(erin_.name(), daemon_->ctl({"show", id, "--json"}));
    ASSERT_EQ(scanned.exit_code, 0) << scanned.out << scanned.err;
    const json by_scan = json::parse(scanned.out, nullptr, false);
    ASSERT_TRUE(by_scan.is_object()) << scanned.out;
    EXPECT_TRUE(by_scan["verification"]["ok"].get<bool>()) << scanned.out;
    EXPECT_NE(by_scan["verification"]["scope"].get<std::string>().find("breakglassd's story index not used"),
              std::string::npos)
        << scanned.out;
    EXPECT_EQ(by_scan["activity"], story["activity"]);
    ASSERT_EQ(::rename((daemon_->state_dir() + "/audit.index.away").c_str(),
                       (daemon_->state_dir() + "/audit.index").c_str()),
              0);

    // One byte of the command record, changed on the disk.
    const std::string path = daemon_->state_dir() + "/audit.log";
    const std::size_t at = read_file(path).find("systemctl restart db");
    ASSERT_NE(at, std::string::npos);
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(at + 19));
    f.put('c');  // "…restart dc"
    f.close();
    const auto tampered = run_as(erin_.name(), daemon_->ctl({"show", id, "--json"}));
    EXPECT_EQ(tampered.exit_code, 4) << tampered.out << tampered.err;
    const json bad = json::parse(tampered.out, nullptr, false);
    ASSERT_TRUE(bad.is_object()) << tampered.out;
    EXPECT_FALSE(bad["verification"]["ok"].get<bool>()) << tampered.out;
}

}  // namespace
}  // namespace bg::test
