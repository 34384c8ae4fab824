// SPDX-License-Identifier: ISC
// Rate limit on failed second factors, per user: at most `max_failures`
// failures within `window_seconds`; once reached, further attempts are refused
// until the oldest of those failures leaves the window. A six-digit code has
// 10^6 values and verify() accepts three of them per step, so without a limit
// an attacker holding the first factor could guess online.
//
// In memory only: a daemon restart clears it. That is acceptable because
// (1) every failure is also an audit record (auth_failed, rate_limited), so a
// guessing campaign across restarts is visible in the log, and
// (2) restarts are rate limited by systemd (StartLimitBurst), which bounds the
// extra guesses a restart could buy to a few per restart.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>

namespace bg::mfa {

// Not thread safe: the daemon calls it from its single event loop.
class FailureLimiter {
public:
    // max_failures < 1 is treated as 1 and window_seconds < 1 as 1.
    explicit FailureLimiter(int max_failures = 3, std::int64_t window_seconds = 30);

    bool is_limited(const std::string& user, std::int64_t now) const;
    void record_failure(const std::string& user, std::int64_t now);
    // After a successful factor.
    void reset(const std::string& user);
    // Seconds until the next attempt is allowed, 0 if not limited.
    std::int64_t retry_after(const std::string& user, std::int64_t now) const;

private:
    // Failures still inside the window at `now`, oldest first.
    std::size_t failures_in_window(const std::deque<std::int64_t>& times, std::int64_t now) const;
    void forget_idle_users(std::int64_t now);

    std::size_t max_failures_;
    std::int64_t window_seconds_;
    // Per user, the times of the most recent failures (at most max_failures_:
    // older ones cannot change the answer).
    std::map<std::string, std::deque<std::int64_t>, std::less<>> failures_;
};

}  // namespace bg::mfa
