// SPDX-License-Identifier: ISC
// breakglassctl's approval subcommands (issue 13): waiting for a request's
// approvals, listing what the caller may approve, approving and rejecting.
#pragma once

#include <string>

#include "common/protocol.hpp"
#include "helper/ctl/commands.hpp"

namespace bg::ctl {

// `request` to a gate with approvals: shows the waiting line and asks the
// daemon for the request's state until it ends; SIGINT/SIGTERM/SIGHUP cancel
// it. Exit 0 when granted (prints the grant as `request` does), 1 when
// rejected, expired or cancelled, 3 when the daemon stays unreachable.
int wait_for_approval(const CommonOptions& o, const std::string& gate, proto::RequestState state);
int run_pending(const CommonOptions& o);
// Reads the approver's one-time code like `request` does.
int run_approve(const CommonOptions& o, const std::string& request_id, const std::string& note);
int run_deny(const CommonOptions& o, const std::string& request_id, const std::string& reason);

}  // namespace bg::ctl
