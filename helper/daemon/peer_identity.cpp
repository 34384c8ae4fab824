// SPDX-License-Identifier: ISC
#include "helper/daemon/peer_identity.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bg {
namespace {

constexpr std::size_t kLookupBuffer = 16 * 1024;

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
    id.user = user_name_of(cred.uid).value_or("#" + std::to_string(cred.uid));
    return id;
}

std::optional<uid_t> uid_of(const std::string& user) {
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(kLookupBuffer);
    if (::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) return std::nullopt;
    return pw.pw_uid;
}

std::optional<gid_t> gid_of(const std::string& group) {
    struct group gr {};
    struct group* found = nullptr;
    std::vector<char> buf(kLookupBuffer);
    if (::getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr) return std::nullopt;
    return gr.gr_gid;
}

std::optional<std::string> user_name_of(uid_t uid) {
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(kLookupBuffer);
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) return std::nullopt;
    return std::string(pw.pw_name);
}

std::optional<std::vector<std::string>> groups_of(const std::string& user) {
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(kLookupBuffer);
    if (::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) return std::nullopt;
    int count = 64;
    std::vector<gid_t> gids(static_cast<std::size_t>(count));
    while (::getgrouplist(user.c_str(), pw.pw_gid, gids.data(), &count) < 0) {
        if (count > 65536) return std::nullopt;
        gids.resize(static_cast<std::size_t>(count) * 2);
        count = static_cast<int>(gids.size());
    }
    gids.resize(static_cast<std::size_t>(count));
    std::vector<std::string> names;
    for (const gid_t gid : gids) {
        group gr{};
        group* gfound = nullptr;
        std::vector<char> gbuf(kLookupBuffer);
        if (::getgrgid_r(gid, &gr, gbuf.data(), gbuf.size(), &gfound) == 0 && gfound != nullptr)
            names.emplace_back(gr.gr_name);
    }
    return names;
}

}  // namespace bg
