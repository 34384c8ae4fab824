// SPDX-License-Identifier: ISC
// The daemon's side of the remote log (docs/ARCHITECTURE.md, "Every record
// leaves the host"): the shipper follows the policy's sinks; a grant of a
// gate with remote_ack = "required" is held (recorded, not honoured) until a
// sink acknowledges its record, and voided (grant_void) if none does within
// the gate's remote_ack_timeout; a backlog older than a sink's backlog_limit
// is a sink_gap record. Nothing here waits: the sinks' threads wake the loop
// through an eventfd.
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "common/text.hpp"
#include "helper/daemon/daemon.hpp"

namespace bg {
namespace {

// "bg-2026-000042" → 42.
std::uint64_t seq_of(const std::string& event_id) {
    const std::size_t dash = event_id.rfind('-');
    std::uint64_t seq = 0;
    if (dash == std::string::npos) return 0;
    std::from_chars(event_id.data() + dash + 1, event_id.data() + event_id.size(), seq);
    return seq;
}

}  // namespace

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void Daemon::clear_ack_event() {
    std::uint64_t count = 0;
    if (ack_event_.valid()) (void)!::read(ack_event_.get(), &count, sizeof count);
}

void Daemon::configure_sinks() {
    if (!shipper_) return;
    static const std::map<std::string, policy::Sink> kNone;
    for (std::string& note : shipper_->configure(policy_ ? policy_->sinks : kNone))
        problems_.push_back({note.find("not started") != std::string::npos ? 3 : 4, std::move(note)});
}

void Daemon::hold_for_remote_ack(const Grant& g, std::uint64_t seq, const policy::Gate& gate, std::uint64_t ticket,
                                 std::int64_t now) {
    grants_.hold(g.event_id);
    // In milliseconds of the wall clock: `now` has whole seconds only, which
    // would cut the wait by up to one.
    (void)now;
    ack_waits_.push_back({ticket, seq, unix_ms() + gate.remote_ack_timeout.count() * 1000, g,
                          policy::format_duration(gate.remote_ack_timeout)});
    if (shipper_) shipper_->awaited(seq);
}

void Daemon::resume_held_grants(std::int64_t now) {
    const std::uint64_t acked = shipper_ ? shipper_->best_acked() : 0;
    for (const Grant& g : grants_.active()) {
        const policy::Gate* gate = gate_in_force(g.gate);
        if (!gate || !gate->remote_ack_required) continue;
        const std::uint64_t seq = seq_of(g.event_id);
        if (seq > acked) hold_for_remote_ack(g, seq, *gate, 0, now);
    }
}

void Daemon::grant_took_effect(const Grant& g, std::int64_t now) {
    if (const policy::Gate* gate = gate_in_force(g.gate); gate && !gate->on_grant.empty())
        queue_hook(g, "on_grant", gate->on_grant, "grant", now);
}

std::vector<std::pair<std::uint64_t, proto::Message>> Daemon::settle_remote_acks(std::int64_t now) {
    // The answers of alert tests wait on tickets too (alerting.cpp).
    std::vector<std::pair<std::uint64_t, proto::Message>> answers = take_alert_tests();
    record_verify_result(now);  // the start-up verification's thread wakes the loop the same way
    if (ack_waits_.empty()) return answers;
    const std::uint64_t acked = shipper_ ? shipper_->best_acked() : 0;
    std::vector<AckWait> waits = std::move(ack_waits_);
    ack_waits_.clear();
    for (AckWait& w : waits) {
        const Grant* g = grants_.find(w.grant.event_id);
        if (!g || g->state != GrantState::Active) {
            // Revoked or expired while it waited: nothing to honour.
            grants_.release(w.grant.event_id);
            if (w.ticket)
                answers.emplace_back(w.ticket, proto::ErrorAnswer{proto::ErrorCode::Denied,
                                                                  w.grant.event_id + " ended before the remote audit "
                                                                                     "log acknowledged it"});
            continue;
        }
        if (acked >= w.seq) {
            grants_.release(w.grant.event_id);
            grant_took_effect(*g, now);
            if (w.ticket) answers.emplace_back(w.ticket, proto::Granted{g->event_id, g->expires_at, notice(g->gate)});
            continue;
        }
        if (unix_ms() < w.deadline) {
            ack_waits_.push_back(std::move(w));
            continue;
        }
        std::string sinks;
        for (const ship::SinkStatus& s : shipper_ ? shipper_->status() : std::vector<ship::SinkStatus>{})
            sinks += (sinks.empty() ? "" : "; ") + s.name + ": " +
                     (s.last_error.empty() ? "acknowledged through seq " + std::to_string(s.acked_seq)
                                           : s.last_error);
        if (sinks.empty()) sinks = "no sink is running";
        const Grant grant = *g;
        grants_.release(grant.event_id);
        const std::string why = "no remote sink acknowledged the grant record (seq " + std::to_string(w.seq) +
                                ") within remote_ack_timeout " + w.timeout_text + " (" + sinks + ")";
        (void)end_grant(grant, "grant_void", "breakglassd", nullptr, why + "; the grant never took effect", now);
        problems_.push_back({3, grant.event_id + " of " + grant.user + " for gate '" + grant.gate + "' voided: " + why});
        if (w.ticket)
            answers.emplace_back(w.ticket,
                                 proto::ErrorAnswer{proto::ErrorCode::Unavailable,
                                                    "the remote audit log is unreachable: " + escape_for_display(why) +
                                                        "; gate '" + grant.gate +
                                                        "' requires it (remote_ack), so nothing was granted"});
    }
    return answers;
}

std::optional<std::int64_t> Daemon::next_ack_deadline_ms() const {
    std::optional<std::int64_t> next;
    for (const AckWait& w : ack_waits_)
        if (!next || w.deadline < *next) next = w.deadline;
    return next;
}

void Daemon::watch_sinks(std::int64_t now) {
    update_metrics(now);  // every kSinkWatchUsec: at least every minute
    record_verify_result(now);
    if (!shipper_) return;
    for (const ship::SinkStatus& s : shipper_->status()) {
        const bool late = s.backlog > 0 && s.oldest_unacked_at > 0 && now - s.oldest_unacked_at >= s.backlog_limit;
        if (late && sink_gaps_.insert(s.name).second) {
            audit::RecordFields f;
            f.event = "sink_gap";
            f.actor = "breakglassd";
            f.actor_role = "daemon";
            f.target = "sink=" + s.name;
            f.detail = bounded_for_record(
                "sink '" + s.name + "' (" + s.url + ") has not acknowledged " + std::to_string(s.backlog) +
                    " record(s) after seq " + std::to_string(s.acked_seq) + ", the oldest from " +
                    audit::format_utc(s.oldest_unacked_at) + ", longer than its backlog_limit " +
                    policy::format_duration(std::chrono::seconds(s.backlog_limit)) +
                    (s.last_error.empty() ? std::string() : "; last error: " + s.last_error),
                audit::kMaxFieldBytes);
            (void)record_closing(f, now, audit::Durability::Synced, /*use_reserve=*/false);
            problems_.push_back({3, f.detail});
        } else if (s.backlog == 0 && sink_gaps_.erase(s.name)) {
            problems_.push_back({5, "sink '" + s.name + "' has caught up: acknowledged through seq " +
                                        std::to_string(s.acked_seq)});
        }
    }
    watch_alerts(now);
}

}  // namespace bg
