// SPDX-License-Identifier: ISC
#include "helper/daemon/dispatch.hpp"

#include <algorithm>
#include <exception>
#include <tuple>
#include <type_traits>

#include "helper/daemon/daemon.hpp"

namespace bg {

using proto::MessageType;

template <class Request>
using HandlerOf = proto::Message (Daemon::*)(const PeerIdentity&, Request&, std::int64_t);

template <class Request>
struct Route {
    using request_type = Request;
    AllowedPeers peers;
    bool once;
    HandlerOf<Request> handler;
};

// A friend of Daemon: the only place its handlers are named.
struct DispatchTable {
    static constexpr auto routes = std::make_tuple(
        Route<proto::CheckRequest>{AllowedPeers::Anyone, false, &Daemon::on_check},
        Route<proto::GrantRequest>{AllowedPeers::Anyone, true, &Daemon::on_grant},
        Route<proto::StatusRequest>{AllowedPeers::Anyone, false, &Daemon::on_status},
        // The handler allows root or the grant's own user.
        Route<proto::RevokeRequest>{AllowedPeers::Anyone, false, &Daemon::on_revoke},
        Route<proto::ExpireRequest>{AllowedPeers::Root, false, &Daemon::on_expire},
        Route<proto::LogRequest>{AllowedPeers::Root, false, &Daemon::on_log},
        Route<proto::PolicyCheckRequest>{AllowedPeers::Root, true, &Daemon::on_policy_check},
        Route<proto::PolicyReloadRequest>{AllowedPeers::Root, true, &Daemon::on_policy_reload},
        Route<proto::EnrollTotpRequest>{AllowedPeers::Root, true, &Daemon::on_enroll_totp},
        Route<proto::EnrollYubikeyRequest>{AllowedPeers::Root, true, &Daemon::on_enroll_yubikey},
        Route<proto::SessionRequest>{AllowedPeers::Trusted, false, &Daemon::on_session},
        Route<proto::CommandRequest>{AllowedPeers::Trusted, false, &Daemon::on_command});

    // Every request type of the protocol has a row, and every row a handler.
    template <class M>
    static constexpr const Route<M>& route() {
        return std::get<Route<M>>(routes);  // no row for M: this does not compile
    }
};

namespace {

template <class M>
constexpr bool routed() {
    if constexpr (proto::is_request(proto::type_of_v<M>))
        return DispatchTable::route<M>().handler != nullptr;
    else
        return true;  // answers are never dispatched
}

template <class... Ts>
constexpr bool every_request_routed(std::variant<Ts...>*) {
    return (routed<Ts>() && ...);
}
static_assert(every_request_routed(static_cast<proto::Message*>(nullptr)),
              "every request type needs a row with a handler in DispatchTable::routes");

DispatchOutcome close_with(ConnectionState& state, std::string why, std::optional<proto::Message> answer = {}) {
    state.closed = true;
    DispatchOutcome out;
    out.close = true;
    out.why = std::move(why);
    out.answer = std::move(answer);
    return out;
}

}  // namespace

std::vector<Permission> permission_table() {
    std::vector<Permission> rows;
    std::apply(
        [&](const auto&... route) {
            (rows.push_back(Permission{proto::type_of_v<typename std::decay_t<decltype(route)>::request_type>,
                                       route.peers, route.once}),
             ...);
        },
        DispatchTable::routes);
    std::sort(rows.begin(), rows.end(),
              [](const Permission& a, const Permission& b) { return a.type < b.type; });
    return rows;
}

std::optional<Permission> permission_for(MessageType type) {
    for (const Permission& p : permission_table())
        if (p.type == type) return p;
    return std::nullopt;
}

DispatchOutcome dispatch(ConnectionState& state, const PeerIdentity& peer, proto::Received received, Daemon& daemon,
                         std::int64_t now) {
    if (state.closed) return close_with(state, "message on a closed connection");
    if (!received.message) return close_with(state, received.error);
    return std::visit(
        [&](auto& m) -> DispatchOutcome {
            using M = std::decay_t<decltype(m)>;
            constexpr MessageType type = proto::type_of_v<M>;
            const std::string name(proto::type_name(type));
            if constexpr (!proto::is_request(type)) {
                return close_with(state, "unexpected " + name + " from a client");
            } else {
                constexpr const Route<M>& route = DispatchTable::route<M>();
                if (route.once && !state.used_once.insert(type).second)
                    return close_with(state, name + " sent twice on one connection");
                if (route.peers == AllowedPeers::Trusted && !peer.trusted)
                    return close_with(state,
                                      name + " from uid " + std::to_string(peer.uid) + ", not a trusted front-end",
                                      proto::ErrorAnswer{proto::ErrorCode::NotPermitted,
                                                         name + " needs root or a trusted front-end"});
                if (route.peers == AllowedPeers::Root && peer.uid != 0)
                    return close_with(state, name + " from unprivileged uid " + std::to_string(peer.uid),
                                      proto::ErrorAnswer{proto::ErrorCode::NotPermitted, name + " needs root"});
                DispatchOutcome out;
                try {
                    out.answer = (daemon.*route.handler)(peer, m, now);
                } catch (const std::exception& e) {
                    out.answer = proto::ErrorAnswer{proto::ErrorCode::Internal,
                                                    std::string("internal error; the request was refused: ") + e.what()};
                }
                return out;
            }
        },
        *received.message);
}

}  // namespace bg
