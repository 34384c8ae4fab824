// SPDX-License-Identifier: ISC
// The story index (issue 14; docs/ARCHITECTURE.md, "After the glass"):
// <state_dir>/audit.index, derived from audit.log so that `breakglassctl
// show ID` finds the records of one grant without reading the log. It is an
// accelerator, never trusted: every entry a reader uses is checked against
// the log line it points to, records after its last slot are read from the
// log itself, and a missing or damaged index only costs the scan it saves.
//
// Format (host byte order: the file never leaves the host):
//   a 48-byte header: "breakglass-story-index-v1\n" padded with NUL to 32
//   bytes, then the first 16 hex digits of record 1's hash (which log it
//   belongs to);
//   then one 16-byte slot per record, slot of seq S at 48 + 16 * (S - 1):
//   u64 offset of the record's line in audit.log plus one (0: not written),
//   u64 the seq of the event id the record's `grant_id` field names (0: none).
// A slot is a function of its record alone and is written once, so a crash
// (the file is never fsync'd) can only leave slots unwritten (zero) or
// missing at the end, which readers and the writer's catch-up see.
//
// breakglassd writes it (StoryIndexWriter, one pwrite per record after the
// append, on the event loop) and brings it up to the log at start: from the
// last good slot on, or from record 1 when it is missing, belongs to another
// log or its last slot does not point at its record.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_io.hpp"
#include "common/result.hpp"
#include "helper/audit/recorder.hpp"

namespace bg::audit {

inline constexpr std::string_view kStoryIndexFileName = "audit.index";
inline constexpr std::string_view kStoryIndexMagic = "breakglass-story-index-v1\n";
inline constexpr std::size_t kStoryIndexHeaderBytes = 48;
inline constexpr std::size_t kStoryIndexSlotBytes = 16;

struct StoryIndexSlot {
    std::uint64_t offset_plus_one = 0;
    std::uint64_t named_seq = 0;
};

// "bg-YYYY-NNNNNN" → NNNNNN (pure); nullopt when `id` is not an event id.
std::optional<std::uint64_t> seq_of_event_id(std::string_view id);
// The seq of the event id a canonical line's "grant_id" names, 0 for none
// (pure; the unescaped `,"grant_id":"` cannot occur inside a value).
std::uint64_t named_seq_of_line(std::string_view line);
// The seq of a canonical line (its `,"seq":` member), 0 when there is none.
std::uint64_t seq_of_line(std::string_view line);
// The header for a log whose first record has hash `first_hash` (pure).
std::string story_index_header(std::string_view first_hash);

// What catching up did, for the daemon's start-up message.
struct StoryIndexCatchUp {
    bool rebuilt = false;           // from record 1
    std::string why_rebuilt;        // "missing", "another log's", …
    std::uint64_t from_seq = 0;     // the first slot written
    std::uint64_t records = 0;      // slots written
};

class StoryIndexWriter : public RecordSubscriber {
public:
    // Opens or creates <state_dir>/audit.index (0600, not through a link)
    // and brings it up to <state_dir>/audit.log as it is now.
    static Result<std::unique_ptr<StoryIndexWriter>> open(const std::string& state_dir, StoryIndexCatchUp* report);

    // One slot for `r`, which the log just appended; a failed write stops
    // the writer (the next start rebuilds from the hole), never the daemon.
    void recorded(const Record& r) override;
    // Stops writing (the next start rebuilds from the first missing slot).
    void stop(std::string why) {
        if (stopped_.empty()) stopped_ = std::move(why);
    }
    // Why the writer stopped, "" while it writes.
    const std::string& stopped() const { return stopped_; }
    // The first hash digits of the log's record 1 (the header's), for readers.
    const std::string& first_hash() const { return first_hash_; }

private:
    StoryIndexWriter() = default;
    UniqueFd fd_;
    std::uint64_t next_seq_ = 1;
    std::uint64_t next_offset_ = 0;
    std::string stopped_;
    std::string first_hash_;
};

// A read-only view of an index (mmap'd), for `show` and the daemon's story
// lookup. Its slots are hints: callers check each against the log.
class StoryIndexReader {
public:
    // nullopt-like error when the file is missing, not the daemon's (root's)
    // regular file, too short, or its header does not match `first_hash`.
    static Result<StoryIndexReader> open(const std::string& path, std::string_view first_hash);

    StoryIndexReader(StoryIndexReader&&) noexcept;
    StoryIndexReader& operator=(StoryIndexReader&&) noexcept;
    ~StoryIndexReader();

    // The number of slots (the index's last seq; slots may still be unwritten).
    std::uint64_t last_seq() const { return slots_; }
    // The slot of `seq`, nullopt when beyond the index or unwritten.
    std::optional<StoryIndexSlot> slot(std::uint64_t seq) const;
    // The seqs in (after, last_seq()] whose slot names `named`; *first_hole
    // = the first unwritten slot in that range (0: none), whose records the
    // caller must read from the log.
    std::vector<std::uint64_t> naming(std::uint64_t named, std::uint64_t after, std::uint64_t* first_hole) const;
    // One pass for a grant and its request: the seqs after `a` whose slot
    // names `a` and those after `b` whose slot names `b` (b = 0: none);
    // *first_hole as above, from the smaller of the two on.
    std::vector<std::uint64_t> naming_either(std::uint64_t a, std::uint64_t b, std::uint64_t* first_hole) const;

private:
    StoryIndexReader() = default;
    const unsigned char* map_ = nullptr;
    std::size_t map_size_ = 0;
    std::uint64_t slots_ = 0;
};

}  // namespace bg::audit
