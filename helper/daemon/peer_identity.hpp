// SPDX-License-Identifier: ISC
// Who is on the other end of a connection, from the kernel only
// (docs/ARCHITECTURE.md, "Processes and trust boundaries").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "common/result.hpp"

namespace bg {

struct PeerIdentity {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    std::int64_t loginuid = -1;  // /proc/<pid>/loginuid; -1 when unset (4294967295) or unreadable
    std::string user;            // passwd name of uid; "#<uid>" when the uid has no name
    bool trusted = false;        // root, or named in the policy's trusted_frontends (set by the daemon)
};

// SO_PEERCRED on a connected AF_UNIX socket, plus the peer's loginuid.
Result<PeerIdentity> identify_peer(int fd);

// passwd/group lookups (reentrant variants). nullopt when the user does not exist.
std::optional<uid_t> uid_of(const std::string& user);
// getgrnam_r: the gid of a group name, nullopt when there is no such group.
std::optional<gid_t> gid_of(const std::string& group);
std::optional<std::string> user_name_of(uid_t uid);
// Names of the user's primary and supplementary groups; nullopt when the user does not exist.
std::optional<std::vector<std::string>> groups_of(const std::string& user);

}  // namespace bg
