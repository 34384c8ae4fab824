// SPDX-License-Identifier: ISC
// The handlers of grants: Check (the fast path), Grant (break the glass),
// Status, Revoke and Expire. A GrantRequest goes through four steps —
// validate, evaluate, factor, commit — each of which either refuses (with a
// record) or hands on (docs/ARCHITECTURE.md, "One break-glass, step by step").
#include <openssl/crypto.h>

#include <algorithm>
#include <new>

#include <nlohmann/json.hpp>

#include "common/json_build.hpp"
#include "common/nss.hpp"
#include "common/text.hpp"
#include "helper/alerts/alerts.hpp"
#include "helper/daemon/daemon.hpp"
#include "helper/daemon/grant_attempt.hpp"

namespace bg {

using proto::ErrorAnswer;
using proto::ErrorCode;

namespace {

// {"grants":[...],"truncated":false}, with room to spare.
constexpr std::size_t kStatusEnvelopeBytes = 64;

// The size of `j` dumped; `j` is emptied before it is freed
// (common/json_build.hpp: no initializer list on the daemon's paths).
std::size_t dumped_size(nlohmann::json j) {
    EmptiedBeforeDestruction emptied(j);
    return j.dump().size();
}

// What one grant adds to a StatusAnswer's body: its object and a comma.
std::size_t encoded_size(const proto::GrantInfo& g) {
    return dumped_size(JsonObject()("event_id", g.event_id)("user", g.user)("gate", g.gate)("state", g.state)(
                           "granted_at", g.granted_at)("expires_at", g.expires_at)("ended_at", g.ended_at)(
                           "reason", g.reason)("incident", g.incident)
                           .take()) +
           1;
}

}  // namespace

namespace {

std::string account_of(const Grant& g) { return g.account.empty() ? g.user : g.account; }

std::string account_mismatch(const Grant& g, const std::string& account) {
    return g.user + "'s grant " + g.event_id + " for gate '" + g.gate + "' opens account '" + account_of(g) +
           "' only, not '" + escape_for_display(account) + "'; it ends at " + audit::format_utc(g.expires_at);
}

}  // namespace

std::optional<std::string> sudo_mapping_problem(const policy::Gate& gate, const std::string& runas_group,
                                                const std::string& runas_user) {
    const bool group_ok = runas_group.empty() || runas_group == gate.sudo_runas_group;
    const bool user_ok = runas_user.empty() || runas_user == gate.sudo_runas_user;
    if (group_ok && user_ok) return std::nullopt;
    return "the sudo plugin maps run-as " +
           (runas_group.empty() ? "user '" + escape_for_display(runas_user) + "'"
                                : "group '" + escape_for_display(runas_group) + "'") +
           " to gate '" + gate.name + "', but the policy does not (its run-as " +
           (runas_group.empty() ? "user is '" + gate.sudo_runas_user + "'" : "group is '" + gate.sudo_runas_group + "'") +
           "); fix the gates= option in sudo.conf or the policy";
}

proto::Message Daemon::on_check(const PeerIdentity& peer, proto::CheckRequest& m, std::int64_t now) {
    const std::string user = m.user.empty() ? peer.user : m.user;
    if (auto refused = actor_refusal(peer, user)) return ErrorAnswer{ErrorCode::NotPermitted, *refused};
    proto::CheckAnswer a;
    if (const Grant* g = grants_.active_for(user, m.gate, now)) {
        // A grant opens the account it was taken for, never another: no
        // questions for a break-glass that could not be granted (one per gate).
        if (!opens_account(*g, m.target))
            return ErrorAnswer{ErrorCode::Denied, account_mismatch(*g, m.target)};
        a.active = true;
        a.event_id = g->event_id;
        a.expires_at = g->expires_at;
    }
    // The front-ends do not read the policy: this is how they know to ask for a severity.
    if (const policy::Gate* gate = gate_in_force(m.gate)) a.severities = gate->severities;
    if (!a.active) a.notice = notice(m.gate);
    return a;
}

proto::Message Daemon::on_grant(const PeerIdentity& peer, proto::GrantRequest& m, std::int64_t now) {
    // The one-time code is wiped whatever the outcome.
    struct Wipe {
        std::string& s;
        ~Wipe() { OPENSSL_cleanse(s.data(), s.size()); }
    } wipe{m.factor};
    GrantAttempt a{peer, m, m.user.empty() ? peer.user : m.user, {}, {}, {}, {}, {}};
    if (auto refused = grant_validate(a, now)) return std::move(*refused);
    if (auto refused = grant_evaluate(a, now)) return std::move(*refused);
    if (auto refused = grant_check_factor(a, now)) return std::move(*refused);
    return a.decision.approvals > 0 ? request_commit(a, now) : grant_commit(a, now);
}

// Who may ask for whom, and fields bounded and well formed.
std::optional<proto::Message> Daemon::grant_validate(GrantAttempt& a, std::int64_t now) {
    const proto::GrantRequest& m = a.request;
    audit::RecordFields& f = a.record;
    f.event = "deny";
    // Through PAM: the service, and the account entered as the target (which
    // binds the grant to it, GrantStore); else the command.
    f.action = m.target.empty() ? "break_glass"
                                : std::string(kPamActionPrefix) + bounded_for_record(m.pam_service, kMaxGateBytes);
    f.actor = bounded_for_record(a.user, kMaxUserBytes);
    f.actor_loginuid = a.peer.loginuid;
    f.actor_role = "requester";
    f.peer_uid = static_cast<std::int64_t>(a.peer.uid);
    f.gate_bypassed = bounded_for_record(m.gate, kMaxGateBytes);
    f.reason = bounded_for_record(m.reason, kMaxReasonBytes);
    f.incident_ref = bounded_for_record(m.incident, kMaxIncidentBytes);
    f.source = bounded_for_record(m.tty, kMaxTtyBytes);
    f.target = m.target.empty() ? bounded_for_record(m.command, kMaxCommandBytes)
                                : bounded_for_record(m.target, kMaxUserBytes);

    if (auto refused = actor_refusal(a.peer, a.user)) return refuse(a.peer, ErrorCode::NotPermitted, *refused, f, now);
    if (!is_valid_name(a.user, kMaxUserBytes))
        return refuse(a.peer, ErrorCode::BadRequest, "user name '" + escape_for_display(a.user) + "' is not valid", f, now);
    if (!m.target.empty() && !is_valid_name(m.target, kMaxUserBytes))
        return refuse(a.peer, ErrorCode::BadRequest, "account name '" + escape_for_display(m.target) + "' is not valid", f, now);
    if (!m.target.empty() && m.pam_service.empty())
        return refuse(a.peer, ErrorCode::BadRequest, "an account to enter is named only with the PAM service that enters it",
                      f, now);
    if (!is_valid_name(m.gate, kMaxGateBytes))
        return refuse(a.peer, ErrorCode::BadRequest, "gate name '" + escape_for_display(m.gate) + "' is not valid", f, now);
    const struct {
        const char* what;
        const std::string& value;
        std::size_t max;
        bool may_be_empty;
    } texts[] = {{"reason", m.reason, kMaxReasonBytes, false},
                 {"incident reference", m.incident, kMaxIncidentBytes, false},
                 {"severity", m.severity, kMaxGateBytes, true},
                 {"PAM service", m.pam_service, kMaxGateBytes, true},
                 {"tty", m.tty, kMaxTtyBytes, true},
                 {"command", m.command, kMaxCommandBytes, true}};
    for (const auto& t : texts)
        if (auto bad = validate_text(t.value, t.max, t.may_be_empty))
            return refuse(a.peer, ErrorCode::BadRequest, std::string("the ") + t.what + " " + *bad, f, now);
    if (m.ttl_seconds < 0) return refuse(a.peer, ErrorCode::BadRequest, "the requested ttl is negative", f, now);
    // Valid from here on: the record stores the text exactly (docs/ARCHITECTURE.md,
    // "The audit record"); only a refusal of invalid input above keeps the escaped copy.
    f.actor = a.user;
    f.gate_bypassed = m.gate;
    f.reason = m.reason;
    f.incident_ref = m.incident;
    f.source = m.tty;
    f.target = m.target.empty() ? m.command : m.target;
    return std::nullopt;
}

// The policy: requester, incident, severity, ttl, the front-end's mapping,
// approvals, an existing grant.
std::optional<proto::Message> Daemon::grant_evaluate(GrantAttempt& a, std::int64_t now) {
    const proto::GrantRequest& m = a.request;
    audit::RecordFields& f = a.record;
    if (!policy_)
        return refuse(a.peer, ErrorCode::Unavailable,
                      "no valid policy is loaded, so no gate is grantable (" + escape_for_display(policy_error_) +
                          "); fix the policy and run breakglassctl policy reload",
                      f, now);
    if (auto behind = behind_the_log()) return refuse(a.peer, ErrorCode::Unavailable, *behind, f, now);
    const nss::Lookup<std::vector<std::string>> groups = nss::group_names_of(a.user);
    if (groups.failed())
        return refuse(a.peer, ErrorCode::Unavailable,
                      "cannot look up the groups of user '" + a.user + "' (" + escape_for_display(groups.error) +
                          "), so nothing was granted; check the name service (nsswitch.conf)",
                      f, now);
    if (groups.not_found())
        return refuse(a.peer, ErrorCode::Denied, "user '" + a.user + "' does not exist on this host", f, now);
    a.groups = groups.value;

    // The factor's kind from its shape; a malformed code is judged after the
    // policy, as a failed factor, so evaluate it as the gate's first kind.
    a.factor_kind = mfa::factor_kind(m.factor);
    const policy::Gate* gate = gate_in_force(m.gate);
    if (a.factor_kind.empty() && gate && !gate->factors.empty()) a.factor_kind = gate->factors.front();

    policy::EvalRequest eval;
    eval.user = a.user;
    eval.groups = a.groups;
    eval.gate = m.gate;
    eval.incident = m.incident;
    eval.severity = m.severity;
    eval.ttl = std::chrono::seconds(m.ttl_seconds);
    eval.factor_kind = a.factor_kind;
    a.decision = policy::evaluate(*policy_, eval, std::chrono::system_clock::time_point(std::chrono::seconds(now)));
    if (a.decision.verdict != policy::Verdict::Allow) return refuse(a.peer, ErrorCode::Denied, a.decision.why, f, now);
    // Allowed means the gate exists. The sudo plugin names the run-as
    // group/user that made it gate the command; the policy must agree.
    if (!m.runas_group.empty() || !m.runas_user.empty())
        if (auto problem = sudo_mapping_problem(*gate, m.runas_group, m.runas_user))
            return refuse(a.peer, ErrorCode::Denied, *problem, f, now);
    // pam_breakglass names its PAM service; a gate the policy binds to another
    // service (pam_service) is not opened from this one.
    if (!m.pam_service.empty() && !gate->pam_service.empty() && gate->pam_service != m.pam_service)
        return refuse(a.peer, ErrorCode::Denied,
                      "gate '" + m.gate + "' is bound to PAM service '" + gate->pam_service + "'; service '" +
                          escape_for_display(m.pam_service) +
                          "' may not open it; fix the gate= argument of its pam_breakglass line or the policy",
                      f, now);
    if (const Grant* waiting = grants_.held_for(a.user, m.gate))
        return refuse(a.peer, ErrorCode::Denied,
                      a.user + "'s grant " + waiting->event_id + " for gate '" + m.gate +
                          "' is waiting for the remote audit log's acknowledgement",
                      f, now);
    if (const Grant* existing = grants_.active_for(a.user, m.gate, now))
        return refuse(a.peer, ErrorCode::Denied,
                      a.user + " already holds " + existing->event_id + " for gate '" + m.gate + "'" +
                          (existing->account.empty() ? "" : " (account '" + existing->account + "')") + " until " +
                          audit::format_utc(existing->expires_at),
                      f, now);
    // A gate with approvals: the request waits for them (approval_handlers.cpp).
    if (a.decision.approvals > 0) return request_evaluate(a, *gate, now);
    return std::nullopt;
}

// The second factor: the failure limit, then the code, with replay protection.
std::optional<proto::Message> Daemon::grant_check_factor(GrantAttempt& a, std::int64_t now) {
    audit::RecordFields& f = a.record;
    f.factor = a.factor_kind;
    a.factor = factors_.verify(a.user, a.request.factor, now);
    switch (a.factor.status) {
        case mfa::FactorResult::Status::Accepted:
            f.factor = a.factor.label;
            return std::nullopt;
        case mfa::FactorResult::Status::RateLimited:
            f.event = "rate_limited";
            return refuse(a.peer, ErrorCode::RateLimited, a.factor.failure, f, now);
        case mfa::FactorResult::Status::Failed:
            break;
    }
    f.event = "auth_failed";
    if (!a.factor.label.empty()) f.factor = a.factor.label;
    return refuse(a.peer, ErrorCode::AuthFailed, a.factor.failure, f, now);
}

// "; every remote log sink was failing: NAME (last attempt T: error), ..." when the
// policy has sinks and each one's last attempt failed; "" otherwise. The
// grant's alerts say so (helper/alerts: kEverySinkDown).
std::string Daemon::every_sink_failing() const {
    if (!shipper_) return "";
    const std::vector<ship::SinkStatus> sinks = shipper_->status();
    if (sinks.empty()) return "";
    std::string text;
    for (const ship::SinkStatus& s : sinks) {
        if (s.last_error.empty()) return "";
        text += (text.empty() ? "" : ", ") + s.name + " (last attempt " +
                (s.last_error_at > 0 ? audit::format_utc(s.last_error_at) : std::string("?")) + ": " +
                escape_for_display(s.last_error.substr(0, 120)) + ")";
    }
    return "; " + std::string(alerts::kEverySinkDown) + ": " + text;
}

// Log before acting: the grant record, with the accepted counter (so replay
// protection survives a crash), is durable before anything is answered.
proto::Message Daemon::grant_commit(GrantAttempt& a, std::int64_t now) {
    audit::RecordFields& f = a.record;
    const std::int64_t expires_at = now + a.decision.ttl.count();
    f.event = "grant";
    f.factor_counter = a.factor.counter;
    f.expires_at = expires_at;
    f.review_status = "pending";
    std::string detail = "ttl " + policy::format_duration(a.decision.ttl) +
                         (a.request.severity.empty() ? "" : ", severity " + a.request.severity);
    // A PostgreSQL gate: its role first (db_gate.cpp), for the record about
    // to be written; an unreachable database refuses the grant here.
    const policy::Gate* db_gate = gate_in_force(a.request.gate);
    if (db_gate && db_gate->postgres) {
        if (auto failed = db_create_role(a.user, *db_gate, log_->last_seq() + 1, expires_at, now)) {
            audit::RecordFields refusal = a.record;
            refusal.event = "deny";
            refusal.expires_at = 0;
            refusal.factor_counter = 0;
            refusal.review_status.clear();
            return refuse(a.peer, failed->code, failed->message, refusal, now);
        }
        detail += ", postgres role " + db_creating_->role;
    }
    f.detail = bounded_for_record(with_loginuid_note(detail, a.peer) + every_sink_failing(), audit::kMaxFieldBytes);
    ErrorAnswer refusal;
    const auto rec = record_grant(f, now, refusal);
    if (!rec) return refusal;
    if (recorder_.behind(grants_)) {
        // Recorded, but the grant store could not take it in (out of memory):
        // it would be honoured later, after "refused" now. Voided instead.
        void_recorded_grant(*rec, "breakglassd ran out of memory as it took the grant in; the grant never took effect",
                            now);
        return ErrorAnswer{ErrorCode::Unavailable, "breakglassd ran out of memory: grant " + rec->event_id +
                                                       " was recorded and voided at once, so nothing was granted; "
                                                       "try again in a moment"};
    }
    try {
        timer_changes_.push_back({rec->event_id, expires_at, true});
        record_signed_checkpoint(now);
        const Grant* granted = grants_.find(rec->event_id);
        const policy::Gate* gate = granted ? gate_in_force(granted->gate) : nullptr;
        if (granted && gate && gate->remote_ack_required) {
            // Not honoured, and not answered, until a sink has the record
            // (remote_log.cpp); the loop keeps the connection meanwhile.
            const std::uint64_t ticket = next_ticket_++;
            hold_for_remote_ack(*granted, rec->seq, *gate, ticket, now);
            deferred_answer_ = ticket;
            return proto::Granted{rec->event_id, expires_at, notice(a.request.gate)};
        }
        if (granted) grant_took_effect(*granted, now);
        return proto::Granted{rec->event_id, expires_at, notice(a.request.gate)};
    } catch (const std::bad_alloc&) {
        // Recorded, but its answer cannot be made (out of memory; found by the
        // system test's allocation faults): the requester is told "refused"
        // (dispatch.cpp), so the grant is voided — ended at once, with its
        // record — rather than left active for someone told it does not exist.
        deferred_answer_.reset();
        void_recorded_grant(*rec, "its answer could not be made (out of memory); the grant never took effect", now);
        throw;
    }
}

// A page of grants, most recent first, that fits a frame whatever the
// reasons hold (each is escaped as JSON, so its encoded size is what counts).
proto::Message Daemon::on_status(const PeerIdentity& peer, proto::StatusRequest& m, std::int64_t now) {
    proto::StatusAnswer a;
    // Every grant in the store's order (most recent first), so that a page can
    // continue after a grant that has ended since (it is skipped unless `all`).
    const auto list = grants_.list(true, peer.uid == 0 ? std::string() : peer.user);
    auto next = list.begin();
    if (!m.after.empty()) {
        next = std::find_if(list.begin(), list.end(), [&](const Grant& g) { return g.event_id == m.after; });
        if (next == list.end())
            return ErrorAnswer{ErrorCode::NotFound, "grant " + escape_for_display(m.after) +
                                                        " is no longer in the list (it changed while paging); list again"};
        ++next;
    }
    std::size_t bytes = proto::kHeaderBytes + kStatusEnvelopeBytes;
    // Root's first page also says how each remote sink is doing.
    if (peer.uid == 0 && m.after.empty() && shipper_) {
        for (const ship::SinkStatus& s : shipper_->status()) {
            if (a.sinks.size() == proto::kMaxSinkEntries) break;
            proto::SinkInfo info{s.name,          s.type,       s.url,           s.insecure,
                                 s.acked_seq,     s.backlog,    s.oldest_unacked_at, s.backlog_limit,
                                 bounded_for_record(s.last_error, kMaxReasonBytes), s.last_error_at, s.last_ack_at};
            bytes += dumped_size(JsonObject()("name", info.name)("type", info.type)("url", info.url)(
                                     "last_error", info.last_error)
                                     .take()) +
                     256;
            a.sinks.push_back(std::move(info));
        }
    }
    if (peer.uid == 0 && m.after.empty() && alerts_) {
        for (const alerts::ChannelStatus& c : alerts_->status()) {
            if (a.channels.size() == proto::kMaxChannelEntries) break;
            proto::ChannelInfo info{c.name,      c.type,      bounded_for_record(c.target, kMaxReasonBytes),
                                    c.cursor_seq, c.backlog,  c.delivered,
                                    c.last_delivery_at, bounded_for_record(c.last_error, kMaxReasonBytes),
                                    c.failing_since};
            bytes += dumped_size(
                         JsonObject()("name", info.name)("target", info.target)("last_error", info.last_error).take()) +
                     256;
            a.channels.push_back(std::move(info));
        }
    }
    // The first page also lists the requests waiting for approvals that the
    // peer may see (its own, those it may approve; root all), in at most a
    // quarter of a frame. A failed group lookup lists only its own.
    if (m.after.empty()) {
        (void)expire_requests(now);
        std::string error;
        a.pending = visible_pending(peer, true, proto::kMaxFrameBytes / 4, error);
        for (const proto::PendingInfo& p : a.pending)
            bytes += 256 + p.reason.size() * 6 + p.incident.size() * 6 + p.approved_by.size();
    }
    for (; next != list.end(); ++next) {
        const Grant& g = *next;
        if (!m.all && g.state != GrantState::Active) continue;
        proto::GrantInfo info{g.event_id, g.user, g.gate, std::string(grant_state_name(g.state)), g.granted_at,
                              g.expires_at, g.ended_at, g.reason, g.incident};
        const std::size_t size = encoded_size(info);
        if (a.grants.size() == proto::kMaxListEntries || bytes + size > proto::kMaxFrameBytes) break;
        bytes += size;
        a.grants.push_back(std::move(info));
    }
    // More follow when a grant that would be listed was left for the next page.
    while (next != list.end() && !m.all && next->state != GrantState::Active) ++next;
    a.truncated = next != list.end();
    // The estimate above is exact or larger; this only guards it.
    while (!a.grants.empty() && !proto::encode(a)) {
        a.grants.pop_back();
        a.truncated = true;
    }
    return a;
}

proto::Message Daemon::on_revoke(const PeerIdentity& peer, proto::RevokeRequest& m, std::int64_t now) {
    if (auto bad = validate_text(m.reason, kMaxReasonBytes, true))
        return ErrorAnswer{ErrorCode::BadRequest, "the reason " + *bad};
    const Grant* g = grants_.find(m.event_id);
    // Another user's grant is answered as if it did not exist: the answer
    // must not tell who holds which grant (ids are sequential).
    const bool theirs = g && (peer.uid == 0 || peer.user == g->user);
    if (!g || g->state != GrantState::Active || !theirs)
        return ErrorAnswer{ErrorCode::NotFound,
                           "no active grant " + escape_for_display(m.event_id) +
                               (peer.uid == 0 ? std::string() : " of user " + peer.user + " (root may revoke any)")};
    const Grant grant = *g;
    // The grant ends whether or not its record can be written now (closing
    // never waits); an empty record_event_id says the record follows.
    const auto rec =
        end_grant(grant, "revoke", peer.user, &peer, m.reason.empty() ? "revoked" : "revoked: " + m.reason, now);
    return proto::Revoked{grant.event_id, rec ? rec->event_id : std::string()};
}

proto::Message Daemon::on_expire(const PeerIdentity& peer, proto::ExpireRequest& m, std::int64_t now) {
    const Grant* g = grants_.find(m.event_id);
    if (!g) return ErrorAnswer{ErrorCode::NotFound, "no grant " + escape_for_display(m.event_id)};
    if (g->state != GrantState::Active) return proto::Expired{g->event_id, ""};  // already ended: nothing to do
    if (now < g->expires_at)
        return ErrorAnswer{ErrorCode::Denied, g->event_id + " is not due until " + audit::format_utc(g->expires_at) +
                                                  "; use breakglassctl revoke to end it early"};
    const Grant grant = *g;
    const auto rec = end_grant(grant, "expire", "breakglassd", &peer, "expired (requested by the expiry timer)", now);
    return proto::Expired{grant.event_id, rec ? rec->event_id : std::string()};
}

}  // namespace bg
