// SPDX-License-Identifier: ISC
// The permission table and the per-connection state machine
// (docs/ARCHITECTURE.md, "Processes and trust boundaries"). Every decoded
// request is checked here before a handler sees it. Deny by default: a
// message with no row, an answer type sent by a client, or a once-only
// message sent twice closes the connection.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>

#include "common/protocol.hpp"
#include "common/transport.hpp"
#include "helper/daemon/peer_identity.hpp"

namespace bg {

enum class AllowedPeers {
    Anyone,  // any local user, acting as themselves (root/trusted may name another user)
    Root,    // uid 0 only
    Trusted, // root or a user in the policy's trusted_frontends (PeerIdentity::trusted)
};

struct Permission {
    proto::MessageType type;
    AllowedPeers peers;
    bool once;  // at most once per connection
};

// The row for a request type, or nullptr when none (⇒ close).
const Permission* permission_for(proto::MessageType type);

struct ConnectionState {
    std::set<proto::MessageType> used_once;
    bool closed = false;
};

struct DispatchOutcome {
    std::optional<proto::Message> answer;  // sent before closing, if any
    bool close = false;
    std::string why;  // for the daemon's own log when closing on a protocol violation
};

using Handler = std::function<proto::Message(const PeerIdentity&, const proto::Message&)>;

// Applies the table to one received datagram and, when permitted, calls the handler.
DispatchOutcome dispatch(ConnectionState& state, const PeerIdentity& peer, proto::Received received,
                         const Handler& handler);

}  // namespace bg
