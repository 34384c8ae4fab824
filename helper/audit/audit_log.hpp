// SPDX-License-Identifier: ISC
// The audit store: <state_dir>/audit.log, append-only, one canonical record
// per line (audit_record.hpp), hash-chained and sealed with the
// forward-evolving key (seal_key.hpp). An opening record (a grant, a command
// about to run) is fsync'd before append() returns; a closing record may be
// deferred: written at once and made durable by the next fsync or flush().
// Copies to journald and later sinks are the Recorder's subscribers
// (recorder.hpp), never this class's business.
//
// Not thread-safe: breakglassd owns one AuditLog on its event loop.
//
// The seal key file is written only once the records it follows are durable,
// so after a crash it is never ahead of the log (open() hashes a key that is
// behind forward). Its fdatasync is left to sync_key(), which the daemon runs
// at most a second (or 64 records) after a record: that bounds how long an
// older key can still be read off the disk after a crash.
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

// When an appended record must be on the disk: before append() returns
// (opening records: nothing is granted or run before them), or by the next
// flush (closing records, which must never wait: revocation happens anyway).
enum class Durability { Synced, Deferred };

class AuditLog {
public:
    // Opens or creates <state_dir>/audit.log (0600, O_APPEND|O_CLOEXEC) and
    // the key files (see seal_key.hpp). The directory must exist. Only the
    // last line is read and parsed; the whole log is not re-verified.
    static Result<std::unique_ptr<AuditLog>> open(const std::string& state_dir, std::string host);

    // Fills event_id/seq/timestamp/host/prev_hash/hash/seal and writes
    // line+"\n" with one write(). Synced: fsync()s the log (which also makes
    // every deferred record before it durable) and overwrites the key file in
    // place with the evolved key, and returns only once the record is
    // durable. Deferred: the record is written but not synced and the key
    // evolves in memory only, until the next synced append or flush(). On any
    // failure the log is truncated back to its previous size and the
    // in-memory state (seq, head hash, key) is unchanged.
    Result<Record> append(const RecordFields& fields, std::int64_t now_unix, Durability durability = Durability::Synced);
    // Makes deferred records durable (fsync of the log) and writes the key
    // that follows them. Nothing to do when none are pending.
    Status flush();
    // Makes the last key file write durable (fdatasync of audit.key), so the
    // old key is gone from the disk too.
    Status sync_key();
    // Records not yet fsync'd (deferred), and records sealed since the key
    // file's last fdatasync: what the daemon's maintenance bounds.
    // For a thread that syncs the key file instead of sync_key(): a second
    // descriptor of it, and handing the pending sync over (sync_key() then
    // has nothing to do until the next key write).
    Result<UniqueFd> duplicate_key_fd() const;
    bool key_sync_pending() const { return key_sync_pending_; }
    void key_sync_handed_off();
    std::uint64_t deferred_records() const { return last_seq_ - durable_seq_; }
    std::uint64_t records_since_key_sync() const { return last_seq_ + 1 - synced_key_index_; }

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
    UniqueFd fd_;
    std::optional<KeyFile> key_file_;
    bool key_sync_pending_ = false;
    KeyState key_;                       // the key for seq last_seq_ + 1
    std::uint64_t last_seq_ = 0;
    std::uint64_t durable_seq_ = 0;      // fsync'd through this seq
    std::uint64_t synced_key_index_ = 1; // the key file's index at its last fdatasync
    std::string last_hash_;
    off_t size_ = 0;  // bytes of complete, durable records
};

// An offset in a log of `size` bytes at a line start at or before the first
// line with seq > after_seq (binary search: seqs increase with the offset).
off_t seek_after_seq(int fd, off_t size, std::uint64_t after_seq);

}  // namespace bg::audit
