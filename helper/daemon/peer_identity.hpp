// SPDX-License-Identifier: ISC
// Who is on the other end of a connection, from the kernel only
// (docs/ARCHITECTURE.md, "Processes and trust boundaries").
//
// SO_PEERCRED's uid decides everything that matters. The rest is read from
// the peer's /proc directory, opened once (every file is read relative to
// it, so all of it is about one process), and pinned to the process that
// connected: with SO_PEERPIDFD (Linux 6.5) the daemon checks after reading
// that the connecting process is still alive, so its pid was not reused by
// another process meanwhile. Older kernels have no such handle: the reads
// are then checked only against SO_PEERCRED's uid, `pinned` is false, and a
// loginuid read so is never counted as set by a login (Unverified).
//
// The loginuid is informative only: a process whose loginuid is unset may
// write any value into it once. It counts as set by a login only when the
// process runs in a logind session whose id is the process's audit session
// id and whose user is that loginuid; a loginuid written by the process (or
// an unprivileged ancestor) starts a new audit session and fails that check.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "common/result.hpp"

namespace bg {

enum class LoginUidOrigin {
    Unset,       // no loginuid (or it could not be read)
    Login,       // set by the login of the logind session the process runs in; the process cannot change it
    Unverified,  // set, but not by a login the daemon can see: the process (or an ancestor) may have written it
};

struct PeerIdentity {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    std::int64_t loginuid = -1;  // /proc/<pid>/loginuid; -1 when unset (4294967295) or unreadable
    LoginUidOrigin loginuid_origin = LoginUidOrigin::Unset;
    std::int64_t real_uid = -1;  // the peer process's real uid (sudo, su: the invoking user), kept only while its
                                 // effective uid is the one that connected; -1 when unknown
    bool pinned = false;         // the /proc reads are known to be of the connecting process
    std::string user;            // passwd name of uid; "#<uid>" when the uid has no name
    bool trusted = false;        // root, or named in the policy's trusted_frontends (set per request)
};

// SO_PEERCRED on a connected AF_UNIX socket, plus the peer's loginuid, its
// origin, real uid and user name. Fails when the uid's name cannot be looked
// up (an NSS failure): a peer whose identity is unknown is not served. A uid
// without a name is "#<uid>". User and group look-ups are common/nss.hpp.
Result<PeerIdentity> identify_peer(int fd);

// Pure: where a loginuid came from, given the process's audit session id
// (-1 when unset) and the logind session it runs in ("" when none) with that
// session's user (-1 when unknown).
LoginUidOrigin loginuid_origin(std::int64_t loginuid, std::int64_t audit_session, std::string_view logind_session,
                               std::int64_t logind_session_uid);

// "" when the record's actor_loginuid needs no comment, else what a record's
// detail should say about it.
std::string loginuid_note(const PeerIdentity& peer);
// `detail` with loginuid_note() appended ("; ...") when there is one.
std::string with_loginuid_note(std::string detail, const PeerIdentity& peer);

}  // namespace bg
