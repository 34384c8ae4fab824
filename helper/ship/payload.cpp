// SPDX-License-Identifier: ISC
#include "helper/ship/payload.hpp"

#include <map>
#include <tuple>

#include <nlohmann/json.hpp>

#include "common/json_build.hpp"
#include "common/json_parse.hpp"
#include "common/text.hpp"
#include "helper/audit/journal.hpp"

namespace bg::ship {
namespace {

constexpr std::size_t kWhyBytes = 200;

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string with_path(const std::string& url, std::string_view path) {
    if (ends_with(url, path)) return url;
    std::string base = url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + std::string(path);
}

std::string why_not(long status, std::string_view body) {
    const std::string_view head = body.substr(0, kWhyBytes);
    std::string why = "HTTP " + std::to_string(status);
    if (!head.empty()) why += ": " + escape_for_display(head) + (body.size() > kWhyBytes ? "…" : "");
    return why;
}

}  // namespace

std::string endpoint_for(policy::SinkType type, const std::string& url) {
    switch (type) {
        case policy::SinkType::JournalRemote: return with_path(url, "/upload");
        case policy::SinkType::HttpJson: return url;
        case policy::SinkType::SplunkHec: return with_path(url, "/services/collector/event");
        case policy::SinkType::Loki: return with_path(url, "/loki/api/v1/push");
    }
    return url;
}

std::vector<std::string> headers_for(policy::SinkType type, const std::string& token) {
    std::vector<std::string> h;
    switch (type) {
        case policy::SinkType::JournalRemote: h.emplace_back("Content-Type: application/vnd.fdo.journal"); break;
        case policy::SinkType::HttpJson: h.emplace_back("Content-Type: application/x-ndjson"); break;
        case policy::SinkType::SplunkHec:
        case policy::SinkType::Loki: h.emplace_back("Content-Type: application/json"); break;
    }
    if (!token.empty())
        h.push_back(std::string("Authorization: ") + (type == policy::SinkType::SplunkHec ? "Splunk " : "Bearer ") + token);
    // No "Expect: 100-continue" round trip before each batch.
    h.emplace_back("Expect:");
    return h;
}

std::string body_for(policy::SinkType type, const std::vector<Entry>& batch) {
    std::string body;
    switch (type) {
        case policy::SinkType::JournalRemote:
            for (const Entry& e : batch) body += audit::journal_export_entry(e.record, e.line);
            return body;
        case policy::SinkType::HttpJson:
            for (const Entry& e : batch) {
                body += e.line;
                body += '\n';
            }
            return body;
        case policy::SinkType::SplunkHec:
            for (const Entry& e : batch) {
                // The record as an object: its canonical line is exactly what
                // nlohmann dumps back (sorted keys, no spaces), so the copy
                // in Splunk can be verified too.
                nlohmann::json event;
                EmptiedBeforeDestruction event_emptied(event);
                if (parse_into(e.line, event) != JsonParse::Ok) {
                    // Not a line of a verified log; sent as text rather than lost.
                    empty_bottom_up(event, 8);
                    event = e.line;
                }
                nlohmann::json j = JsonObject()("event", std::move(event))("host", e.record.host)(
                                       "source", "breakglassd")("sourcetype", "breakglass:audit")(
                                       "time", e.record.timestamp)
                                       .take();
                EmptiedBeforeDestruction j_emptied(j);
                body += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
                body += '\n';
            }
            return body;
        case policy::SinkType::Loki: {
            // One stream per label set, in the order first seen; values keep
            // the log's order within a stream. Every json here is emptied
            // before it is freed (common/json_build.hpp).
            using Key = std::tuple<std::string, std::string, std::string>;
            std::vector<Key> order;
            std::map<Key, std::vector<const Entry*>> members;
            for (const Entry& e : batch) {
                Key key = std::make_tuple(e.record.host, e.record.gate_bypassed, e.record.event);
                auto [it, fresh] = members.try_emplace(key);
                if (fresh) order.push_back(std::move(key));
                it->second.push_back(&e);
            }
            nlohmann::json streams = nlohmann::json::array();
            EmptiedBeforeDestruction streams_emptied(streams);
            for (const Key& key : order) {
                nlohmann::json values = nlohmann::json::array();
                EmptiedBeforeDestruction values_emptied(values);
                for (const Entry* e : members[key]) {
                    nlohmann::json value = nlohmann::json::array();
                    EmptiedBeforeDestruction value_emptied(value);
                    value.push_back(std::to_string(e->record.timestamp) + "000000000");
                    value.push_back(e->line);
                    push_emptied(values, std::move(value));
                }
                nlohmann::json labels =
                    JsonObject()("job", "breakglass")("host", std::get<0>(key))("event", std::get<2>(key)).take();
                EmptiedBeforeDestruction labels_emptied(labels);
                if (!std::get<1>(key).empty()) labels["gate"] = std::get<1>(key);
                push_emptied(streams, JsonObject()("stream", std::move(labels))("values", std::move(values)).take());
            }
            nlohmann::json j = JsonObject()("streams", std::move(streams)).take();
            EmptiedBeforeDestruction j_emptied(j);
            return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        }
    }
    return body;
}

AnswerVerdict judge_answer(policy::SinkType type, long http_status, std::string_view body) {
    if (http_status < 200 || http_status > 299) return {false, why_not(http_status, body)};
    if (type != policy::SinkType::SplunkHec) return {true, {}};
    // Splunk HEC: {"text":"Success","code":0}; any other code is a refusal
    // even under 200.
    nlohmann::json j;
    EmptiedBeforeDestruction j_emptied(j);
    if (parse_into(body.substr(0, kMaxAnswerBytes), j) == JsonParse::Ok && j.is_object()) {
        const auto code = j.find("code");
        if (code != j.end() && code->is_number_integer() && code->get<long long>() == 0) return {true, {}};
    }
    return {false, "Splunk did not answer code 0 (" + why_not(http_status, body) + ")"};
}

}  // namespace bg::ship
