// SPDX-License-Identifier: ISC
// breakglassctl's approval subcommands (issue 13): waiting for a request's
// approvals, listing what the caller may approve, approving and rejecting.
#pragma once

#include <optional>
#include <string>

#include "common/protocol.hpp"
#include "helper/ctl/commands.hpp"

namespace bg::ctl {

// `request` and `psql` to a gate with approvals: shows the waiting line and
// asks the daemon for the request's state until it ends; SIGINT/SIGTERM/SIGHUP
// cancel it. When the request has a request code (the policy has
// [approver_keys]), shows it ("Request code: …") and reads approval tokens
// from stdin, one a line, while it waits: whichever comes first, a valid token
// or an online approval, ends the wait. The grant when granted (the caller
// shows it); else nullopt, having said why, with `exit_code` 1 when rejected,
// refused, expired or cancelled, 3 when the daemon stays unreachable.
std::optional<proto::Granted> wait_for_approval(const CommonOptions& o, proto::RequestState state, int& exit_code);
int run_pending(const CommonOptions& o);
// Reads the approver's one-time code like `request` does.
int run_approve(const CommonOptions& o, const std::string& request_id, const std::string& note);
// `approve --offline`: no daemon. Signs a token for the request code with the
// approver's private key (0600, theirs), valid for `valid` (at most 24 h), and
// prints it in groups of five.
int run_approve_offline(const CommonOptions& o, const std::string& code, const std::string& key_file,
                        const std::string& valid);
// `approver-key generate --out FILE`: a new Ed25519 private key in FILE (0600,
// never over an existing file); prints the policy's [approver_keys] line.
int run_approver_key_generate(const CommonOptions& o, const std::string& out, const std::string& name);
int run_deny(const CommonOptions& o, const std::string& request_id, const std::string& reason);

}  // namespace bg::ctl
