// SPDX-License-Identifier: ISC
// How many refusal records one requester may cause (docs/ARCHITECTURE.md,
// "Bounds"). Every refused break-glass request is answered as before, but
// only the first kPerWindow refusals of a requester in a window become
// records of their own; the rest are counted, and one refusals_suppressed
// record says how many when the window is over. That bounds what one local
// user adds to the audit log (and to the disk under it) to a few records a
// minute, whatever it sends.
//
// Who a requester is: an unprivileged peer is its uid, whatever user it
// names (naming another is itself refused). Root and trusted front-ends
// (sudo, su, sshd, PostgreSQL) ask for other people, so for them it is (uid,
// the user asked for): one user's failed codes through sudo do not use up
// another's budget, and root's own requests are bounded like anyone's.
//
// Pure bookkeeping, no clock of its own: `now` comes from the caller.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bg {

class RefusalBudget {
public:
    static constexpr unsigned kPerWindow = 5;
    static constexpr std::int64_t kDefaultWindowSeconds = 60;
    // Beyond this many requesters in the table, new ones share one entry per uid.
    static constexpr std::size_t kMaxRequesters = 4096;

    struct Requester {
        std::int64_t peer_uid = -1;
        std::string user;  // the user asked for; "" for an unprivileged peer (its uid says it all)
        auto operator<=>(const Requester&) const = default;
    };
    // One window's suppressed refusals, for a refusals_suppressed record.
    struct Summary {
        Requester requester;
        std::string peer_user;      // the peer's user name, for the record
        std::uint64_t suppressed = 0;
        std::int64_t first = 0;     // first and last suppressed refusal (unix seconds)
        std::int64_t last = 0;
        std::string last_message;   // what the last one was told
    };

    explicit RefusalBudget(std::int64_t window_seconds = kDefaultWindowSeconds) : window_(window_seconds) {}

    // True: record this refusal. False: the requester is over its budget;
    // the refusal is counted for the summary instead.
    bool admit(const Requester& requester, const std::string& peer_user, const std::string& message,
               std::int64_t now);
    // Summaries of windows that are over by `now`; forgets idle requesters.
    std::vector<Summary> take_due(std::int64_t now);
    // Some refusals are counted and not summarized yet.
    bool counting() const;
    std::int64_t window_seconds() const { return window_; }

private:
    struct Window {
        std::int64_t start = 0;
        unsigned recorded = 0;
        Summary pending;  // suppressed > 0 once something is counted
    };
    std::int64_t window_;
    std::map<Requester, Window> windows_;
    std::vector<Summary> due_;  // windows that ended while a new one began
};

}  // namespace bg
