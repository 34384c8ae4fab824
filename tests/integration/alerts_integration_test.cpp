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

#include <cctype>
#include <chrono>
#include <map>
#include <set>
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
#include "tests/support/test_accounts.hpp"
#include "tests/support/test_certificates.hpp"
#include "tests/support/test_daemon.hpp"

namespace bg::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

// A strict reader of the Prometheus text exposition format (0.0.4), as
// node_exporter's textfile collector takes it: "# HELP name text" and
// "# TYPE name counter|gauge" once per metric, before its samples, which
// are contiguous; metric and label names of the documented alphabet; label
// values quoted with only \\, \" and \n escaped; a float value; no series
// twice; the file ends with a newline. Throws with the line at fault.
struct Series {
    std::string name;
    std::map<std::string, std::string> labels;
    double value = 0;
};
struct Exposition {
    std::map<std::string, std::string> types, helps;
    std::vector<Series> series;
    double value(const std::string& name, const std::string& label = "", const std::string& v = "") const {
        for (const Series& s : series)
            if (s.name == name && (label.empty() ? s.labels.empty() : s.labels.count(label) && s.labels.at(label) == v))
                return s.value;
        throw std::runtime_error("no series " + name + "{" + label + "=\"" + v + "\"}");
    }
};
bool metric_name(std::string_view n) {
    if (n.empty() || !(std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_' || n[0] == ':')) return false;
    for (const char c : n)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':')) return false;
    return true;
}
Exposition parse_exposition(const std::string& text) {
    if (text.empty() || text.back() != '\n') throw std::runtime_error("does not end with a newline");
    Exposition e;
    std::set<std::string> seen_series, closed;
    std::string current;
    std::istringstream in(text);
    std::size_t number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        const auto bad = [&](const std::string& why) {
            return std::runtime_error("line " + std::to_string(number) + " (" + line + "): " + why);
        };
        if (line.empty()) throw bad("empty line");
        if (line[0] == '#') {
            std::istringstream words(line);
            std::string hash, kind, name;
            words >> hash >> kind >> name;
            if (hash != "#" || (kind != "HELP" && kind != "TYPE")) throw bad("a comment other than HELP or TYPE");
            if (!metric_name(name)) throw bad("bad metric name");
            if (closed.count(name)) throw bad("metric seen before, not contiguous");
            if (name != current && !current.empty()) closed.insert(current);
            current = name;
            std::string rest;
            std::getline(words, rest);
            if (rest.empty() || rest[0] != ' ' || rest.size() < 2) throw bad("no text");
            rest = rest.substr(1);
            if (kind == "HELP") {
                if (e.helps.count(name)) throw bad("HELP twice");
                if (e.types.count(name)) throw bad("HELP after TYPE");
                e.helps[name] = rest;
            } else {
                if (e.types.count(name)) throw bad("TYPE twice");
                if (rest != "counter" && rest != "gauge") throw bad("type " + rest);
                e.types[name] = rest;
            }
            continue;
        }
        Series s;
        std::size_t i = 0;
        while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
        s.name = line.substr(0, i);
        if (!metric_name(s.name)) throw bad("bad metric name");
        if (s.name != current) throw bad("a sample outside its metric's HELP/TYPE block");
        if (!e.types.count(s.name) || !e.helps.count(s.name)) throw bad("sample before HELP and TYPE");
        if (i < line.size() && line[i] == '{') {
            ++i;
            while (line.at(i) != '}') {
                std::size_t k = i;
                while (k < line.size() && line[k] != '=') ++k;
                const std::string label = line.substr(i, k - i);
                if (label.empty() || !(std::isalpha(static_cast<unsigned char>(label[0])) || label[0] == '_'))
                    throw bad("bad label name");
                for (const char c : label)
                    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) throw bad("bad label name");
                if (line.at(k + 1) != '"') throw bad("label value not quoted");
                std::string value;
                std::size_t j = k + 2;
                for (;; ++j) {
                    const char c = line.at(j);
                    if (c == '"') break;
                    if (c == '\\') {
                        const char n = line.at(++j);
                        if (n == 'n') value += '\n';
                        else if (n == '\\' || n == '"') value += n;
                        else throw bad("bad escape");
                    } else {
                        value += c;
                    }
                }
                if (s.labels.count(label)) throw bad("label twice");
                s.labels[label] = value;
                i = j + 1;
                if (line.at(i) == ',') ++i;
                else if (line.at(i) != '}') throw bad("labels not separated");
            }
            ++i;
        }
        if (i >= line.size() || line[i] != ' ') throw bad("no value");
        const std::string value = line.substr(i + 1);
        std::size_t used = 0;
        s.value = std::stod(value, &used);
        if (used != value.size()) throw bad("value " + value);
        std::string key = s.name;
        for (const auto& [k, v] : s.labels) key += "|" + k + "=" + v;
        if (!seen_series.insert(key).second) throw bad("series twice");
        e.series.push_back(std::move(s));
    }
    for (const auto& [name, type] : e.types)
        if (!e.helps.count(name)) throw std::runtime_error(name + " has TYPE but no HELP");
    return e;
}

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

// The daemon verifies the whole log at start: a record changed while it was
// stopped is a verify_failed record (priority alert) and a critical alert.
TEST_F(AlertsTest, ALogThatDoesNotVerifyAtStartIsAlerted) {
    HttpsReceiver hook(certs_->server);
    start_daemon(webhook(hook), "[\"siem\"]");
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(grant("disk full")));
    ASSERT_TRUE(hook.wait_for_requests(1, 20s));
    // Its cursor past the trigger (a stop in the middle of the answer would send it again).
    ASSERT_TRUE(eventually([&] {
        const auto c = daemon_->status(false).channels;
        return c.size() == 1 && c[0].delivered == 1;
    }, 20s));
    daemon_->restart();
    std::this_thread::sleep_for(2s);
    EXPECT_EQ(hook.request_count(), 1u) << "a log that verifies: nothing to say";
    EXPECT_TRUE(records_of(*daemon_, "verify_failed").empty());
    daemon_->stop();
    // The grant's reason rewritten in place (same length: only the hash chain can tell).
    std::string log = read_file(daemon_->audit().path());
    const auto at = log.find("\"reason\":\"disk full\"");
    ASSERT_NE(at, std::string::npos);
    log.replace(at, std::string("\"reason\":\"disk full\"").size(), "\"reason\":\"disk fool\"");
    write_file(daemon_->audit().path(), log, 0600);
    daemon_->start();
    ASSERT_TRUE(eventually([&] { return !records_of(*daemon_, "verify_failed").empty(); }, 10s)) << daemon_->log();
    const auto failed = records_of(*daemon_, "verify_failed").at(0);
    EXPECT_NE(failed.detail.find("does not verify"), std::string::npos) << failed.detail;
    ASSERT_TRUE(hook.wait_for_requests(2, 20s));
    const json j = json::parse(hook.requests().at(1).body);
    EXPECT_EQ(j.at("record").at("event"), "verify_failed");
    EXPECT_NE(j.at("summary").get<std::string>().find("does not verify"), std::string::npos) << j.dump();
}

// A grant given while every remote log sink is failing: its record is only
// on this host, and the alerts say so.
TEST_F(AlertsTest, AGrantWhileEverySinkIsDownIsAlertedAsSuch) {
    HttpsReceiver hook(certs_->server);
    HttpsReceiver sink(certs_->server);
    sink.set_behaviour(ReceiverBehaviour::answer(503, "down"));
    daemon_ = std::make_unique<TestDaemon>(webhook(hook) + "[sink.central]\ntype = \"http-json\"\nurl = \"" +
                                           sink.url() + "/ingest\"\nca_file = \"" + certs_->ca.cert + "\"\n" + R"(
[gate.ops]
requesters = ["root"]
incident_pattern = '^INC-[0-9]+$'
factors = ["totp"]
alert = ["siem"]
)");
    secret_ = daemon_->enroll_totp("root");
    ASSERT_TRUE(eventually([&] {
        const auto sinks = daemon_->status(false).sinks;
        return sinks.size() == 1 && !sinks[0].last_error.empty();
    }, 20s));
    const auto granted = grant();
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(granted)) << "a sink outage does not stop grants (no remote_ack)";
    ASSERT_TRUE(hook.wait_for_requests(2, 20s));
    const json trigger = json::parse(hook.requests().at(0).body);
    EXPECT_EQ(trigger.at("record").at("event"), "grant");
    EXPECT_NE(trigger.at("summary").get<std::string>().find("while every remote log sink was failing"), std::string::npos)
        << trigger.dump();
    const json problem = json::parse(hook.requests().at(1).body);
    EXPECT_NE(problem.at("summary").get<std::string>().find("central (last attempt"), std::string::npos) << problem.dump();
    // Once the sink is back, a grant is an ordinary one.
    sink.set_behaviour(ReceiverBehaviour::answer(200));
    ASSERT_TRUE(eventually([&] {
        const auto sinks = daemon_->status(false).sinks;
        return sinks.size() == 1 && sinks[0].last_error.empty();
    }, 60s));
    daemon_->revoke(std::get<proto::Granted>(granted).event_id);
    hook.clear_requests();
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(grant("again", 1)));
    ASSERT_TRUE(eventually([&] {
        for (const HttpRequest& r : hook.requests())
            if (json::parse(r.body).at("record").at("event") == "grant") return true;
        return false;
    }, 20s));
    std::this_thread::sleep_for(2s);
    for (const HttpRequest& r : hook.requests())
        EXPECT_EQ(r.body.find("every remote log sink was failing"), std::string::npos) << r.body;
}

// breakglassctl alert test NAME: one test alert, sent by the daemon now, and
// what the channel answered; the daemon serves others while it waits.
TEST_F(AlertsTest, AlertTestSaysWhatTheChannelAnswered) {
    HttpsReceiver pd(certs_->server);
    pd.set_behaviour(ReceiverBehaviour::answer(202, R"({"status":"success","message":"Event processed"})"));
    start_daemon(pagerduty(pd), "[\"oncall\"]");
    const auto ok = run(daemon_->ctl({"alert", "test", "oncall"}));
    EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
    EXPECT_NE(ok.out.find("alert oncall (pagerduty): delivered, HTTP 202"), std::string::npos) << ok.out;
    EXPECT_NE(ok.out.find(R"(answer: {"status":"success","message":"Event processed"})"), std::string::npos) << ok.out;
    ASSERT_EQ(pd.request_count(), 1u);
    const json sent = json::parse(pd.requests().at(0).body);
    EXPECT_EQ(pd.requests().at(0).target, "/v2/enqueue");
    EXPECT_EQ(sent.at("routing_key"), "R0UTINGKEY0123456789");
    EXPECT_EQ(sent.at("event_action"), "trigger");
    EXPECT_EQ(sent.at("payload").at("severity"), "info");
    EXPECT_FALSE(sent.at("payload").at("source").get<std::string>().empty());
    EXPECT_NE(sent.at("payload").at("summary").get<std::string>().find("test alert for channel 'oncall'"),
              std::string::npos) << sent.dump();
    EXPECT_EQ(sent.at("dedup_key").get<std::string>().rfind("alert-test-", 0), 0u) << sent.dump();

    // A refusal, with the answer's first bytes escaped (a control byte cannot reach the terminal).
    pd.set_behaviour(ReceiverBehaviour::answer(500, "boom\x1b[2Jgone"));
    const auto refused = run(daemon_->ctl({"--json", "alert", "test", "oncall"}));
    EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
    const json j = json::parse(refused.out);
    EXPECT_EQ(j.at("delivered"), false);
    EXPECT_EQ(j.at("http_status"), 500);
    EXPECT_EQ(j.at("error"), "HTTP 500");
    EXPECT_EQ(j.at("answer").get<std::string>().find('\x1b'), std::string::npos) << j.dump();
    EXPECT_NE(j.at("answer").get<std::string>().find("boom"), std::string::npos) << j.dump();

    // A channel that hangs: the daemon answers others meanwhile, the test ends at the request timeout.
    pd.set_behaviour(ReceiverBehaviour::hang());
    const auto before = std::chrono::steady_clock::now();
    ProcessResult hung;
    std::thread waiting([&] { hung = run(daemon_->ctl({"alert", "test", "oncall"})); });
    ASSERT_TRUE(pd.wait_for_requests(3, 10s));
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_NO_THROW((void)daemon_->status(false));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "the loop is not held by the test";
    waiting.join();
    EXPECT_EQ(hung.exit_code, 1) << hung.out << hung.err;
    EXPECT_NE(hung.out.find("NOT delivered"), std::string::npos) << hung.out;
    EXPECT_GE(std::chrono::steady_clock::now() - before, 15s);

    // No such channel; and root only.
    const auto unknown = run(daemon_->ctl({"alert", "test", "nosuch"}));
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_NE(unknown.err.find("no [alert.nosuch]"), std::string::npos) << unknown.err;
    TestUser mallory("alert-test");
    const auto not_root = run_as(mallory.name(), daemon_->ctl({"alert", "test", "oncall"}));
    EXPECT_NE(not_root.exit_code, 0) << not_root.out;
    EXPECT_EQ(pd.request_count(), 3u) << "nothing was sent for the unknown channel or the other user";
    // Outside the cursor: the channel's own alerts are untouched.
    pd.set_behaviour(ReceiverBehaviour::answer(202, "{}"));
    const auto granted = grant();
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(granted));
    ASSERT_TRUE(pd.wait_for_requests(4, 30s));
    expect_pagerduty_event(pd.requests().at(3), "trigger", std::get<proto::Granted>(granted).event_id);
    EXPECT_TRUE(records_of(*daemon_, "grant").size() == 1u);
}

// [metrics] textfile: written atomically after records, parsed strictly,
// with the values the daemon knows, through grants, failures and an outage
// of a sink and a channel.
TEST_F(AlertsTest, TheMetricsTextfileIsStrictPrometheusTextWithTheRightValues) {
    HttpsReceiver pd(certs_->server);
    HttpsReceiver sink(certs_->server);
    pd.set_behaviour(ReceiverBehaviour::answer(500, "down"));
    sink.set_behaviour(ReceiverBehaviour::answer(503, "down"));
    const std::string dir = dir_->path() + "/node-exporter";
    std::filesystem::create_directories(dir);
    const std::string file = dir + "/breakglass.prom";
    std::filesystem::remove(file);
    const auto started = unix_now();
    daemon_ = std::make_unique<TestDaemon>(pagerduty(pd) + "[sink.central]\ntype = \"http-json\"\nurl = \"" +
                                           sink.url() + "/ingest\"\nca_file = \"" + certs_->ca.cert +
                                           "\"\n\n[metrics]\ntextfile = \"" + file + "\"\n" + R"(
[gate.ops]
requesters = ["root"]
incident_pattern = '^INC-[0-9]+$'
factors = ["totp"]
alert = ["oncall"]

[gate.quiet]
requesters = ["root"]
incident_pattern = '^INC-[0-9]+$'
factors = ["totp"]
)");
    secret_ = daemon_->enroll_totp("root");
    const auto first = grant("one", 0);
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(first));
    daemon_->revoke(std::get<proto::Granted>(first).event_id);
    proto::GrantRequest wrong;
    wrong.user = "root";
    wrong.gate = "ops";
    wrong.reason = "guess";
    wrong.incident = "INC-7";
    wrong.factor = "000000";
    ASSERT_FALSE(std::holds_alternative<proto::Granted>(daemon_->grant(wrong)));
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(grant("two", 1)));
    // A made-up gate name (as any local user may send): counted under (other), no new label value.
    proto::GrantRequest made_up = wrong;
    made_up.gate = "madeup-gate";
    ASSERT_FALSE(std::holds_alternative<proto::Granted>(daemon_->grant(made_up)));
    Exposition e;
    ASSERT_TRUE(eventually([&] {
        try {
            e = parse_exposition(read_file(file));
            return e.value("breakglass_auth_failures_total", "gate", "ops") == 1 &&
                   e.value("breakglass_denials_total", "gate", "(other)") == 1 &&
                   e.value("breakglass_sink_backlog_records", "sink", "central") > 0;
        } catch (const std::exception&) {
            return false;
        }
    }, 20s)) << read_file(file);
    const std::string text = read_file(file);
    EXPECT_NO_THROW(parse_exposition(text)) << text;
    EXPECT_EQ(e.types, (std::map<std::string, std::string>{
                           {"breakglass_grants_total", "counter"},
                           {"breakglass_denials_total", "counter"},
                           {"breakglass_auth_failures_total", "counter"},
                           {"breakglass_active_grants", "gauge"},
                           {"breakglass_sink_backlog_records", "gauge"},
                           {"breakglass_sink_backlog_age_seconds", "gauge"},
                           {"breakglass_alert_backlog_records", "gauge"},
                           {"breakglass_last_delivery_timestamp_seconds", "gauge"},
                           {"breakglass_daemon_start_time_seconds", "gauge"}}))
        << text;
    EXPECT_EQ(e.value("breakglass_grants_total", "gate", "ops"), 2);
    EXPECT_EQ(e.value("breakglass_grants_total", "gate", "quiet"), 0) << "every gate of the policy, 0 included";
    EXPECT_EQ(e.value("breakglass_denials_total", "gate", "ops"), 0);
    EXPECT_EQ(e.value("breakglass_active_grants", "gate", "ops"), 1);
    EXPECT_EQ(e.value("breakglass_active_grants", "gate", "quiet"), 0);
    EXPECT_EQ(text.find("made"), std::string::npos) << "a requester's gate name is no label value";
    EXPECT_GE(e.value("breakglass_sink_backlog_age_seconds", "sink", "central"), 0);
    EXPECT_GE(e.value("breakglass_alert_backlog_records", "channel", "oncall"), 1) << "the channel is down";
    EXPECT_EQ(e.value("breakglass_last_delivery_timestamp_seconds", "target", "alert:oncall"), 0);
    EXPECT_EQ(e.value("breakglass_last_delivery_timestamp_seconds", "target", "sink:central"), 0);
    const double start = e.value("breakglass_daemon_start_time_seconds");
    EXPECT_GE(start, static_cast<double>(started) - 1);
    EXPECT_LE(start, static_cast<double>(unix_now()));
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u) << "node_exporter reads it";
    EXPECT_FALSE(std::filesystem::exists(file + ".tmp"));
    // Recovery: the backlogs drain, the deliveries have a time.
    pd.set_behaviour(ReceiverBehaviour::answer(202, "{}"));
    sink.set_behaviour(ReceiverBehaviour::answer(200));
    ASSERT_TRUE(eventually([&] {
        try {
            e = parse_exposition(read_file(file));
            return e.value("breakglass_sink_backlog_records", "sink", "central") == 0 &&
                   e.value("breakglass_alert_backlog_records", "channel", "oncall") == 0 &&
                   e.value("breakglass_last_delivery_timestamp_seconds", "target", "alert:oncall") > 0 &&
                   e.value("breakglass_last_delivery_timestamp_seconds", "target", "sink:central") > 0;
        } catch (const std::exception&) {
            return false;
        }
    }, 90s)) << read_file(file);
    EXPECT_EQ(e.value("breakglass_sink_backlog_age_seconds", "sink", "central"), 0);
    // A file another user left under the temporary name is never written through.
    daemon_->stop();
    const std::string victim = dir_->path() + "/victim";
    write_file(victim, "keep\n", 0600);
    std::filesystem::create_symlink(victim, file + ".tmp");
    daemon_->start();
    ASSERT_TRUE(eventually([&] { return !std::filesystem::is_symlink(file + ".tmp"); }, 20s));
    EXPECT_EQ(read_file(victim), "keep\n");
    EXPECT_NO_THROW(parse_exposition(read_file(file)));
}

// A channel that accepts and never answers: the attempt times out (20 s),
// alert_failed is recorded, the daemon keeps granting at its usual pace
// meanwhile, and the alert is delivered once the channel answers again.
TEST_F(AlertsTest, AHangingChannelTimesOutIsRecordedAndDeliversAfterRecovery) {
    HttpsReceiver pd(certs_->server);
    pd.set_behaviour(ReceiverBehaviour::hang());
    start_daemon(pagerduty(pd), "[\"oncall\"]");
    const auto first = grant("hung", 0);
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(first));
    const std::string key = std::get<proto::Granted>(first).event_id;
    ASSERT_TRUE(pd.wait_for_requests(1, 10s));
    // While the attempt hangs, requests are answered at once.
    daemon_->revoke(key);
    const auto t0 = std::chrono::steady_clock::now();
    const auto second = grant("meanwhile", 1);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(second)) << "a hanging channel does not stop grants";
    const std::string key2 = std::get<proto::Granted>(second).event_id;
    ASSERT_TRUE(eventually([&] { return !records_of(*daemon_, "alert_failed").empty(); }, 40s));
    const auto failed = records_of(*daemon_, "alert_failed").at(0);
    EXPECT_EQ(failed.target, "alert=oncall");
    EXPECT_NE(failed.detail.find(key), std::string::npos) << failed.detail;
    EXPECT_NE(failed.detail.find("attempt 1"), std::string::npos) << failed.detail;
    pd.set_behaviour(ReceiverBehaviour::answer(202, R"({"status":"success"})"));
    const auto answered = [&](const std::string& action, const std::string& k) {
        std::size_t n = 0;
        for (const HttpRequest& r : pd.requests()) {
            const json j = json::parse(r.body);
            if (j.at("event_action") == action && j.at("dedup_key") == k) ++n;
        }
        return n;
    };
    // The hung attempts are sent again; the last of each is answered.
    ASSERT_TRUE(eventually([&] { return answered("trigger", key2) >= 1; }, 90s));
    std::this_thread::sleep_for(2s);
    EXPECT_EQ(answered("resolve", key), 1u);
    EXPECT_EQ(answered("trigger", key2), 1u);
    const auto status = daemon_->status(false).channels;
    ASSERT_EQ(status.size(), 1u);
    EXPECT_EQ(status[0].delivered, 3u) << "the trigger, its resolve, the second trigger";
    EXPECT_EQ(status[0].failing_since, 0);
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
