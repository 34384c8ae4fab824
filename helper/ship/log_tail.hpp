// SPDX-License-Identifier: ISC
// The shipper's own reader of the audit log (docs/ARCHITECTURE.md, "Every
// record leaves the host"): a read-only descriptor of <state_dir>/audit.log,
// read from the sink's cursor onwards in bounded batches. The log is the
// outbox: nothing is queued in memory but the batch in hand.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/file_io.hpp"
#include "common/result.hpp"
#include "helper/audit/audit_record.hpp"

namespace bg::ship {

struct Entry {
    audit::Record record;
    std::string line;  // the canonical line, byte for byte, without '\n'
};

class LogTail {
public:
    static Result<LogTail> open(const std::string& log_path);

    // Records with after_seq < seq <= through_seq, in order, at most
    // `max_records` and about `max_bytes` of lines (at least one record when
    // there is one). Each line is parsed strictly (audit::parse_record): a
    // line that does not parse is an error naming its seq, never skipped. A
    // line not yet complete on the disk is left for the next call.
    Result<std::vector<Entry>> read(std::uint64_t after_seq, std::uint64_t through_seq, std::size_t max_records,
                                    std::size_t max_bytes);

private:
    LogTail(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
    std::string path_;
    UniqueFd fd_;
    // Where the record after next_after_ starts (a cache: read() finds its
    // place by binary search when asked for another seq).
    off_t next_offset_ = 0;
    std::uint64_t next_after_ = 0;
    bool positioned_ = false;
};

}  // namespace bg::ship
