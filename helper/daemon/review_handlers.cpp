// SPDX-License-Identifier: ISC
// Reviews (issue 14): every grant opens a review; a reviewer of its gate who
// is neither the grant's actor nor one of its approvers closes it with a
// verdict (a `review` record). Identity comes from the socket only, no
// factor. Every refused review is a `review_refused` record (within the
// requester's refusal budget). A review past its gate's review_within is a
// `review_overdue` record, once per grant: the store learns from that record,
// so a restart does not write it again. Who may read reviews and the log:
// root and the policy's auditors (a reviewer sees the open reviews of the
// gates they review).
#include <algorithm>

#include "common/nss.hpp"
#include "common/text.hpp"
#include "helper/daemon/daemon.hpp"

namespace bg {

using proto::ErrorAnswer;
using proto::ErrorCode;

namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

bool contains(const std::vector<std::string>& items, const std::string& s) {
    return std::find(items.begin(), items.end(), s) != items.end();
}

}  // namespace

std::chrono::seconds Daemon::review_within(const std::string& gate) const {
    const policy::Gate* g = gate_in_force(gate);
    return g ? g->review_within : policy::kDefaultReviewWithin;
}

bool Daemon::may_read_log(const PeerIdentity& peer, std::string* why) const {
    if (peer.uid == 0) return true;
    if (!policy_) {
        *why = "no valid policy is loaded, so no auditors are known";
        return false;
    }
    const auto groups = nss::group_names_of(peer.user);
    if (groups.failed()) {
        *why = "cannot look up the groups of " + peer.user + " (" + escape_for_display(groups.error) + ")";
        return false;
    }
    if (policy::is_auditor(*policy_, peer.user, groups.value)) return true;
    *why = "only root and the policy's auditors may read the audit log; " + peer.user + " is not an auditor";
    return false;
}

proto::Message Daemon::on_review(const PeerIdentity& peer, proto::ReviewRequest& m, std::int64_t now) {
    audit::RecordFields f;
    f.event = "review_refused";
    f.action = "review";
    f.actor = peer.user;
    f.actor_loginuid = peer.loginuid;
    f.actor_role = "reviewer";
    f.peer_uid = static_cast<std::int64_t>(peer.uid);
    f.grant_id = bounded_for_record(m.grant_id, kMaxGateBytes);
    // A set-user-ID peer reviews as the user who ran it, never as its owner.
    std::string reviewer = peer.user;
    if (peer.real_uid >= 0 && peer.real_uid != static_cast<std::int64_t>(peer.uid)) {
        const auto real = nss::user_by_uid(static_cast<uid_t>(peer.real_uid));
        if (!real.found())
            return refuse(peer, ErrorCode::NotPermitted,
                          "the user behind this set-user-ID peer (uid " + std::to_string(peer.real_uid) +
                              ") cannot be named, so it may not review",
                          f, now);
        reviewer = real.value.name;
        f.actor = reviewer;
    }
    if (!workflow::is_review_verdict(m.verdict))
        return refuse(peer, ErrorCode::BadRequest,
                      "verdict " + escape_for_display(m.verdict) +
                          " is not one of justified, unjustified, gate-needs-fix",
                      f, now);
    if (auto bad = validate_text(m.note, kMaxReasonBytes, false))
        return refuse(peer, ErrorCode::BadRequest, "the note " + *bad, f, now);
    const workflow::OpenReview* o = reviews_.open(m.grant_id);
    if (o == nullptr) {
        const auto verdict = reviews_.verdict(m.grant_id);
        if (verdict && *verdict != "void")
            return refuse(peer, ErrorCode::Denied,
                          "grant " + m.grant_id + " has already been reviewed (" + *verdict + ")", f, now);
        return refuse(peer, ErrorCode::NotFound,
                      "no grant " + escape_for_display(m.grant_id) + " to review" +
                          (verdict ? " (it never took effect)" : ""),
                      f, now);
    }
    f.gate_bypassed = o->gate;
    f.target = o->user;  // whose grant
    // Separation of duties: not the actor, not an approver; and not through
    // another account when the login behind the peer is one of them.
    std::string login_user;
    if (peer.loginuid >= 0 && peer.loginuid_origin == LoginUidOrigin::Login) {
        const auto u = nss::user_by_uid(static_cast<uid_t>(peer.loginuid));
        if (u.found()) login_user = u.value.name;
    }
    for (const std::string& who : {reviewer, login_user}) {
        if (who.empty()) continue;
        const std::string as = who == reviewer ? who : reviewer + " (logged in as " + who + ")";
        if (who == o->user)
            return refuse(peer, ErrorCode::NotPermitted,
                          as + " may not review grant " + o->grant_id + ": it is their own (separation of duties)", f,
                          now);
        if (contains(o->approvers, who))
            return refuse(peer, ErrorCode::NotPermitted,
                          as + " may not review grant " + o->grant_id + ": they approved it (separation of duties)",
                          f, now);
    }
    const policy::Gate* gate = gate_in_force(o->gate);
    if (gate == nullptr)
        return refuse(peer, ErrorCode::Unavailable,
                      "gate '" + o->gate + "' of grant " + o->grant_id +
                          " is not in the policy in force, so it has no reviewers",
                      f, now);
    const auto groups = nss::group_names_of(reviewer);
    if (groups.failed())
        return refuse(peer, ErrorCode::Unavailable,
                      "cannot look up the groups of " + reviewer + " (" + escape_for_display(groups.error) + ")", f,
                      now);
    if (!policy::is_reviewer(*gate, reviewer, groups.value)) {
        std::string list;
        for (const policy::Principal& p : gate->reviewers)
            list += std::string(list.empty() ? "" : ", ") + (p.is_group ? "%" : "") + p.name;
        return refuse(peer, ErrorCode::NotPermitted,
                      reviewer + " is not a reviewer of gate '" + gate->name + "' (reviewers: " +
                          (list.empty() ? "none" : list) + ")",
                      f, now);
    }
    f.event = "review";
    f.review_status = m.verdict;
    f.reason = m.note;
    const std::int64_t due = o->granted_at + gate->review_within.count();
    f.detail = with_loginuid_note("reviewed the grant of " + o->user + (now > due ? ", late (due " + audit::format_utc(due) + ")" : ""), peer);
    const std::string id = o->grant_id;
    const auto rec = record(f, now);
    if (!rec)
        return ErrorAnswer{ErrorCode::Unavailable, "the review could not be recorded (" +
                                                       escape_for_display(last_record_error_) + "); it does not count"};
    return proto::Reviewed{id, rec->event_id};
}

proto::Message Daemon::on_reviews(const PeerIdentity& peer, proto::ReviewsRequest& m, std::int64_t now) {
    std::string why;
    const bool all = may_read_log(peer, &why);
    std::vector<std::string> groups;
    if (!all) {
        const auto g = nss::group_names_of(peer.user);
        if (g.failed())
            return ErrorAnswer{ErrorCode::Unavailable,
                               "cannot look up the groups of " + peer.user + " (" + escape_for_display(g.error) + ")"};
        groups = g.value;
    }
    proto::ReviewsAnswer a;
    std::size_t bytes = proto::kHeaderBytes + 64;
    bool started = m.after.empty();
    for (const workflow::OpenReview* o : reviews_.open_reviews()) {
        if (!started) {
            started = o->grant_id == m.after;
            continue;
        }
        if (!all) {
            const policy::Gate* gate = gate_in_force(o->gate);
            if (gate == nullptr || !policy::is_reviewer(*gate, peer.user, groups)) continue;
        }
        const std::int64_t due = o->granted_at + review_within(o->gate).count();
        if (m.overdue && now <= due) continue;
        proto::ReviewInfo info{o->grant_id, o->user,     o->gate, join(o->approvers), o->reason,
                               o->incident, o->granted_at, due,   now > due};
        const std::size_t size = 256 + info.reason.size() * 6 + info.incident.size() * 6 + info.approvers.size() * 6;
        if (a.reviews.size() == proto::kMaxListEntries || bytes + size > proto::kMaxFrameBytes) {
            a.truncated = true;
            break;
        }
        bytes += size;
        a.reviews.push_back(std::move(info));
    }
    return a;
}

Status Daemon::replay_reviews() {
    std::uint64_t after = 0;
    bool more = true;
    while (more) {
        std::uint64_t last = after;
        auto lines = log_->read_after(after, 0, 4096, &last, &more);
        if (!lines) return make_error("audit log: " + lines.error().message);
        for (const std::string& line : *lines) {
            // Only these records matter to the store: skip the others unparsed.
            if (line.find("\"event\":\"grant") == std::string::npos && line.find("\"event\":\"review") == std::string::npos)
                continue;
            auto rec = audit::parse_record(line);
            if (!rec) return make_error("audit log record after seq " + std::to_string(after) + ": " + rec.error().message);
            reviews_.recorded(*rec);
        }
        if (last == after) break;
        after = last;
    }
    return Ok{};
}

void Daemon::watch_reviews(std::int64_t now) {
    if (!policy_) return;
    std::vector<workflow::OpenReview> due;
    for (const workflow::OpenReview* o : reviews_.open_reviews())
        if (!o->overdue_recorded && now > o->granted_at + review_within(o->gate).count()) due.push_back(*o);
    for (const workflow::OpenReview& o : due) {
        audit::RecordFields f;
        f.event = "review_overdue";
        f.action = "review";
        f.actor = o.user;
        f.actor_role = "requester";
        f.gate_bypassed = o.gate;
        f.grant_id = o.grant_id;
        f.target = o.user;
        f.detail = "due " + audit::format_utc(o.granted_at + review_within(o.gate).count());
        // Nothing waits on it (deferred durability). The store marks the
        // grant only once the record exists, so one that could not be
        // written (a short disk) is tried again by the next watch, never twice.
        if (!record(f, now, audit::Durability::Deferred)) break;
    }
}

}  // namespace bg
