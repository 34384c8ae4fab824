// SPDX-License-Identifier: ISC
// PostgreSQL gates (issue 15): a grant of a gate with [gate.NAME.postgres]
// gets a role of its own (helper/dbgate), created before the grant record
// (an unreachable database refuses the grant) and named in it; its password
// goes once to the grant's own user (DbCredentialsRequest); when the grant
// ends (revoke, expiry by any of its three lines, grant_void) the role is
// dropped after the answer, its backends terminated, and retried with
// backoff while the database cannot be reached; the startup sweep drops what
// a stopped daemon left.
#include <openssl/crypto.h>

#include <algorithm>
#include <set>

#include "common/text.hpp"
#include "helper/daemon/daemon.hpp"
#include "helper/daemon/grant_attempt.hpp"

namespace bg {

using proto::ErrorAnswer;
using proto::ErrorCode;

namespace {

constexpr std::int64_t kFirstRetrySeconds = 1;
constexpr std::int64_t kMaxRetrySeconds = 60;

// bg-YYYY-NNNNNN → NNNNNN.
std::uint64_t seq_of(const std::string& event_id) {
    const auto dash = event_id.rfind('-');
    if (dash == std::string::npos) return 0;
    std::uint64_t seq = 0;
    for (std::size_t i = dash + 1; i < event_id.size(); ++i) {
        const char c = event_id[i];
        if (c < '0' || c > '9') return 0;
        seq = seq * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return seq;
}

std::string pid_list(const std::vector<int>& pids) {
    std::string out;
    for (const int p : pids) out += (out.empty() ? "" : ", ") + std::to_string(p);
    return out;
}

}  // namespace

std::optional<ErrorAnswer> Daemon::db_create_role(const std::string& user, const policy::Gate& gate, std::uint64_t seq,
                                                  std::int64_t expires_at, std::int64_t now) {
    const policy::PostgresGate& pg = *gate.postgres;
    DbRole role;
    role.grant_id = audit::format_event_id(now, seq);
    role.user = user;
    role.gate = gate.name;
    role.role = dbgate::role_name(user, seq);
    role.conninfo = pg.conninfo;
    role.expires_at = expires_at;
    role.password = std::make_unique<dbgate::Password>();
    auto password = dbgate::random_password();
    if (!password) return ErrorAnswer{ErrorCode::Internal, "no password for the role: " + password.error().message};
    role.password->assign(*password);
    OPENSSL_cleanse(password->data(), password->size());
    if (role.password->empty())
        return ErrorAnswer{ErrorCode::Internal, "no memory for the role's password; nothing was granted"};
    dbgate::RoleSpec spec{role.role, expires_at, pg.connection_limit, pg.member_of, role.grant_id};
    if (auto created = dbgate::create_role(pg.conninfo, spec, role.password->view()); !created)
        return ErrorAnswer{ErrorCode::Unavailable, "the PostgreSQL role for gate '" + gate.name +
                                                       "' could not be created (" +
                                                       bounded_for_record(created.error().message, 1024) +
                                                       "), so nothing was granted"};
    db_creating_ = std::move(role);
    return std::nullopt;
}

std::optional<audit::Record> Daemon::record_grant(const audit::RecordFields& f, std::int64_t now,
                                                  ErrorAnswer& refusal) {
    // Not const: returned by move. A copy of the record would allocate after
    // it is durable, outside grant_commit's voiding of an unanswerable grant.
    auto rec = record(f, now);
    if (db_creating_) {
        const bool as_planned = rec && rec->event_id == db_creating_->grant_id;
        const std::string planned = db_creating_->grant_id;
        if (rec && !as_planned) {
            // Cannot happen on the loop (nothing else appends in between);
            // the role would not be the grant's: the grant never takes effect.
            if (const Grant* g = grants_.find(rec->event_id)) {
                const Grant grant = *g;
                (void)end_grant(grant, "grant_void", "breakglassd", nullptr,
                                "its PostgreSQL role was made for " + planned + "; the grant never took effect", now);
            }
        }
        db_role_recorded(planned, as_planned, now);
        if (rec && !as_planned) {
            refusal = ErrorAnswer{ErrorCode::Internal,
                                  "the grant's PostgreSQL role did not match its record; nothing was granted"};
            return std::nullopt;
        }
    }
    if (!rec)
        refusal = ErrorAnswer{ErrorCode::Unavailable, "the grant could not be recorded in the audit log (" +
                                                          escape_for_display(last_record_error_) +
                                                          "), so nothing was granted"};
    return rec;
}

void Daemon::db_role_recorded(const std::string& grant_id, bool granted, std::int64_t now) {
    if (!db_creating_) return;
    DbRole role = std::move(*db_creating_);
    db_creating_.reset();
    if (!granted) {
        // The grant was not recorded: its role must not outlive the refusal.
        DbDrop d{grant_id, role.user, role.gate, "", role.role, role.conninfo, "grant not recorded", role.expires_at, 0, now};
        if (!db_drop(d, now)) db_drops_.push_back(std::move(d));
        return;
    }
    const Grant* g = grants_.find(grant_id);
    audit::RecordFields f;
    f.event = "db_role";
    f.action = "break_glass";
    f.actor = "breakglassd";
    f.actor_role = "daemon";
    f.target = "role=" + role.role;
    f.gate_bypassed = role.gate;
    f.incident_ref = g ? g->incident : "";
    f.expires_at = role.expires_at;
    f.grant_id = grant_id;
    f.detail = "PostgreSQL role " + role.role + " created for " + role.user + ", VALID UNTIL " +
               dbgate::valid_until_text(role.expires_at) + ", log_statement all";
    (void)record_closing(f, now, audit::Durability::Deferred);
    db_roles_[grant_id] = std::move(role);
}

proto::Message Daemon::on_db_credentials(const PeerIdentity& peer, proto::DbCredentialsRequest& m, std::int64_t now) {
    const auto it = db_roles_.find(m.event_id);
    const Grant* g = grants_.find(m.event_id);
    // Only the grant's own user, acting for itself (not root for another, not
    // a set-user-ID program for its real user's target), and only once.
    const bool theirs = g && g->state == GrantState::Active && g->expires_at > now && peer.user == g->user &&
                        !actor_refusal(peer, g->user);
    // A grant held for the remote log's acknowledgement (remote_ack) is not
    // in effect yet: its id is guessable, its password not handed out.
    const Grant* held = g ? grants_.held_for(g->user, g->gate) : nullptr;
    if (held && held->event_id == m.event_id)
        return ErrorAnswer{ErrorCode::NotFound, escape_for_display(m.event_id) +
                                                    " waits for the remote audit log's acknowledgement"};
    if (it == db_roles_.end() || !theirs || it->second.password->empty())
        return ErrorAnswer{ErrorCode::NotFound, "no PostgreSQL credentials to hand out for " +
                                                    escape_for_display(m.event_id) +
                                                    " (only its own user gets them, once, while it is active)"};
    DbRole& role = it->second;
    auto target = dbgate::target_of(role.conninfo);
    proto::DbCredentials a;
    a.event_id = role.grant_id;
    a.role = role.role;
    a.password.assign(role.password->view());
    if (target) {
        a.host = target->host;
        a.port = target->port;
        a.dbname = target->dbname;
    }
    a.expires_at = role.expires_at;
    role.password->wipe();
    return a;
}

void Daemon::db_grant_ended(const Grant& g, const std::string& event, std::int64_t now) {
    std::string conninfo;
    std::string role = dbgate::role_name(g.user, seq_of(g.event_id));
    if (const auto it = db_roles_.find(g.event_id); it != db_roles_.end()) {
        conninfo = it->second.conninfo;
        role = it->second.role;
        db_roles_.erase(it);  // the password, if never fetched, is wiped with it
    } else if (const policy::Gate* gate = gate_in_force(g.gate); gate && gate->postgres) {
        conninfo = gate->postgres->conninfo;  // a grant from before a restart
    } else {
        return;
    }
    DbDrop d{g.event_id, g.user, g.gate, g.incident, role, conninfo, event, g.expires_at, 0, now};
    if (!db_drop(d, now)) db_drops_.push_back(std::move(d));
}

bool Daemon::db_drop(DbDrop& d, std::int64_t now) {
    ++d.attempts;
    auto dropped = dbgate::drop_role(d.conninfo, d.role);
    audit::RecordFields f;
    f.action = "break_glass";
    f.actor = "breakglassd";
    f.actor_role = "daemon";
    f.target = "role=" + d.role;
    f.gate_bypassed = d.gate;
    f.incident_ref = d.incident;
    f.expires_at = d.expires_at;
    f.grant_id = d.grant_id;
    if (dropped) {
        if (!dropped->existed && d.event == "grant not recorded") return true;
        f.event = "db_role_drop";
        f.detail = bounded_for_record(
            "PostgreSQL role " + d.role + (dropped->existed ? " dropped" : " was already gone") + " after the " +
                d.event +
                (dropped->terminated_pids.empty() ? "; no backend was running"
                                                  : "; terminated backends: pids " + pid_list(dropped->terminated_pids)) +
                (d.attempts > 1 ? "; after " + std::to_string(d.attempts) + " attempts" : ""),
            audit::kMaxFieldBytes);
        (void)record_closing(f, now, audit::Durability::Deferred);
        return true;
    }
    const std::int64_t delay = std::min<std::int64_t>(kMaxRetrySeconds, kFirstRetrySeconds << std::min(d.attempts - 1, 6));
    d.due = now + delay;
    const std::string why = "PostgreSQL role " + d.role + " of " + d.grant_id + " could not be dropped after the " +
                            d.event + " (" + d.role + ": " + dropped.error().message + "); retrying in " +
                            std::to_string(delay) + " s; VALID UNTIL " + dbgate::valid_until_text(d.expires_at) +
                            " stops new logins meanwhile, running sessions go on until it is dropped";
    problems_.push_back({1, bounded_for_record(why, 2048)});
    // One record per outage (the first failure), not one per attempt.
    if (d.attempts == 1) {
        f.event = "db_revoke_failed";
        f.detail = bounded_for_record(why, audit::kMaxFieldBytes);
        (void)record_closing(f, now, audit::Durability::Deferred);
    }
    return false;
}

void Daemon::retry_db_drops(std::int64_t now) {
    std::vector<DbDrop> waiting = std::move(db_drops_);
    db_drops_.clear();
    for (DbDrop& d : waiting) {
        if (d.due > now || !db_drop(d, now)) db_drops_.push_back(std::move(d));
    }
}

std::optional<std::int64_t> Daemon::next_db_retry() const {
    std::optional<std::int64_t> next;
    for (const DbDrop& d : db_drops_)
        if (!next || d.due < *next) next = d.due;
    return next;
}

void Daemon::sweep_db_roles(std::int64_t now) {
    if (!policy_) return;
    std::set<std::string> asked;
    for (const auto& [name, gate] : policy_->gates) {
        if (!gate.postgres || !asked.insert(gate.postgres->conninfo).second) continue;
        auto roles = dbgate::list_roles(gate.postgres->conninfo);
        if (!roles) {
            problems_.push_back({3, "the startup sweep could not list breakglass's PostgreSQL roles of gate " + name +
                                        " (" + bounded_for_record(roles.error().message, 1024) +
                                        "); roles of ended grants stay until the next start (VALID UNTIL stops "
                                        "their logins)"});
            continue;
        }
        for (const dbgate::OwnedRole& r : *roles) {
            const Grant* g = grants_.find(r.grant_id);
            if (g && g->state == GrantState::Active) continue;
            const bool queued = std::any_of(db_drops_.begin(), db_drops_.end(),
                                            [&](const DbDrop& d) { return d.role == r.role; });
            if (queued) continue;
            DbDrop d{r.grant_id, g ? g->user : "", g ? g->gate : name, g ? g->incident : "", r.role,
                     gate.postgres->conninfo, g ? "startup sweep (its grant had ended)" : "startup sweep (no grant recorded it)",
                     g ? g->expires_at : 0, 0, now};
            if (!db_drop(d, now)) db_drops_.push_back(std::move(d));
        }
    }
}

}  // namespace bg
