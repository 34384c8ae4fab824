// SPDX-License-Identifier: ISC
// The grants that have ended but whose revoke or expire record is not in the
// audit log yet (docs/ARCHITECTURE.md, "Opening waits, closing does not"):
// a write-ahead list in <state_dir>/ends.pending, so that a daemon restarted
// before those records are written does not bring the grants back. Grants
// are rebuilt from the log on start; this list is applied after the log.
//
// The file is preallocated (two slots of kSlotBytes) when the daemon starts,
// so that it can be rewritten on a full disk: each write goes to the older
// slot and is fdatasync'd before the daemon answers; a slot holds one JSON
// object {generation, ends, check} where check is the SHA-256 of the rest,
// so a write torn by a crash leaves the other slot in force. A slot never
// written is all zero bytes. Both slots non-zero and invalid is damage (or
// tampering), and the daemon refuses to start on it.
//
// Not thread-safe: the daemon's event loop owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_io.hpp"
#include "common/result.hpp"

namespace bg {

// One grant end waiting for its record: what the record will say.
struct UnrecordedEnd {
    std::string grant_id;
    std::string event;           // "revoke", "expire" or "grant_void"
    std::int64_t at = 0;         // when the grant ended (unix seconds)
    std::string actor;
    std::int64_t peer_uid = -1;
    std::int64_t actor_loginuid = -1;
    std::string detail;          // the record's detail as it would have been written then
    std::string why;             // why the record could not be written then
};

// One slot of the file, parsed (pure: fuzz_ends_slot). A slot is valid when
// its first line is a JSON object whose check is the SHA-256 of the rest.
struct EndsSlot {
    bool never_written = false;  // all zero bytes
    bool valid = false;
    std::uint64_t generation = 0;
    std::vector<UnrecordedEnd> ends;
};
EndsSlot parse_ends_slot(std::string_view bytes);
// The first line of a slot holding `ends` (the file pads it with zero bytes).
std::string render_ends_slot(std::uint64_t generation, const std::vector<UnrecordedEnd>& ends);

class UnrecordedEnds {
public:
    static constexpr std::string_view kFileName = "ends.pending";
    static constexpr std::size_t kSlotBytes = 64 * 1024;

    // Opens <state_dir>/ends.pending (0600, O_NOFOLLOW, owned by the daemon's
    // user, no group or other access) and reads the newest valid slot.
    // Creates and preallocates it when missing; when that fails (a full disk)
    // the list starts empty without a file, and ensure_file() tries again.
    // Fails on a damaged or insecure file.
    static Result<UnrecordedEnds> open(const std::string& state_dir);

    const std::vector<UnrecordedEnd>& ends() const { return ends_; }
    bool empty() const { return ends_.empty(); }
    bool has_file() const { return fd_.valid(); }

    // Adds an end (replacing one of the same grant) and makes the list
    // durable before returning. The list in memory changes even when the
    // write fails.
    Status add(UnrecordedEnd end);
    // Drops the end of `grant_id` (its record is in the log now) and writes
    // the list; nothing to do when it is not listed.
    Status remove(const std::string& grant_id);
    // Creates and preallocates the file when the daemon started without one,
    // then writes the list.
    Status ensure_file();

private:
    UnrecordedEnds(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
    Status write();

    std::string path_;
    UniqueFd fd_;
    std::uint64_t generation_ = 0;
    std::vector<UnrecordedEnd> ends_;
};

}  // namespace bg
