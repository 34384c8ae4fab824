// SPDX-License-Identifier: ISC
// Who a peer may name as the actor, the human who asks (docs/ARCHITECTURE.md,
// "Processes and trust boundaries": the actor is the human who asks, never
// the account being entered). The kernel says who the peer is (SO_PEERCRED
// and the real uid of its process); a name in a request only says whom a
// peer that may act for others acts for.
//
// su and sudo are set-user-ID programs: SO_PEERCRED shows root, but the real
// uid of the process is the user who ran it, and that user picks the account
// to enter (PAM_USER). So a set-user-ID peer acts only for its real uid's
// user, whatever it names; pam_breakglass names the same user (it reads its
// own real uid), and the daemon holds it to that. A root or trusted peer
// running as itself (sshd, login, PostgreSQL) names the user its PAM stack has
// authenticated; its real uid must be known, or the daemon cannot tell the two
// apart and refuses.
#include "common/nss.hpp"
#include "common/text.hpp"
#include "helper/daemon/daemon.hpp"

namespace bg {

std::optional<std::string> Daemon::actor_refusal(const PeerIdentity& peer, const std::string& actor) const {
    const std::string who = "uid " + std::to_string(peer.uid) + " (" + peer.user + ")";
    if (peer.real_uid >= 0 && static_cast<uid_t>(peer.real_uid) != peer.uid) {
        // su, sudo: whatever account it enters, the human is whoever ran it.
        const nss::Lookup<nss::User> invoker = nss::user_by_uid(static_cast<uid_t>(peer.real_uid));
        if (invoker.found() && invoker.value.name == actor) return std::nullopt;
        return "a set-user-ID program (" + who + ", real uid " + std::to_string(peer.real_uid) +
               (invoker.found() ? " (" + invoker.value.name + ")" : "") + ") acts only for the user who ran it, not for '" +
               escape_for_display(actor) + "'";
    }
    if (actor == peer.user) return std::nullopt;
    if (!is_trusted(peer))
        return "user " + peer.user + " (uid " + std::to_string(peer.uid) + ") may not act for " +
               escape_for_display(actor) + "; only root or a trusted front-end may";
    if (peer.real_uid < 0)
        return "cannot tell who runs the process of " + who + " (pid " + std::to_string(peer.pid) +
               ": its real uid is unknown), so it may not act for " + escape_for_display(actor);
    return std::nullopt;
}

}  // namespace bg
