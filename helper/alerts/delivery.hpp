// SPDX-License-Identifier: ISC
// Alert delivery: one thread per [alert.NAME] channel, like the shipper's
// sinks (helper/ship/shipper.hpp). Each reads the audit log itself (the log
// is the outbox) from its own cursor, <state_dir>/alerts/NAME.cursor, turns
// each durable record into its alert (alerts.hpp) and, when the alert is
// for this channel, sends it; the cursor moves (write, fsync, rename) only
// past what was delivered, so an outage, a crash or a restart loses no alert
// and, as far as the cursor allows, sends none twice. A new channel starts at
// the end of the log (it does not page for the past).
//
// A failed attempt is retried with exponential backoff and jitter
// (kFirstRetryMs .. kMaxRetryMs) for as long as it takes, and is reported
// once per attempt through take_events(): the daemon writes an alert_failed
// record for each (so at most one per channel per backoff step), and one
// alert_alarm record when a channel has failed for longer than the policy's
// alert_fail_alarm. Nothing here runs on the daemon's loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "policy/policy.hpp"

namespace bg::ship {
class HttpClient;
}

namespace bg::alerts {

inline constexpr std::int64_t kFirstRetryMs = 500;
inline constexpr std::int64_t kMaxRetryMs = 60 * 1000;
inline constexpr std::int64_t kRequestTimeoutSeconds = 20;
// Events kept per channel for the daemon; more are counted, not kept.
inline constexpr std::size_t kMaxPendingEvents = 16;

struct ChannelStatus {
    std::string name, type, target;     // target: the URL (not a url_file's secret) or the addresses
    std::uint64_t cursor_seq = 0;       // records through this seq are done
    std::uint64_t backlog = 0;          // durable records not looked at yet
    std::uint64_t delivered = 0;        // alerts delivered since the channel started
    std::int64_t last_delivery_at = 0;
    std::string last_error;             // "" when the last attempt succeeded
    std::int64_t failing_since = 0;     // 0 when not failing
};

// What the daemon records: an alert_failed per failed attempt, an alarm
// when a channel has failed for longer than alert_fail_alarm.
struct ChannelEvent {
    std::string channel;
    bool alarm = false;
    std::string event_id;   // the record whose alert failed
    std::string detail;     // escaped for display
    std::int64_t at = 0;
};

// What a channel answered to a test alert (`breakglassctl alert test`).
struct TestOutcome {
    std::uint64_t ticket = 0;
    std::string channel, type;
    bool delivered = false;
    std::int64_t http_status = 0;
    std::string answer;  // the first 300 bytes of the body (or sendmail's output), escaped for display
    std::string error;
};

class ChannelWorker;

class AlertDelivery {
public:
    // `wake`: called on a channel's thread when it has an event for the
    // daemon; must be thread-safe and quick.
    AlertDelivery(std::string log_path, std::string cursor_dir, std::function<void()> wake);
    ~AlertDelivery();
    AlertDelivery(const AlertDelivery&) = delete;
    AlertDelivery& operator=(const AlertDelivery&) = delete;

    // The channels of the policy in force (all restart when the policy
    // changed: routing and severities are the policy's). `log_end`: the last
    // seq of the log, where a channel without a cursor starts. Returns lines
    // for the daemon's log (a secret file refused, a cursor that cannot be read).
    std::vector<std::string> configure(const policy::Policy& p, std::uint64_t log_end);
    void durable(std::uint64_t seq);
    std::vector<ChannelStatus> status() const;
    std::vector<ChannelEvent> take_events();
    // Sends one test alert on channel `name` now, on a thread of its own
    // (outside the cursor: the channel's deliveries go on), and hands the
    // outcome to take_tests() (then wake() is called). False when there is no
    // such running channel.
    bool test(const std::string& name, const std::string& host, std::uint64_t ticket);
    std::vector<TestOutcome> take_tests();

private:
    std::string log_path_, cursor_dir_;
    std::function<void()> wake_;
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<ChannelWorker>> workers_;
    std::string policy_text_;  // dump_policy of the policy the workers follow
    std::uint64_t durable_ = 0;
    // Test alerts in flight: joined when done or at destruction.
    struct Test {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
        std::shared_ptr<ship::HttpClient> client;  // cancelled at destruction
    };
    std::vector<Test> tests_;
    std::vector<TestOutcome> outcomes_;
    std::shared_ptr<std::atomic<bool>> stopping_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace bg::alerts
