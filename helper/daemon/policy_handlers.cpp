// SPDX-License-Identifier: ISC
// PolicyCheckRequest and PolicyReloadRequest (root only): parse the policy
// file now and say what is wrong where, or load it when it is valid.
#include "helper/daemon/daemon.hpp"

namespace bg {

proto::Message Daemon::on_policy_check(const PeerIdentity&, proto::PolicyCheckRequest&, std::int64_t) {
    proto::PolicyCheckAnswer a;
    a.path = config_.policy_path;
    a.active = policy_.has_value();
    auto loaded = policy::load_policy(config_.policy_path);
    if (!loaded) {
        a.error = loaded.error().message;
        return a;
    }
    a.ok = true;
    for (const auto& [name, _] : loaded->gates) a.gates.push_back(name);
    // A PostgreSQL gate's admin role must hold what the grants need (issue 15).
    for (const auto& [name, gate] : loaded->gates) {
        if (!gate.postgres || a.problems.size() >= proto::kMaxListEntries) continue;
        auto missing = dbgate::missing_privileges(gate.postgres->conninfo, gate.postgres->member_of);
        if (!missing)
            a.problems.push_back("gate " + name + ": cannot ask its database (" +
                                 bounded_for_record(missing.error().message, 1024) + ")");
        else
            for (const std::string& m : *missing)
                if (a.problems.size() < proto::kMaxListEntries)
                    a.problems.push_back("gate " + name + ": its admin role lacks " + m);
    }
    return a;
}

proto::Message Daemon::on_policy_reload(const PeerIdentity&, proto::PolicyReloadRequest&, std::int64_t now) {
    proto::PolicyReloaded a;
    if (auto error = reload_policy(now)) {
        a.error = *error + (policy_ ? "; the last valid policy stays in force" : "; no gate is grantable");
    } else {
        a.ok = true;
    }
    if (policy_)
        for (const auto& [name, _] : policy_->gates) a.gates.push_back(name);
    return a;
}

}  // namespace bg
