// SPDX-License-Identifier: ISC
// LogRequest: the audit records, paged so that every answer fits a frame
// whatever the records hold (root only, by the dispatch table).
#include <algorithm>

#include "helper/daemon/daemon.hpp"

namespace bg {
namespace {

// Answers must fit a frame; leave room for the envelope.
constexpr std::size_t kLogAnswerBudget = proto::kMaxFrameBytes - 4096;

}  // namespace

using proto::ErrorAnswer;
using proto::ErrorCode;

proto::Message Daemon::on_log(const PeerIdentity&, proto::LogRequest& m, std::int64_t) {
    const std::size_t limit =
        m.limit == 0 || m.limit > proto::kMaxLogRecordsPerAnswer ? proto::kMaxLogRecordsPerAnswer : m.limit;
    proto::LogAnswer a;
    std::uint64_t last = m.after_seq;
    bool more = false;
    auto lines = log_->read_after(m.after_seq, m.since, limit, &last, &more);
    if (!lines) return ErrorAnswer{ErrorCode::Unavailable, "cannot read the audit log: " + lines.error().message};
    std::size_t bytes = 0;
    a.last_seq = m.after_seq;
    for (std::string& line : *lines) {
        if (bytes + line.size() + 8 > kLogAnswerBudget) {
            more = true;
            break;
        }
        auto rec = audit::parse_record(line);
        if (!rec) return ErrorAnswer{ErrorCode::Unavailable, "audit log record is damaged: " + rec.error().message};
        bytes += line.size() + 8;
        a.last_seq = rec->seq;
        a.records.push_back(std::move(line));
    }
    if (a.records.size() == lines->size()) a.last_seq = std::max(a.last_seq, last);
    a.more = more;
    return a;
}

}  // namespace bg
