// SPDX-License-Identifier: ISC
// How much memory a process holds, for the bounded-memory assertions and the
// benchmarks of the shipper (issue 11): VmRSS and VmHWM from /proc/PID/status.
// The fuzzed status parser of helper/revocation (parse_proc_status) keeps only
// the ids revocation decides on, so the two lines are read here; the file is
// read with its bounded reader (read_small_file).
// No gtest in here.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <sys/types.h>

// 1 when this program is built with AddressSanitizer (gcc says so with
// __SANITIZE_ADDRESS__, clang with __has_feature): a process's resident memory
// is then mostly ASan's shadow and quarantine, so memory bounds are checked in
// the uninstrumented build only.
#if defined(__SANITIZE_ADDRESS__)
#define BG_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BG_UNDER_ASAN 1
#endif
#endif
#ifndef BG_UNDER_ASAN
#define BG_UNDER_ASAN 0
#endif

namespace bg::test {

struct ProcessMemory {
    std::uint64_t rss_kib = 0;   // VmRSS: resident now
    std::uint64_t peak_kib = 0;  // VmHWM: the most it was ever resident
};

// Pure: the VmRSS and VmHWM lines of a /proc/PID/status text ("VmRSS:\t  1234 kB");
// nullopt when either is missing or malformed (a kernel thread has neither).
std::optional<ProcessMemory> parse_process_memory(std::string_view status_text);

// The process's memory now; nullopt when it is gone or has no memory of its own.
std::optional<ProcessMemory> process_memory(pid_t pid);

}  // namespace bg::test
