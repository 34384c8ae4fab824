// SPDX-License-Identifier: ISC
// One GrantRequest on its way through the steps (grant_handlers.cpp), shared
// with the approval handlers, which take over a request to a gate that needs
// approvals after its factor (approval_handlers.cpp). Private to the daemon.
#pragma once

#include <string>
#include <vector>

#include "helper/daemon/daemon.hpp"

namespace bg {

struct Daemon::GrantAttempt {
    const PeerIdentity& peer;
    proto::GrantRequest& request;
    std::string user;              // the actor: the peer's own user, or the one a trusted front-end names
    audit::RecordFields record;    // what a refusal (or the grant) records; user text bounded until validated
    std::vector<std::string> groups;
    policy::Decision decision;
    std::string factor_kind;       // by the code's shape; the gate's first kind when it has none
    mfa::FactorResult factor;
};

}  // namespace bg
