// SPDX-License-Identifier: ISC
// Reading the audit log through breakglassd (LogRequest, paged): the one path
// for root and the policy's auditors, who may not read the state directory
// (issue 14). `show`, `report` and `export` use it when no --state-dir is given.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/transport.hpp"

namespace bg::ctl {

struct DaemonLogRead {
    bool ok = false;
    int exit_code = 0;         // when !ok: kExitUnreachable or kExitRefused (exit_code.hpp)
    std::string error;         // when !ok: what to print (the daemon's refusal, escaped, or why it was not reached)
    std::uint64_t last_seq = 0;  // the last record scanned
    std::uint64_t records = 0;   // lines handed to `each`
};

// Every record with seq > after_seq and, when since > 0, a timestamp at or
// after `since` (unix seconds), in seq order, each canonical line handed to
// `each`, which returns false to stop early.
DaemonLogRead read_log_through_daemon(const std::string& socket, std::uint64_t after_seq, std::int64_t since,
                                      const std::function<bool(const std::string& line)>& each);
// The same over a kept connection (show reads many short runs).
DaemonLogRead read_log_through_daemon(proto::Client& client, std::uint64_t after_seq, std::int64_t since,
                                      const std::function<bool(const std::string& line)>& each);

// The chain check of a contiguous run of records read through the daemon:
// each record's hash recomputed, each prev_hash the hash before it. Seals
// need the key, which only root's files have. (show, report, export)
struct LogRangeCheck {
    bool ok = true;
    std::uint64_t first = 0, last = 0, records = 0;
    std::string prev_hash;
    std::string problem;
    std::uint64_t first_bad_seq = 0;

    void add(std::string_view line);
    void fail(std::uint64_t seq, const std::string& why);
};

}  // namespace bg::ctl
