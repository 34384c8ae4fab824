// SPDX-License-Identifier: ISC
// The edge between C++ and a C library that calls back (sd-event, sd-bus) or
// a thread's body: an exception that crosses it ends the process in
// std::terminate. What throws there is mostly std::bad_alloc (found by the
// system test's allocation faults; docs/ARCHITECTURE.md, "The daemon
// inside"), and the daemon must outlive it: the work is refused or retried,
// not half-done and forgotten. guarded() runs the body, and on an exception
// writes one line to stderr (without allocating: the journal, under systemd)
// and runs the recovery; a recovery that throws as well is only reported.
#ifndef BG_COMMON_CALLBACK_GUARD_HPP
#define BG_COMMON_CALLBACK_GUARD_HPP

#include <chrono>
#include <cstdio>
#include <exception>
#include <new>
#include <thread>
#include <type_traits>

namespace bg {

// One journal line (priority 2, "crit") naming where, and what was thrown.
inline void report_exception(const char* where, const char* what) noexcept {
    std::fprintf(stderr, "<2>breakglassd: %s failed (%s); the daemon goes on\n", where, what);
}

// Runs body(); returns what it returns, or `failed` after recover() when it
// threw. body returns int (sd-event and sd-bus callbacks) or void.
template <typename Body, typename Recover>
auto guarded(const char* where, Body&& body, Recover&& recover, int failed = 0) noexcept {
    using R = decltype(body());
    try {
        return body();
    } catch (const std::bad_alloc&) {
        report_exception(where, "out of memory");
    } catch (const std::exception& e) {
        report_exception(where, e.what());
    } catch (...) {
        report_exception(where, "an unknown exception");
    }
    try {
        recover();
    } catch (...) {
        report_exception(where, "its recovery threw as well");
    }
    if constexpr (std::is_void_v<R>) {
        static_cast<void>(failed);
        return;
    } else {
        return static_cast<R>(failed);
    }
}

// A thread's body that keeps its place outside itself (a cursor, a queue):
// run again a second after it throws, until it returns.
template <typename Body>
void run_guarded(const char* where, Body&& body) noexcept {
    for (;;) {
        const int done = guarded(
            where,
            [&] {
                body();
                return 1;
            },
            [] {});
        if (done == 1) return;
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
}

}  // namespace bg

#endif
