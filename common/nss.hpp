// SPDX-License-Identifier: ISC
// User and group look-ups through NSS, for everyone in the tree that needs
// them (the daemon, the sudo plugin). Each uses the reentrant call and grows
// its buffer on ERANGE, from the sysconf hint up to kMaxEntryBytes, so a group
// with thousands of members is found whole.
//
// Every look-up says which of three things happened: the entry was found, it
// does not exist, or the look-up failed (an unreadable /etc/group, an NSS
// backend that is down, an entry larger than the cap). A failure is never
// reported as "does not exist": callers that decide something from the
// answer (terminate the processes of a group, grant a gate) must be able to
// tell "no such group" from "could not find out".
//
// Only getXXnam_r/getXXid_r returning 0 with no entry means "does not exist";
// any error number is a failure, even the ones some NSS modules use for
// "not found" (ENOENT, ESRCH): when in doubt, the caller refuses.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace bg::nss {

// The largest buffer a single look-up may use. A group line of 16 MiB holds
// about half a million member names; anything larger is refused as a failure.
inline constexpr std::size_t kMaxEntryBytes = 16 * 1024 * 1024;
// getgrouplist: at most this many groups per user (Linux's NGROUPS_MAX is 65536).
inline constexpr std::size_t kMaxGroupsPerUser = 65536;

enum class Status { Found, NotFound, Failed };

template <typename T>
struct Lookup {
    Status status = Status::Failed;
    T value{};          // when Found
    std::string error;  // when Failed: the call, the key and why, e.g. "getgrnam_r(ops): Permission denied"

    bool found() const { return status == Status::Found; }
    bool not_found() const { return status == Status::NotFound; }
    bool failed() const { return status == Status::Failed; }
};

struct User {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;  // primary group
    std::string home;
    std::string shell;
};

struct Group {
    std::string name;
    gid_t gid = 0;
    std::vector<std::string> members;  // gr_mem: supplementary members, in file order
};

Lookup<User> user_by_name(std::string_view name);
Lookup<User> user_by_uid(uid_t uid);
Lookup<Group> group_by_name(std::string_view name);
Lookup<Group> group_by_gid(gid_t gid);

// The gids of a user's primary and supplementary groups (getgrouplist),
// primary first. NotFound when the user does not exist.
//
// getgrouplist itself reports no NSS errors: a backend that fails while
// listing groups yields fewer groups, never more. Membership found through it
// can therefore only be missed, which makes a group-based allow fail closed.
Lookup<std::vector<gid_t>> group_ids_of(std::string_view user);

// The names of a user's groups (group_ids_of, each gid looked up). A gid
// without a name is left out; a gid whose look-up fails fails the whole.
Lookup<std::vector<std::string>> group_names_of(std::string_view user);

}  // namespace bg::nss
