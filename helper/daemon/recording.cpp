// SPDX-License-Identifier: ISC
// How the daemon writes records (docs/ARCHITECTURE.md, "Opening waits,
// closing does not"). An opening record fails closed: no record, nothing
// granted, run or enrolled. A closing record never holds anything up: the
// grant has already ended and its processes are terminated whatever the disk
// says. On a full disk it gets the audit reserve (audit.reserve); when even
// that cannot write it, it is queued and written by the next maintenance
// that can, with the time it happened in its detail, and a grant's end is
// kept in ends.pending meanwhile so that a restart does not revive it. Out
// of memory while writing one is handled the same way.
#include <new>
#include <utility>

#include "common/text.hpp"
#include "helper/daemon/daemon.hpp"

namespace bg {
namespace {

using proto::ErrorAnswer;
using proto::ErrorCode;

// "revoked at 2026-03-01T10:00:00Z": what happened, in a record's words.
std::string happened_at(const std::string& event, std::int64_t at) {
    std::string what = "happened";
    if (event == "revoke") what = "revoked";
    else if (event == "expire") what = "expired";
    else if (event == "terminate") what = "signalled";
    else if (event == "session_close") what = "closed";
    else if (event == "hook" || event == "hook_failed") what = "ran";
    else if (event == "daemon_start") what = "started";
    else if (event == "policy_load") what = "loaded";
    else if (event == "policy_error") what = "rejected";
    return what + " at " + audit::format_utc(at);
}

}  // namespace

std::optional<audit::Record> Daemon::record(const audit::RecordFields& fields, std::int64_t now,
                                            audit::Durability durability) {
    if (!late_.empty()) write_late_records(now);
    if (!late_.empty()) {
        last_record_error_ = std::to_string(late_.size()) +
                             " earlier closing record(s) are waiting for space in the audit log (" + late_.front().why +
                             ")";
        return std::nullopt;
    }
    if (reserve_ && !reserve_->whole() && !reserve_->refill()) {
        last_record_error_ = "the disk holding the audit log is full and breakglassd keeps its reserve (" +
                             reserve_->path() + ") for revocations";
        return std::nullopt;
    }
    auto rec = recorder_.append(fields, now, durability);
    if (!rec) {
        last_record_error_ = rec.error().message;
        return std::nullopt;
    }
    last_record_error_.clear();
    return std::move(rec).value();
}

Result<audit::Record> Daemon::append_using_reserve(const audit::RecordFields& fields, std::int64_t now,
                                                   audit::Durability durability, bool use_reserve) {
    // Closing records come here. Out of memory is one more reason a record
    // cannot be written now: the caller queues it to be written late, as for
    // a full disk, and the grant's end stays in ends.pending meanwhile —
    // rather than the exception carrying the end past its record.
    const auto append = [&]() -> Result<audit::Record> {
        try {
            return recorder_.append(fields, now, durability);
        } catch (const std::bad_alloc&) {
            return Error{"out of memory"};  // short enough to need no allocation
        }
    };
    auto rec = append();
    while (!rec && use_reserve && reserve_ && audit::is_out_of_space(rec.error().system_errno) && reserve_->release()) {
        problems_.push_back({1, "the disk holding the audit log is full: released part of " + reserve_->path() +
                                    " for a " + fields.event + " record (it holds " +
                                    std::to_string(reserve_->held()) +
                                    " bytes now; no grant is given until it is whole again)"});
        // The released space is the closing records': the story index stops
        // (show reads the log) until a start rebuilds it.
        if (story_index_) story_index_->stop("the disk was full: its space went to closing records");
        rec = append();
    }
    return rec;
}

std::optional<audit::Record> Daemon::record_closing(const audit::RecordFields& fields, std::int64_t now,
                                                    audit::Durability durability, bool use_reserve,
                                                    const std::string& ended_grant) {
    if (!late_.empty()) write_late_records(now);
    std::string why;
    if (late_.empty()) {
        auto rec = append_using_reserve(fields, now, durability, use_reserve);
        if (rec) return std::move(rec).value();
        why = rec.error().message;
    } else {
        why = "earlier records were waiting: " + late_.front().why;  // keep the log in the order things happened
    }
    queue_late({fields, durability, now, why, use_reserve, ended_grant});
    return std::nullopt;
}

void Daemon::queue_late(LateRecord late) {
    // An alert for what ends a grant, or starts the wait; what queues behind
    // it is covered by maintain()'s reminder.
    const int priority = late_.empty() || !late.ended_grant.empty() ? 1 : 4;
    problems_.push_back({priority, "the " + late.fields.event + " record" +
                                (late.fields.grant_id.empty() ? std::string() : " of " + late.fields.grant_id) +
                                " could not be written (" + late.why +
                                "); it is written with the time it happened as soon as the audit log can take it"});
    late_alerted_at_ = late.at;
    late_.push_back(std::move(late));
}

void Daemon::write_late_records(std::int64_t now) {
    std::size_t written = 0;
    while (!late_.empty()) {
        LateRecord& late = late_.front();
        audit::RecordFields fields = late.fields;
        fields.detail = bounded_for_record(happened_at(fields.event, late.at) + "; recorded late: " + late.why +
                                               (fields.detail.empty() ? std::string() : "; " + fields.detail),
                                           audit::kMaxFieldBytes);
        auto rec = append_using_reserve(fields, now, late.durability, late.use_reserve);
        if (!rec) break;
        if (!late.ended_grant.empty() && unrecorded_ends_)
            if (auto removed = unrecorded_ends_->remove(late.ended_grant); !removed)
                problems_.push_back({3, "the " + fields.event + " record of " + late.ended_grant +
                                            " is written but could not be dropped from " +
                                            std::string(UnrecordedEnds::kFileName) + ": " + removed.error().message +
                                            " (harmless: it is dropped at the next start)"});
        late_.pop_front();
        ++written;
    }
    if (written > 0)
        problems_.push_back({5, "wrote " + std::to_string(written) + " closing record(s) late" +
                                    (late_.empty() ? std::string("; none is waiting now")
                                                   : "; " + std::to_string(late_.size()) + " still wait")});
}

proto::Message Daemon::refuse(const PeerIdentity& peer, ErrorCode code, const std::string& message,
                              audit::RecordFields fields, std::int64_t now) {
    // Root and trusted front-ends ask for others: their budget is per user asked for.
    const RefusalBudget::Requester requester{static_cast<std::int64_t>(peer.uid),
                                             is_trusted(peer) ? fields.actor : std::string()};
    if (!refusals_.admit(requester, peer.user, message, now))
        return ErrorAnswer{code, message + " (not recorded on its own: more than " +
                                     std::to_string(RefusalBudget::kPerWindow) + " refusals in " +
                                     std::to_string(refusals_.window_seconds()) +
                                     " s from this requester; a refusals_suppressed record counts them)"};
    fields.detail = bounded_for_record(with_loginuid_note(message, peer), audit::kMaxFieldBytes);
    if (!record(fields, now))
        return ErrorAnswer{ErrorCode::Unavailable, message + " (and the refusal could not be recorded: " +
                                                       escape_for_display(last_record_error_) + ")"};
    return ErrorAnswer{code, message};
}

void Daemon::record_refusal_summaries(std::int64_t now) {
    for (const RefusalBudget::Summary& s : refusals_.take_due(now)) {
        audit::RecordFields f;
        f.event = "refusals_suppressed";
        f.action = "break_glass";
        f.actor = s.requester.user.empty() ? s.peer_user : s.requester.user;
        f.actor_role = "requester";
        f.peer_uid = s.requester.peer_uid;
        f.detail = bounded_for_record(
            std::to_string(s.suppressed) + " refusal(s) from uid " + std::to_string(s.requester.peer_uid) + " (" +
                s.peer_user + ")" + (s.requester.user.empty() ? std::string() : " for user " + s.requester.user) +
                " suppressed between " + audit::format_utc(s.first) + " and " + audit::format_utc(s.last) +
                ": beyond " + std::to_string(RefusalBudget::kPerWindow) + " refusal records in " +
                std::to_string(refusals_.window_seconds()) + " s; the last was: " + s.last_message,
            audit::kMaxFieldBytes);
        // Nothing waits on it: written at once, or when the disk allows.
        (void)record_closing(f, now, audit::Durability::Deferred, /*use_reserve=*/false);
    }
}

audit::RecordFields Daemon::end_fields(const Grant& g, const std::string& event, const std::string& actor,
                                       std::int64_t peer_uid, std::int64_t loginuid, const std::string& detail) const {
    audit::RecordFields f;
    f.event = event;
    f.action = "break_glass";
    f.actor = actor;
    f.actor_loginuid = loginuid;
    f.peer_uid = peer_uid;
    f.actor_role = actor == g.user ? "requester" : (actor == "breakglassd" ? "daemon" : "administrator");
    f.target = "user=" + g.user;
    f.gate_bypassed = g.gate;
    f.incident_ref = g.incident;
    f.expires_at = g.expires_at;
    f.grant_id = g.event_id;
    f.detail = bounded_for_record(detail, audit::kMaxFieldBytes);
    return f;
}

std::optional<audit::Record> Daemon::end_grant(const Grant& g, const std::string& event, const std::string& actor,
                                               const PeerIdentity* peer, const std::string& detail, std::int64_t now,
                                               audit::Durability durability) {
    // Everything that allocates comes first: out of memory here leaves the
    // grant active and its end to be tried again, never ended in memory
    // with no termination and no record.
    const std::int64_t peer_uid = peer ? static_cast<std::int64_t>(peer->uid) : -1;
    const std::int64_t loginuid = peer ? peer->loginuid : -1;
    const audit::RecordFields f =
        end_fields(g, event, actor, peer_uid, loginuid, peer ? with_loginuid_note(detail, *peer) : detail);
    EndedGrant ended{g, event};
    TimerChange stop{g.event_id, 0, false};
    timer_changes_.reserve(timer_changes_.size() + 1);
    ended_.reserve(ended_.size() + 1);
    // Closing never waits: the grant ends here, whatever the disk says.
    grants_.end(g.event_id, state_after(event), now);
    timer_changes_.push_back(std::move(stop));
    // The /proc scan, SIGTERM and the on_revoke hook follow the answer.
    ended_.push_back(std::move(ended));
    if (!late_.empty()) write_late_records(now);
    std::string why = late_.empty() ? std::string() : "earlier records were waiting: " + late_.front().why;
    if (late_.empty()) {
        auto rec = append_using_reserve(f, now, durability, true);
        if (rec) return std::move(rec).value();
        why = rec.error().message;
    }
    // Before the answer: a restart must find this grant ended.
    if (!unrecorded_ends_) {
        problems_.push_back({1, "the " + event + " of " + g.event_id + " is not on disk anywhere yet: a restart "
                                "before its record is written would make the grant active again until " +
                                audit::format_utc(g.expires_at)});
    } else if (auto kept = unrecorded_ends_->add({g.event_id, event, now, actor, peer_uid, loginuid, f.detail, why});
               !kept) {
        problems_.push_back({1, "the " + event + " of " + g.event_id + " is not on disk anywhere yet (" +
                                    kept.error().message +
                                    "): a restart before its record is written would make the grant active again "
                                    "until " + audit::format_utc(g.expires_at)});
    }
    queue_late({f, audit::Durability::Synced, now, why, true, g.event_id});
    return std::nullopt;
}

void Daemon::void_recorded_grant(const audit::Record& rec, const std::string& why, std::int64_t now) {
    Grant g;
    if (const Grant* known = grants_.find(rec.event_id)) {
        if (known->state != GrantState::Active) return;
        g = *known;
    } else {
        // The store has not taken the record in yet: it will, ended.
        g.event_id = rec.event_id;
        g.user = rec.actor;
        g.gate = rec.gate_bypassed;
        if (rec.action.starts_with(kPamActionPrefix)) g.account = rec.target;
        g.reason = rec.reason;
        g.incident = rec.incident_ref;
        g.granted_at = rec.timestamp;
        g.expires_at = rec.expires_at;
        grants_.end_before_seen(g.event_id, GrantState::Void, now);
    }
    grants_.release(g.event_id);
    (void)end_grant(g, "grant_void", "breakglassd", nullptr, why, now);
}

void Daemon::void_unanswered_grant(const std::string& grant_id, std::int64_t now) {
    const Grant* g = grants_.find(grant_id);
    if (g == nullptr || g->state != GrantState::Active) return;
    const Grant grant = *g;
    grants_.release(grant.event_id);
    (void)end_grant(grant, "grant_void", "breakglassd", nullptr,
                    "its answer could not be sent (out of memory); the grant never took effect", now);
}

std::optional<std::string> Daemon::behind_the_log() {
    if (!recorder_.behind()) return std::nullopt;
    const Status caught = recorder_.catch_up();
    if (caught) return std::nullopt;
    return "breakglassd ran out of memory and is still taking in its own audit log (" +
           escape_for_display(caught.error().message) + "), so nothing was decided; try again in a moment";
}

void Daemon::resume_unrecorded_ends(std::int64_t now) {
    if (!unrecorded_ends_) return;
    const std::vector<UnrecordedEnd> listed = unrecorded_ends_->ends();
    for (const UnrecordedEnd& e : listed) {
        const Grant* g = grants_.find(e.grant_id);
        if (!g || g->state != GrantState::Active) {
            // Its record reached the log before the stop (or the grant is unknown): nothing waits.
            (void)unrecorded_ends_->remove(e.grant_id);
            continue;
        }
        const Grant grant = *g;
        grants_.end(grant.event_id, state_after(e.event), e.at);
        timer_changes_.push_back({grant.event_id, 0, false});
        ended_.push_back({grant, e.event});
        audit::RecordFields f = end_fields(grant, e.event, e.actor, e.peer_uid, e.actor_loginuid, e.detail);
        late_.push_back({f, audit::Durability::Synced, e.at,
                         e.why + " (and breakglassd was restarted before it could be written; the end was kept in " +
                             std::string(UnrecordedEnds::kFileName) + ")",
                         true, grant.event_id});
    }
    if (!late_.empty()) {
        problems_.push_back({1, std::to_string(late_.size()) + " grant end(s) from before the restart are not in the "
                                "audit log yet; the grants stay ended and their records follow"});
        late_alerted_at_ = now;
    }
}

bool Daemon::record_termination(const TerminationReport& report, std::int64_t now) {
    const TerminationTarget& t = report.target;
    audit::RecordFields f;
    f.event = "terminate";
    f.action = "break_glass";
    f.actor = "breakglassd";
    f.actor_role = "daemon";
    f.target = "user=" + t.user;
    f.gate_bypassed = t.gate;
    f.incident_ref = t.incident;
    f.expires_at = t.expires_at;
    f.grant_id = t.grant_id;
    f.detail = bounded_for_record(report.detail, audit::kMaxFieldBytes);
    // A closing record: written now, synced by the next maintenance.
    return record_closing(f, now, audit::Durability::Deferred).has_value();
}

}  // namespace bg
