// SPDX-License-Identifier: ISC
// Approvals with separation of duties (issue 13). A GrantRequest to a gate
// with `approvals = N` goes through validate → evaluate → factor like any
// other; then, instead of the grant, a `request` record (the requester's
// factor verified, its counter kept). Approvers other than the requester
// approve it, each with their own factor (`approve` records); the Nth
// distinct approval makes the grant (its record's `approver` lists them).
// `reject` (an approver turns it down), `request_cancelled` (the requester
// gives up) and `request_expired` (approval_timeout) end it. Every refused
// approval is an `approval_refused` record. The requests live in
// workflow::PendingStore, driven only by these records, so they survive a
// restart; a waiting front-end asks (WaitRequest) and holds nothing here.
//
// Offline approvals: a pending request shows a request code (derived from
// this host, the requester, the gate, reason, incident, the request's id and
// a random nonce kept in its record); an approver with a key in the policy's
// [approver_keys] signs a token for it anywhere (`breakglassctl approve
// --offline`), and the requester submits it (SubmitTokenRequest). Its
// `approve` record names the approver and the token's digest; those records
// are what makes a token single use, also across a restart (the store
// replays them).
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <set>

#include "common/hex.hpp"
#include "common/nss.hpp"
#include "common/text.hpp"
#include "helper/daemon/daemon.hpp"
#include "helper/daemon/grant_attempt.hpp"
#include "helper/workflow/offline_token.hpp"

namespace bg {

using proto::ErrorAnswer;
using proto::ErrorCode;

namespace {

std::string principals_text(const std::vector<policy::Principal>& list) {
    std::string out;
    for (const policy::Principal& p : list) {
        if (!out.empty()) out += ", ";
        out += (p.is_group ? "%" : "") + p.name;
    }
    return out;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

// The people who could approve a request of `requester`: the users named and
// the listed members of the groups named, without the requester. nullopt
// when a group cannot be looked up (then nothing is judged here: each
// approver is still checked when they approve).
std::optional<std::set<std::string>> possible_approvers(const policy::Gate& gate, const std::string& requester) {
    std::set<std::string> out;
    for (const policy::Principal& p : gate.approvers) {
        if (!p.is_group) {
            out.insert(p.name);
            continue;
        }
        const auto group = nss::group_by_name(p.name);
        if (group.failed()) return std::nullopt;
        if (group.found()) out.insert(group.value.members.begin(), group.value.members.end());
    }
    out.erase(requester);
    return out;
}

// The fields every approval-side record shares.
audit::RecordFields approver_fields(const PeerIdentity& peer, const std::string& event, const std::string& request_id) {
    audit::RecordFields f;
    f.event = event;
    f.action = "approval";
    f.actor = peer.user;
    f.actor_loginuid = peer.loginuid;
    f.actor_role = "approver";
    f.peer_uid = static_cast<std::int64_t>(peer.uid);
    f.grant_id = bounded_for_record(request_id, kMaxGateBytes);
    return f;
}

// An approval (online or by token) is recorded: its answer counts the
// request's approvals against what it needs (the request's terms, or the
// gate's if the policy asks for more now) and, when they are enough, carries
// the grant `grant` makes, or the refusal it gives instead.
template <class Answer, class Grant>
proto::Message counted(Answer answer, const workflow::PendingRequest* after, const policy::Gate& gate, Grant&& grant) {
    if (after == nullptr) return answer;
    answer.approvals = static_cast<std::int64_t>(after->approved_by.size());
    answer.approvals_needed = std::max(after->approvals_needed, gate.approvals);
    if (answer.approvals < answer.approvals_needed) return answer;
    const workflow::PendingRequest complete = *after;
    auto granted = grant(complete);
    if (auto* refused = std::get_if<ErrorAnswer>(&granted)) return std::move(*refused);
    answer.grant_id = std::get<audit::Record>(granted).event_id;
    return answer;
}

}  // namespace

std::optional<proto::Message> Daemon::request_evaluate(GrantAttempt& a, const policy::Gate& gate, std::int64_t now) {
    audit::RecordFields& f = a.record;
    if (pending_.pending_of(a.user) >= workflow::PendingStore::kMaxPerRequester)
        return refuse(a.peer, ErrorCode::Denied,
                      a.user + " has " + std::to_string(workflow::PendingStore::kMaxPerRequester) +
                          " requests waiting for approval already (the most one requester may have); cancel one "
                          "or wait for it to end",
                      f, now);
    if (pending_.pending_count() >= workflow::PendingStore::kMaxPending)
        return refuse(a.peer, ErrorCode::Unavailable,
                      "this host has " + std::to_string(workflow::PendingStore::kMaxPending) +
                          " requests waiting for approval (the most it keeps); nothing was requested",
                      f, now);
    if (const auto others = possible_approvers(gate, a.user);
        others && static_cast<int>(others->size()) < gate.approvals)
        return refuse(a.peer, ErrorCode::Denied,
                      "gate '" + gate.name + "' needs " + std::to_string(gate.approvals) +
                          " approval(s) from people other than " + a.user + ", and its approvers (" +
                          principals_text(gate.approvers) + ") name only " + std::to_string(others->size()) +
                          " on this host; nothing was requested",
                      f, now);
    return std::nullopt;
}

proto::Message Daemon::request_commit(GrantAttempt& a, std::int64_t now) {
    const policy::Gate* gate = gate_in_force(a.request.gate);
    if (gate == nullptr) return ErrorAnswer{ErrorCode::Internal, "the gate left the policy during the request"};
    audit::RecordFields& f = a.record;
    f.event = "request";
    f.factor_counter = a.factor.counter;  // the code is spent: replay protection holds across the wait
    f.expires_at = now + gate->approval_timeout.count();
    workflow::RequestTerms terms;
    terms.approvals_needed = a.decision.approvals;
    terms.approvers = principals_text(gate->approvers);
    terms.ttl_seconds = a.decision.ttl.count();
    terms.severity = a.request.severity;
    std::array<unsigned char, workflow::kRequestNonceHexChars / 2> nonce{};
    if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1)
        return ErrorAnswer{ErrorCode::Unavailable, "no random bytes for the request code; nothing was requested"};
    terms.nonce = hex_encode(nonce);
    f.detail = with_loginuid_note(workflow::request_detail(terms), a.peer);
    const auto rec = record(f, now);
    if (!rec)
        return ErrorAnswer{ErrorCode::Unavailable, "the request could not be recorded in the audit log (" +
                                                       escape_for_display(last_record_error_) +
                                                       "), so nothing was requested"};
    const workflow::PendingRequest* p = pending_.find(rec->event_id);
    if (p == nullptr) return ErrorAnswer{ErrorCode::Internal, "the request was recorded but is not pending"};
    return request_state(*p);
}

proto::RequestState Daemon::request_state(const workflow::PendingRequest& p) const {
    proto::RequestState s;
    s.request_id = p.id;
    s.gate = p.gate;
    s.state = std::string(workflow::request_state_name(p.state));
    s.approvers = p.approvers;
    s.approvals_needed = p.approvals_needed;
    s.approved_by = join(p.approved_by);
    s.expires_at = p.expires_at;
    s.grant_id = p.grant_id;
    s.grant_expires_at = p.grant_expires_at;
    if (p.state == workflow::RequestState::Pending) s.request_code = request_code(p);
    switch (p.state) {
        case workflow::RequestState::Pending: break;
        case workflow::RequestState::Granted:
            s.message = "approved by " + p.ended_by;
            // remote_ack: the grant is not in effect until a sink has its
            // record; the front-end keeps waiting meanwhile.
            if (const Grant* held = grants_.held_for(p.user, p.gate); held && held->event_id == p.grant_id) {
                s.state = std::string(workflow::request_state_name(workflow::RequestState::Pending));
                s.message += "; grant " + p.grant_id + " waits for the remote audit log's acknowledgement";
                s.grant_id.clear();
                s.grant_expires_at = 0;
            } else if (const Grant* g = grants_.find(p.grant_id); g && g->state == GrantState::Void) {
                // Never took effect (remote_ack_timeout): the wait ends without it.
                s.state = std::string(workflow::request_state_name(workflow::RequestState::Refused));
                s.message += ", but its grant " + p.grant_id + " never took effect (grant_void record)";
                s.grant_id.clear();
                s.grant_expires_at = 0;
            }
            break;
        case workflow::RequestState::Refused: s.message = p.ended_why; break;
        case workflow::RequestState::Rejected: s.message = "rejected by " + p.ended_by + ": " + p.ended_why; break;
        case workflow::RequestState::Cancelled: s.message = "cancelled by " + p.ended_by; break;
        case workflow::RequestState::Expired:
            s.message = "expired at " + audit::format_utc(p.expires_at) + " without enough approvals";
            break;
    }
    return s;
}

std::string Daemon::request_code(const workflow::PendingRequest& p) const {
    if (!policy_ || policy_->approver_keys.empty() || p.nonce.empty()) return "";
    workflow::RequestCode c{p.user, config_.host, p.gate,
                            workflow::request_digest(config_.host, p.user, p.gate, p.reason, p.incident, p.id, p.nonce)};
    if (!is_valid_name(c.host, 64) || !is_valid_name(c.actor, 64) || !is_valid_name(c.gate, 64)) return "";
    return workflow::format_request_code(c);
}

proto::Message Daemon::on_wait(const PeerIdentity& peer, proto::WaitRequest& m, std::int64_t now) {
    const std::string user = m.user.empty() ? peer.user : m.user;
    if (auto refused = actor_refusal(peer, user)) return ErrorAnswer{ErrorCode::NotPermitted, *refused};
    (void)expire_requests(now);
    const workflow::PendingRequest* p = pending_.find(m.request_id);
    // Another user's request is answered as if it did not exist.
    if (p == nullptr || p->user != user)
        return ErrorAnswer{ErrorCode::NotFound, "no request " + escape_for_display(m.request_id) + " of user " + user};
    return request_state(*p);
}

proto::Message Daemon::on_cancel_request(const PeerIdentity& peer, proto::CancelRequest& m, std::int64_t now) {
    const std::string user = m.user.empty() ? peer.user : m.user;
    if (auto refused = actor_refusal(peer, user)) return ErrorAnswer{ErrorCode::NotPermitted, *refused};
    (void)expire_requests(now);
    const workflow::PendingRequest* p = pending_.find(m.request_id);
    if (p == nullptr || p->user != user)
        return ErrorAnswer{ErrorCode::NotFound, "no request " + escape_for_display(m.request_id) + " of user " + user};
    if (p->state != workflow::RequestState::Pending)
        return ErrorAnswer{ErrorCode::NotFound, "request " + p->id + " is no longer pending (" +
                                                    std::string(workflow::request_state_name(p->state)) + ")"};
    audit::RecordFields f;
    f.event = "request_cancelled";
    f.action = p->action;
    f.actor = user;
    f.actor_loginuid = peer.loginuid;
    f.actor_role = "requester";
    f.peer_uid = static_cast<std::int64_t>(peer.uid);
    f.gate_bypassed = p->gate;
    f.grant_id = p->id;
    f.detail = with_loginuid_note("cancelled by the requester while waiting for approval", peer);
    const std::string id = p->id;
    const auto rec = record(f, now);
    if (!rec)
        return ErrorAnswer{ErrorCode::Unavailable, "the cancellation could not be recorded (" +
                                                       escape_for_display(last_record_error_) +
                                                       "); the request stays pending until it expires"};
    return proto::RequestCancelled{id, rec->event_id};
}

std::vector<proto::PendingInfo> Daemon::visible_pending(const PeerIdentity& peer, bool own_too, std::size_t bytes_left,
                                                        std::string& error) const {
    std::vector<proto::PendingInfo> out;
    const auto groups = nss::group_names_of(peer.user);
    if (groups.failed())
        error = "cannot look up the groups of " + peer.user + " (" + escape_for_display(groups.error) + ")";
    std::size_t bytes = 0;
    for (const workflow::PendingRequest* p : pending_.pending()) {
        const bool own = p->user == peer.user;
        const policy::Gate* gate = gate_in_force(p->gate);
        const bool approver =
            gate != nullptr && !own && !groups.failed() && policy::is_approver(*gate, peer.user, groups.value);
        const bool visible = approver || (own_too && (own || peer.uid == 0));
        if (!visible) continue;
        proto::PendingInfo info{p->id,           p->user,       p->gate,           p->reason, p->incident,
                                p->requested_at, p->expires_at, p->approvals_needed, join(p->approved_by)};
        // Each entry is at most its texts plus the JSON around them.
        const std::size_t size = 256 + info.reason.size() * 6 + info.incident.size() * 6 + info.approved_by.size();
        if (out.size() == proto::kMaxListEntries || bytes + size > bytes_left) break;
        bytes += size;
        out.push_back(std::move(info));
    }
    return out;
}

proto::Message Daemon::on_pending(const PeerIdentity& peer, proto::PendingRequest&, std::int64_t now) {
    (void)expire_requests(now);
    std::string error;
    auto list = visible_pending(peer, false, proto::kMaxFrameBytes - proto::kHeaderBytes - 32, error);
    if (!error.empty()) return ErrorAnswer{ErrorCode::Unavailable, error};
    proto::PendingAnswer a;
    a.requests = std::move(list);
    return a;
}

proto::Message Daemon::on_approve(const PeerIdentity& peer, proto::ApproveRequest& m, std::int64_t now) {
    struct Wipe {
        std::string& s;
        ~Wipe() { OPENSSL_cleanse(s.data(), s.size()); }
    } wipe{m.factor};
    audit::RecordFields f = approver_fields(peer, "approval_refused", m.request_id);
    const std::string& approver = peer.user;
    if (auto bad = validate_text(m.note, kMaxReasonBytes, true))
        return refuse(peer, ErrorCode::BadRequest, "the note " + *bad, f, now);
    if (auto behind = behind_the_log()) return refuse(peer, ErrorCode::Unavailable, *behind, f, now);
    (void)expire_requests(now);
    const workflow::PendingRequest* p = pending_.find(m.request_id);
    if (p == nullptr || p->state != workflow::RequestState::Pending)
        return refuse(peer, ErrorCode::NotFound,
                      "no pending request " + escape_for_display(m.request_id) +
                          (p == nullptr ? std::string() : " (it is " + std::string(workflow::request_state_name(p->state)) + ")"),
                      f, now);
    f.gate_bypassed = p->gate;
    f.target = p->user;  // whose request
    if (approver == p->user)
        return refuse(peer, ErrorCode::NotPermitted,
                      approver + " may not approve their own request " + p->id + " (separation of duties)", f, now);
    const policy::Gate* gate = gate_in_force(p->gate);
    if (gate == nullptr)
        return refuse(peer, ErrorCode::Unavailable,
                      "gate '" + p->gate + "' of request " + p->id + " is not in the policy in force", f, now);
    const auto groups = nss::group_names_of(approver);
    if (groups.failed())
        return refuse(peer, ErrorCode::Unavailable,
                      "cannot look up the groups of " + approver + " (" + escape_for_display(groups.error) + ")", f, now);
    if (!policy::is_approver(*gate, approver, groups.value))
        return refuse(peer, ErrorCode::NotPermitted,
                      approver + " is not an approver of gate '" + gate->name + "' (approvers: " +
                          principals_text(gate->approvers) + ")",
                      f, now);
    if (std::find(p->approved_by.begin(), p->approved_by.end(), approver) != p->approved_by.end())
        return refuse(peer, ErrorCode::Denied,
                      approver + " has already approved request " + p->id + "; it needs another approver", f, now);
    // One grant per user and gate: a second request approved while the first
    // one's grant is active waits until it has ended.
    if (const Grant* existing = grants_.active_for(p->user, p->gate, now))
        return refuse(peer, ErrorCode::Denied,
                      p->user + " already holds " + existing->event_id + " for gate '" + p->gate + "' until " +
                          audit::format_utc(existing->expires_at) + "; approve request " + p->id +
                          " once it has ended",
                      f, now);
    // The approver's own second factor, with the failure limit and replay protection.
    const mfa::FactorResult factor = factors_.verify(approver, m.factor, now);
    f.factor = factor.label;
    if (factor.status == mfa::FactorResult::Status::RateLimited) {
        f.event = "rate_limited";
        return refuse(peer, ErrorCode::RateLimited, factor.failure, f, now);
    }
    if (factor.status != mfa::FactorResult::Status::Accepted) {
        f.event = "auth_failed";
        return refuse(peer, ErrorCode::AuthFailed, factor.failure, f, now);
    }
    f.event = "approve";
    f.approver = approver;
    f.factor_counter = factor.counter;
    f.detail = with_loginuid_note(m.note.empty() ? "approved" : "approved: " + m.note, peer);
    const std::string id = p->id;
    const auto rec = record(f, now);
    if (!rec)
        return ErrorAnswer{ErrorCode::Unavailable, "the approval could not be recorded (" +
                                                       escape_for_display(last_record_error_) + "); it does not count"};
    return counted(proto::ApproveAnswer{id, rec->event_id, 0, 0, ""}, pending_.find(id), *gate,
                   [&](const workflow::PendingRequest& complete) { return grant_approved(complete, rec->event_id, now); });
}

std::variant<audit::Record, ErrorAnswer> Daemon::grant_approved(const workflow::PendingRequest& p,
                                                                const std::string& approval, std::int64_t now) {
    audit::RecordFields f;
    f.event = "grant";
    f.action = p.action;
    f.actor = p.user;
    f.actor_role = "requester";
    f.target = p.target;
    f.gate_bypassed = p.gate;
    f.reason = p.reason;
    f.incident_ref = p.incident;
    f.source = p.source;
    f.factor = p.factor;
    f.approver = join(p.approved_by);
    f.grant_id = p.id;
    f.expires_at = now + p.ttl_seconds;
    f.review_status = "pending";
    f.detail = "ttl " + policy::format_duration(std::chrono::seconds(p.ttl_seconds)) +
               (p.severity.empty() ? "" : ", severity " + p.severity) + ", request " + p.id + " approved by " +
               f.approver;
    // A PostgreSQL gate: its role first, exactly as a direct grant's
    // (db_gate.cpp). A database that cannot be reached now ends the request:
    // the approvals are spent, and a grant without its role would open nothing.
    const policy::Gate* db_gate = gate_in_force(p.gate);
    if (db_gate && db_gate->postgres) {
        if (auto failed = db_create_role(p.user, *db_gate, log_->last_seq() + 1, f.expires_at, now)) {
            audit::RecordFields d = f;
            d.event = "deny";
            d.expires_at = 0;
            d.review_status.clear();
            d.detail = bounded_for_record("request " + p.id + " approved by " + f.approver + ", but " +
                                              failed->message,
                                          audit::kMaxFieldBytes);
            const auto ended = record(d, now);
            return ErrorAnswer{failed->code,
                               "the approval is recorded (" + approval + ") but nothing was granted: " +
                                   failed->message + "; " +
                                   (ended ? "request " + p.id + " has ended (record " + ended->event_id + ")"
                                          : "request " + p.id + " stays pending (its end could not be recorded: " +
                                                escape_for_display(last_record_error_) + ")")};
        }
        f.detail += ", postgres role " + db_creating_->role;
    }
    ErrorAnswer refusal;
    const auto rec = record_grant(f, now, refusal);
    if (!rec)
        return ErrorAnswer{refusal.code, "the approval is recorded (" + approval + ") but " + refusal.message +
                                             " yet: the next approval retries"};
    if (recorder_.behind(grants_)) {
        // As in grant_commit: a grant the store could not take in is voided.
        void_recorded_grant(*rec, "breakglassd ran out of memory as it took the grant in; the grant never took effect",
                            now);
        return ErrorAnswer{ErrorCode::Unavailable, "the approval is recorded (" + approval +
                                                       ") but breakglassd ran out of memory: grant " + rec->event_id +
                                                       " was recorded and voided at once; the requester asks again"};
    }
    record_signed_checkpoint(now);
    timer_changes_.push_back({rec->event_id, f.expires_at, true});
    if (const Grant* granted = grants_.find(rec->event_id)) {
        // remote_ack: held until a sink has the record, like a direct grant
        // (remote_log.cpp); the requester's wait sees it granted then
        // (request_state), and only then gets the role's password.
        const policy::Gate* gate = gate_in_force(granted->gate);
        if (gate && gate->remote_ack_required)
            hold_for_remote_ack(*granted, rec->seq, *gate, 0, now);
        else
            grant_took_effect(*granted, now);
    }
    return *rec;
}

proto::Message Daemon::on_reject(const PeerIdentity& peer, proto::RejectRequest& m, std::int64_t now) {
    audit::RecordFields f = approver_fields(peer, "approval_refused", m.request_id);
    const std::string& approver = peer.user;
    if (auto bad = validate_text(m.reason, kMaxReasonBytes, false))
        return refuse(peer, ErrorCode::BadRequest, "the reason " + *bad, f, now);
    (void)expire_requests(now);
    const workflow::PendingRequest* p = pending_.find(m.request_id);
    if (p == nullptr || p->state != workflow::RequestState::Pending)
        return refuse(peer, ErrorCode::NotFound, "no pending request " + escape_for_display(m.request_id), f, now);
    f.gate_bypassed = p->gate;
    f.target = p->user;
    if (approver == p->user)
        return refuse(peer, ErrorCode::NotPermitted,
                      approver + " may not reject their own request " + p->id + "; Ctrl-C in the waiting front-end cancels it",
                      f, now);
    const policy::Gate* gate = gate_in_force(p->gate);
    const auto groups = nss::group_names_of(approver);
    if (gate == nullptr || groups.failed() || !policy::is_approver(*gate, approver, groups.value))
        return refuse(peer, ErrorCode::NotPermitted,
                      approver + " is not an approver of gate '" + p->gate + "'" +
                          (groups.failed() ? " (the groups could not be looked up)" : ""),
                      f, now);
    f.event = "reject";
    f.approver = approver;
    f.reason = m.reason;
    f.detail = with_loginuid_note("rejected the request of " + p->user, peer);
    const std::string id = p->id;
    const auto rec = record(f, now);
    if (!rec)
        return ErrorAnswer{ErrorCode::Unavailable, "the rejection could not be recorded (" +
                                                       escape_for_display(last_record_error_) + ")"};
    return proto::Rejected{id, rec->event_id};
}

proto::Message Daemon::on_submit_token(const PeerIdentity& peer, proto::SubmitTokenRequest& m, std::int64_t now) {
    const std::string user = m.user.empty() ? peer.user : m.user;
    if (auto refused = actor_refusal(peer, user)) return ErrorAnswer{ErrorCode::NotPermitted, *refused};
    (void)expire_requests(now);
    pending_.forget_tokens_before(now);
    // Refusals: who submitted (the requester) and why; the approver and the
    // token's digest when they are known.
    audit::RecordFields f;
    f.event = "approval_refused";
    f.action = "approval";
    f.actor = user;
    f.actor_loginuid = peer.loginuid;
    f.actor_role = "requester";
    f.peer_uid = static_cast<std::int64_t>(peer.uid);
    f.factor = "offline_token";
    f.grant_id = bounded_for_record(m.request_id, kMaxGateBytes);
    const workflow::PendingRequest* p = pending_.find(m.request_id);
    // Another user's request is answered as if it did not exist.
    if (p == nullptr || p->user != user || p->state != workflow::RequestState::Pending)
        return refuse(peer, ErrorCode::NotFound,
                      "offline token refused: no pending request " + escape_for_display(m.request_id) + " of user " +
                          user +
                          (p != nullptr && p->user == user
                               ? " (it is " + std::string(workflow::request_state_name(p->state)) + ")"
                               : std::string()),
                      f, now);
    f.gate_bypassed = p->gate;
    f.target = p->user;
    const auto token = workflow::parse_approval_token(m.token);
    if (!token) return refuse(peer, ErrorCode::BadRequest, "offline token refused: " + token.error().message, f, now);
    const std::string digest = workflow::token_digest(*token);
    const std::string tail = " (token " + digest + ")";
    const policy::Gate* gate = gate_in_force(p->gate);
    if (gate == nullptr || !policy_)
        return refuse(peer, ErrorCode::Unavailable,
                      "offline token refused: gate '" + p->gate + "' is not in the policy in force" + tail, f, now);
    if (p->nonce.empty() || request_code(*p).empty())
        return refuse(peer, ErrorCode::Denied,
                      "offline token refused: request " + p->id +
                          " has no request code (the policy has no [approver_keys], or the request predates them)" +
                          tail,
                      f, now);
    std::vector<std::pair<std::string, audit::Ed25519PublicKey>> keys;
    for (const auto& [name, text] : policy_->approver_keys)
        if (const auto key = audit::parse_ed25519_public_key(text)) keys.emplace_back(name, *key);
    const workflow::RequestCode expected{
        p->user, config_.host, p->gate,
        workflow::request_digest(config_.host, p->user, p->gate, p->reason, p->incident, p->id, p->nonce)};
    const workflow::TokenCheck check = workflow::check_approval_token(*token, expected, keys);
    f.approver = check.approver;
    if (!check.ok) return refuse(peer, ErrorCode::Denied, "offline token refused: " + check.why + tail, f, now);
    const std::string& approver = check.approver;
    if (token->not_after < now)
        return refuse(peer, ErrorCode::Denied,
                      "offline token refused: it expired at " + audit::format_utc(token->not_after) + tail, f, now);
    if (token->not_after > now + workflow::kMaxTokenValiditySeconds)
        return refuse(peer, ErrorCode::Denied,
                      "offline token refused: it is valid until " + audit::format_utc(token->not_after) +
                          ", more than 24 h ahead (an approver's tool signs for at most 24 h)" + tail,
                      f, now);
    if (const auto used = pending_.token_used(digest))
        return refuse(peer, ErrorCode::Denied,
                      "offline token refused: it was used already (record " + *used + "); a token counts once" + tail,
                      f, now);
    if (approver == p->user)
        return refuse(peer, ErrorCode::NotPermitted,
                      "offline token refused: it is signed by " + approver + ", who may not approve their own request " +
                          p->id + " (separation of duties)" + tail,
                      f, now);
    const auto groups = nss::group_names_of(approver);
    if (groups.failed())
        return refuse(peer, ErrorCode::Unavailable,
                      "offline token refused: cannot look up the groups of " + approver + " (" +
                          escape_for_display(groups.error) + ")" + tail,
                      f, now);
    if (!policy::is_approver(*gate, approver, groups.value))
        return refuse(peer, ErrorCode::NotPermitted,
                      "offline token refused: its signer " + approver + " is not an approver of gate '" + gate->name +
                          "' (approvers: " + principals_text(gate->approvers) + ")" + tail,
                      f, now);
    if (std::find(p->approved_by.begin(), p->approved_by.end(), approver) != p->approved_by.end())
        return refuse(peer, ErrorCode::Denied,
                      "offline token refused: " + approver + " has already approved request " + p->id +
                          "; it needs another approver" + tail,
                      f, now);
    if (const Grant* existing = grants_.active_for(p->user, p->gate, now))
        return refuse(peer, ErrorCode::Denied,
                      "offline token refused: " + p->user + " already holds " + existing->event_id + " for gate '" +
                          p->gate + "' until " + audit::format_utc(existing->expires_at) + tail,
                      f, now);
    // The approval: its actor is the approver (whose key signed), as an
    // online approve record's; who submitted it is in peer_uid and detail.
    audit::RecordFields a = approver_fields(peer, "approve", p->id);
    a.actor = approver;
    a.actor_loginuid = -1;
    a.approver = approver;
    a.factor = "offline_token";
    a.gate_bypassed = p->gate;
    a.target = p->user;
    a.expires_at = token->not_after;
    a.detail = bounded_for_record("offline token " + digest + " signed by " + approver + "'s key, valid until " +
                                      audit::format_utc(token->not_after) + ", submitted by " + user + " (uid " +
                                      std::to_string(peer.uid) + ")",
                                  audit::kMaxFieldBytes);
    const std::string id = p->id;
    const auto rec = record(a, now);
    if (!rec)
        return ErrorAnswer{ErrorCode::Unavailable, "the offline approval could not be recorded (" +
                                                       escape_for_display(last_record_error_) + "); it does not count"};
    return counted(proto::TokenAccepted{id, rec->event_id, approver, 0, 0, ""}, pending_.find(id), *gate,
                   [&](const workflow::PendingRequest& complete) { return grant_approved(complete, rec->event_id, now); });
}

bool Daemon::expire_requests(std::int64_t now) {
    const auto next = pending_.earliest_expiry();
    if (!next || *next > now) return true;
    std::vector<std::pair<std::string, std::pair<std::string, std::string>>> due;  // id, (gate, user)
    for (const workflow::PendingRequest* p : pending_.pending())
        if (p->expires_at <= now) due.push_back({p->id, {p->gate, p->user}});
    bool all = true;
    for (const auto& [id, who] : due) {
        audit::RecordFields f;
        f.event = "request_expired";
        f.action = "approval";
        f.actor = "breakglassd";
        f.gate_bypassed = who.first;
        f.target = who.second;
        f.grant_id = id;
        f.detail = "not enough approvals within the gate's approval_timeout; nothing was granted";
        if (!record(f, now)) all = false;
    }
    return all;
}

Status Daemon::replay_requests(std::int64_t now) {
    std::uint64_t after = 0;
    const std::int64_t since = now - policy::kMaxApprovalTimeout.count() - 60;
    bool more = true;
    while (more) {
        std::uint64_t last = after;
        auto lines = log_->read_after(after, since, 256, &last, &more);
        if (!lines) return make_error("audit log: " + lines.error().message);
        for (const std::string& line : *lines) {
            auto rec = audit::parse_record(line);
            if (!rec) return make_error("audit log record after seq " + std::to_string(after) + ": " + rec.error().message);
            pending_.recorded(*rec);
        }
        if (last == after) break;
        after = last;
    }
    return Ok{};
}

}  // namespace bg
