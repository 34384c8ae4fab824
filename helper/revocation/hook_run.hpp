// SPDX-License-Identifier: ISC
// One run of a gate's on_grant or on_revoke command: what to run and for
// which grant. The daemon queues runs; HookRunner starts them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bg {

// One run of a gate's on_grant or on_revoke command. breakglassd starts it
// (helper/revocation/hook_runner) and reports the outcome through hook_finished().
struct HookRun {
    std::string hook;      // "on_grant" or "on_revoke"
    std::string path;      // absolute, checked by the policy parser
    std::string event;     // "grant", "revoke" or "expire"
    std::string grant_id;
    std::string user;
    std::string gate;
    std::int64_t expires_at = 0;
    int attempt = 1;       // 1, then 2.. for retries

    // {path, event, grant_id, user, gate, expires_at as RFC 3339 UTC}
    std::vector<std::string> argv() const;
};

}  // namespace bg
