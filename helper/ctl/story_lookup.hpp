// SPDX-License-Identifier: ISC
// Finding and verifying the story of one grant without reading the whole
// log (issue 14): which seqs belong to it (the story index, or a scan when
// the index cannot be used), then the records read from the log in short
// runs, each run's chain recomputed from the record before a story record up
// to the first signed checkpoint that covers it, whose signature and head
// are checked with the host's checkpoint key. Records after the last
// checkpoint are linked to the log's end instead ("not yet covered").
// The same code serves the files (--state-dir) and breakglassd (LogRequest):
// only how a run of lines is read differs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "helper/audit/ed25519.hpp"
#include "helper/ctl/grant_story.hpp"

namespace bg::ctl {

// Hands each canonical line with seq > after_seq, in order, to `each` until
// it returns false or the log ends. False (with *error) when reading failed.
using ReadAfter = std::function<bool(std::uint64_t after_seq, const std::function<bool(std::string_view line)>& each,
                                     std::string* error)>;

// What the lookup found: candidate seqs, and how it found them.
struct StoryPlan {
    std::uint64_t grant_seq = 0;
    std::uint64_t request_seq = 0;     // 0: a direct grant (or no grant record)
    std::string request_id;
    bool grant_found = false;
    std::vector<std::uint64_t> seqs;  // sorted, unique, the grant's own among them
    std::string how;                  // "story index through seq N, then …" or "scan of the log from …"
    std::vector<std::string> notes;   // index problems, said with the verification
};

// The checkpoint key and what to call it in the scope.
struct CheckpointKey {
    std::optional<audit::Ed25519PublicKey> key;
    std::string name;  // "checkpoint.pub in /var/lib/breakglass (ed25519:…)"
};

struct ScopedStory {
    GrantStory story;
    StoryVerification verification;
    bool read_failed = false;
    std::string error;  // when read_failed
};

// Reads the runs `plan` needs through `read` and checks them; the story
// holds the records of plan.seqs that are in it (others are said and left
// out) and any story record met in a run that the plan missed (said).
ScopedStory read_verified_story(const ReadAfter& read, const std::string& grant_id, const StoryPlan& plan,
                                const CheckpointKey& key);

// The story's candidates from the files: `log` is the whole audit.log
// (mapped), `index_path` its story index (may be missing or damaged: then
// the log is scanned and the plan says why).
StoryPlan plan_from_files(std::string_view log, const std::string& index_path, const std::string& grant_id);

// A file mapped read-only (audit.log, for show --state-dir): opened with
// O_NOFOLLOW|O_CLOEXEC, a regular file of at most `max_bytes`.
class MappedFile {
public:
    static Result<MappedFile> open(const std::string& path, std::size_t max_bytes);
    MappedFile(MappedFile&& o) noexcept;
    MappedFile& operator=(MappedFile&&) = delete;
    MappedFile(const MappedFile&) = delete;
    ~MappedFile();
    std::string_view bytes() const { return {data_, size_}; }

private:
    MappedFile() = default;
    const char* data_ = nullptr;
    std::size_t size_ = 0;
};

// A ReadAfter over the mapped log (binary search on seq to the start).
ReadAfter read_after_in(std::string_view log);

}  // namespace bg::ctl
