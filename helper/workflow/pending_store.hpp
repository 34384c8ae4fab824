// SPDX-License-Identifier: ISC
// Break-glass requests that wait for approvals (issue 13), in memory, driven
// only by audit records — the `request` record opens one, `approve` records
// add approvers, the `grant` record that names it in grant_id grants it, and
// `reject`, `request_cancelled` and `request_expired` end it, and so does a
// `deny` record naming it in grant_id (`refused`: the daemon could not make
// the grant its last approval completed, e.g. a PostgreSQL gate's role). The daemon
// subscribes the store to its recorder and, at start, replays the records of
// the last kMaxApprovalTimeout (policy.hpp) into it, so pending requests
// survive a restart. No clock, no name service: the daemon decides, the
// store only remembers (docs/ARCHITECTURE.md, "helper/workflow").
//
// What a `request` record carries for the store (besides actor, gate, reason,
// incident, target, action and expires_at = when the request expires): its
// detail begins "needs N approval(s) by APPROVERS; ttl Ss" and may go on
// with "; nonce HEX" (the request code's nonce, offline_token.hpp) and
// "; severity X" (request_detail() writes it, parse_request_detail() reads
// it back).
//
// Offline approval tokens are single use: an `approve` record made with one
// names it in its detail ("offline token HEX32 ...") and carries the token's
// not_after as its expires_at; the store remembers those digests (so a token
// used before a restart is still known after it, from the replayed log).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "helper/audit/recorder.hpp"

namespace bg::workflow {

enum class RequestState { Pending, Granted, Rejected, Cancelled, Expired, Refused };
std::string_view request_state_name(RequestState s);

struct PendingRequest {
    std::string id;        // the request record's event id
    std::string user;      // the requester (the record's actor)
    std::string gate;
    std::string reason, incident, severity;
    std::string action;    // as the grant record will carry it ("break_glass", "pam:SERVICE")
    std::string target;    // the account (PAM) or the command
    std::string source;    // tty
    std::string factor;    // the requester's accepted factor (label)
    std::string approvers; // who may approve, as the policy said at request time ("%secleads, bob")
    int approvals_needed = 0;
    std::int64_t ttl_seconds = 0;  // of the grant to make
    std::int64_t requested_at = 0;
    std::int64_t expires_at = 0;   // a pending request expires then
    std::vector<std::string> approved_by;  // distinct, in order
    std::vector<std::string> approve_records;
    std::string nonce;             // the request code's nonce ("" in records from before offline approvals)
    RequestState state = RequestState::Pending;
    std::string grant_id;          // Granted
    std::int64_t grant_expires_at = 0;
    std::string ended_by;          // Rejected/Cancelled/Expired/Refused: who
    std::string ended_why;         // and why (the reject's reason, the deny's detail)
};

// What the daemon writes into a request record's detail, and reads back.
struct RequestTerms {
    int approvals_needed = 0;
    std::string approvers;
    std::int64_t ttl_seconds = 0;
    std::string severity;
    std::string nonce;  // 32 hex, or "" (then no request code)
};
std::string request_detail(const RequestTerms& t);
std::optional<RequestTerms> parse_request_detail(std::string_view detail);

class PendingStore final : public audit::RecordSubscriber {
public:
    // Bounds: a requester has at most kMaxPerRequester requests pending at
    // once, the host kMaxPending; ended requests are kept (for a waiting
    // front-end to learn the outcome) up to kEndedKept.
    static constexpr std::size_t kMaxPerRequester = 3;
    static constexpr std::size_t kMaxPending = 1024;
    static constexpr std::size_t kEndedKept = 256;

    void recorded(const audit::Record& r) override;

    const PendingRequest* find(const std::string& id) const;
    // Pending ones, oldest first.
    std::vector<const PendingRequest*> pending() const;
    std::size_t pending_of(const std::string& user) const;
    std::size_t pending_count() const;
    // The earliest expires_at among pending requests.
    std::optional<std::int64_t> earliest_expiry() const;

    // The offline token with this digest was used: the approve record that
    // used it (its event id), else nullopt.
    std::optional<std::string> token_used(const std::string& digest) const;
    // Forgets used tokens whose not_after is before `now` (they are refused
    // as expired anyway); the daemon calls it with its clock.
    void forget_tokens_before(std::int64_t now);

private:
    PendingRequest* find_mutable(const std::string& id);
    void end(PendingRequest& p, RequestState s, const std::string& by, const std::string& why);
    void trim();
    std::vector<PendingRequest> requests_;  // in request order
    struct UsedToken {
        std::string digest, record;
        std::int64_t not_after = 0;
    };
    std::vector<UsedToken> used_tokens_;
};

}  // namespace bg::workflow
