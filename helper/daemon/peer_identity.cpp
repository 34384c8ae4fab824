// SPDX-License-Identifier: ISC
#include "helper/daemon/peer_identity.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <systemd/sd-login.h>

#include "common/file_io.hpp"
#include "common/nss.hpp"
#include "helper/revocation/process_scan.hpp"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  // Linux 6.5; not in every libc's headers yet
#endif

namespace bg {
namespace {

constexpr std::uint64_t kUnset = 4294967295u;  // (uid_t)-1 and AUDIT_SID_UNSET

// A small file under the peer's /proc directory, read relative to it.
std::optional<std::string> read_under(int dirfd, const char* name, std::size_t max_bytes) {
    UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) return std::nullopt;
    std::string text;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > max_bytes) return std::nullopt;  // larger than expected: not what we think it is
    }
    return text;
}

// A decimal number with an optional trailing newline; -1 when unset or malformed.
std::int64_t number_in(const std::optional<std::string>& text) {
    if (!text) return -1;
    std::string_view v(*text);
    while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || value >= kUnset) return -1;
    return static_cast<std::int64_t>(value);
}

// The logind session of `pid` and its user: ("", -1) when none.
std::pair<std::string, std::int64_t> logind_session_of(pid_t pid) {
    char* session = nullptr;
    if (sd_pid_get_session(pid, &session) < 0 || session == nullptr) return {"", -1};
    std::string name(session);
    std::free(session);
    uid_t uid = 0;
    if (sd_session_get_uid(name.c_str(), &uid) < 0) return {name, -1};
    return {name, static_cast<std::int64_t>(uid)};
}

bool still_alive(int pidfd) { return ::syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) == 0; }

}  // namespace

LoginUidOrigin loginuid_origin(std::int64_t loginuid, std::int64_t audit_session, std::string_view logind_session,
                               std::int64_t logind_session_uid) {
    if (loginuid < 0) return LoginUidOrigin::Unset;
    // logind names a session after its audit session id; writing loginuid
    // starts a new audit session, so a self-written one never matches.
    if (audit_session >= 0 && !logind_session.empty() && logind_session == std::to_string(audit_session) &&
        logind_session_uid == loginuid)
        return LoginUidOrigin::Login;
    return LoginUidOrigin::Unverified;
}

std::string loginuid_note(const PeerIdentity& peer) {
    if (peer.loginuid < 0 || peer.loginuid_origin == LoginUidOrigin::Login) return {};
    return "actor_loginuid " + std::to_string(peer.loginuid) +
           " was not set by a login session (a process whose loginuid is unset may write it): informative only" +
           (peer.pinned ? "" : "; the peer process was not pinned (kernel without SO_PEERPIDFD)");
}

std::string with_loginuid_note(std::string detail, const PeerIdentity& peer) {
    const std::string note = loginuid_note(peer);
    if (note.empty()) return detail;
    return detail.empty() ? note : detail + "; " + note;
}

Result<PeerIdentity> identify_peer(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred)
        return make_error(std::string("SO_PEERCRED: ") + std::strerror(errno));
    PeerIdentity id;
    id.pid = cred.pid;
    id.uid = cred.uid;
    id.gid = cred.gid;

    // The process that connected, as a handle its pid cannot be reused under.
    int raw_pidfd = -1;
    socklen_t pidfd_len = sizeof raw_pidfd;
    UniqueFd pidfd;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &raw_pidfd, &pidfd_len) == 0 && raw_pidfd >= 0)
        pidfd = UniqueFd(raw_pidfd);
    const std::string dir = "/proc/" + std::to_string(cred.pid);
    UniqueFd proc(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (proc.valid()) {
        const std::int64_t loginuid = number_in(read_under(proc.get(), "loginuid", 24));
        const std::int64_t audit_session = number_in(read_under(proc.get(), "sessionid", 24));
        const auto status_text = read_under(proc.get(), "status", kMaxProcStatusBytes);
        const std::optional<ProcStatus> status = status_text ? parse_proc_status(*status_text) : std::nullopt;
        const auto [session, session_uid] =
            loginuid >= 0 ? logind_session_of(cred.pid) : std::pair<std::string, std::int64_t>{"", -1};
        // Alive now means alive throughout: the directory opened in between is its.
        id.pinned = pidfd.valid() && still_alive(pidfd.get());
        // Without the handle, at least the uid must be the one that connected.
        const bool consistent = id.pinned || (status && status->uid[1] == cred.uid);
        if (consistent) {
            id.loginuid = loginuid;
            // Unpinned reads may be of a process that reused the pid: never vouched for.
            id.loginuid_origin = id.pinned ? loginuid_origin(loginuid, audit_session, session, session_uid)
                                 : loginuid < 0 ? LoginUidOrigin::Unset
                                                : LoginUidOrigin::Unverified;
            if (status) id.real_uid = static_cast<std::int64_t>(status->uid[0]);
        }
    }
    const nss::Lookup<nss::User> name = nss::user_by_uid(cred.uid);
    if (name.failed()) return make_error("cannot look up the user of uid " + std::to_string(cred.uid) + ": " + name.error);
    id.user = name.found() ? name.value.name : "#" + std::to_string(cred.uid);
    return id;
}

}  // namespace bg
