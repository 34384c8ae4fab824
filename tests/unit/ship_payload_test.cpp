// SPDX-License-Identifier: ISC
// What each sink type receives (helper/ship/payload), checked against the
// products' documented request shapes, and which answers acknowledge.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/audit/audit_record.hpp"
#include "helper/ship/payload.hpp"

namespace bg::ship {
namespace {

using policy::SinkType;

Entry entry(std::uint64_t seq, const std::string& event, const std::string& gate, const std::string& reason) {
    audit::Record r;
    r.event = event;
    r.actor = "alice";
    r.gate_bypassed = gate;
    r.reason = reason;
    r.seq = seq;
    r.timestamp = 1782000000 + static_cast<std::int64_t>(seq);
    r.event_id = audit::format_event_id(r.timestamp, seq);
    r.host = "bastion-1";
    r.prev_hash = std::string(audit::kGenesisPrevHash);
    r.hash = audit::compute_hash(r);
    r.seal = std::string(64, 'a');
    return Entry{r, audit::canonical_json(r)};
}

std::vector<Entry> batch() {
    return {entry(1, "grant", "ops", "disk \"full\"\n"), entry(2, "command", "ops", ""), entry(3, "daemon_start", "", "")};
}

TEST(ShipPayload, EndpointsAreTheDocumentedPaths) {
    EXPECT_EQ(endpoint_for(SinkType::JournalRemote, "https://h:19532"), "https://h:19532/upload");
    EXPECT_EQ(endpoint_for(SinkType::JournalRemote, "https://h:19532/"), "https://h:19532/upload");
    EXPECT_EQ(endpoint_for(SinkType::JournalRemote, "https://h:19532/upload"), "https://h:19532/upload");
    EXPECT_EQ(endpoint_for(SinkType::SplunkHec, "https://s:8088"), "https://s:8088/services/collector/event");
    EXPECT_EQ(endpoint_for(SinkType::Loki, "https://l:3100"), "https://l:3100/loki/api/v1/push");
    EXPECT_EQ(endpoint_for(SinkType::HttpJson, "https://w/ingest"), "https://w/ingest");
}

TEST(ShipPayload, HeadersCarryTheTokenTheProductExpects) {
    auto has = [](const std::vector<std::string>& h, const std::string& v) {
        return std::find(h.begin(), h.end(), v) != h.end();
    };
    EXPECT_TRUE(has(headers_for(SinkType::JournalRemote, ""), "Content-Type: application/vnd.fdo.journal"));
    EXPECT_TRUE(has(headers_for(SinkType::SplunkHec, "T0K"), "Authorization: Splunk T0K"));
    EXPECT_TRUE(has(headers_for(SinkType::HttpJson, "T0K"), "Authorization: Bearer T0K"));
    EXPECT_TRUE(has(headers_for(SinkType::Loki, "T0K"), "Authorization: Bearer T0K"));
    for (const std::string& h : headers_for(SinkType::HttpJson, ""))
        EXPECT_EQ(h.rfind("Authorization", 0), std::string::npos) << "no token, no header";
}

TEST(ShipPayload, JournalRemoteBodyIsOneExportEntryPerRecord) {
    const auto b = batch();
    const std::string body = body_for(SinkType::JournalRemote, b);
    std::size_t entries = 0;
    for (std::size_t at = body.find("\n\n"); at != std::string::npos; at = body.find("\n\n", at + 2)) ++entries;
    EXPECT_EQ(entries, 3u);
    for (const Entry& e : b) EXPECT_NE(body.find("\nBREAKGLASS_RECORD=" + e.line + "\n"), std::string::npos);
    EXPECT_EQ(body.rfind("__REALTIME_TIMESTAMP=1782000001000000\n", 0), 0u);
}

TEST(ShipPayload, HttpJsonIsTheCanonicalLines) {
    const auto b = batch();
    EXPECT_EQ(body_for(SinkType::HttpJson, b), b[0].line + "\n" + b[1].line + "\n" + b[2].line + "\n");
}

TEST(ShipPayload, SplunkEventsHoldTheRecordSoItsLineComesBack) {
    const auto b = batch();
    const std::string body = body_for(SinkType::SplunkHec, b);
    std::size_t start = 0;
    for (const Entry& e : b) {
        const std::size_t nl = body.find('\n', start);
        ASSERT_NE(nl, std::string::npos);
        const auto j = nlohmann::json::parse(body.substr(start, nl - start));
        start = nl + 1;
        EXPECT_EQ(j.at("host"), "bastion-1");
        EXPECT_EQ(j.at("sourcetype"), "breakglass:audit");
        EXPECT_EQ(j.at("time"), e.record.timestamp);
        EXPECT_EQ(j.at("event").dump(-1, ' ', false), e.line) << "the canonical line is the event re-dumped";
    }
}

TEST(ShipPayload, LokiStreamsByHostGateEvent) {
    const auto b = batch();
    const auto j = nlohmann::json::parse(body_for(SinkType::Loki, b));
    ASSERT_EQ(j.at("streams").size(), 3u);
    const auto& first = j.at("streams").at(0);
    EXPECT_EQ(first.at("stream").at("host"), "bastion-1");
    EXPECT_EQ(first.at("stream").at("gate"), "ops");
    EXPECT_EQ(first.at("stream").at("event"), "grant");
    EXPECT_EQ(first.at("values").at(0).at(0), "1782000001000000000");
    EXPECT_EQ(first.at("values").at(0).at(1), b[0].line);
    EXPECT_FALSE(j.at("streams").at(2).at("stream").contains("gate")) << "a record without a gate has no gate label";
}

TEST(ShipPayload, OnlyTheDocumentedAnswersAcknowledge) {
    EXPECT_TRUE(judge_answer(SinkType::JournalRemote, 202, "OK.\n").acknowledged);
    EXPECT_TRUE(judge_answer(SinkType::Loki, 204, "").acknowledged);
    EXPECT_TRUE(judge_answer(SinkType::SplunkHec, 200, R"({"text":"Success","code":0})").acknowledged);
    EXPECT_FALSE(judge_answer(SinkType::SplunkHec, 200, R"({"text":"Invalid token","code":4})").acknowledged);
    EXPECT_FALSE(judge_answer(SinkType::SplunkHec, 200, "OK").acknowledged);
    const AnswerVerdict v = judge_answer(SinkType::HttpJson, 500, std::string("boom\x1b[31m") + std::string(500, 'x'));
    EXPECT_FALSE(v.acknowledged);
    EXPECT_EQ(v.why.rfind("HTTP 500: boom\\x1b[31m", 0), 0u) << v.why;
    EXPECT_LT(v.why.size(), 300u);
    EXPECT_FALSE(judge_answer(SinkType::HttpJson, 301, "").acknowledged);
}

}  // namespace
}  // namespace bg::ship
