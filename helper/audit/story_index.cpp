// SPDX-License-Identifier: ISC
#include "helper/audit/story_index.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "helper/audit/audit_log.hpp"

namespace bg::audit {
namespace {

constexpr std::size_t kChunk = 1 << 20;
constexpr std::size_t kFirstHashDigits = 16;

std::string errno_text(int err) { return std::strerror(err); }

std::uint64_t digits_at(std::string_view s) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && end != s.data() ? v : 0;
}

void put_slot(unsigned char* at, const StoryIndexSlot& s) {
    std::memcpy(at, &s.offset_plus_one, 8);
    std::memcpy(at + 8, &s.named_seq, 8);
}

StoryIndexSlot get_slot(const unsigned char* at) {
    StoryIndexSlot s;
    std::memcpy(&s.offset_plus_one, at, 8);
    std::memcpy(&s.named_seq, at + 8, 8);
    return s;
}

Status pwrite_all(int fd, const void* data, std::size_t n, off_t at) {
    const auto* p = static_cast<const char*>(data);
    while (n > 0) {
        const ssize_t w = ::pwrite(fd, p, n, at);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return Error{"cannot write the story index: " + errno_text(w < 0 ? errno : ENOSPC), w < 0 ? errno : ENOSPC};
        p += w;
        n -= static_cast<std::size_t>(w);
        at += w;
    }
    return Ok{};
}

Result<std::string> pread_some(int fd, off_t at, std::size_t n) {
    std::string buf(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        const ssize_t r = ::pread(fd, buf.data() + got, n - got, at + static_cast<off_t>(got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return Error{"cannot read: " + errno_text(errno), errno};
        if (r == 0) break;
        got += static_cast<std::size_t>(r);
    }
    buf.resize(got);
    return buf;
}

// The line of `log_fd` starting at `offset` (without '\n'); "" when there is
// no complete line there.
std::string line_at(int log_fd, off_t offset) {
    auto buf = pread_some(log_fd, offset, kMaxLineBytes + 1);
    if (!buf) return {};
    const std::size_t nl = buf->find('\n');
    if (nl == std::string::npos) return {};
    buf->resize(nl);
    return std::move(*buf);
}

// The first kFirstHashDigits of record 1's hash, "" for an empty log.
std::string first_hash_of(int log_fd) {
    const std::string first = line_at(log_fd, 0);
    const std::size_t at = first.find(",\"hash\":\"");
    if (at == std::string::npos || at + 9 + kFirstHashDigits > first.size()) return {};
    return first.substr(at + 9, kFirstHashDigits);
}

}  // namespace

std::optional<std::uint64_t> seq_of_event_id(std::string_view id) {
    // "bg-" YYYY "-" digits (at least 6)
    if (id.size() < 3 + 4 + 1 + 6 || id.substr(0, 3) != "bg-" || id[7] != '-') return std::nullopt;
    for (std::size_t i = 3; i < 7; ++i)
        if (id[i] < '0' || id[i] > '9') return std::nullopt;
    const std::string_view digits = id.substr(8);
    if (digits.size() > 19) return std::nullopt;
    std::uint64_t seq = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
    if (ec != std::errc() || end != digits.data() + digits.size() || seq == 0) return std::nullopt;
    return seq;
}

std::uint64_t named_seq_of_line(std::string_view line) {
    constexpr std::string_view kKey = ",\"grant_id\":\"";
    const std::size_t at = line.find(kKey);
    if (at == std::string_view::npos) return 0;
    const std::size_t begin = at + kKey.size();
    const std::size_t end = line.find('"', begin);
    if (end == std::string_view::npos) return 0;
    return seq_of_event_id(line.substr(begin, end - begin)).value_or(0);
}

std::uint64_t seq_of_line(std::string_view line) {
    constexpr std::string_view kKey = ",\"seq\":";
    const std::size_t at = line.find(kKey);
    return at == std::string_view::npos ? 0 : digits_at(line.substr(at + kKey.size()));
}

std::string story_index_header(std::string_view first_hash) {
    std::string h(kStoryIndexHeaderBytes, '\0');
    std::memcpy(h.data(), kStoryIndexMagic.data(), kStoryIndexMagic.size());
    std::memcpy(h.data() + 32, first_hash.data(), std::min(first_hash.size(), kFirstHashDigits));
    return h;
}

Result<std::unique_ptr<StoryIndexWriter>> StoryIndexWriter::open(const std::string& state_dir,
                                                                 StoryIndexCatchUp* report) {
    StoryIndexCatchUp local;
    StoryIndexCatchUp& out = report != nullptr ? *report : local;
    const std::string log_path = state_dir + "/" + std::string(kLogFileName);
    const std::string path = state_dir + "/" + std::string(kStoryIndexFileName);
    UniqueFd log(::open(log_path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!log.valid()) return Error{"cannot open " + log_path + ": " + errno_text(errno), errno};
    struct stat log_st {};
    if (::fstat(log.get(), &log_st) != 0) return Error{"cannot stat " + log_path + ": " + errno_text(errno), errno};
    std::unique_ptr<StoryIndexWriter> w(new StoryIndexWriter());
    w->fd_ = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!w->fd_.valid()) return Error{"cannot open " + path + ": " + errno_text(errno), errno};
    struct stat st {};
    if (::fstat(w->fd_.get(), &st) != 0) return Error{"cannot stat " + path + ": " + errno_text(errno), errno};
    if (!S_ISREG(st.st_mode)) return Error{path + " is not a regular file; remove it (it is rebuilt from the log)"};
    if (st.st_uid != ::geteuid() || (st.st_mode & 077) != 0)
        return Error{path + " is not the daemon's own file with no access for others; remove it (it is rebuilt from the log)"};

    const std::string first_hash = first_hash_of(log.get());
    const std::string header = story_index_header(first_hash);
    std::uint64_t good = 0;  // slots 1..good are written and the last points at its record
    off_t resume = 0;        // where in the log the record after `good` starts
    auto existing = pread_some(w->fd_.get(), 0, kStoryIndexHeaderBytes);
    if (!existing) return Error{path + ": " + existing.error().message};
    if (st.st_size == 0) {
        out.why_rebuilt = "missing";
    } else if (*existing != header) {
        out.why_rebuilt = "it belongs to another log or another version";
    } else {
        const std::uint64_t slots = (static_cast<std::uint64_t>(st.st_size) - kStoryIndexHeaderBytes) / kStoryIndexSlotBytes;
        // The first unwritten slot: a crash can leave holes.
        std::uint64_t seq = 1;
        bool hole = false;
        while (seq <= slots && !hole) {
            const std::uint64_t n = std::min<std::uint64_t>(slots - seq + 1, kChunk / kStoryIndexSlotBytes);
            auto buf = pread_some(w->fd_.get(),
                                  static_cast<off_t>(kStoryIndexHeaderBytes + (seq - 1) * kStoryIndexSlotBytes),
                                  static_cast<std::size_t>(n * kStoryIndexSlotBytes));
            if (!buf) return Error{path + ": " + buf.error().message};
            const auto* p = reinterpret_cast<const unsigned char*>(buf->data());
            const std::uint64_t got = buf->size() / kStoryIndexSlotBytes;
            for (std::uint64_t i = 0; i < got; ++i, ++seq)
                if (get_slot(p + i * kStoryIndexSlotBytes).offset_plus_one == 0) {
                    hole = true;
                    break;
                }
            if (got < n) break;
        }
        good = seq - 1;
        if (good > 0) {
            auto buf = pread_some(w->fd_.get(),
                                  static_cast<off_t>(kStoryIndexHeaderBytes + (good - 1) * kStoryIndexSlotBytes),
                                  kStoryIndexSlotBytes);
            if (!buf || buf->size() != kStoryIndexSlotBytes) return Error{path + ": cannot read its last slot"};
            const StoryIndexSlot last = get_slot(reinterpret_cast<const unsigned char*>(buf->data()));
            const off_t at = static_cast<off_t>(last.offset_plus_one - 1);
            const std::string line = at < log_st.st_size ? line_at(log.get(), at) : std::string();
            if (line.empty() || seq_of_line(line) != good || named_seq_of_line(line) != last.named_seq) {
                out.why_rebuilt = "its slot for seq " + std::to_string(good) + " does not point at that record";
                good = 0;
            } else {
                resume = at + static_cast<off_t>(line.size()) + 1;
            }
        }
    }
    if (good == 0) {
        out.rebuilt = true;
        if (out.why_rebuilt.empty()) out.why_rebuilt = "empty";
        if (::ftruncate(w->fd_.get(), 0) != 0) return Error{"cannot truncate " + path + ": " + errno_text(errno), errno};
        if (auto ok = pwrite_all(w->fd_.get(), header.data(), header.size(), 0); !ok) return ok.error();
    } else if (::ftruncate(w->fd_.get(), static_cast<off_t>(kStoryIndexHeaderBytes + good * kStoryIndexSlotBytes)) != 0) {
        return Error{"cannot truncate " + path + ": " + errno_text(errno), errno};
    }

    // The records after `good`, read from the log in chunks.
    out.from_seq = good + 1;
    std::uint64_t seq = good + 1;
    off_t offset = resume;
    std::string pending;
    std::vector<unsigned char> slots;
    const off_t slots_at = static_cast<off_t>(kStoryIndexHeaderBytes + good * kStoryIndexSlotBytes);
    std::size_t slots_written = 0;
    off_t line_start = offset;
    while (offset < log_st.st_size) {
        const auto want = static_cast<std::size_t>(std::min<off_t>(log_st.st_size - offset, static_cast<off_t>(kChunk)));
        auto chunk = pread_some(log.get(), offset, want);
        if (!chunk) return Error{log_path + ": " + chunk.error().message};
        if (chunk->empty()) break;
        offset += static_cast<off_t>(chunk->size());
        pending += *chunk;
        std::size_t pos = 0;
        for (;;) {
            const std::size_t nl = pending.find('\n', pos);
            if (nl == std::string::npos) break;
            const std::string_view line(pending.data() + pos, nl - pos);
            if (seq_of_line(line) != seq)
                return Error{log_path + ": the record at byte " + std::to_string(line_start) + " is not seq " +
                             std::to_string(seq) + "; run breakglassctl verify"};
            slots.resize(slots.size() + kStoryIndexSlotBytes);
            put_slot(slots.data() + slots.size() - kStoryIndexSlotBytes,
                     StoryIndexSlot{static_cast<std::uint64_t>(line_start) + 1, named_seq_of_line(line)});
            line_start += static_cast<off_t>(nl - pos + 1);
            pos = nl + 1;
            ++seq;
        }
        pending.erase(0, pos);
        if (slots.size() >= kChunk) {
            if (auto ok = pwrite_all(w->fd_.get(), slots.data(), slots.size(),
                                     slots_at + static_cast<off_t>(slots_written));
                !ok)
                return ok.error();
            slots_written += slots.size();
            slots.clear();
        }
    }
    if (!slots.empty())
        if (auto ok = pwrite_all(w->fd_.get(), slots.data(), slots.size(), slots_at + static_cast<off_t>(slots_written));
            !ok)
            return ok.error();
    out.records = seq - good - 1;
    w->first_hash_ = first_hash;
    w->next_seq_ = seq;
    w->next_offset_ = static_cast<std::uint64_t>(line_start);
    return w;
}

void StoryIndexWriter::recorded(const Record& r) {
    if (!stopped_.empty()) return;
    if (r.seq != next_seq_) {
        stopped_ = "record seq " + std::to_string(r.seq) + " is not the next slot " + std::to_string(next_seq_);
        return;
    }
    if (r.seq == 1) {
        // The first record names the log: the header says which.
        first_hash_ = r.hash.substr(0, kFirstHashDigits);
        const std::string header = story_index_header(first_hash_);
        if (auto ok = pwrite_all(fd_.get(), header.data(), header.size(), 0); !ok) {
            stopped_ = ok.error().message;
            return;
        }
    }
    // The line the log wrote is the canonical form of the record.
    const std::uint64_t length = canonical_json(r).size() + 1;
    unsigned char slot[kStoryIndexSlotBytes];
    put_slot(slot, StoryIndexSlot{next_offset_ + 1, seq_of_event_id(r.grant_id).value_or(0)});
    if (auto ok = pwrite_all(fd_.get(), slot, sizeof slot,
                             static_cast<off_t>(kStoryIndexHeaderBytes + (r.seq - 1) * kStoryIndexSlotBytes));
        !ok) {
        stopped_ = ok.error().message;
        return;
    }
    next_offset_ += length;
    ++next_seq_;
}

Result<StoryIndexReader> StoryIndexReader::open(const std::string& path, std::string_view first_hash) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return Error{"cannot open " + path + ": " + errno_text(errno), errno};
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Error{"cannot stat " + path + ": " + errno_text(errno), errno};
    if (!S_ISREG(st.st_mode)) return Error{path + " is not a regular file"};
    if (st.st_uid != 0 && st.st_uid != ::geteuid()) return Error{path + " is owned by uid " + std::to_string(st.st_uid)};
    if ((st.st_mode & 022) != 0) return Error{path + " is writable by group or others"};
    if (static_cast<std::uint64_t>(st.st_size) < kStoryIndexHeaderBytes) return Error{path + " is shorter than its header"};
    StoryIndexReader r;
    r.map_size_ = static_cast<std::size_t>(st.st_size);
    void* m = ::mmap(nullptr, r.map_size_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (m == MAP_FAILED) return Error{"cannot map " + path + ": " + errno_text(errno), errno};
    r.map_ = static_cast<const unsigned char*>(m);
    if (std::string_view(reinterpret_cast<const char*>(r.map_), kStoryIndexHeaderBytes) !=
        story_index_header(first_hash))
        return Error{path + " belongs to another log or another version"};
    r.slots_ = (r.map_size_ - kStoryIndexHeaderBytes) / kStoryIndexSlotBytes;
    return r;
}

StoryIndexReader::StoryIndexReader(StoryIndexReader&& o) noexcept
    : map_(std::exchange(o.map_, nullptr)), map_size_(std::exchange(o.map_size_, 0)), slots_(std::exchange(o.slots_, 0)) {}

StoryIndexReader& StoryIndexReader::operator=(StoryIndexReader&& o) noexcept {
    if (this != &o) {
        if (map_ != nullptr) ::munmap(const_cast<unsigned char*>(map_), map_size_);
        map_ = std::exchange(o.map_, nullptr);
        map_size_ = std::exchange(o.map_size_, 0);
        slots_ = std::exchange(o.slots_, 0);
    }
    return *this;
}

StoryIndexReader::~StoryIndexReader() {
    if (map_ != nullptr) ::munmap(const_cast<unsigned char*>(map_), map_size_);
}

std::optional<StoryIndexSlot> StoryIndexReader::slot(std::uint64_t seq) const {
    if (seq == 0 || seq > slots_) return std::nullopt;
    const StoryIndexSlot s = get_slot(map_ + kStoryIndexHeaderBytes + (seq - 1) * kStoryIndexSlotBytes);
    if (s.offset_plus_one == 0) return std::nullopt;
    return s;
}

std::vector<std::uint64_t> StoryIndexReader::naming(std::uint64_t named, std::uint64_t after,
                                                    std::uint64_t* first_hole) const {
    std::vector<std::uint64_t> out;
    if (first_hole != nullptr) *first_hole = 0;
    for (std::uint64_t seq = after + 1; seq <= slots_; ++seq) {
        const StoryIndexSlot s = get_slot(map_ + kStoryIndexHeaderBytes + (seq - 1) * kStoryIndexSlotBytes);
        if (s.named_seq == named && named != 0) out.push_back(seq);
        if (s.offset_plus_one == 0 && first_hole != nullptr && *first_hole == 0) *first_hole = seq;
    }
    return out;
}

std::vector<std::uint64_t> StoryIndexReader::naming_either(std::uint64_t a, std::uint64_t b,
                                                           std::uint64_t* first_hole) const {
    std::vector<std::uint64_t> out;
    if (first_hole != nullptr) *first_hole = 0;
    if (a == 0) return out;
    const std::uint64_t from = b != 0 ? std::min(a, b) : a;
    for (std::uint64_t seq = from + 1; seq <= slots_; ++seq) {
        const StoryIndexSlot s = get_slot(map_ + kStoryIndexHeaderBytes + (seq - 1) * kStoryIndexSlotBytes);
        if ((s.named_seq == a && seq > a) || (b != 0 && s.named_seq == b && seq > b)) out.push_back(seq);
        if (s.offset_plus_one == 0 && first_hole != nullptr && *first_hole == 0) *first_hole = seq;
    }
    return out;
}

}  // namespace bg::audit
