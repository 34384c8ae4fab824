// SPDX-License-Identifier: ISC
#include "common/nss.hpp"

#include <cerrno>
#include <cstring>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

namespace bg::nss {
namespace {

std::size_t initial_buffer_bytes(int sysconf_name) {
    const long hint = ::sysconf(sysconf_name);
    // glibc answers 1024 for both; -1 means "no limit suggested".
    if (hint <= 0) return 1024;
    return static_cast<std::size_t>(hint) < kMaxEntryBytes ? static_cast<std::size_t>(hint) : kMaxEntryBytes;
}

std::string describe(const char* call, std::string_view key, int error) {
    return std::string(call) + "(" + std::string(key) + "): " + std::strerror(error);
}

// One reentrant look-up with a buffer that grows on ERANGE. `call` runs the
// getXX_r function on (entry, buffer, size, &result) and returns its error
// number; `convert` turns the entry into the value while the buffer is alive.
template <typename Entry, typename Value, typename Call, typename Convert>
Lookup<Value> reentrant(const char* call_name, std::string_view key, int sysconf_name, Call&& call, Convert&& convert) {
    Lookup<Value> out;
    std::vector<char> buffer(initial_buffer_bytes(sysconf_name));
    for (;;) {
        Entry entry{};
        Entry* result = nullptr;
        const int rc = call(&entry, buffer.data(), buffer.size(), &result);
        if (rc == EINTR) continue;
        if (rc == ERANGE) {
            if (buffer.size() >= kMaxEntryBytes) {
                out.error = std::string(call_name) + "(" + std::string(key) + "): the entry is larger than " +
                            std::to_string(kMaxEntryBytes / (1024 * 1024)) + " MiB";
                return out;
            }
            buffer.resize(buffer.size() * 2 < kMaxEntryBytes ? buffer.size() * 2 : kMaxEntryBytes);
            continue;
        }
        if (rc != 0) {
            out.error = describe(call_name, key, rc);
            return out;
        }
        if (result == nullptr) {
            out.status = Status::NotFound;
            return out;
        }
        out.value = convert(*result);
        out.status = Status::Found;
        return out;
    }
}

User user_of(const passwd& pw) {
    return User{pw.pw_name ? pw.pw_name : "", pw.pw_uid, pw.pw_gid, pw.pw_dir ? pw.pw_dir : "",
                pw.pw_shell ? pw.pw_shell : ""};
}

Group group_of(const group& gr) {
    Group g{gr.gr_name ? gr.gr_name : "", gr.gr_gid, {}};
    for (char** member = gr.gr_mem; member != nullptr && *member != nullptr; ++member) g.members.emplace_back(*member);
    return g;
}

}  // namespace

Lookup<User> user_by_name(std::string_view name) {
    const std::string key(name);
    return reentrant<passwd, User>(
        "getpwnam_r", key, _SC_GETPW_R_SIZE_MAX,
        [&](passwd* e, char* b, std::size_t n, passwd** r) { return ::getpwnam_r(key.c_str(), e, b, n, r); }, user_of);
}

Lookup<User> user_by_uid(uid_t uid) {
    return reentrant<passwd, User>(
        "getpwuid_r", std::to_string(uid), _SC_GETPW_R_SIZE_MAX,
        [&](passwd* e, char* b, std::size_t n, passwd** r) { return ::getpwuid_r(uid, e, b, n, r); }, user_of);
}

Lookup<Group> group_by_name(std::string_view name) {
    const std::string key(name);
    return reentrant<group, Group>(
        "getgrnam_r", key, _SC_GETGR_R_SIZE_MAX,
        [&](group* e, char* b, std::size_t n, group** r) { return ::getgrnam_r(key.c_str(), e, b, n, r); }, group_of);
}

Lookup<Group> group_by_gid(gid_t gid) {
    return reentrant<group, Group>(
        "getgrgid_r", std::to_string(gid), _SC_GETGR_R_SIZE_MAX,
        [&](group* e, char* b, std::size_t n, group** r) { return ::getgrgid_r(gid, e, b, n, r); }, group_of);
}

Lookup<std::vector<gid_t>> group_ids_of(std::string_view user) {
    Lookup<std::vector<gid_t>> out;
    const Lookup<User> u = user_by_name(user);
    if (!u.found()) {
        out.status = u.status;
        out.error = u.error;
        return out;
    }
    const std::string name(user);
    std::vector<gid_t> gids(64);
    for (;;) {
        int count = static_cast<int>(gids.size());
        // -1: the array is too small, and count now holds the number needed.
        if (::getgrouplist(name.c_str(), u.value.gid, gids.data(), &count) >= 0) {
            gids.resize(static_cast<std::size_t>(count));
            break;
        }
        const std::size_t needed = count > 0 ? static_cast<std::size_t>(count) : gids.size() * 2;
        if (needed > kMaxGroupsPerUser || needed <= gids.size()) {
            out.error = "getgrouplist(" + name + "): more than " + std::to_string(kMaxGroupsPerUser) + " groups";
            return out;
        }
        gids.resize(needed);
    }
    out.status = Status::Found;
    out.value = std::move(gids);
    return out;
}

Lookup<std::vector<std::string>> group_names_of(std::string_view user) {
    Lookup<std::vector<std::string>> out;
    const Lookup<std::vector<gid_t>> ids = group_ids_of(user);
    if (!ids.found()) {
        out.status = ids.status;
        out.error = ids.error;
        return out;
    }
    for (const gid_t gid : ids.value) {
        Lookup<Group> g = group_by_gid(gid);
        if (g.failed()) {
            out.error = g.error;
            return out;
        }
        if (g.found()) out.value.push_back(std::move(g.value.name));
    }
    out.status = Status::Found;
    return out;
}

}  // namespace bg::nss
