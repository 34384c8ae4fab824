// SPDX-License-Identifier: ISC
// What a batch of records looks like on the wire to each kind of sink, and
// whether a sink's answer acknowledges it. Pure functions: the shipper
// (shipper.hpp) only moves bytes; tests and the fuzz target
// (tests/fuzz/fuzz_sink_answer.cpp) call these directly.
//
//   journal-remote  POST <url>/upload, Content-Type: application/vnd.fdo.journal,
//                   one journal export entry per record (audit/journal.hpp),
//                   each with BREAKGLASS_RECORD = the canonical line; 200-299 acks.
//   http-json       POST <url>, Content-Type: application/x-ndjson, the canonical
//                   lines one per line; Authorization: Bearer <token> with a
//                   token_file; 200-299 acks.
//   splunk-hec      POST <url>/services/collector/event, Authorization: Splunk <token>,
//                   one {"event": <the record>, "host", "source", "sourcetype",
//                   "time"} object per record, newline separated; 200 with
//                   {"code":0,...} acks (Splunk's documented answer).
//   loki            POST <url>/loki/api/v1/push, {"streams":[{"stream":{labels
//                   job, host, gate, event},"values":[["<ns>","<the line>"],...]}]};
//                   200-299 acks (Loki answers 204).
// Anything else is retried later, with the answer's first bytes, escaped, as
// the sink's last error. A record is never dropped because a sink refused it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "helper/ship/log_tail.hpp"
#include "policy/policy.hpp"

namespace bg::ship {

// How much of an answer is kept; the rest is refused by the transfer
// (shipper.hpp) so a sink cannot grow the daemon's memory.
inline constexpr std::size_t kMaxAnswerBytes = 64 * 1024;

// The URL the batch is POSTed to: the configured one with the product's
// documented path appended unless it already ends with it.
std::string endpoint_for(policy::SinkType type, const std::string& url);

// Content-Type and Authorization (empty token: none) headers, "Name: value".
std::vector<std::string> headers_for(policy::SinkType type, const std::string& token);

std::string body_for(policy::SinkType type, const std::vector<Entry>& batch);

struct AnswerVerdict {
    bool acknowledged = false;
    std::string why;  // when not: "HTTP 500: <first bytes, escaped>"
};
AnswerVerdict judge_answer(policy::SinkType type, long http_status, std::string_view body);

}  // namespace bg::ship
