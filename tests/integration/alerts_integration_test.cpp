// SPDX-License-Identifier: ISC
// Alerts end to end (issue 12): a real breakglassd with [alert.NAME]
// channels pointed at the HTTPS receiver (standing for PagerDuty Events v2
// and a webhook, certificates made with openssl) and at a sendmail(8)
// stand-in that keeps each message. Each payload is checked against the
// documented schema; an outage (500, 429) is retried with alert_failed
// records while the daemon keeps granting, and the alert is delivered once
// after recovery; 5 wrong codes are one burst alert; record text cannot add
// a mail header.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/protocol.hpp"
#include "helper/audit/audit_record.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/files.hpp"
#include "tests/support/https_receiver.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/process.hpp"
#include "tests/support/run_directory.hpp"
#include "tests/support/test_certificates.hpp"
#include "tests/support/test_daemon.hpp"

namespace bg::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

std::vector<audit::Record> records_of(const TestDaemon& d, const std::string& event) {
    std::vector<audit::Record> out;
    std::istringstream in(read_file(d.audit().path()));
    for (std::string line; std::getline(in, line);) {
        auto r = audit::parse_record(line);
        if (r && r->event == event) out.push_back(*r);
    }
    return out;
}

class AlertsTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new ScratchDir("alerts");
        certs_ = new TestCertificates(make_test_certificates(dir_->path()));
        write_file(dir_->path() + "/pd.key", "R0UTINGKEY0123456789\n", 0600);
    }
    static void TearDownTestSuite() {
        delete certs_;
        delete dir_;
    }
    void TearDown() override {
        if (HasFailure() && daemon_) std::fprintf(stderr, "daemon log:\n%s\n", daemon_->log().c_str());
    }
    std::string pagerduty(const HttpsReceiver& r) const {
        return "[alert.oncall]\ntype = \"pagerduty\"\nrouting_key_file = \"" + dir_->path() + "/pd.key\"\nurl = \"" +
               r.url() + "/v2/enqueue\"\nca_file = \"" + certs_->ca.cert + "\"\n";
    }
    std::string webhook(const HttpsReceiver& r) const {
        return "[alert.siem]\ntype = \"webhook\"\nurl = \"" + r.url() + "/hook\"\nca_file = \"" + certs_->ca.cert + "\"\n";
    }
    void start_daemon(const std::string& channels, const std::string& alert) {
        daemon_ = std::make_unique<TestDaemon>(channels + R"(
[gate.ops]
requesters = ["root"]
incident_pattern = '^INC-[0-9]+$'
factors = ["totp"]
ttl = "1h"
alert = )" + alert + "\n");
        secret_ = daemon_->enroll_totp("root");
    }
    proto::Message grant(const std::string& reason = "disk full", std::int64_t step = 0) {
        proto::GrantRequest g;
        g.user = "root";
        g.gate = "ops";
        g.reason = reason;
        g.incident = "INC-7";
        g.factor = totp_code_now(secret_, step);
        return daemon_->grant(g);
    }

    static inline ScratchDir* dir_ = nullptr;
    static inline TestCertificates* certs_ = nullptr;
    std::unique_ptr<TestDaemon> daemon_;
    std::vector<unsigned char> secret_;
};

// PagerDuty Events v2 (developer.pagerduty.com, "Send an Alert Event"):
// routing_key, event_action, dedup_key; a trigger's payload has summary,
// source and severity (critical|error|warning|info).
void expect_pagerduty_event(const HttpRequest& r, const std::string& action, const std::string& key) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/v2/enqueue");
    EXPECT_EQ(r.header("content-type"), "application/json");
    const json j = json::parse(r.body);
    EXPECT_EQ(j.at("routing_key"), "R0UTINGKEY0123456789");
    EXPECT_EQ(j.at("event_action"), action);
    EXPECT_EQ(j.at("dedup_key"), key);
    if (action != "trigger") return;
    const json& p = j.at("payload");
    EXPECT_FALSE(p.at("summary").get<std::string>().empty());
    EXPECT_LE(p.at("summary").get<std::string>().size(), 1024u);
    EXPECT_FALSE(p.at("source").get<std::string>().empty());
    const std::string severity = p.at("severity");
    EXPECT_TRUE(severity == "critical" || severity == "error" || severity == "warning" || severity == "info") << severity;
    for (const char* k : {"actor", "gate", "reason", "incident", "expires_at", "host"})
        EXPECT_TRUE(p.at("custom_details").contains(k)) << k;
}

TEST_F(AlertsTest, GrantTriggersAndRevokeResolvesWithTheSameKey) {
    HttpsReceiver pd(certs_->server);
    pd.set_behaviour(ReceiverBehaviour::answer(202, R"({"status":"success","message":"Event processed"})"));
    start_daemon(pagerduty(pd), "[\"oncall\"]");
    const auto granted = grant();
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(granted));
    const proto::Granted& g = std::get<proto::Granted>(granted);
    EXPECT_NE(g.notice.find("This access is alerted to: oncall (PagerDuty)."), std::string::npos) << g.notice;
    ASSERT_TRUE(pd.wait_for_requests(1, 20s));
    expect_pagerduty_event(pd.requests().at(0), "trigger", g.event_id);
    EXPECT_EQ(json::parse(pd.requests().at(0).body).at("payload").at("custom_details").at("reason"), "disk full");
    daemon_->revoke(g.event_id);
    ASSERT_TRUE(pd.wait_for_requests(2, 20s));
    expect_pagerduty_event(pd.requests().at(1), "resolve", g.event_id);
    std::this_thread::sleep_for(2s);
    EXPECT_EQ(pd.request_count(), 2u) << "one trigger, one resolve";
    EXPECT_TRUE(records_of(*daemon_, "alert_failed").empty());
}

TEST_F(AlertsTest, SlackGetsEscapedBlocksAndTheNoticeNamesEveryChannel) {
    HttpsReceiver pd(certs_->server);
    HttpsReceiver slack(certs_->server);
    pd.set_behaviour(ReceiverBehaviour::answer(202));
    slack.set_behaviour(ReceiverBehaviour::answer(200, "ok"));
    // The webhook URL is a secret: kept in a root-only file.
    const std::string url_file = dir_->path() + "/slack.url";
    write_file(url_file, slack.url() + "/services/T000/B000/XXXX\n", 0600);
    start_daemon(pagerduty(pd) + "[alert.security]\ntype = \"slack\"\nurl_file = \"" + url_file + "\"\nca_file = \"" +
                     certs_->ca.cert + "\"\n",
                 "[\"oncall\", \"security\"]");
    const auto granted = grant("<!channel> & <https://evil.example|click>");
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(granted));
    EXPECT_NE(std::get<proto::Granted>(granted).notice.find(
                  "This access is alerted to: oncall (PagerDuty), security (Slack)."),
              std::string::npos)
        << std::get<proto::Granted>(granted).notice;
    ASSERT_TRUE(slack.wait_for_requests(1, 20s));
    ASSERT_TRUE(pd.wait_for_requests(1, 20s));
    const HttpRequest r = slack.requests().at(0);  // a copy: requests() returns by value
    EXPECT_EQ(r.target, "/services/T000/B000/XXXX") << r.method << " " << r.version << " body " << r.body.size() << " " << r.header("content-length") << " " << r.header("content-type");
    const json j = json::parse(r.body);
    // Slack's incoming webhook: "text" (the fallback) and "blocks".
    EXPECT_FALSE(j.at("text").get<std::string>().empty());
    ASSERT_TRUE(j.at("blocks").is_array());
    EXPECT_EQ(j.at("blocks").at(0).at("type"), "section");
    EXPECT_EQ(r.body.find("<!channel>"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"), std::string::npos) << r.body;
}

TEST_F(AlertsTest, ASecretOthersCanReadKeepsItsChannelFromStarting) {
    HttpsReceiver pd(certs_->server);
    const std::string key = dir_->path() + "/readable.key";
    write_file(key, "R0UTINGKEY0123456789\n", 0644);
    start_daemon("[alert.oncall]\ntype = \"pagerduty\"\nrouting_key_file = \"" + key + "\"\nurl = \"" + pd.url() +
                     "/v2/enqueue\"\nca_file = \"" + certs_->ca.cert + "\"\n",
                 "[\"oncall\"]");
    EXPECT_TRUE(eventually([&] { return daemon_->log().find("alert channel 'oncall' not started") != std::string::npos; }, 10s))
        << daemon_->log();
    EXPECT_NE(daemon_->log().find("chmod 0600"), std::string::npos) << daemon_->log();
    const auto granted = grant();
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(granted));
    EXPECT_EQ(std::get<proto::Granted>(granted).notice.find("alerted"), std::string::npos)
        << "the notice says only what is true";
    EXPECT_TRUE(daemon_->status(false).channels.empty());
}

TEST_F(AlertsTest, AChannelFailingLongerThanTheAlarmIsOneAlertRecord) {
    HttpsReceiver pd(certs_->server);
    pd.set_behaviour(ReceiverBehaviour::answer(500, "down"));
    daemon_ = std::make_unique<TestDaemon>(pagerduty(pd) + R"(
[defaults]
alert_fail_alarm = "2s"

[gate.ops]
requesters = ["root"]
incident_pattern = '^INC-[0-9]+$'
factors = ["totp"]
alert = ["oncall"]
)");
    secret_ = daemon_->enroll_totp("root");
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(grant()));
    ASSERT_TRUE(eventually([&] { return !records_of(*daemon_, "alert_alarm").empty(); }, 30s));
    std::this_thread::sleep_for(8s);
    const auto alarms = records_of(*daemon_, "alert_alarm");
    ASSERT_EQ(alarms.size(), 1u) << "one alarm per episode";
    EXPECT_EQ(alarms[0].target, "alert=oncall");
    EXPECT_NE(alarms[0].detail.find("longer than alert_fail_alarm 2s"), std::string::npos) << alarms[0].detail;
    EXPECT_NE(daemon_->log().find("<1>breakglassd: alert channel 'oncall'"), std::string::npos) << daemon_->log();
}

TEST_F(AlertsTest, NoChannelNoNotice) {
    HttpsReceiver pd(certs_->server);
    start_daemon(pagerduty(pd), "[]");
    const auto granted = grant();
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(granted));
    EXPECT_EQ(std::get<proto::Granted>(granted).notice.find("alerted"), std::string::npos);
    std::this_thread::sleep_for(2s);
    EXPECT_EQ(pd.request_count(), 0u);
}

TEST_F(AlertsTest, AnOutageIsRetriedRecordedAndDeliveredOnceAfterRecovery) {
    HttpsReceiver pd(certs_->server);
    pd.set_behaviour(ReceiverBehaviour::answer(500, "down"));
    pd.queue_behaviour(ReceiverBehaviour::answer(429, "slow down", {{"Retry-After", "1"}}));
    start_daemon(pagerduty(pd), "[\"oncall\"]");
    const auto granted = grant();
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(granted)) << "a failing channel does not stop grants";
    const std::string key = std::get<proto::Granted>(granted).event_id;
    // alert_failed records, at most one per attempt (the daemon writes them every 5 s).
    ASSERT_TRUE(eventually([&] { return records_of(*daemon_, "alert_failed").size() >= 3; }, 30s));
    const auto failed = records_of(*daemon_, "alert_failed");
    EXPECT_LE(failed.size(), pd.request_count()) << "one record per failed attempt, never more";
    EXPECT_EQ(failed.front().target, "alert=oncall");
    EXPECT_NE(failed.front().detail.find(key), std::string::npos) << failed.front().detail;
    EXPECT_NE(failed.front().detail.find("HTTP 429"), std::string::npos) << failed.front().detail;
    // Status says the channel fails, since when and why.
    const auto failing = daemon_->status(false).channels;
    ASSERT_EQ(failing.size(), 1u);
    EXPECT_EQ(failing[0].name, "oncall");
    EXPECT_EQ(failing[0].type, "pagerduty");
    EXPECT_GT(failing[0].failing_since, 0);
    EXPECT_NE(failing[0].last_error.find("HTTP 500"), std::string::npos) << failing[0].last_error;
    EXPECT_EQ(failing[0].delivered, 0u);
    const auto status = run(daemon_->ctl({"status"}));
    EXPECT_EQ(status.exit_code, 0) << status.err;
    const std::string& shown = status.out;
    EXPECT_NE(shown.find("alert oncall (pagerduty "), std::string::npos) << shown;
    EXPECT_NE(shown.find("FAILING for"), std::string::npos) << shown;
    // The daemon keeps granting meanwhile.
    daemon_->revoke(key);
    const auto again = grant("second", 1);
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(again));
    const std::string key2 = std::get<proto::Granted>(again).event_id;
    // Recovery: the channel was stuck on the first trigger (in order), so
    // the resolve and the second trigger are sent only now: once each.
    pd.set_behaviour(ReceiverBehaviour::answer(202, R"({"status":"success"})"));
    const auto sent = [&](const std::string& action, const std::string& k) {
        std::size_t n = 0;
        for (const HttpRequest& r : pd.requests()) {
            const json j = json::parse(r.body);
            if (j.at("event_action") == action && j.at("dedup_key") == k) ++n;
        }
        return n;
    };
    ASSERT_TRUE(eventually([&] { return sent("trigger", key2) >= 1; }, 90s));
    std::this_thread::sleep_for(3s);
    EXPECT_GE(sent("trigger", key), 3u) << "the failed attempts and the delivery";
    EXPECT_EQ(sent("resolve", key), 1u);
    EXPECT_EQ(sent("trigger", key2), 1u);
    std::vector<std::string> order;
    for (const HttpRequest& r : pd.requests()) {
        const json j = json::parse(r.body);
        const std::string what = j.at("event_action").get<std::string>() + " " + j.at("dedup_key").get<std::string>();
        if (order.empty() || order.back() != what) order.push_back(what);
    }
    EXPECT_EQ(order, (std::vector<std::string>{"trigger " + key, "resolve " + key, "trigger " + key2}));
    const auto recovered = daemon_->status(false).channels;
    ASSERT_EQ(recovered.size(), 1u);
    EXPECT_EQ(recovered[0].failing_since, 0);
    EXPECT_EQ(recovered[0].delivered, 3u);
    EXPECT_EQ(recovered[0].last_error, "");
    // The channel's cursor is past them: a restart sends nothing again.
    const std::size_t settled = pd.request_count();
    daemon_->restart();
    std::this_thread::sleep_for(3s);
    EXPECT_EQ(pd.request_count(), settled) << "a restart does not send delivered alerts again";
}

TEST_F(AlertsTest, FiveWrongCodesAreOneBurstAlert) {
    HttpsReceiver hook(certs_->server);
    start_daemon(webhook(hook), "[\"siem\"]");
    for (int i = 0; i < 5; ++i) {
        proto::GrantRequest g;
        g.user = "root";
        g.gate = "ops";
        g.reason = "guess";
        g.incident = "INC-7";
        g.factor = "000000";
        (void)daemon_->grant(g);
    }
    ASSERT_TRUE(hook.wait_for_requests(1, 20s));
    std::this_thread::sleep_for(3s);
    ASSERT_EQ(hook.request_count(), 1u) << "5 failures: one alert, not five";
    const json j = json::parse(hook.requests().at(0).body);
    EXPECT_NE(j.at("summary").get<std::string>().find("5 failed requests by root"), std::string::npos) << j.dump();
    // The webhook's documented shape: the record and its exact line.
    const std::string line = j.at("record_line");
    EXPECT_EQ(json::parse(line), j.at("record"));
    const auto rec = audit::parse_record(line);
    ASSERT_TRUE(rec) << line;
    EXPECT_NE(read_file(daemon_->audit().path()).find(line + "\n"), std::string::npos) << "the line is the log's own";
}

TEST_F(AlertsTest, EmailThroughSendmailHasNoHeaderFromRecordText) {
    const std::string out = dir_->path() + "/mail-" + std::to_string(::getpid());
    std::filesystem::create_directories(out);
    const std::string sendmail = dir_->path() + "/fake-sendmail";
    // Whole messages only: written aside, then renamed into place.
    write_file(sendmail,
               "#!/bin/sh\n[ \"$1\" = -t ] || exit 64\ncat > " + out + "/.part.$$ && mv " + out + "/.part.$$ " + out +
                   "/msg.$$\n",
               0755);
    start_daemon("[alert.mail]\ntype = \"email\"\nto = [\"security@example.net\"]\nsendmail = \"" + sendmail + "\"\n",
                 "[\"mail\"]");
    const auto granted = grant("x Bcc: evil@example.com Subject: forged");
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(granted));
    EXPECT_NE(std::get<proto::Granted>(granted).notice.find("mail (email)"), std::string::npos);
    // And failures whose reason holds CR/LF (refused, but recorded and alerted as a burst).
    for (int i = 0; i < 5; ++i) {
        proto::GrantRequest g;
        g.user = "root";
        g.gate = "ops";
        g.reason = "r\r\nBcc: evil@example.com\r\n\r\nforged";
        g.incident = "INC-7\nCc: x@example.com";
        g.factor = "000000";
        (void)daemon_->grant(g);
    }
    std::vector<std::string> messages;
    ASSERT_TRUE(eventually([&] {
        messages.clear();
        for (const auto& e : std::filesystem::directory_iterator(out))
            if (e.path().filename().string().rfind("msg.", 0) == 0) messages.push_back(read_file(e.path().string()));
        return messages.size() >= 2;
    }, 20s));
    for (const std::string& m : messages) {
        std::istringstream in(m);
        std::vector<std::string> names;
        for (std::string line; std::getline(in, line) && !line.empty();) {
            for (const char c : line) ASSERT_TRUE(c >= ' ' && c <= '~') << "header byte " << int(c) << ":\n" << m;
            names.push_back(line.substr(0, line.find(':')));
        }
        EXPECT_EQ(names, (std::vector<std::string>{"From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted",
                                                   "MIME-Version", "Content-Type", "Content-Transfer-Encoding"}))
            << m;
        EXPECT_EQ(m.find("\nBcc:"), std::string::npos) << m;
        EXPECT_EQ(m.find("\nCc:"), std::string::npos) << m;
        EXPECT_NE(m.find("\nTo: security@example.net\n"), std::string::npos) << m;
    }
}

}  // namespace
}  // namespace bg::test
