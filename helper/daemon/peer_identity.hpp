// SPDX-License-Identifier: ISC
// Who is on the other end of a connection, from the kernel only
// (docs/ARCHITECTURE.md, "Processes and trust boundaries").
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>

#include "common/result.hpp"

namespace bg {

struct PeerIdentity {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    std::int64_t loginuid = -1;  // /proc/<pid>/loginuid; -1 when unset (4294967295) or unreadable
    std::int64_t real_uid = -1;  // the peer process's real uid (sudo, su: the invoking user); -1 when unknown
    std::string user;            // passwd name of uid; "#<uid>" when the uid has no name
    bool trusted = false;        // root, or named in the policy's trusted_frontends (set by the daemon)
};

// SO_PEERCRED on a connected AF_UNIX socket, plus the peer's loginuid, real
// uid (from /proc/<pid>/status, kept only when its effective uid is the one
// that connected) and user name. Fails when the uid's name cannot be looked up (an NSS failure):
// a peer whose identity is unknown is not served. A uid without a name is
// "#<uid>". User and group look-ups are common/nss.hpp.
Result<PeerIdentity> identify_peer(int fd);

}  // namespace bg
