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

template <class Handler>
struct HandlerTraits;
template <class Request>
struct HandlerTraits<proto::Message (Daemon::*)(const PeerIdentity&, Request&, std::int64_t)> {
    using request_type = Request;
};

// A row names its handler; the request type comes from the handler's
// signature, so a row cannot name one type and route to another's handler.
template <auto Handler>
constexpr auto route(AllowedPeers peers, bool once) {
    static_assert(!std::is_same_v<decltype(Handler), std::nullptr_t>, "a row of the dispatch table needs a handler");
    using Request = typename HandlerTraits<decltype(Handler)>::request_type;
    return Route<Request>{peers, once, Handler};
}

// A friend of Daemon: the only place its handlers are named.
struct DispatchTable {
    static constexpr auto routes = std::make_tuple(
        route<&Daemon::on_check>(AllowedPeers::Anyone, false),
        route<&Daemon::on_grant>(AllowedPeers::Anyone, true),
        route<&Daemon::on_status>(AllowedPeers::Anyone, false),
        // The handler allows root or the grant's own user.
        route<&Daemon::on_revoke>(AllowedPeers::Anyone, false),
        route<&Daemon::on_expire>(AllowedPeers::Root, false),
        // The handler allows root and the policy's auditors.
        route<&Daemon::on_log>(AllowedPeers::Anyone, false),
        route<&Daemon::on_policy_check>(AllowedPeers::Root, true),
        route<&Daemon::on_policy_reload>(AllowedPeers::Root, true),
        route<&Daemon::on_enroll_totp>(AllowedPeers::Root, true),
        route<&Daemon::on_enroll_yubikey>(AllowedPeers::Root, true),
        route<&Daemon::on_session>(AllowedPeers::Trusted, false),
        route<&Daemon::on_command>(AllowedPeers::Trusted, false),
        // Approvals: the handlers allow the requester (wait, cancel, submit
        // an offline token: one per connection) or an approver of the gate
        // who is not the requester (approve, reject).
        route<&Daemon::on_wait>(AllowedPeers::Anyone, false),
        route<&Daemon::on_cancel_request>(AllowedPeers::Anyone, true),
        route<&Daemon::on_pending>(AllowedPeers::Anyone, false),
        route<&Daemon::on_approve>(AllowedPeers::Anyone, true),
        route<&Daemon::on_reject>(AllowedPeers::Anyone, true),
        route<&Daemon::on_submit_token>(AllowedPeers::Anyone, true),
        // Its answer waits for the channel (a ticket, like a remote_ack grant).
        route<&Daemon::on_alert_test>(AllowedPeers::Root, false),
        // Reviews: the handlers allow a reviewer of the gate who is neither
        // the actor nor an approver (review), and show each what they may see.
        // DbCredentials: the handler allows the grant's own
        // user acting for itself only.
        route<&Daemon::on_review>(AllowedPeers::Anyone, true),
        route<&Daemon::on_reviews>(AllowedPeers::Anyone, false),
        route<&Daemon::on_db_credentials>(AllowedPeers::Anyone, true),
        // The handler allows root and the policy's auditors, as LogRequest.
        route<&Daemon::on_story>(AllowedPeers::Anyone, false));

    // Every request type of the protocol has exactly one row.
    template <class M>
    static constexpr const Route<M>& route_for() {
        return std::get<Route<M>>(routes);  // no row for M (or two): this does not compile
    }
};

namespace {

template <class M>
constexpr bool routed() {
    if constexpr (proto::is_request(proto::type_of_v<M>))
        return (void)DispatchTable::route_for<M>(), true;
    else
        return true;  // answers are never dispatched
}

template <class... Ts>
constexpr bool every_request_routed(std::variant<Ts...>*) {
    return (routed<Ts>() && ...);
}
static_assert(every_request_routed(static_cast<proto::Message*>(nullptr)),
              "every request type needs a row in DispatchTable::routes");

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
                constexpr const Route<M>& route = DispatchTable::route_for<M>();
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
