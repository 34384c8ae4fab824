// SPDX-License-Identifier: ISC
// The shared break-glass flow (common/breakglass_flow): the pure validation
// and mapping, then the whole flow with a scripted Prompter against a real
// breakglassd from the test fixture (no mock daemon).
#include <gtest/gtest.h>

#include <chrono>
#include <deque>

#include "common/breakglass_flow.hpp"
#include "common/text.hpp"
#include "tests/pam/pam_test_policy.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/process.hpp"
#include "tests/support/silent_listener.hpp"
#include "tests/support/test_daemon.hpp"

namespace bg::flow {
namespace {

using test::kGate;
using test::kOutsider;
using test::kRequester;

// ---- pure

TEST(FlowValidation, AcceptsOrdinaryAnswers) {
    EXPECT_FALSE(validate_reason("db primary down, failover stuck — paging didn't help"));
    EXPECT_FALSE(validate_reason(std::string(kMaxReasonBytes, 'r')));
    EXPECT_FALSE(validate_incident("INC-4242"));
    EXPECT_FALSE(validate_incident(std::string(kMaxIncidentBytes, 'i')));
    EXPECT_FALSE(validate_factor("123456"));
    EXPECT_FALSE(validate_factor("cccjgjgkhcbbirdrfdnlnghhfgrtnnlgedjlftrbdeut"));  // a YubiKey OTP
    EXPECT_FALSE(validate_factor(std::string(kMaxFactorBytes, '1')));
}

TEST(FlowValidation, RefusesWhatTheDaemonWouldAndSays) {
    const struct {
        std::optional<std::string> verdict;
        const char* message;
    } cases[] = {
        {validate_reason(""), "the reason is empty"},
        {validate_reason(std::string(kMaxReasonBytes + 1, 'r')), "the reason is longer than 1024 bytes"},
        {validate_reason(std::string("nul\0inside", 10)), "control character"},
        {validate_reason("esc \x1b[31m"), "control character"},
        {validate_reason("del \x7f"), "control character"},
        {validate_reason("c1 \xc2\x85"), "control character"},
        {validate_reason("rlo \xe2\x80\xae gnp.exe"), "invisible format character (U+202E)"},  // issue 10
        {validate_reason("zwsp \xe2\x80\x8b"), "invisible format character (U+200B)"},
        {validate_reason("bad \xff"), "UTF-8"},
        {validate_reason("surrogate \xed\xa0\x80"), "UTF-8"},
        {validate_incident(""), "the incident reference is empty"},
        {validate_incident(std::string(kMaxIncidentBytes + 1, 'i')), "longer than 128"},
        {validate_incident("INC-1\r"), "control character"},
        {validate_incident("INC-1\xe2\x81\xa6"), "invisible format character (U+2066)"},
        {validate_factor(""), "the one-time code is empty"},
        {validate_factor(std::string(kMaxFactorBytes + 1, '1')), "longer than 64"},
        {validate_factor("123 456"), "printable ASCII"},
        {validate_factor(std::string("123\0" "456", 7)), "printable ASCII"},
        {validate_factor("12345\xc3\xa9"), "printable ASCII"},
        {validate_factor("123456\n"), "printable ASCII"},
    };
    for (const auto& c : cases) {
        ASSERT_TRUE(c.verdict) << c.message;
        EXPECT_NE(c.verdict->find(c.message), std::string::npos) << *c.verdict;
    }
}

TEST(FlowMapping, EveryErrorCodeHasAnOutcome) {
    EXPECT_EQ(outcome_for(proto::ErrorCode::Denied), Outcome::Denied);
    EXPECT_EQ(outcome_for(proto::ErrorCode::NotPermitted), Outcome::Denied);
    EXPECT_EQ(outcome_for(proto::ErrorCode::NotFound), Outcome::Denied);
    EXPECT_EQ(outcome_for(proto::ErrorCode::AuthFailed), Outcome::AuthFailed);
    EXPECT_EQ(outcome_for(proto::ErrorCode::RateLimited), Outcome::AuthFailed);
    EXPECT_EQ(outcome_for(proto::ErrorCode::BadRequest), Outcome::BadInput);
    EXPECT_EQ(outcome_for(proto::ErrorCode::Unavailable), Outcome::Unavailable);
    EXPECT_EQ(outcome_for(proto::ErrorCode::Internal), Outcome::Unavailable);
}

TEST(FlowContextText, PassesValidTextAndBoundsTheRest) {
    EXPECT_EQ(fit_context_text("pts/3", 128), "pts/3");
    EXPECT_EQ(fit_context_text("", 128), "");
    EXPECT_EQ(fit_context_text("tty\x1b[2J", 128), "tty\\x1b[2J");
    EXPECT_EQ(fit_context_text("bad\xff", 128), "bad\\xff");
    EXPECT_EQ(fit_context_text(std::string(200, 'x'), 128).size(), 128u);
    // Never cut inside a character.
    const std::string cut = fit_context_text("ab\xc3\xa9\xc3\xa9", 5);
    EXPECT_EQ(cut, "ab\xc3\xa9");
    EXPECT_FALSE(validate_text(fit_context_text(std::string(300, '\x01'), 128), 128, true));
}

// What the daemon says it does beyond the audit log (the notice) is added to
// the banner and the granted line, escaped and bounded; without one, nothing is.
TEST(FlowText, TheDaemonsNoticeIsShownEscapedAndBounded) {
    const std::string plain = banner("g");
    EXPECT_EQ(plain, "BREAK-GLASS: gate 'g' is an emergency access path. Breaking the glass needs a reason, an "
                     "incident reference and a one-time code. Your request and the decision are recorded in "
                     "breakglassd's audit log on this host.");
    EXPECT_NE(banner("g", true).find("an incident reference, the incident's severity and a one-time code"),
              std::string::npos);
    const std::string notice = "Each record is also sent to the system journal.";
    EXPECT_EQ(banner("g", false, notice), plain + " " + notice);
    EXPECT_EQ(banner("g", false, "evil\x1b[2J"), plain + " evil\\x1b[2J");
    EXPECT_LE(banner("g", false, std::string(5000, 'n')).size(), plain.size() + 1 + kMaxNoticeBytes);

    proto::Granted g{"bg-2026-000001", 0, ""};
    const std::string line = granted_line("g", g);
    EXPECT_EQ(line, "Break-glass granted: bg-2026-000001 for gate 'g' until 1970-01-01T00:00:00Z (UTC). The grant is "
                    "recorded in breakglassd's audit log on this host.");
    g.notice = notice;
    EXPECT_EQ(granted_line("g", g), line + " " + notice);
}

TEST(FlowWipe, ErasesTheWholeBuffer) {
    std::string secret = "123456";
    const char* data = secret.data();
    wipe(secret);
    EXPECT_TRUE(secret.empty());
    EXPECT_EQ(data, secret.data()) << "same buffer (small-string storage)";
    for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(data[i], '\0');
}

// ---- against a real daemon

class ScriptedPrompter final : public Prompter {
public:
    explicit ScriptedPrompter(std::deque<std::optional<std::string>> answers) : answers_(std::move(answers)) {}
    std::optional<std::string> ask(std::string_view prompt, bool echo) override {
        asked.emplace_back(prompt, echo);
        if (answers_.empty()) return std::nullopt;
        auto a = std::move(answers_.front());
        answers_.pop_front();
        return a;
    }
    void info(std::string_view text) override { infos.emplace_back(text); }
    void error(std::string_view text) override { errors.emplace_back(text); }

    std::vector<std::pair<std::string, bool>> asked;
    std::vector<std::string> infos, errors;

private:
    std::deque<std::optional<std::string>> answers_;
};

class FlowAgainstDaemon : public ::testing::Test {
protected:
    void SetUp() override {
        daemon_ = std::make_unique<test::TestDaemon>(test::kPamTestPolicy);
        secret_ = daemon_->enroll_totp(kRequester);
    }
    Target target(const std::string& user = kRequester) const {
        return Target{user, kGate, "pts/1", "flow-test", daemon_->socket()};
    }
    std::string code() const { return test::totp_code_now(secret_); }

    std::unique_ptr<test::TestDaemon> daemon_;
    std::vector<unsigned char> secret_;
};

TEST_F(FlowAgainstDaemon, BreaksTheGlassThenTakesTheFastPath) {
    ScriptedPrompter p({"db down", "INC-12", code()});
    const Result r = check_or_break_glass(p, target());
    ASSERT_EQ(r.outcome, Outcome::Granted) << r.message;
    EXPECT_FALSE(r.event_id.empty());
    EXPECT_GT(r.expires_at, test::unix_now());
    ASSERT_EQ(p.asked.size(), 3u);
    EXPECT_TRUE(p.asked[0].second);
    EXPECT_TRUE(p.asked[1].second);
    EXPECT_FALSE(p.asked[2].second) << "the code is asked without echo";
    ASSERT_EQ(p.infos.size(), 2u);
    EXPECT_EQ(p.infos[0], banner(kGate));
    // Only what this host does: the test daemon keeps its audit log and, run
    // with --no-journal, sends nothing to the journal; nothing alerts or reviews.
    for (const std::string& shown : p.infos) {
        EXPECT_NE(shown.find("recorded in breakglassd's audit log"), std::string::npos) << shown;
        for (const char* untrue : {"alert", "review", "journal"})
            EXPECT_EQ(shown.find(untrue), std::string::npos) << untrue << " in: " << shown;
    }
    EXPECT_NE(p.infos[1].find(r.event_id), std::string::npos);
    EXPECT_TRUE(p.errors.empty());

    ScriptedPrompter again({});
    const Result fast = check_or_break_glass(again, target());
    EXPECT_EQ(fast.outcome, Outcome::AlreadyActive);
    EXPECT_EQ(fast.event_id, r.event_id);
    EXPECT_TRUE(again.asked.empty());
    EXPECT_TRUE(again.infos.empty());
    EXPECT_EQ(check_active(target()).outcome, Outcome::AlreadyActive);
}

TEST_F(FlowAgainstDaemon, BadInputSendsNothing) {
    const std::size_t before = daemon_->audit().size();
    for (auto answers : std::vector<std::deque<std::optional<std::string>>>{
             {std::string("nul\0inside", 10)},
             {"ok", std::string("INC-1\0", 6)},
             {"ok", "INC-1", std::string("12\0" "3456", 7)},
             {std::string(2000, 'x')}}) {
        ScriptedPrompter p(answers);
        const Result r = check_or_break_glass(p, target());
        EXPECT_EQ(r.outcome, Outcome::BadInput);
        ASSERT_EQ(p.errors.size(), 1u);
        EXPECT_EQ(p.errors[0], r.message);
    }
    EXPECT_EQ(daemon_->audit().size(), before);
}

TEST_F(FlowAgainstDaemon, RefusalsMapToOutcomes) {
    {
        ScriptedPrompter p({"r", "INC-1", test::wrong_totp_code(secret_)});
        EXPECT_EQ(check_or_break_glass(p, target()).outcome, Outcome::AuthFailed);
        EXPECT_EQ(p.errors.size(), 1u);
    }
    {
        (void)daemon_->enroll_totp(kOutsider);
        ScriptedPrompter p({"r", "INC-1", "123456"});
        const Result r = check_or_break_glass(p, target(kOutsider));
        EXPECT_EQ(r.outcome, Outcome::Denied);
        EXPECT_NE(r.message.find("not a requester"), std::string::npos) << r.message;
    }
    {
        ScriptedPrompter p({"r", std::nullopt});
        EXPECT_EQ(check_or_break_glass(p, target()).outcome, Outcome::ConversationFailed);
        EXPECT_EQ(p.asked.size(), 2u);
    }
    {
        ScriptedPrompter p({});
        EXPECT_EQ(check_or_break_glass(p, Target{"bad name", kGate, "", "", daemon_->socket()}).outcome,
                  Outcome::BadInput);
        EXPECT_TRUE(p.asked.empty());
    }
    EXPECT_EQ(check_active(target()).outcome, Outcome::Denied);
    daemon_->stop();
    ScriptedPrompter p({"r", "INC-1", code()});
    const Result down = check_or_break_glass(p, target());
    EXPECT_EQ(down.outcome, Outcome::Unavailable);
    EXPECT_TRUE(p.asked.empty()) << "nothing is asked when nobody can decide";
    EXPECT_NE(down.message.find("nothing was granted"), std::string::npos) << down.message;
    EXPECT_EQ(check_active(target()).outcome, Outcome::Unavailable);
}

// kGate's policy binds it to PAM service "bg-pam-test": a request naming
// another service is refused with a deny record, before the code is judged.
TEST_F(FlowAgainstDaemon, AGateBoundToAnotherPamServiceIsDeniedAndRecorded) {
    Target other = target();
    other.pam_service = "bg-other";
    ScriptedPrompter p({"db down", "INC-12", code()});
    const Result r = check_or_break_glass(p, other);
    EXPECT_EQ(r.outcome, Outcome::Denied);
    EXPECT_NE(r.message.find("gate 'pam-test' is bound to PAM service 'bg-pam-test'; service 'bg-other' may not open it"),
              std::string::npos)
        << r.message;
    const auto denies = daemon_->audit().records_of("deny");
    ASSERT_EQ(denies.size(), 1u);
    EXPECT_NE(denies[0]["detail"].get<std::string>().find("bound to PAM service"), std::string::npos) << denies[0].dump();
    EXPECT_FALSE(daemon_->active(kRequester, kGate));

    Target bound = target();
    bound.pam_service = "bg-pam-test";
    ScriptedPrompter q({"db down", "INC-12", code()});  // the same code: the refusal did not spend it
    EXPECT_EQ(check_or_break_glass(q, bound).outcome, Outcome::Granted) << q.errors.size();
}

// A gate whose policy lists severities: the daemon says so in the CheckAnswer,
// and the flow asks for one (after the incident, before the code).
class FlowWithSeverities : public FlowAgainstDaemon {
protected:
    void SetUp() override {
        // kPamTestPolicy ends inside [gate.pam-test].
        daemon_ = std::make_unique<test::TestDaemon>(std::string(test::kPamTestPolicy) +
                                                     "severities = [\"sev1\", \"sev2\"]\n");
        secret_ = daemon_->enroll_totp(kRequester);
    }
};

TEST_F(FlowWithSeverities, AsksForTheSeverityAndSendsIt) {
    ScriptedPrompter p({"db down", "INC-12", "sev2", code()});
    const Result r = check_or_break_glass(p, target());
    ASSERT_EQ(r.outcome, Outcome::Granted) << r.message;
    ASSERT_EQ(p.asked.size(), 4u);
    EXPECT_EQ(p.asked[2].first, "Incident severity (sev1, sev2): ");
    EXPECT_TRUE(p.asked[2].second);
    EXPECT_FALSE(p.asked[3].second) << "the code comes last, without echo";
    const auto grants = daemon_->audit().records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_NE(grants[0]["detail"].get<std::string>().find("severity sev2"), std::string::npos) << grants[0].dump();
}

TEST_F(FlowWithSeverities, ASeverityTheGateDoesNotListIsRefusedBeforeTheCode) {
    const std::size_t before = daemon_->audit().size();
    for (const char* typed : {"sev9", "SEV1", " sev1", ""}) {
        ScriptedPrompter p({"db down", "INC-12", typed, code()});
        const Result r = check_or_break_glass(p, target());
        EXPECT_EQ(r.outcome, Outcome::BadInput) << typed;
        EXPECT_EQ(p.asked.size(), 3u) << typed << ": no code is asked after a bad severity";
        ASSERT_EQ(p.errors.size(), 1u) << typed;
        EXPECT_NE(p.errors[0].find("is not one this gate accepts (sev1, sev2)"), std::string::npos) << p.errors[0];
    }
    ScriptedPrompter cancelled({"db down", "INC-12", std::nullopt});
    EXPECT_EQ(check_or_break_glass(cancelled, target()).outcome, Outcome::ConversationFailed);
    EXPECT_EQ(daemon_->audit().size(), before) << "nothing was sent";
}

// A refused Check is not "no grant": nothing is asked, and the refusal is shown.
TEST_F(FlowAgainstDaemon, RefusedCheckAsksNothing) {
    // An unprivileged peer asking about another user: not_permitted.
    const int rc = test::run_function_as(kOutsider, [&] {
        ScriptedPrompter p({"r", "INC-1", "123456"});
        const Result r = check_or_break_glass(p, target(kRequester));
        if (r.outcome != Outcome::Denied) return 10;
        if (!p.asked.empty() || !p.infos.empty()) return 11;
        if (p.errors.size() != 1 || p.errors[0].find("not_permitted") == std::string::npos) return 12;
        return 0;
    });
    EXPECT_EQ(rc, 0);
}

// A daemon that hangs costs the user a bounded wait, asks nothing, grants
// nothing and says which wait ran out: one that never accepts (full listen
// queue), one that accepts but never answers.
TEST(FlowAgainstAHungDaemon, RefusesWithinItsDeadlinesAndAsksNothing) {
    using Clock = std::chrono::steady_clock;
    test::SilentListener full(0);
    full.fill_queue();
    test::SilentListener mute(8);
    const struct {
        const test::SilentListener& listener;
        const char* says;
    } cases[] = {{full, "did not accept the connection within 300 ms"}, {mute, "no answer within 300 ms"}};
    for (const auto& c : cases) {
        Target t{kRequester, kGate, "pts/1", "flow-test", c.listener.path()};
        t.timeout_ms = 300;
        t.connect_timeout_ms = 300;
        ScriptedPrompter p({"r", "INC-1", "123456"});
        const auto start = Clock::now();
        const Result r = check_or_break_glass(p, t);
        const auto took = Clock::now() - start;
        EXPECT_EQ(r.outcome, Outcome::Unavailable) << c.says;
        EXPECT_TRUE(p.asked.empty()) << c.says;
        ASSERT_EQ(p.errors.size(), 1u) << c.says;
        EXPECT_NE(p.errors[0].find("breakglassd did not answer in time"), std::string::npos) << p.errors[0];
        EXPECT_NE(p.errors[0].find(c.says), std::string::npos) << p.errors[0];
        EXPECT_NE(p.errors[0].find("nothing was granted"), std::string::npos) << p.errors[0];
        EXPECT_LT(took, std::chrono::seconds(3)) << c.says;
        EXPECT_EQ(check_active(t).outcome, Outcome::Unavailable) << c.says;
    }
}

}  // namespace
}  // namespace bg::flow
