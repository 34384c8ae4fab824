// SPDX-License-Identifier: ISC
#include "helper/daemon/peer_identity.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sys/socket.h>
#include <unistd.h>

#include "common/nss.hpp"

namespace bg {
namespace {

std::int64_t read_loginuid(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/loginuid");
    std::string text;
    if (!(in >> text)) return -1;
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size()) return -1;
    if (value == 4294967295u) return -1;  // (uid_t)-1: no login session
    return static_cast<std::int64_t>(value);
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
    const nss::Lookup<nss::User> name = nss::user_by_uid(cred.uid);
    if (name.failed()) return make_error("cannot look up the user of uid " + std::to_string(cred.uid) + ": " + name.error);
    id.user = name.found() ? name.value.name : "#" + std::to_string(cred.uid);
    return id;
}

}  // namespace bg
