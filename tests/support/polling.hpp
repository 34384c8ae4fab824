// SPDX-License-Identifier: ISC
// Waiting in tests: poll a condition until a deadline, never sleep and hope.
// A wait for something to be absent is not a poll: wait instead for a later
// event that could only come after it (see tests/integration/*).
#pragma once

#include <chrono>
#include <ctime>
#include <thread>

#include "common/utc_time.hpp"

namespace bg::test {

using namespace std::chrono_literals;

// Calls `condition` until it returns true or `timeout` has passed; always at
// least once (a zero timeout checks once). True when the condition held.
template <class Condition>
bool eventually(Condition&& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (condition()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(interval);
    }
}

// The wall clock in unix seconds, as the daemon sees it.
// The clock breakglassd reads (common/utc_time.hpp): glibc's time() lags up
// to a tick behind it, so a test could see the second before a record the
// daemon wrote at expires_at.
inline std::int64_t unix_now() { return wall_clock_seconds(); }

// Returns once the wall clock has reached `unix_seconds` (a grant's
// expires_at, say): a wait for time itself to pass, not for an event.
inline void wait_until_unix_time(std::int64_t unix_seconds) {
    while (unix_now() < unix_seconds) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

}  // namespace bg::test
