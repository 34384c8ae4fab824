// SPDX-License-Identifier: ISC
// Space held back on the audit log's filesystem for the records that close
// something (docs/ARCHITECTURE.md, "Opening waits, closing does not"):
// <state_dir>/audit.reserve, a file of kReserveBytes allocated with
// fallocate(2). When a closing record (revoke, expire, terminate, ...) meets
// a full disk, the daemon shrinks this file by kReleaseStep and writes the
// record into the space that frees. Opening records never use it: the daemon
// refuses them while the reserve is not whole, and grows it back (refill())
// as soon as the filesystem has room again.
//
// 1 MiB holds at least 64 records of the largest size (16 KiB) and, at the
// usual 1-2 KiB per revoke/expire/terminate record, several hundred ends.
// The reserve only helps on filesystems where freeing blocks of one file lets
// another grow at once (ext4, xfs, tmpfs); on a copy-on-write filesystem
// with snapshots it may free nothing.
//
// Not thread-safe: the daemon's event loop owns it.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/file_io.hpp"
#include "common/result.hpp"

namespace bg::audit {

class DiskReserve {
public:
    static constexpr std::string_view kFileName = "audit.reserve";
    static constexpr off_t kReserveBytes = 1024 * 1024;
    static constexpr off_t kReleaseStep = 64 * 1024;

    // Opens or creates <state_dir>/audit.reserve (0600, O_NOFOLLOW): it must
    // be a regular file owned by the daemon's user with no group or other
    // access. Allocates nothing; call refill(). On a disk too full to create
    // the file, a reserve of nothing that refill() creates later.
    static Result<DiskReserve> open(const std::string& state_dir);

    // Grows the file to kReserveBytes with fallocate, kReleaseStep at a time;
    // on the first step that fails (a full disk) keeps what it has and says why.
    Status refill();
    // Frees up to kReleaseStep of the reserve for a closing record. False
    // when nothing was left to free (or the file could not be shrunk).
    bool release();

    // What the reserve held after the last refill() or release() (someone
    // else shrinking the file is noticed by the next release()).
    off_t held() const { return held_; }
    bool whole() const { return held_ >= kReserveBytes; }
    const std::string& path() const { return path_; }

private:
    DiskReserve(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
    Status open_file();
    off_t current_size() const;

    std::string path_;
    UniqueFd fd_;
    off_t held_ = 0;
};

// A full filesystem or an exhausted quota: what the reserve is for.
bool is_out_of_space(int system_errno);

}  // namespace bg::audit
