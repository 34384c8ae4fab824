// SPDX-License-Identifier: ISC
// Set-group-ID residue (issue 10, item 6). A process with the gate's group
// can leave a file behind that gives the group back to whoever runs it:
// `cp /bin/bash ~/.x; chgrp GATE ~/.x; chmod 2755 ~/.x`. At revocation the
// terminator looks in the places users can write (/tmp, /var/tmp, /dev/shm,
// the actor's home) for regular files with the set-group-ID bit and the
// gate's group, changed since the grant began (ctime >= granted_at), and
// removes the bit. The walk is bounded in entries and time and never follows
// a symbolic link or leaves a root's file system; it is a sweep after the
// fact. The real defence is mounting those places nosuid (breakglassd(8)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace bg {

struct SetgidSweepLimits {
    std::size_t max_entries = 50000;   // directory entries looked at, over all roots
    std::int64_t max_milliseconds = 250;
    int max_depth = 64;                 // directories below a root
};

struct SetgidFile {
    std::string path;    // as found (not escaped)
    uid_t owner = 0;
    bool cleared = false;
    std::string error;   // why the bit could not be removed, when !cleared
};

struct SetgidSweep {
    std::vector<SetgidFile> files;
    std::size_t visited = 0;
    std::string stopped;                     // why the walk ended early, "" when every root was walked
    std::vector<std::string> unreadable;     // roots that could not be opened, with why
    std::vector<std::string> skipped;        // directories not walked (too deep, not openable), at most 8, with why
};

// The default roots: /tmp, /var/tmp, /dev/shm and `home` when it is an
// absolute directory other than "/" owned by `owner` (a system account's
// home "/" or one it does not own is not walked).
std::vector<std::string> default_setgid_roots(const std::string& home, uid_t owner);

// Walks `roots` and removes the set-group-ID bit from every regular file
// whose group is `gid` and whose ctime is at or after `since` (unix seconds).
// Each file is opened O_PATH|O_NOFOLLOW, checked with fstat, and changed
// through /proc/self/fd/N: the file checked is the file changed.
SetgidSweep clear_setgid_files(gid_t gid, std::int64_t since, const std::vector<std::string>& roots,
                               const SetgidSweepLimits& limits = {});

// For a terminate record: "" when nothing was found and the walk was complete;
// otherwise each file (escaped) with its owner's uid, errors and limits.
std::string describe(const SetgidSweep& sweep, const std::string& group);

}  // namespace bg
