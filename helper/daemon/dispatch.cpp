// SPDX-License-Identifier: ISC
#include "helper/daemon/dispatch.hpp"

#include <array>

namespace bg {
namespace {

using proto::MessageType;

constexpr std::array kPermissions = {
    Permission{MessageType::CheckRequest, AllowedPeers::Anyone, false},
    Permission{MessageType::GrantRequest, AllowedPeers::Anyone, true},
    Permission{MessageType::StatusRequest, AllowedPeers::Anyone, false},
    Permission{MessageType::RevokeRequest, AllowedPeers::Anyone, false},  // handler: root or the grant's user
    Permission{MessageType::ExpireRequest, AllowedPeers::Root, false},
    Permission{MessageType::LogRequest, AllowedPeers::Root, false},
    Permission{MessageType::VerifyRequest, AllowedPeers::Root, true},
    Permission{MessageType::PolicyCheckRequest, AllowedPeers::Root, true},
    Permission{MessageType::PolicyReloadRequest, AllowedPeers::Root, true},
    Permission{MessageType::EnrollTotpRequest, AllowedPeers::Root, true},
    Permission{MessageType::EnrollYubikeyRequest, AllowedPeers::Root, true},
    Permission{MessageType::SessionRequest, AllowedPeers::Trusted, false},
};

}  // namespace

const Permission* permission_for(MessageType type) {
    for (const Permission& p : kPermissions)
        if (p.type == type) return &p;
    return nullptr;
}

DispatchOutcome dispatch(ConnectionState& state, const PeerIdentity& peer, proto::Received received,
                         const Handler& handler) {
    DispatchOutcome out;
    if (state.closed) {
        out.close = true;
        out.why = "message on a closed connection";
        return out;
    }
    if (!received.message) {
        state.closed = true;
        out.close = true;
        out.why = received.error;
        return out;
    }
    const MessageType type = proto::type_of(*received.message);
    const Permission* row = proto::is_request(type) ? permission_for(type) : nullptr;
    if (row == nullptr) {
        state.closed = true;
        out.close = true;
        out.why = "unexpected " + std::string(proto::type_name(type)) + " from a client";
        return out;
    }
    if (row->once && !state.used_once.insert(type).second) {
        state.closed = true;
        out.close = true;
        out.why = std::string(proto::type_name(type)) + " sent twice on one connection";
        return out;
    }
    if (row->peers == AllowedPeers::Trusted && !peer.trusted) {
        state.closed = true;
        out.close = true;
        out.why = std::string(proto::type_name(type)) + " from uid " + std::to_string(peer.uid) + ", not a trusted front-end";
        out.answer = proto::ErrorAnswer{proto::ErrorCode::NotPermitted,
                                        std::string(proto::type_name(type)) + " needs root or a trusted front-end"};
        return out;
    }
    if (row->peers == AllowedPeers::Root && peer.uid != 0) {
        state.closed = true;
        out.close = true;
        out.why = std::string(proto::type_name(type)) + " from unprivileged uid " + std::to_string(peer.uid);
        out.answer = proto::ErrorAnswer{proto::ErrorCode::NotPermitted,
                                        std::string(proto::type_name(type)) + " needs root"};
        return out;
    }
    out.answer = handler(peer, *received.message);
    return out;
}

}  // namespace bg
