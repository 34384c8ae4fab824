// SPDX-License-Identifier: ISC
// metrics.hpp: the counters, the text format and the atomic write.
#include "helper/daemon/metrics.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "common/file_io.hpp"

namespace bg {

void MetricsCounter::recorded(const audit::Record& r) {
    if (r.event != "grant" && r.event != "deny" && r.event != "auth_failed") return;
    std::string gate = r.gate_bypassed;
    if (!counts_.contains(gate) && counts_.size() >= kMaxGates) gate = std::string(kOtherGateLabel);
    Counts& c = counts_[gate];
    if (r.event == "grant") ++c.grants;
    else if (r.event == "deny") ++c.denials;
    else ++c.auth_failures;
}

std::string metrics_label_value(std::string_view s) {
    std::string out;
    for (const char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

namespace {

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void sample(std::string& out, std::string_view name, std::string_view label, std::string_view value_of_label,
            std::string_view value) {
    out += name;
    if (!label.empty()) {
        out += '{';
        out += label;
        out += "=\"";
        out += metrics_label_value(value_of_label);
        out += "\"}";
    }
    out += ' ';
    out += value;
    out += '\n';
}

}  // namespace

std::string format_metrics(const MetricsSnapshot& s) {
    // Every gate of the policy, then (other) for records of gates it does not have.
    std::map<std::string, MetricsCounter::Counts> counts;
    for (const std::string& g : s.gates) counts[g];
    const std::set<std::string> known(s.gates.begin(), s.gates.end());
    bool other = false;
    for (const auto& [gate, c] : s.counts) {
        MetricsCounter::Counts& to = counts[known.contains(gate) ? gate : std::string(kOtherGateLabel)];
        other = other || !known.contains(gate);
        to.grants += c.grants;
        to.denials += c.denials;
        to.auth_failures += c.auth_failures;
    }
    (void)other;
    std::string out;
    const auto counter = [&](std::string_view name, std::string_view help, auto field) {
        header(out, name, "counter", help);
        for (const auto& [gate, c] : counts) sample(out, name, "gate", gate, std::to_string(c.*field));
    };
    counter("breakglass_grants_total", "Break-glass grants given since breakglassd started, by gate.",
            &MetricsCounter::Counts::grants);
    counter("breakglass_denials_total", "Break-glass requests denied by the policy since breakglassd started, by gate.",
            &MetricsCounter::Counts::denials);
    counter("breakglass_auth_failures_total",
            "Break-glass requests with a wrong or replayed second factor since breakglassd started, by gate.",
            &MetricsCounter::Counts::auth_failures);
    header(out, "breakglass_active_grants", "gauge", "Break-glass grants in force now, by gate.");
    for (const auto& [gate, c] : counts) {
        if (gate == kOtherGateLabel) continue;
        const auto it = s.active.find(gate);
        sample(out, "breakglass_active_grants", "gate", gate, std::to_string(it == s.active.end() ? 0 : it->second));
    }
    header(out, "breakglass_sink_backlog_records", "gauge",
           "Durable audit records a remote log sink has not acknowledged yet.");
    for (const auto& k : s.sinks) sample(out, "breakglass_sink_backlog_records", "sink", k.name, std::to_string(k.backlog));
    header(out, "breakglass_sink_backlog_age_seconds", "gauge",
           "Age of the oldest record a remote log sink has not acknowledged (0 when none).");
    for (const auto& k : s.sinks)
        sample(out, "breakglass_sink_backlog_age_seconds", "sink", k.name, std::to_string(k.backlog_age));
    header(out, "breakglass_alert_backlog_records", "gauge",
           "Durable audit records an alert channel has not gone through yet.");
    for (const auto& c : s.channels)
        sample(out, "breakglass_alert_backlog_records", "channel", c.name, std::to_string(c.backlog));
    header(out, "breakglass_last_delivery_timestamp_seconds", "gauge",
           "Unix time of the last acknowledgement of sink:NAME or the last alert delivered on alert:NAME "
           "(0 when none since breakglassd started).");
    for (const auto& k : s.sinks)
        sample(out, "breakglass_last_delivery_timestamp_seconds", "target", "sink:" + k.name, std::to_string(k.last_ack_at));
    for (const auto& c : s.channels)
        sample(out, "breakglass_last_delivery_timestamp_seconds", "target", "alert:" + c.name,
               std::to_string(c.last_delivery_at));
    header(out, "breakglass_daemon_start_time_seconds", "gauge", "Unix time breakglassd started.");
    sample(out, "breakglass_daemon_start_time_seconds", "", "", std::to_string(s.start_time));
    return out;
}

Status write_metrics_file(const std::string& path, std::string_view text) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return Error{"the metrics textfile must be an absolute path: " + path};
    const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
    const std::string tmp = path + ".tmp";
    // node_exporter reads *.prom only: the temporary file is never read half
    // written. Made anew (O_EXCL): whatever another user left under its name
    // (a link to a file of root's) is removed, never opened.
    if (::unlink(tmp.c_str()) != 0 && errno != ENOENT)
        return Error{"cannot remove the old " + tmp + ": " + std::strerror(errno)};
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd.valid()) return Error{"cannot create " + tmp + ": " + std::strerror(errno)};
    (void)::fchmod(fd.get(), 0644);  // readable by node_exporter whatever the umask
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int e = errno;
            (void)::unlink(tmp.c_str());
            return Error{"cannot write " + tmp + ": " + std::strerror(e)};
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
        const int e = errno;
        (void)::unlink(tmp.c_str());
        return Error{"cannot fsync " + tmp + ": " + std::strerror(e)};
    }
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = errno;
        (void)::unlink(tmp.c_str());
        return Error{"cannot rename " + tmp + " to " + path + ": " + std::strerror(e)};
    }
    UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d.valid()) (void)::fsync(d.get());
    return Ok{};
}

}  // namespace bg
