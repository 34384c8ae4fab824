// SPDX-License-Identifier: ISC
#include "helper/mfa/failure_limiter.hpp"

#include <algorithm>

namespace bg::mfa {
namespace {

// Above this many tracked users, record_failure() drops users whose failures
// have all left the window, so the map stays bounded by recent activity.
constexpr std::size_t kSweepThreshold = 1024;

}  // namespace

FailureLimiter::FailureLimiter(int max_failures, std::int64_t window_seconds)
    : max_failures_(static_cast<std::size_t>(std::max(max_failures, 1))),
      window_seconds_(std::max<std::int64_t>(window_seconds, 1)) {}

std::size_t FailureLimiter::failures_in_window(const std::deque<std::int64_t>& times, std::int64_t now) const {
    // A failure at t counts while now - t < window. A time after `now` (the
    // clock stepped back) still counts: erring toward limiting is the safe side.
    return static_cast<std::size_t>(
        std::count_if(times.begin(), times.end(), [&](std::int64_t t) { return now - t < window_seconds_; }));
}

bool FailureLimiter::is_limited(const std::string& user, std::int64_t now) const {
    const auto it = failures_.find(user);
    if (it == failures_.end()) return false;
    return failures_in_window(it->second, now) >= max_failures_;
}

void FailureLimiter::record_failure(const std::string& user, std::int64_t now) {
    if (failures_.size() >= kSweepThreshold && !failures_.contains(user)) forget_idle_users(now);
    auto& times = failures_[user];
    times.push_back(now);
    while (times.size() > max_failures_) times.pop_front();
}

void FailureLimiter::reset(const std::string& user) {
    const auto it = failures_.find(user);
    if (it != failures_.end()) failures_.erase(it);
}

std::int64_t FailureLimiter::retry_after(const std::string& user, std::int64_t now) const {
    const auto it = failures_.find(user);
    if (it == failures_.end()) return 0;
    const auto& times = it->second;
    if (failures_in_window(times, now) < max_failures_) return 0;
    // Only the last max_failures_ are kept and all are in the window, so the
    // limit lifts when the oldest of them leaves it.
    const std::int64_t oldest = *std::min_element(times.begin(), times.end());
    return std::max<std::int64_t>(oldest + window_seconds_ - now, 1);
}

void FailureLimiter::forget_idle_users(std::int64_t now) {
    std::erase_if(failures_, [&](const auto& entry) { return failures_in_window(entry.second, now) == 0; });
}

}  // namespace bg::mfa
