// SPDX-License-Identifier: ISC
// Health for monitoring (issue 12, item 4): the Prometheus text file that
// node_exporter's textfile collector reads, [metrics] textfile in the policy.
// breakglassd rewrites it atomically (a temporary file in the same
// directory, fsync, rename, fsync of the directory) after every record and
// at least every kMetricsEverySeconds, so a reader sees the old file or the
// new one, never a part.
//
//   breakglass_grants_total{gate}                 counter  grant records since breakglassd started
//   breakglass_denials_total{gate}                counter  deny records
//   breakglass_auth_failures_total{gate}          counter  auth_failed records
//   breakglass_active_grants{gate}                gauge    grants in force now
//   breakglass_sink_backlog_records{sink}         gauge    durable records a sink has not acknowledged
//   breakglass_sink_backlog_age_seconds{sink}     gauge    age of the oldest of them (0: none)
//   breakglass_alert_backlog_records{channel}     gauge    durable records an alert channel has not looked at
//   breakglass_last_delivery_timestamp_seconds{target} gauge last acknowledgement of sink:NAME, last alert
//                                                  delivered on alert:NAME (0: never since start)
//   breakglass_daemon_start_time_seconds          gauge    when breakglassd started
//
// Labels: every gate of the policy in force (0 when nothing happened); a
// record of a gate the policy does not have (a deny for a made-up gate name)
// is counted under gate="(other)", so no local user can add label values.
// Label values are escaped per the text format (\\, \", \n).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "helper/audit/recorder.hpp"

namespace bg {

inline constexpr std::int64_t kMetricsEverySeconds = 60;
inline constexpr std::string_view kOtherGateLabel = "(other)";

// Counts grant, deny and auth_failed records by gate, from the records
// written since the daemon started.
class MetricsCounter final : public audit::RecordSubscriber {
public:
    void recorded(const audit::Record& r) override;
    struct Counts {
        std::uint64_t grants = 0, denials = 0, auth_failures = 0;
    };
    // Counts of gates the policy does not know are kept under their own
    // name until at most kMaxGates names, then under (other).
    static constexpr std::size_t kMaxGates = 256;
    const std::map<std::string, Counts>& counts() const { return counts_; }

private:
    std::map<std::string, Counts> counts_;
};

struct MetricsSnapshot {
    std::vector<std::string> gates;  // the policy's gates
    std::map<std::string, MetricsCounter::Counts> counts;
    std::map<std::string, std::uint64_t> active;  // by gate
    struct Sink {
        std::string name;
        std::uint64_t backlog = 0;
        std::int64_t backlog_age = 0;
        std::int64_t last_ack_at = 0;
    };
    std::vector<Sink> sinks;
    struct Channel {
        std::string name;
        std::uint64_t backlog = 0;
        std::int64_t last_delivery_at = 0;
    };
    std::vector<Channel> channels;
    std::int64_t start_time = 0;
};

// Escaped for a label value: \ → \\, " → \", newline → \n.
std::string metrics_label_value(std::string_view s);
// The whole file, HELP and TYPE lines before each metric's samples.
std::string format_metrics(const MetricsSnapshot& s);
// Writes `text` to `path` atomically: PATH.tmp in the same directory
// (0644, O_NOFOLLOW), fsync, rename over `path`, fsync of the directory.
Status write_metrics_file(const std::string& path, std::string_view text);

}  // namespace bg
