// SPDX-License-Identifier: ISC
// breakglassctl's side of reviews (issue 14): `review`, `reviews` and `show`.
// `review` and `reviews` ask breakglassd (identity from the socket, no
// factor). `show` finds the story with the story index and checks the runs
// from each story record to its signed checkpoint (story_lookup.hpp): through
// breakglassd (root and the policy's auditors: StoryRequest, then LogRequest)
// or, with --state-dir, from the files directly (root, when the daemon is
// down), and says what was checked.
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
#include "common/utc_time.hpp"
#include "common/transport.hpp"
#include "helper/audit/audit_log.hpp"
#include "helper/audit/audit_verify.hpp"
#include "helper/audit/ed25519.hpp"
#include "helper/audit/signed_checkpoint.hpp"
#include "helper/audit/story_index.hpp"
#include "helper/ctl/commands.hpp"
#include "helper/ctl/daemon_call.hpp"
#include "helper/ctl/exit_code.hpp"
#include "helper/ctl/grant_story.hpp"
#include "helper/ctl/log_reader.hpp"
#include "helper/ctl/output.hpp"
#include "helper/ctl/story_lookup.hpp"

namespace bg::ctl {
namespace {

// The largest audit.log show maps (what verify reads).
constexpr std::size_t kMaxShowLogBytes = std::size_t{4} * 1024 * 1024 * 1024;

std::int64_t now_seconds() { return wall_clock_seconds(); }

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

// The checkpoint public key of the state directory, and what to call it.
CheckpointKey state_checkpoint_key(const CommonOptions& o) {
    CheckpointKey k;
    const std::string path = o.state_dir + "/" + std::string(audit::kCheckpointPublicKeyFileName);
    auto key = audit::read_ed25519_public_key_file(path);
    if (!key) {
        k.name = "none in " + path + ": " + key.error().message;
        return k;
    }
    k.key = *key;
    k.name = path + " (" + audit::format_ed25519_public_key(*key) + ")";
    return k;
}

int show_from_files(const CommonOptions& o, const std::string& grant_id) {
    const auto log = MappedFile::open(o.state_dir + "/" + std::string(audit::kLogFileName), kMaxShowLogBytes);
    if (!log) {
        print_error(log.error().message);
        return kExitRefused;
    }
    const StoryPlan plan =
        plan_from_files(log->bytes(), o.state_dir + "/" + std::string(audit::kStoryIndexFileName), grant_id);
    ScopedStory scoped = read_verified_story(read_after_in(log->bytes()), grant_id, plan, state_checkpoint_key(o));
    if (scoped.read_failed) {
        print_error(scoped.error);
        return kExitRefused;
    }
    return print_story(o, scoped.story, scoped.verification);
}

// Without breakglassd's story index (a daemon that could not keep one): the
// story from the request (or the grant) to the end of the log, the chain
// checked over all of it.
int show_through_daemon_by_scan(const CommonOptions& o, const std::string& grant_id, std::uint64_t grant_seq,
                                const std::string& why) {
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
              ", read through breakglassd to the log's end (hashes and links; seals need root's key: verify "
              "--state-dir); breakglassd's story index not used: " +
              escape_for_display(why);
    v.message = !check.ok ? check.problem
                : !parse_problem.empty() ? parse_problem
                                         : std::to_string(check.records) + " records verified";
    return print_story(o, story, v);
}

// breakglassd lists the story's seqs from its index (StoryRequest); the runs
// around them are read with LogRequest and checked here, as from the files.
int show_through_daemon(const CommonOptions& o, const std::string& grant_id, std::uint64_t grant_seq) {
    StoryPlan plan;
    plan.grant_seq = grant_seq;
    proto::StoryRequest request{grant_id, 0};
    CheckpointKey key;
    // One connection for the story's seqs and every run read after them.
    proto::Client client(o.socket);
    for (;;) {
        proto::CallResult r = client.call(request, proto::MessageType::StoryAnswer);
        if (!r.answer) {
            print_error(escape_for_display(r.error) + "; is breakglassd running? (systemctl status breakglassd.socket)");
            return kExitUnreachable;
        }
        if (const auto* refused = std::get_if<proto::ErrorAnswer>(&*r.answer)) {
            // A daemon whose index cannot answer still serves the log.
            if (refused->code == proto::ErrorCode::Unavailable)
                return show_through_daemon_by_scan(o, grant_id, grant_seq, refused->message);
            print_error(std::string(proto::error_code_name(refused->code)) + ": " + escape_for_display(refused->message));
            return kExitRefused;
        }
        const auto& page = std::get<proto::StoryAnswer>(*r.answer);
        for (const std::uint64_t s : page.seqs)
            if (s > request.after_seq) plan.seqs.push_back(s);
        plan.how = "breakglassd's story index through seq " + std::to_string(page.indexed_through);
        if (!key.key && !page.checkpoint_key.empty())
            if (auto k = audit::parse_ed25519_public_key(page.checkpoint_key); k) {
                key.key = *k;
                key.name = "the checkpoint key breakglassd holds (" + audit::format_ed25519_public_key(*k) +
                           "; compare with breakglassctl checkpoint-key)";
            }
        if (!page.more || page.seqs.empty() || page.seqs.back() <= request.after_seq) break;
        request.after_seq = page.seqs.back();
    }
    if (!key.key) key.name = "breakglassd holds none";
    std::sort(plan.seqs.begin(), plan.seqs.end());
    plan.seqs.erase(std::unique(plan.seqs.begin(), plan.seqs.end()), plan.seqs.end());
    std::string error;
    int exit_code = kExitOk;
    const ReadAfter read = [&](std::uint64_t after, const std::function<bool(std::string_view)>& each,
                               std::string* why) {
        const DaemonLogRead got =
            read_log_through_daemon(client, after, 0, [&](const std::string& line) { return each(line); });
        if (!got.ok) {
            *why = got.error;
            exit_code = got.exit_code;
        }
        return got.ok;
    };
    // The grant record names its request: read it first.
    const bool read_ok = read(grant_seq - 1, [&](std::string_view line) {
        if (auto rec = audit::parse_record(line);
            rec && rec->seq == grant_seq && rec->event == "grant" && rec->event_id == grant_id) {
            plan.grant_found = true;
            plan.request_id = rec->grant_id;
        }
        return false;  // one record is enough
    }, &error);
    if (!read_ok) {
        print_error(error);
        return exit_code;
    }
    plan.request_seq = audit::seq_of_event_id(plan.request_id).value_or(0);
    if (plan.request_seq >= grant_seq) plan.request_seq = 0;
    ScopedStory scoped = read_verified_story(read, grant_id, plan, key);
    if (scoped.read_failed) {
        print_error(scoped.error);
        return exit_code != kExitOk ? exit_code : kExitUnreachable;
    }
    return print_story(o, scoped.story, scoped.verification);
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
    return o.state_dir_given ? show_from_files(o, grant_id) : show_through_daemon(o, grant_id, *seq);
}

}  // namespace bg::ctl
