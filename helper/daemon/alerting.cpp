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

}  // namespace bg
