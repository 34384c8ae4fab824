// SPDX-License-Identifier: ISC
// LogRequest: the audit records, paged so that every answer fits a frame
// whatever the records hold (root and the policy's auditors: may_read_log). A record
// travels as a JSON string inside the answer, so each quote and backslash in
// it costs a second byte: the budget counts the escaped size.
#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "helper/daemon/daemon.hpp"

namespace bg {
namespace {

// {"last_seq":N,"more":false,"records":[...]}, with room to spare.
constexpr std::size_t kLogEnvelopeBytes = 96;

// What one record adds to a LogAnswer's body: the escaped string and a comma.
std::size_t encoded_size(const std::string& line) { return nlohmann::json(line).dump().size() + 1; }

}  // namespace

using proto::ErrorAnswer;
using proto::ErrorCode;

proto::Message Daemon::on_log(const PeerIdentity& peer, proto::LogRequest& m, std::int64_t) {
    // Root and the policy's auditors (issue 14); anyone else is refused here.
    if (std::string why; !may_read_log(peer, &why)) return ErrorAnswer{ErrorCode::NotPermitted, why};
    const std::size_t limit =
        m.limit == 0 || m.limit > proto::kMaxLogRecordsPerAnswer ? proto::kMaxLogRecordsPerAnswer : m.limit;
    proto::LogAnswer a;
    std::uint64_t last = m.after_seq;
    bool more = false;
    auto lines = log_->read_after(m.after_seq, m.since, limit, &last, &more);
    if (!lines) return ErrorAnswer{ErrorCode::Unavailable, "cannot read the audit log: " + lines.error().message};
    std::size_t bytes = proto::kHeaderBytes + kLogEnvelopeBytes;
    a.last_seq = m.after_seq;
    for (std::string& line : *lines) {
        const std::size_t size = encoded_size(line);
        if (bytes + size > proto::kMaxFrameBytes) {
            more = true;
            break;
        }
        auto rec = audit::parse_record(line);
        if (!rec)
            return ErrorAnswer{ErrorCode::Unavailable, "audit log record after seq " + std::to_string(a.last_seq) +
                                                           " is damaged: " + rec.error().message};
        bytes += size;
        a.last_seq = rec->seq;
        a.records.push_back(std::move(line));
    }
    // A record never takes more than twice its 16 KiB once escaped, so the
    // first one always fits; say so rather than loop if that ever changes.
    if (a.records.empty() && !lines->empty())
        return ErrorAnswer{ErrorCode::Internal, "an audit record after seq " + std::to_string(m.after_seq) +
                                                    " does not fit an answer"};
    if (a.records.size() == lines->size()) a.last_seq = std::max(a.last_seq, last);
    a.more = more;
    return a;
}

proto::Message Daemon::on_story(const PeerIdentity& peer, proto::StoryRequest& m, std::int64_t) {
    if (std::string why; !may_read_log(peer, &why)) return ErrorAnswer{ErrorCode::NotPermitted, why};
    const auto grant_seq = audit::seq_of_event_id(m.grant_id);
    if (!grant_seq) return ErrorAnswer{ErrorCode::BadRequest, "not a grant id such as bg-2026-000042"};
    if (!story_index_) return ErrorAnswer{ErrorCode::Unavailable, "breakglassd keeps no story index (see its log)"};
    if (!story_index_->stopped().empty())
        return ErrorAnswer{ErrorCode::Unavailable, "the story index stopped: " + story_index_->stopped()};
    // Mapped per request: the index only grows, and a reader sees it whole.
    auto index = audit::StoryIndexReader::open(config_.state_dir + "/" + std::string(audit::kStoryIndexFileName),
                                               story_index_->first_hash());
    if (!index) return ErrorAnswer{ErrorCode::Unavailable, "cannot read the story index: " + index.error().message};
    if (index->last_seq() != log_->last_seq())
        return ErrorAnswer{ErrorCode::Unavailable, "the story index is behind the log (seq " +
                                                       std::to_string(index->last_seq()) + " of " +
                                                       std::to_string(log_->last_seq()) + ")"};
    std::set<std::uint64_t> seqs;
    std::uint64_t hole = 0;
    if (const auto grant = index->slot(*grant_seq)) {
        seqs.insert(*grant_seq);
        const std::uint64_t request = grant->named_seq < *grant_seq ? grant->named_seq : 0;
        if (request != 0) seqs.insert(request);
        for (const std::uint64_t s : index->naming_either(*grant_seq, request, &hole)) seqs.insert(s);
    }
    if (hole != 0)
        return ErrorAnswer{ErrorCode::Unavailable, "the story index has no slot for seq " + std::to_string(hole)};
    proto::StoryAnswer a;
    a.indexed_through = index->last_seq();
    for (auto it = seqs.upper_bound(m.after_seq); it != seqs.end(); ++it) {
        if (a.seqs.size() == proto::kMaxStorySeqsPerAnswer) {
            a.more = true;
            break;
        }
        a.seqs.push_back(*it);
    }
    if (checkpoint_key_) a.checkpoint_key = audit::format_ed25519_public_key(checkpoint_key_->public_key());
    return a;
}

}  // namespace bg
