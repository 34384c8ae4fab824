// SPDX-License-Identifier: ISC
// The daemon's side of alerts (helper/alerts): the channels follow the
// policy in force and learn how far the log is durable like the sinks; what
// they could not deliver becomes alert_failed records (priority err, one per
// failed attempt, so at most one per channel per backoff step) and a channel
// failing for longer than alert_fail_alarm one alert_alarm record (priority
// alert) per episode. The front-ends' notice names the gate's channels.
#include "common/text.hpp"
#include "helper/daemon/daemon.hpp"

namespace bg {

void Daemon::configure_alerts() {
    if (!alerts_) return;
    static const policy::Policy kNone;
    for (std::string& note : alerts_->configure(policy_ ? *policy_ : kNone, log_->last_seq()))
        problems_.push_back({note.find("not started") != std::string::npos ? 3 : 5, std::move(note)});
}

void Daemon::watch_alerts(std::int64_t now) {
    if (!alerts_) return;
    for (const alerts::ChannelEvent& e : alerts_->take_events()) {
        audit::RecordFields f;
        f.event = e.alarm ? "alert_alarm" : "alert_failed";
        f.actor = "breakglassd";
        f.actor_role = "daemon";
        f.target = "alert=" + e.channel;
        f.detail = bounded_for_record(e.detail, audit::kMaxFieldBytes);
        (void)record_closing(f, now, audit::Durability::Deferred, /*use_reserve=*/false);
        problems_.push_back({e.alarm ? 1 : 3, f.detail});
    }
}

// `breakglassctl alert test NAME`: the channel's answer comes on another
// thread; the connection waits on a ticket (as a remote_ack grant does) and
// the loop keeps serving meanwhile.
proto::Message Daemon::on_alert_test(const PeerIdentity&, proto::AlertTestRequest& m, std::int64_t) {
    using proto::ErrorAnswer;
    using proto::ErrorCode;
    if (!policy_) return ErrorAnswer{ErrorCode::Unavailable, "no valid policy is in force"};
    if (!policy_->alerts.contains(m.channel))
        return ErrorAnswer{ErrorCode::NotFound, "the policy has no [alert." + escape_for_display(m.channel) + "]"};
    const std::uint64_t ticket = next_ticket_++;
    if (!alerts_ || !alerts_->test(m.channel, config_.host, ticket))
        return ErrorAnswer{ErrorCode::Unavailable, "alert channel '" + escape_for_display(m.channel) +
                                                       "' is not running (its secret file was refused? see the "
                                                       "daemon's log and breakglassctl status)"};
    problems_.push_back({6, "test alert requested on channel '" + m.channel + "'"});
    deferred_answer_ = ticket;
    return proto::ErrorAnswer{ErrorCode::Internal, "the answer waits for the channel"};  // not sent: deferred
}

std::vector<std::pair<std::uint64_t, proto::Message>> Daemon::take_alert_tests() {
    std::vector<std::pair<std::uint64_t, proto::Message>> answers;
    if (!alerts_) return answers;
    for (alerts::TestOutcome& t : alerts_->take_tests()) {
        problems_.push_back({t.delivered ? 6 : 4, "test alert on channel '" + t.channel + "': " +
                                                      (t.delivered ? std::string("delivered") : "failed: " + t.error)});
        answers.emplace_back(t.ticket, proto::AlertTestAnswer{t.channel, t.type, t.delivered, t.http_status,
                                                              std::move(t.answer), escape_for_display(t.error)});
    }
    return answers;
}

std::string Daemon::notice(const std::string& gate) const {
    std::string text = notice();
    const policy::Gate* g = gate_in_force(gate);
    if (!g || g->alert.empty() || !alerts_) return text;
    std::string alerted;
    for (const alerts::ChannelStatus& c : alerts_->status()) {
        if (std::find(g->alert.begin(), g->alert.end(), c.name) == g->alert.end()) continue;
        const auto it = policy_->alerts.find(c.name);
        if (it == policy_->alerts.end()) continue;
        alerted += (alerted.empty() ? "" : ", ") + c.name + " (" + std::string(policy::alert_type_label(it->second.type)) + ")";
    }
    if (alerted.empty()) return text;
    return text + (text.empty() ? "" : " ") + "This access is alerted to: " + alerted + ".";
}

void Daemon::update_metrics(std::int64_t now, bool force) {
    const std::string path = policy_ ? policy_->metrics_textfile : std::string();
    if (path.empty()) return;
    if (!force && path == metrics_written_to_ && log_->last_seq() == metrics_seq_ &&
        now - metrics_at_ < kMetricsEverySeconds)
        return;
    MetricsSnapshot s;
    for (const auto& [name, gate] : policy_->gates) s.gates.push_back(name);
    s.counts = metrics_.counts();
    for (const Grant& g : grants_.active()) ++s.active[g.gate];
    if (shipper_)
        for (const ship::SinkStatus& k : shipper_->status())
            s.sinks.push_back({k.name, k.backlog,
                               k.backlog > 0 && k.oldest_unacked_at > 0 ? std::max<std::int64_t>(now - k.oldest_unacked_at, 0) : 0,
                               k.last_ack_at});
    if (alerts_)
        for (const alerts::ChannelStatus& c : alerts_->status()) s.channels.push_back({c.name, c.backlog, c.last_delivery_at});
    s.start_time = started_at_;
    metrics_seq_ = log_->last_seq();
    metrics_at_ = now;
    metrics_written_to_ = path;
    if (auto written = write_metrics_file(path, format_metrics(s)); !written) {
        if (written.error().message != metrics_error_)
            problems_.push_back({3, "the metrics textfile was not written: " + written.error().message});
        metrics_error_ = written.error().message;
    } else {
        metrics_error_.clear();
    }
}

}  // namespace bg
