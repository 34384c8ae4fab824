// SPDX-License-Identifier: ISC
#include "helper/workflow/pending_store.hpp"

#include <algorithm>
#include <charconv>

namespace bg::workflow {
namespace {

constexpr std::string_view kNeeds = "needs ";
constexpr std::string_view kBy = " approval(s) by ";
constexpr std::string_view kTtl = "; ttl ";
constexpr std::string_view kSeverity = "; severity ";
constexpr std::string_view kNonce = "; nonce ";
constexpr std::string_view kOfflineToken = "offline token ";
constexpr std::size_t kNonceChars = 32;
constexpr std::size_t kTokenDigestChars = 32;

std::optional<std::int64_t> parse_number(std::string_view s) {
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty() || n < 0) return std::nullopt;
    return n;
}

}  // namespace

std::string_view request_state_name(RequestState s) {
    switch (s) {
        case RequestState::Pending: return "pending";
        case RequestState::Granted: return "granted";
        case RequestState::Rejected: return "rejected";
        case RequestState::Cancelled: return "cancelled";
        case RequestState::Expired: return "expired";
        case RequestState::Refused: return "refused";
    }
    return "pending";
}

std::string request_detail(const RequestTerms& t) {
    std::string out = std::string(kNeeds) + std::to_string(t.approvals_needed) + std::string(kBy) + t.approvers +
                      std::string(kTtl) + std::to_string(t.ttl_seconds) + "s";
    if (!t.nonce.empty()) out += std::string(kNonce) + t.nonce;
    if (!t.severity.empty()) out += std::string(kSeverity) + t.severity;
    return out;
}

// "needs N approval(s) by APPROVERS; ttl Ss[; severity X][; note]". Approvers
// and severity are policy names (no ';'), so the separators are unambiguous.
std::optional<RequestTerms> parse_request_detail(std::string_view d) {
    RequestTerms t;
    if (!d.starts_with(kNeeds)) return std::nullopt;
    d.remove_prefix(kNeeds.size());
    const auto by = d.find(kBy);
    if (by == std::string_view::npos) return std::nullopt;
    const auto n = parse_number(d.substr(0, by));
    if (!n || *n < 1 || *n > 5) return std::nullopt;
    t.approvals_needed = static_cast<int>(*n);
    d.remove_prefix(by + kBy.size());
    const auto ttl = d.find(kTtl);
    if (ttl == std::string_view::npos) return std::nullopt;
    t.approvers = std::string(d.substr(0, ttl));
    d.remove_prefix(ttl + kTtl.size());
    const auto s = d.find('s');
    if (s == std::string_view::npos) return std::nullopt;
    const auto seconds = parse_number(d.substr(0, s));
    if (!seconds || *seconds < 1) return std::nullopt;
    t.ttl_seconds = *seconds;
    d.remove_prefix(s + 1);
    if (d.starts_with(kNonce)) {
        d.remove_prefix(kNonce.size());
        t.nonce = std::string(d.substr(0, d.find(';')));
        if (t.nonce.size() != kNonceChars ||
            !std::all_of(t.nonce.begin(), t.nonce.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
            return std::nullopt;
        d.remove_prefix(t.nonce.size());
    }
    // A note may follow ("; the loginuid ..."): only the severity is read.
    if (d.starts_with(kSeverity)) {
        d.remove_prefix(kSeverity.size());
        t.severity = std::string(d.substr(0, d.find(';')));
        if (t.severity.empty()) return std::nullopt;
    } else if (!d.empty() && !d.starts_with("; ")) {
        return std::nullopt;
    }
    return t;
}

void PendingStore::recorded(const audit::Record& r) {
    if (r.event == "request") {
        if (find(r.event_id) != nullptr) return;
        const auto terms = parse_request_detail(r.detail);
        if (!terms) return;  // not a request this store can act on (a daemon would not write one)
        PendingRequest p;
        p.id = r.event_id;
        p.user = r.actor;
        p.gate = r.gate_bypassed;
        p.reason = r.reason;
        p.incident = r.incident_ref;
        p.severity = terms->severity;
        p.action = r.action;
        p.target = r.target;
        p.source = r.source;
        p.factor = r.factor;
        p.approvers = terms->approvers;
        p.approvals_needed = terms->approvals_needed;
        p.nonce = terms->nonce;
        p.ttl_seconds = terms->ttl_seconds;
        p.requested_at = r.timestamp;
        p.expires_at = r.expires_at;
        requests_.push_back(std::move(p));
        trim();
        return;
    }
    if (r.event == "approve" && r.detail.starts_with(kOfflineToken)) {
        const std::string digest = r.detail.substr(kOfflineToken.size(), kTokenDigestChars);
        if (digest.size() == kTokenDigestChars && !token_used(digest))
            used_tokens_.push_back({digest, r.event_id, r.expires_at});
    }
    if (r.grant_id.empty()) return;
    PendingRequest* p = find_mutable(r.grant_id);
    if (p == nullptr || p->state != RequestState::Pending) return;
    if (r.event == "approve") {
        if (std::find(p->approved_by.begin(), p->approved_by.end(), r.actor) == p->approved_by.end()) {
            p->approved_by.push_back(r.actor);
            p->approve_records.push_back(r.event_id);
        }
    } else if (r.event == "grant") {
        p->grant_id = r.event_id;
        p->grant_expires_at = r.expires_at;
        end(*p, RequestState::Granted, r.approver, "");
    } else if (r.event == "reject") {
        end(*p, RequestState::Rejected, r.actor, r.reason);
    } else if (r.event == "request_cancelled") {
        end(*p, RequestState::Cancelled, r.actor, r.detail);
    } else if (r.event == "request_expired") {
        end(*p, RequestState::Expired, r.actor, r.detail);
    } else if (r.event == "deny" && r.actor == p->user && r.gate_bypassed == p->gate) {
        end(*p, RequestState::Refused, r.actor, r.detail);
    }
}

void PendingStore::end(PendingRequest& p, RequestState s, const std::string& by, const std::string& why) {
    p.state = s;
    p.ended_by = by;
    p.ended_why = why;
    trim();
}

// Ended requests beyond kEndedKept are forgotten, oldest first.
void PendingStore::trim() {
    std::size_t ended = 0;
    for (const PendingRequest& p : requests_) ended += p.state != RequestState::Pending ? 1 : 0;
    for (auto it = requests_.begin(); ended > kEndedKept && it != requests_.end();) {
        if (it->state != RequestState::Pending) {
            it = requests_.erase(it);
            --ended;
        } else {
            ++it;
        }
    }
}

const PendingRequest* PendingStore::find(const std::string& id) const {
    for (const PendingRequest& p : requests_)
        if (p.id == id) return &p;
    return nullptr;
}

PendingRequest* PendingStore::find_mutable(const std::string& id) {
    return const_cast<PendingRequest*>(static_cast<const PendingStore*>(this)->find(id));
}

std::vector<const PendingRequest*> PendingStore::pending() const {
    std::vector<const PendingRequest*> out;
    for (const PendingRequest& p : requests_)
        if (p.state == RequestState::Pending) out.push_back(&p);
    return out;
}

std::size_t PendingStore::pending_of(const std::string& user) const {
    return static_cast<std::size_t>(std::count_if(requests_.begin(), requests_.end(), [&](const PendingRequest& p) {
        return p.state == RequestState::Pending && p.user == user;
    }));
}

std::size_t PendingStore::pending_count() const {
    return static_cast<std::size_t>(std::count_if(requests_.begin(), requests_.end(),
                                                  [](const PendingRequest& p) { return p.state == RequestState::Pending; }));
}

std::optional<std::int64_t> PendingStore::earliest_expiry() const {
    std::optional<std::int64_t> out;
    for (const PendingRequest& p : requests_)
        if (p.state == RequestState::Pending && (!out || p.expires_at < *out)) out = p.expires_at;
    return out;
}

std::optional<std::string> PendingStore::token_used(const std::string& digest) const {
    for (const UsedToken& t : used_tokens_)
        if (t.digest == digest) return t.record;
    return std::nullopt;
}

void PendingStore::forget_tokens_before(std::int64_t now) {
    std::erase_if(used_tokens_, [now](const UsedToken& t) { return t.not_after < now; });
}

}  // namespace bg::workflow
