// SPDX-License-Identifier: ISC
#include "helper/daemon/peer_identity.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>

#include "common/file_io.hpp"
#include "common/nss.hpp"
#include "helper/revocation/process_scan.hpp"

namespace bg {
namespace {

// One open and read per connection (an ifstream costs several times more).
std::int64_t read_loginuid(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/loginuid";
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) return -1;
    char buf[24];
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) return -1;
    std::string_view text(buf, static_cast<std::size_t>(n));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return -1;
    if (value == 4294967295u) return -1;  // (uid_t)-1: no login session
    return static_cast<std::int64_t>(value);
}

// The real uid of `pid` when its effective uid is `effective_uid` (else the
// pid may have been reused by another process meanwhile); -1 when unknown.
std::int64_t read_real_uid(pid_t pid, uid_t effective_uid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/status";
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) return -1;
    std::string text;
    char buf[4096];
    while (text.size() <= kMaxProcStatusBytes) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    const std::optional<ProcStatus> status = parse_proc_status(text);
    if (!status || status->uid[1] != effective_uid) return -1;
    return static_cast<std::int64_t>(status->uid[0]);
}

}  // namespace

Result<PeerIdentity> identify_peer(int fd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred)
        return make_error(std::string("SO_PEERCRED: ") + std::strerror(errno));
    PeerIdentity id;
    id.pid = cred.pid;
    id.uid = cred.uid;
    id.gid = cred.gid;
    id.loginuid = read_loginuid(cred.pid);
    id.real_uid = read_real_uid(cred.pid, cred.uid);
    const nss::Lookup<nss::User> name = nss::user_by_uid(cred.uid);
    if (name.failed()) return make_error("cannot look up the user of uid " + std::to_string(cred.uid) + ": " + name.error);
    id.user = name.found() ? name.value.name : "#" + std::to_string(cred.uid);
    return id;
}

}  // namespace bg
