// SPDX-License-Identifier: ISC
// breakglassctl's side of reviews (issue 14): `review`, `reviews` and `show`.
// `review` and `reviews` ask breakglassd (identity from the socket, no
// factor). `show` reads the log through breakglassd (root and the policy's
// auditors: log_reader.hpp) or, with --state-dir, the files directly (root,
// when the daemon is down), and says how the chain was checked.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <string_view>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "common/text.hpp"
#include "common/transport.hpp"
#include "helper/audit/audit_log.hpp"
#include "helper/audit/audit_verify.hpp"
#include "helper/ctl/commands.hpp"
#include "helper/ctl/daemon_call.hpp"
#include "helper/ctl/exit_code.hpp"
#include "helper/ctl/grant_story.hpp"
#include "helper/ctl/log_reader.hpp"
#include "helper/ctl/output.hpp"

namespace bg::ctl {
namespace {

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

// A story line is one whose text holds the quoted id: as a field value it is
// always "bg-…" between real quotes (quotes inside text are escaped).
bool mentions(std::string_view line, const std::string& quoted) { return line.find(quoted) != std::string_view::npos; }

int print_story(const CommonOptions& o, const GrantStory& story, const StoryVerification& v) {
    if (o.json)
        std::cout << story_json(story, v).dump() << '\n';
    else
        std::cout << format_story(story, v);
    std::cout << std::flush;
    if (!v.ok) return kExitVerifyFailed;
    const bool found = std::any_of(story.records.begin(), story.records.end(),
                                   [&](const audit::Record& r) { return r.event == "grant" && r.event_id == story.grant_id; });
    if (!found) {
        print_error("no grant " + escape_for_display(story.grant_id) + " in the audit log");
        return kExitRefused;
    }
    return kExitOk;
}

// The records of the story in `bytes[from..]` that mention `quoted`.
Status collect(std::string_view bytes, std::size_t from, const std::string& quoted, const std::string& grant_id,
               const std::string& request_id, std::vector<audit::Record>& out) {
    std::size_t pos = from;
    for (;;) {
        const std::size_t hit = bytes.find(quoted, pos);
        if (hit == std::string_view::npos) return Ok{};
        const std::size_t begin = bytes.rfind('\n', hit) == std::string_view::npos ? 0 : bytes.rfind('\n', hit) + 1;
        std::size_t end = bytes.find('\n', hit);
        if (end == std::string_view::npos) end = bytes.size();
        auto rec = audit::parse_record(bytes.substr(begin, end - begin));
        if (!rec) return make_error("audit log record at byte " + std::to_string(begin) + ": " + rec.error().message);
        if (in_story(*rec, grant_id, request_id) &&
            (out.empty() || out.back().seq < rec->seq))  // a line may hold both ids
            out.push_back(std::move(*rec));
        pos = end;
    }
}

// Byte offset of the first line with seq > after_seq in `bytes` (binary search; seqs are gap-free).
std::size_t offset_after(std::string_view bytes, std::uint64_t after_seq) {
    std::size_t lo = 0, hi = bytes.size();
    while (hi - lo > 64 * 1024) {
        const std::size_t mid = lo + (hi - lo) / 2;
        const std::size_t nl = bytes.find('\n', mid);
        if (nl == std::string_view::npos || nl + 1 >= hi) break;
        const std::size_t end = bytes.find('\n', nl + 1);
        if (end == std::string_view::npos) break;
        audit::LineScan s;
        if (audit::scan_line(bytes.substr(nl + 1, end - nl - 1), &s) != nullptr) break;
        if (s.seq <= after_seq)
            lo = nl + 1;
        else
            hi = nl + 1;
    }
    return lo;
}

int show_from_files(const CommonOptions& o, const std::string& grant_id, std::uint64_t grant_seq) {
    const auto log = read_state_log(o);
    if (!log) {
        print_error(log.error().message);
        return kExitRefused;
    }
    int exit_code = kExitOk;
    const auto outcome = verify_state_log(o, *log, audit::VerifyOptions{}, &exit_code);
    if (!outcome) return exit_code;
    StoryVerification v;
    v.ok = outcome->ok;
    v.records = outcome->records;
    v.scope = std::string("the whole log, ") + o.state_dir + "/audit.log, as verify does" +
              (outcome->seals_checked ? "" : " (seals not checked)");
    v.message = outcome->message;
    GrantStory story;
    story.grant_id = grant_id;
    const std::string_view bytes(*log);
    // The grant record first: it names the request it came from.
    const std::size_t at = offset_after(bytes, grant_seq - 1);
    std::vector<audit::Record> grant_records;
    if (auto ok = collect(bytes, at, "\"" + grant_id + "\"", grant_id, "", grant_records); !ok) {
        print_error(ok.error().message);
        return kExitVerifyFailed;
    }
    for (const audit::Record& r : grant_records)
        if (r.event == "grant" && r.event_id == grant_id) story.request_id = r.grant_id;
    std::vector<audit::Record> request_records;
    if (!story.request_id.empty()) {
        // The request and its approvals come before the grant: from the request's seq on.
        const auto request_seq = seq_of_event_id(story.request_id);
        const std::size_t from = request_seq ? offset_after(bytes, *request_seq - 1) : 0;
        if (auto ok = collect(bytes, from, "\"" + story.request_id + "\"", grant_id, story.request_id, request_records);
            !ok) {
            print_error(ok.error().message);
            return kExitVerifyFailed;
        }
    }
    // Both scans in seq order, each record once (the grant record names both ids).
    std::map<std::uint64_t, audit::Record> by_seq;
    for (audit::Record& r : request_records) by_seq.emplace(r.seq, std::move(r));
    for (audit::Record& r : grant_records) by_seq.emplace(r.seq, std::move(r));
    for (auto& [seq, r] : by_seq) story.records.push_back(std::move(r));
    return print_story(o, story, v);
}

int show_through_daemon(const CommonOptions& o, const std::string& grant_id, std::uint64_t grant_seq) {
    // The grant record first (to learn its request), then the story from the
    // request (or the grant) to the end of the log, the chain checked over it.
    std::optional<audit::Record> grant;
    DaemonLogRead first = read_log_through_daemon(o.socket, grant_seq - 1, 0, [&](const std::string& line) {
        if (auto rec = audit::parse_record(line); rec && rec->event_id == grant_id && rec->event == "grant") grant = *rec;
        return false;  // one record is enough
    });
    if (!first.ok) {
        print_error(first.error);
        return first.exit_code;
    }
    GrantStory story;
    story.grant_id = grant_id;
    if (grant) story.request_id = grant->grant_id;
    std::uint64_t from = grant_seq;
    if (!story.request_id.empty())
        if (const auto r = seq_of_event_id(story.request_id); r && *r < from) from = *r;
    // The record before the first one anchors the chain check.
    const std::uint64_t after = from > 1 ? from - 2 : 0;
    LogRangeCheck check;
    const std::string quoted_grant = "\"" + grant_id + "\"";
    const std::string quoted_request = story.request_id.empty() ? std::string() : "\"" + story.request_id + "\"";
    std::string parse_problem;
    DaemonLogRead all = read_log_through_daemon(o.socket, after, 0, [&](const std::string& line) {
        check.add(line);
        if (mentions(line, quoted_grant) || (!quoted_request.empty() && mentions(line, quoted_request))) {
            auto rec = audit::parse_record(line);
            if (!rec) {
                parse_problem = rec.error().message;
                return false;
            }
            if (in_story(*rec, grant_id, story.request_id)) story.records.push_back(std::move(*rec));
        }
        return true;
    });
    if (!all.ok) {
        print_error(all.error);
        return all.exit_code;
    }
    StoryVerification v;
    v.ok = check.ok && parse_problem.empty();
    v.records = check.records;
    v.scope = "seq " + std::to_string(check.first) + ".." + std::to_string(check.last) +
              ", read through breakglassd (hashes and links; seals need root's key: verify --state-dir)";
    v.message = !check.ok ? check.problem
                : !parse_problem.empty() ? parse_problem
                                         : std::to_string(check.records) + " records verified";
    return print_story(o, story, v);
}

std::string reviews_text(const std::vector<proto::ReviewInfo>& list, std::int64_t now) {
    if (list.empty()) return "no open reviews\n";
    std::string out;
    for (const proto::ReviewInfo& r : list) {
        out += escape_for_display(r.grant_id) + "  gate " + escape_for_display(r.gate) + "  by " +
               escape_for_display(r.user) + "  granted " + format_utc(r.granted_at) + "  due " + format_utc(r.due_at) +
               (r.overdue ? "  OVERDUE (" + format_span(now - r.due_at) + ")" : "") + "\n    " +
               escape_for_display(r.incident) + ": " + escape_for_display(r.reason) +
               (r.approvers.empty() ? "" : "  (approved by " + escape_for_display(r.approvers) + ")") + "\n";
    }
    return out;
}

}  // namespace

int run_review(const CommonOptions& o, const std::string& grant_id, const std::string& verdict, const std::string& note) {
    int exit_code = kExitOk;
    const auto answer = ask_daemon<proto::Reviewed>(o, proto::ReviewRequest{grant_id, verdict, note},
                                             proto::MessageType::Reviewed, exit_code);
    if (!answer) return exit_code;
    if (o.json)
        std::cout << nlohmann::json{{"grant_id", answer->grant_id}, {"record_event_id", answer->record_event_id},
                                    {"verdict", verdict}}
                         .dump()
                  << '\n';
    else
        std::cout << "reviewed " << escape_for_display(answer->grant_id) << ": " << escape_for_display(verdict)
                  << " (record " << escape_for_display(answer->record_event_id) << ")\n";
    return kExitOk;
}

int run_reviews(const CommonOptions& o, bool overdue) {
    std::vector<proto::ReviewInfo> all;
    proto::ReviewsRequest request{overdue, ""};
    for (;;) {
        int exit_code = kExitOk;
        auto page = ask_daemon<proto::ReviewsAnswer>(o, request, proto::MessageType::ReviewsAnswer, exit_code);
        if (!page) return exit_code;
        for (proto::ReviewInfo& r : page->reviews) all.push_back(std::move(r));
        if (!page->truncated || page->reviews.empty()) break;
        request.after = all.back().grant_id;
    }
    if (o.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const proto::ReviewInfo& r : all)
            list.push_back({{"grant_id", r.grant_id}, {"user", r.user}, {"gate", r.gate}, {"approvers", r.approvers},
                            {"reason", r.reason}, {"incident", r.incident}, {"granted_at", format_utc(r.granted_at)},
                            {"due_at", format_utc(r.due_at)}, {"overdue", r.overdue}});
        std::cout << nlohmann::json{{"reviews", list}}.dump() << '\n';
    } else {
        std::cout << reviews_text(all, now_seconds());
    }
    std::cout << std::flush;
    return kExitOk;
}

int run_show(const CommonOptions& o, const std::string& grant_id) {
    const auto seq = seq_of_event_id(grant_id);
    if (!seq) {
        print_error(escape_for_display(grant_id) + " is not a grant id such as bg-2026-000042 (see breakglassctl list --all)");
        return kExitUsage;
    }
    return o.state_dir_given ? show_from_files(o, grant_id, *seq) : show_through_daemon(o, grant_id, *seq);
}

}  // namespace bg::ctl
