// SPDX-License-Identifier: ISC
// The dispatch table and the per-connection state machine
// (docs/ARCHITECTURE.md, "Processes and trust boundaries"). Every request
// type has exactly one row {who may send it, at most once per connection?,
// handler}, checked after decoding and before the handler runs. A request
// type without a row, or a row without a handler, does not compile. Deny by
// default: an answer type sent by a client, a once-only request sent twice,
// a malformed frame or a message on a closed connection closes it.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/protocol.hpp"
#include "common/transport.hpp"
#include "helper/daemon/peer_identity.hpp"

namespace bg {

class Daemon;

enum class AllowedPeers {
    Anyone,   // any local user, acting as themselves (root/trusted may name another user)
    Root,     // uid 0 only
    Trusted,  // root or a user in the policy's trusted_frontends (PeerIdentity::trusted)
};

struct Permission {
    proto::MessageType type;
    AllowedPeers peers;
    bool once;  // at most once per connection
};

// The rows of the table, in type order, as data (PROTOCOL.md is checked
// against them); nullopt for a type that has no row (answers).
std::vector<Permission> permission_table();
std::optional<Permission> permission_for(proto::MessageType type);

struct ConnectionState {
    std::set<proto::MessageType> used_once;
    bool closed = false;
};

struct DispatchOutcome {
    std::optional<proto::Message> answer;  // sent before closing, if any
    bool close = false;
    std::string why;  // for the daemon's own log when closing on a protocol violation
};

// Applies the table to one received datagram and, when permitted, runs the
// row's handler on `daemon`. A handler that throws is answered with an
// internal error (the request is refused).
DispatchOutcome dispatch(ConnectionState& state, const PeerIdentity& peer, proto::Received received, Daemon& daemon,
                         std::int64_t now);

}  // namespace bg
