// SPDX-License-Identifier: ISC
// LogRequest: the audit records, paged so that every answer fits a frame
// whatever the records hold (root and the policy's auditors: may_read_log). A record
// travels as a JSON string inside the answer, so each quote and backslash in
// it costs a second byte: the budget counts the escaped size.
#include <algorithm>

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
        if (!rec) return ErrorAnswer{ErrorCode::Unavailable, "audit log record is damaged: " + rec.error().message};
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

}  // namespace bg
