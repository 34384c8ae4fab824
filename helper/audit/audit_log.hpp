// SPDX-License-Identifier: ISC
// The audit store: <state_dir>/audit.log, append-only, one canonical record
// per line (audit_record.hpp), hash-chained and sealed with the
// forward-evolving key (seal_key.hpp), every record fsync'd before append()
// returns and then sent to journald (journal.hpp).
//
// Not thread-safe: breakglassd owns one AuditLog on its event loop.
//
// Opening fails closed (the daemon then refuses grants) when:
//   - the log does not end in '\n' (torn last record) or its last line does
//     not parse: the message tells the operator to run `breakglassctl verify`
//     and repair the tail by hand; the store never truncates history itself;
//   - audit.key is missing while the log has records, is corrupt, or has an
//     index > last_seq + 1 (the log's tail was truncated);
//   - a file is not a regular file owned by the daemon's user, or is
//     writable by group/others (audit.key: any group/other access).
// An audit.key whose index is <= last_seq (crash between the log fsync and
// the key update) is hashed forward to last_seq + 1 and rewritten.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "helper/audit/audit_record.hpp"
#include "helper/audit/seal_key.hpp"

namespace bg::audit {

inline constexpr std::string_view kLogFileName = "audit.log";

class AuditLog {
public:
    // Opens or creates <state_dir>/audit.log (0600, O_APPEND|O_CLOEXEC) and
    // the key files (see seal_key.hpp). The directory must exist. Only the
    // last line is read and parsed; the whole log is not re-verified.
    static Result<std::unique_ptr<AuditLog>> open(const std::string& state_dir, std::string host,
                                                   bool send_to_journal = true);

    // Fills event_id/seq/timestamp/host/prev_hash/hash/seal, writes line+"\n"
    // with one write(), fsync()s, evolves the key and overwrites it in place
    // (its fdatasync is left to sync_key()), then sends the record to journald.
    // Returns it only once the record is durable. On any failure the log is
    // truncated back to its previous size and the in-memory state (seq, head
    // hash, key) is unchanged.
    Result<Record> append(const RecordFields& fields, std::int64_t now_unix);
    // Makes the last key update durable (fdatasync of audit.key), so the old
    // key is gone from the disk too. Callers run it right after answering.
    Status sync_key();

    std::uint64_t last_seq() const { return last_seq_; }
    std::string last_hash() const { return last_hash_; }

    // Raw lines (without '\n') with seq > after_seq and timestamp >= since
    // (since <= 0: no filter), at most `limit`. *last_scanned = the highest
    // seq examined (included or filtered out), so a caller resumes with
    // after_seq = *last_scanned; *more = true when the limit stopped the scan
    // before the end of the log. Either pointer may be null.
    Result<std::vector<std::string>> read_after(std::uint64_t after_seq, std::int64_t since, std::size_t limit,
                                                std::uint64_t* last_scanned, bool* more) const;

    const std::string& path() const { return path_; }

    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;
    ~AuditLog();  // syncs a pending key update

private:
    AuditLog() = default;
    Status truncate_back();
    // Offset of a line start at or before the first line with seq > after_seq.
    off_t seek_hint(std::uint64_t after_seq) const;

    std::string dir_, path_, host_;
    bool journal_ = true;
    UniqueFd fd_;
    std::optional<KeyFile> key_file_;
    bool key_sync_pending_ = false;
    KeyState key_;
    std::uint64_t last_seq_ = 0;
    std::string last_hash_;
    off_t size_ = 0;  // bytes of complete, durable records
};

}  // namespace bg::audit
