// SPDX-License-Identifier: ISC
#include "helper/audit/audit_log.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "common/text.hpp"
#include "helper/audit/audit_verify.hpp"

namespace bg::audit {
namespace {

constexpr const char* kVerifyHint = "; refusing to open the audit log: run `breakglassctl verify` and repair it";
constexpr std::size_t kReadChunk = 1 << 20;

std::string errno_text(int err) { return std::strerror(err); }

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

// pread exactly [offset, offset + n) or fewer at EOF.
Result<std::string> read_at(int fd, off_t offset, std::size_t n) {
    std::string buf(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        const ssize_t r = ::pread(fd, buf.data() + got, n - got, offset + static_cast<off_t>(got));
        if (r < 0) {
            if (errno == EINTR) continue;
            return Error{"cannot read the audit log: " + errno_text(errno)};
        }
        if (r == 0) break;
        got += static_cast<std::size_t>(r);
    }
    buf.resize(got);
    return buf;
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& state_dir, std::string host) {
    if (auto why = validate_text(host, kMaxFieldBytes, true)) return Error{"host name " + *why};
    struct stat dst {};
    if (::stat(state_dir.c_str(), &dst) != 0 || !S_ISDIR(dst.st_mode)) {
        return Error{"audit state directory " + state_dir + " does not exist or is not a directory"};
    }
    std::unique_ptr<AuditLog> log(new AuditLog());
    log->dir_ = state_dir;
    log->path_ = state_dir + "/" + std::string(kLogFileName);
    log->host_ = std::move(host);
    const std::string key_path = state_dir + "/" + std::string(kKeyFileName);
    const std::string initial_path = state_dir + "/" + std::string(kInitialKeyFileName);

    const bool log_existed = exists(log->path_);
    log->fd_ = UniqueFd(::open(log->path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!log->fd_.valid()) return Error{"cannot open " + log->path_ + ": " + errno_text(errno)};
    struct stat st {};
    if (::fstat(log->fd_.get(), &st) != 0) return Error{"cannot stat " + log->path_ + ": " + errno_text(errno)};
    if (!S_ISREG(st.st_mode)) return Error{log->path_ + " is not a regular file"};
    if (st.st_uid != ::geteuid()) return Error{log->path_ + " is not owned by the daemon's user"};
    if ((st.st_mode & 022) != 0) return Error{log->path_ + " is writable by group or others"};
    log->size_ = st.st_size;

    const bool key_exists = exists(key_path);
    if (log->size_ == 0) {
        log->last_seq_ = 0;
        log->last_hash_ = std::string(kGenesisPrevHash);
        if (key_exists) {
            auto kf = KeyFile::open(key_path);
            if (!kf) return Error{kf.error().message};
            auto ks = kf->read();
            if (!ks) return Error{ks.error().message + kVerifyHint};
            if (ks->index != 1) {
                return Error{"the audit log is empty but audit.key has sealed up to seq " +
                             std::to_string(ks->index - 1) + " (log truncated or replaced)" + kVerifyHint};
            }
            log->key_ = *ks;
            log->synced_key_index_ = ks->index;
            log->key_file_.emplace(std::move(*kf));
        } else {
            if (exists(initial_path)) {
                return Error{"the audit log is empty and audit.key is missing but " + initial_path +
                             " exists (interrupted first start?): move it away if it is not needed, then restart"};
            }
            auto key = generate_key();
            if (!key) return Error{key.error().message};
            KeyState first(*key, 1);
            OPENSSL_cleanse(key->data(), key->size());
            if (auto w = write_initial_key_file(initial_path, first.key); !w) return Error{w.error().message};
            auto kf = KeyFile::create(key_path, first);
            if (!kf) return Error{kf.error().message};
            if (auto d = fsync_directory(state_dir); !d) return Error{d.error().message};
            log->key_ = first;
            log->synced_key_index_ = first.index;
            log->key_file_.emplace(std::move(*kf));
        }
        if (!log_existed) {
            if (auto d = fsync_directory(state_dir); !d) return Error{d.error().message};
        }
        return log;
    }

    // Recover the head from the last line only.
    const std::size_t tail_len =
        static_cast<std::size_t>(std::min<off_t>(log->size_, static_cast<off_t>(kMaxLineBytes + 2)));
    auto tail = read_at(log->fd_.get(), log->size_ - static_cast<off_t>(tail_len), tail_len);
    if (!tail) return Error{tail.error().message};
    if (tail->size() != tail_len) return Error{"short read on " + log->path_};
    if (tail->back() != '\n') {
        return Error{log->path_ + " ends with an incomplete record (torn write)" + std::string(kVerifyHint)};
    }
    const std::string_view body(tail->data(), tail->size() - 1);
    const std::size_t nl = body.rfind('\n');
    if (nl == std::string_view::npos && tail_len < static_cast<std::size_t>(log->size_)) {
        return Error{log->path_ + ": the last record is longer than 16 KiB" + std::string(kVerifyHint)};
    }
    const std::string_view last_line = nl == std::string_view::npos ? body : body.substr(nl + 1);
    auto last = parse_record(last_line);
    if (!last) return Error{log->path_ + ": last record: " + last.error().message + kVerifyHint};
    log->last_seq_ = last->seq;
    log->durable_seq_ = last->seq;
    log->last_hash_ = last->hash;

    if (!key_exists) return Error{key_path + " is missing but the audit log has records" + std::string(kVerifyHint)};
    auto kf = KeyFile::open(key_path);
    if (!kf) return Error{kf.error().message};
    auto ks = kf->read();
    if (!ks) return Error{ks.error().message + kVerifyHint};
    const std::uint64_t want = log->last_seq_ + 1;
    if (ks->index > want) {
        return Error{"audit.key has sealed up to seq " + std::to_string(ks->index - 1) + " but the log ends at seq " +
                     std::to_string(log->last_seq_) + " (tail truncated)" + kVerifyHint};
    }
    if (ks->index < want) {
        // Crash between the log fsync and the key update: catch up.
        KeyState next = *ks;
        while (next.index < want) {
            if (!evolve_key(next.key)) return Error{"OpenSSL SHA-256 failed"};
            ++next.index;
        }
        if (auto w = kf->write(next); !w) return Error{w.error().message};
        *ks = next;
    }
    log->key_ = *ks;
    log->synced_key_index_ = ks->index;
    log->key_file_.emplace(std::move(*kf));
    return log;
}

Status AuditLog::truncate_back() {
    if (::ftruncate(fd_.get(), size_) != 0) return Error{"ftruncate failed: " + errno_text(errno)};
    if (::fsync(fd_.get()) != 0) return Error{"fsync after ftruncate failed: " + errno_text(errno)};
    return Ok{};
}

Result<Record> AuditLog::append(const RecordFields& fields, std::int64_t now_unix, Durability durability) {
    if (auto why = validate_fields(fields)) return Error{"audit record rejected: " + *why};
    if (now_unix < 0 || now_unix > kMaxTimestamp) return Error{"audit record rejected: clock out of range"};
    if (!key_file_) return Error{"audit log is not open"};
    Record r;
    static_cast<RecordFields&>(r) = fields;
    r.seq = last_seq_ + 1;
    r.timestamp = now_unix;
    r.event_id = format_event_id(now_unix, r.seq);
    r.host = host_;
    r.prev_hash = last_hash_;
    r.hash = compute_hash(r);
    if (r.hash.empty()) return Error{"OpenSSL SHA-256 failed"};
    if (key_.index != r.seq) return Error{"audit key index does not match the next seq"};
    r.seal = seal_hex(key_.key, r.hash);
    if (r.seal.empty()) return Error{"OpenSSL HMAC failed"};
    std::string line = canonical_json(r);
    if (line.size() > kMaxLineBytes) return Error{"audit record rejected: longer than 16 KiB"};
    line.push_back('\n');
    // Everything that allocates comes before the write or undoes it first: an
    // allocation failure (std::bad_alloc) after the line reached the file
    // would leave a record the in-memory chain does not know.
    KeyState next = key_;
    if (!evolve_key(next.key)) return Error{"OpenSSL SHA-256 failed"};
    next.index = r.seq + 1;

    const ssize_t n = ::write(fd_.get(), line.data(), line.size());
    if (n != static_cast<ssize_t>(line.size())) {
        // A short write is what a full disk looks like when part of the line fitted.
        const int err = n < 0 ? errno : ENOSPC;
        const auto undo = truncate_back();
        const std::string why = errno_text(err) + (n < 0 ? std::string() : " (only part of the record was written)");
        return Error{"cannot write the audit log: " + why +
                         (undo ? std::string() : " (and could not remove the partial record: " + undo.error().message + ")"),
                     err};
    }
    if (durability == Durability::Synced && ::fdatasync(fd_.get()) != 0) {
        const int err = errno;
        const auto undo = truncate_back();
        return Error{"cannot fsync the audit log: " + errno_text(err) +
                         (undo ? std::string() : " (and could not remove the record: " + undo.error().message + ")"),
                     err};
    }
    if (durability == Durability::Synced) {
        // The record (and every deferred one before it) is durable: the
        // evolved key is written in place now, so the file no longer holds
        // the old key; its fdatasync is sync_key()'s. A crash before that
        // leaves the key file behind the log, which open() repairs.
        Status w = Ok{};
        try {
            w = key_file_->write(next, /*sync=*/false);  // allocates its text before writing anything
        } catch (const std::bad_alloc&) {
            (void)truncate_back();
            throw;
        }
        if (!w) {
            // Keep log and key file consistent with the unchanged in-memory state.
            const auto undo = truncate_back();
            (void)key_file_->write(key_);
            return Error{w.error().message +
                         (undo ? std::string() : " (and could not remove the record: " + undo.error().message + ")")};
        }
        key_sync_pending_ = true;
        durable_seq_ = r.seq;
    }
    // A deferred record's key stays in memory until flush(): a key file ahead
    // of what reached the disk would read as a truncated log after a crash.
    key_ = next;  // overwrites the old key bytes; `next` is wiped on scope exit
    size_ += static_cast<off_t>(line.size());
    last_seq_ = r.seq;
    last_hash_ = r.hash;
    return r;
}

Status AuditLog::flush() {
    if (durable_seq_ == last_seq_ || !key_file_) return Ok{};
    if (::fdatasync(fd_.get()) != 0) return Error{"cannot fsync the audit log: " + errno_text(errno), errno};
    durable_seq_ = last_seq_;
    if (auto w = key_file_->write(key_, /*sync=*/false); !w) return w;
    key_sync_pending_ = true;
    return Ok{};
}

Status AuditLog::sync_key() {
    if (!key_sync_pending_ || !key_file_) return Ok{};
    if (auto synced = key_file_->sync(); !synced) return synced;
    key_sync_pending_ = false;
    synced_key_index_ = durable_seq_ + 1;
    return Ok{};
}

Result<UniqueFd> AuditLog::duplicate_key_fd() const {
    if (!key_file_) return Error{"audit log is not open"};
    return key_file_->duplicate();
}

void AuditLog::key_sync_handed_off() {
    key_sync_pending_ = false;
    synced_key_index_ = durable_seq_ + 1;
}

AuditLog::~AuditLog() {
    (void)flush();
    (void)sync_key();
}

off_t AuditLog::seek_hint(std::uint64_t after_seq) const { return seek_after_seq(fd_.get(), size_, after_seq); }

off_t seek_after_seq(int fd, off_t size, std::uint64_t after_seq) {
    // Seqs are gap-free and increasing with the offset: binary search on
    // byte offsets, reading one line at a time, down to a small window.
    off_t lo = 0, hi = size;
    const std::size_t window = 2 * (kMaxLineBytes + 1);
    while (hi - lo > static_cast<off_t>(4 * window)) {
        const off_t mid = lo + (hi - lo) / 2;
        auto buf = read_at(fd, mid, window);
        if (!buf) break;
        const std::size_t a = buf->find('\n');
        if (a == std::string::npos) break;
        const std::size_t b = buf->find('\n', a + 1);
        if (b == std::string::npos) break;
        const off_t start = mid + static_cast<off_t>(a + 1);
        if (start >= hi) break;
        LineScan s;
        if (scan_line(std::string_view(*buf).substr(a + 1, b - a - 1), &s) != nullptr) break;
        if (s.seq <= after_seq) {
            lo = start;
        } else {
            hi = start;
        }
    }
    return lo;
}

Result<std::vector<std::string>> AuditLog::read_after(std::uint64_t after_seq, std::int64_t since, std::size_t limit,
                                                      std::uint64_t* last_scanned, bool* more) const {
    std::vector<std::string> out;
    std::uint64_t scanned = after_seq;
    bool has_more = false;
    const std::string since_text = since > 0 ? format_utc(since) : std::string();
    off_t offset = after_seq >= last_seq_ ? size_ : seek_hint(after_seq);
    std::string pending;
    bool stop = false;
    // A page of a few records (show's runs, 64 a page) needs a few KiB, not a
    // whole chunk: read about 2 KiB a record (more follows when short).
    const std::size_t chunk_bytes =
        limit >= kReadChunk / 2048 ? kReadChunk : std::max<std::size_t>(64 * 1024, limit * 2048);
    while (offset < size_ && !stop) {
        const auto want = static_cast<std::size_t>(std::min<off_t>(size_ - offset, static_cast<off_t>(chunk_bytes)));
        auto chunk = read_at(fd_.get(), offset, want);
        if (!chunk) return Error{chunk.error().message};
        if (chunk->empty()) break;
        offset += static_cast<off_t>(chunk->size());
        pending += *chunk;
        std::size_t pos = 0;
        while (!stop) {
            const std::size_t nl = pending.find('\n', pos);
            if (nl == std::string::npos) break;
            const std::string_view line(pending.data() + pos, nl - pos);
            pos = nl + 1;
            LineScan s;
            if (const char* why = scan_line(line, &s)) {
                return Error{path_ + ": unreadable record after seq " + std::to_string(scanned) + ": " + why};
            }
            if (s.seq <= after_seq) continue;
            if (!since_text.empty() && s.timestamp < since_text) {
                scanned = s.seq;
                continue;
            }
            if (out.size() >= limit) {
                has_more = true;
                stop = true;
                break;
            }
            out.emplace_back(line);
            scanned = s.seq;
        }
        pending.erase(0, pos);
        if (!stop && pending.size() > kMaxLineBytes + 1) return Error{path_ + ": a record is longer than 16 KiB"};
    }
    if (last_scanned != nullptr) *last_scanned = scanned;
    if (more != nullptr) *more = has_more;
    return out;
}

}  // namespace bg::audit
