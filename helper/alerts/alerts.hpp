// SPDX-License-Identifier: ISC
// What each audit record tells the people who must know (docs/ARCHITECTURE.md,
// the helper/alerts row), and what that looks like to each kind of channel. Pure
// functions of a record and the policy, plus BurstCounter, a bounded per-user
// memory of recent failures fed the records in log order. The delivery (one
// worker per channel reading the log from its own cursor) only moves bytes.
//
//   grant                         ⇒ a trigger, dedup key = the grant's event id,
//                                   severity = the gate's alert_severity
//   revoke, expire                ⇒ a resolve with the same dedup key
//   deny, auth_failed,
//   rate_limited                  ⇒ one burst alert when a user reaches
//                                   alert_burst.failures within alert_burst.within,
//                                   then none for that user until the window passed
//   hook_failed, grant_void,
//   sink_gap                      ⇒ a problem alert (severity error)
//   terminate that says a revocation
//   was not carried out (kNotCarriedOut,
//   kNothingTerminated)             ⇒ a problem alert (severity critical)
//   revoke, expire, terminate
//   written late (kRecordedLate)  ⇒ a problem alert (critical) as well as the resolve:
//                                   the end could not be recorded when it happened
//   verify_failed                 ⇒ a problem alert (critical): the daemon found at
//                                   start that the audit log does not verify
//   grant whose detail says every
//   sink was down (kEverySinkDown) ⇒ the trigger says so, and a problem alert (critical)
//   request                       ⇒ an approval alert (severity warning): "approval
//                                   needed: request <grant_id> by <actor> for gate
//                                   <gate>, approvers <approver>" to the gate's channels
//   review_overdue                ⇒ a problem alert (severity warning): the grant's
//                                   review is overdue (detail says since when)
//
// A record raises at most two alerts (alerts_for); each is sent on its own.
//
// Routing: a record of a gate the policy knows goes to that gate's `alert`
// channels; other records (a burst against an unknown gate, a sink_gap) go
// to [defaults] alert, or, when that is empty, to every channel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "helper/audit/audit_record.hpp"
#include "policy/policy.hpp"

namespace bg::alerts {

enum class Kind { Trigger, Resolve, Burst, Problem, Approval };
std::string_view kind_name(Kind k);

// What the records say, in their detail, that makes them a problem. The
// daemon writes these phrases (helper/revocation/terminator.cpp: a lookup or
// a set-group-ID bit that failed; helper/daemon/recording.cpp: a closing
// record written late; helper/daemon/grant_handlers.cpp: a grant while
// every remote log sink was failing); tests/unit/alerts_test.cpp pins them.
inline constexpr std::string_view kNotCarriedOut = "check by hand";
inline constexpr std::string_view kNothingTerminated = "so no process was terminated";
inline constexpr std::string_view kNoGroupNoScope = "names no sudo_runas_group";  // by design, not a failure
inline constexpr std::string_view kRecordedLate = "; recorded late: ";
inline constexpr std::string_view kEverySinkDown = "every remote log sink was failing";

// Bounds on what an alert carries (PagerDuty caps summary at 1024).
inline constexpr std::size_t kMaxSummaryBytes = 1024;
inline constexpr std::size_t kMaxDetailBytes = 1024;
inline constexpr std::size_t kMaxSubjectBytes = 200;
// Users the burst counter remembers; the one seen least recently is forgotten first.
inline constexpr std::size_t kMaxBurstUsers = 4096;

struct Alert {
    Kind kind = Kind::Problem;
    std::string event;        // the record's event ("grant", "deny", ...)
    std::string event_id;     // the record's event id
    std::uint64_t seq = 0;    // the record's seq
    std::string dedup_key;    // the grant's event id (trigger, resolve), else the record's event id
    std::string severity;     // critical | error | warning | info
    std::string summary;      // one line, escaped for display (no control characters), bounded
    std::string host;
    // actor, gate, reason, incident, expires_at, host (and event, detail):
    // escaped for display, bounded, in a fixed order.
    std::vector<std::pair<std::string, std::string>> details;
    std::vector<std::string> channels;  // the [alert.NAME] names to tell, sorted, no duplicates
};

// Remembers deny/auth_failed/rate_limited records per user (record.actor) to raise one
// alert per user per window. Feed it every record in log order.
class BurstCounter {
public:
    // True when this record completes a burst that has not been alerted.
    bool feed(const audit::Record& r, const policy::AlertBurst& rule);
    std::size_t users() const { return users_.size(); }

private:
    struct User {
        std::deque<std::int64_t> failures;  // timestamps within the window, at most rule.failures
        std::int64_t quiet_until = 0;       // no other alert for this user before this time
        std::uint64_t last_seen = 0;
    };
    std::map<std::string, User> users_;
    std::uint64_t tick_ = 0;
};

// The alerts this record raises (none, one or two), in the order they are
// sent. `bursts` is fed every record, once.
std::vector<Alert> alerts_for(const audit::Record& r, const policy::Policy& p, BurstCounter& bursts);
// The first of them, or nullopt.
std::optional<Alert> alert_for(const audit::Record& r, const policy::Policy& p, BurstCounter& bursts);

// The channels a record of `gate` goes to (see Routing above).
std::vector<std::string> channels_for(const policy::Policy& p, std::string_view gate);

// --- what each channel type is sent ---------------------------------------

// PagerDuty Events API v2: {"routing_key","event_action":"trigger"|"resolve",
// "dedup_key", "payload":{"summary","source","severity","timestamp",
// "component","group","class","custom_details"}} (payload only on trigger).
std::string pagerduty_body(const Alert& a, std::string_view routing_key);

// Slack incoming webhook: {"text": fallback, "blocks":[section mrkdwn...]},
// every piece of record text escaped for Slack (& < >) and for display.
std::string slack_body(const Alert& a);
// Slack's escaping of text: & → &amp;, < → &lt;, > → &gt;.
std::string slack_escape(std::string_view s);

// Webhook: {"summary","record":<the record as a JSON object>,"record_line":"<the line>"}.
std::string webhook_body(const Alert& a, std::string_view record_line);

// A message for `sendmail -t`: From, To, Subject, Date, Message-ID,
// MIME-Version, Content-Type and Auto-Submitted headers, a blank line, the
// body. Nothing from a record reaches a header but through header_text(),
// so no CR or LF from user text can start another header; `to` are
// addresses the policy parser accepted (policy::email_address_problem).
std::string email_message(const Alert& a, const std::vector<std::string>& to, std::int64_t now);
// Header-safe text: printable ASCII only (anything else becomes '?'),
// bounded to `max_bytes`.
std::string header_text(std::string_view s, std::size_t max_bytes);

}  // namespace bg::alerts
