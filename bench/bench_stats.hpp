// SPDX-License-Identifier: ISC
// Latency summaries for the benchmarks in bench/.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace bg::bench {

using Clock = std::chrono::steady_clock;

struct Percentiles {
    double p50_us, p99_us, max_us;
};

// Nearest-rank percentiles of samples in microseconds (needs at least one).
inline Percentiles percentiles(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const auto at = [&](double q) { return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))]; };
    return {at(0.50), at(0.99), v.back()};
}

inline double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

}  // namespace bg::bench
