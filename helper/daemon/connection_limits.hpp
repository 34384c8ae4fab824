// SPDX-License-Identifier: ISC
// How many connections each kind of peer may hold at once (docs/ARCHITECTURE.md,
// "Bounds"), so that one local user holding connections open cannot stop
// root's `breakglassctl revoke`, a front-end's Check or another user's
// request. Three pools, each with a total and a share per holder:
//
//   root       a uid-0 peer whose real uid is 0 too (breakglassctl run by root,
//              sshd, login): kRootTotal, no share (only root can fill it)
//   front-end  a uid-0 peer started by someone else (sudo, su: its real uid is
//              the user's), or a user in trusted_frontends: kFrontEndTotal,
//              kPerFrontEndHolder per real uid (or per trusted user)
//   user       everyone else: kUserTotal, kPerUser per uid
//
// A connection that cannot get a slot is closed at once. Every client sends
// its request right after connecting, so a connection that has sent nothing
// within kFirstRequestSeconds is closed too (the event loop's idle timer),
// and one that goes quiet after a request within the idle timeout.
// Pure bookkeeping: the event loop decides the pool and holder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

namespace bg {

enum class ConnectionPool { Root, FrontEnd, User };

class ConnectionLimits {
public:
    static constexpr std::size_t kRootTotal = 64;
    static constexpr std::size_t kFrontEndTotal = 128;
    static constexpr std::size_t kPerFrontEndHolder = 16;
    static constexpr std::size_t kUserTotal = 256;
    static constexpr std::size_t kPerUser = 8;
    static constexpr std::int64_t kFirstRequestSeconds = 5;

    struct Slot {
        ConnectionPool pool = ConnectionPool::User;
        std::int64_t holder = -1;  // uid (user pool), real uid or trusted uid (front-end pool), 0 (root pool)
    };

    // A slot in `pool` for `holder`, or nullopt when the pool or the holder's share is full.
    std::optional<Slot> take(ConnectionPool pool, std::int64_t holder);
    void give_back(const Slot& slot);

    std::size_t held(ConnectionPool pool) const;
    std::size_t held_by(ConnectionPool pool, std::int64_t holder) const;

private:
    std::map<ConnectionPool, std::size_t> totals_;
    std::map<std::pair<ConnectionPool, std::int64_t>, std::size_t> by_holder_;
};

}  // namespace bg
