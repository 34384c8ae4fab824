// SPDX-License-Identifier: ISC
// The breakglass policy: which gates exist, who may request them, under which
// conditions and for how long. Three layers, each usable alone:
//   parse_policy      pure: bytes → Policy, or "FILE:LINE:COL: message"
//   read_policy_file  secure loader: O_NOFOLLOW, fstat checks, size cap
//   evaluate          pure: Policy × request → Allow/Deny with a reason
// man/breakglass-policy.5 documents the file format.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstddef>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace bg::policy {

inline constexpr std::int64_t kDefaultTerminationGrace = 10;

// A requester or approver: a user ("alice") or a group ("%oncall").
struct Principal {
    bool is_group = false;
    std::string name;  // without the '%'
};

// [gate.NAME.postgres]: the gate opens a PostgreSQL session with a role of
// its own (helper/dbgate), created at the grant and dropped at its end.
struct PostgresGate {
    std::string conninfo;                 // libpq connection string of the admin role (no password in it)
    std::vector<std::string> member_of;   // roles the temporary role is made a member of
    int connection_limit = 2;             // CONNECTION LIMIT of the temporary role, 1..100
};

struct Gate {
    std::string name;                     // table key, valid per bg::is_valid_name(name, 64)
    std::string description;
    std::vector<Principal> requesters;    // non-empty
    std::string incident_pattern;         // ECMAScript regex; the incident must match it whole
    std::regex incident_regex;            // compiled from incident_pattern
    std::chrono::seconds ttl{};           // default duration (defaults.ttl, else max_ttl)
    std::chrono::seconds max_ttl{};       // upper bound a request may ask for
    std::vector<std::string> factors;     // subset of {"totp","yubikey"}, non-empty; any one satisfies
    std::vector<std::string> severities;  // when non-empty the request's severity must be one of them
    std::string sudo_runas_group;         // front-end mapping (optional)
    std::string sudo_runas_user;          // front-end mapping (optional)
    std::string pam_service;              // front-end mapping (optional)
    int approvals = 0;                    // 0..5; approvals > 0 requires non-empty approvers
    std::vector<Principal> approvers;
    // How long a request to this gate waits for its approvals before it
    // expires (a request_expired record).
    std::chrono::seconds approval_timeout{15 * 60};
    // Revocation: the processes of the grant's user still running with
    // sudo_runas_group get SIGTERM, and SIGKILL after this grace.
    std::chrono::seconds termination_grace{kDefaultTerminationGrace};
    std::string on_grant;                 // absolute path of a side-effect command run after the grant (optional)
    std::string on_revoke;                // absolute path of a command run after a revoke or expiry (optional)
    // remote_ack = "required": the grant is answered only once a sink has
    // acknowledged its record, else refused (grant_void) after the timeout.
    bool remote_ack_required = false;
    std::chrono::seconds remote_ack_timeout{5};
    // Alerts: the [alert.NAME] channels told of this gate's grants (the
    // gate's own alert, else [defaults]), and the PagerDuty severity.
    std::vector<std::string> alert;
    std::string alert_severity = "critical";  // critical | error | warning | info
    // Reviews (issue 14): who may review this gate's grants (never the actor
    // nor an approver of the grant), and how long after the grant a review
    // is due before a review_overdue record is written.
    std::vector<Principal> reviewers;
    std::chrono::seconds review_within{72 * 3600};
    std::optional<PostgresGate> postgres; // [gate.NAME.postgres], when the gate opens a database
    int line = 0;                         // where the gate's table starts, for messages
};

// A remote audit sink ([sink.NAME]): where breakglassd ships every record.
enum class SinkType { JournalRemote, HttpJson, SplunkHec, Loki };
std::string_view sink_type_name(SinkType t);

struct Sink {
    std::string name;           // table key, valid per bg::is_valid_name(name, 64)
    SinkType type = SinkType::JournalRemote;
    std::string url;            // https://… (http:// only with insecure = true); no credentials in it
    std::string ca_file;        // absolute; "" = the system's CA store
    std::string client_cert;    // absolute; both or neither of client_cert/client_key
    std::string client_key;
    std::string token_file;     // absolute; required by splunk-hec, a bearer token for http-json and loki
    bool insecure = false;      // allows plain http:// (printed at every start)
    std::chrono::seconds backlog_limit{15 * 60};  // older unacknowledged records ⇒ a sink_gap record
    int line = 0;
};

// An alert channel ([alert.NAME]): who is told that break-glass was used.
// Secrets are named by path only (root-only files, read at start).
enum class AlertType { PagerDuty, Slack, Webhook, Email };
std::string_view alert_type_name(AlertType t);
// "PagerDuty", "Slack", "webhook", "email": the word the front-ends' notice uses.
std::string_view alert_type_label(AlertType t);

inline constexpr const char* kPagerDutyEventsUrl = "https://events.pagerduty.com/v2/enqueue";
inline constexpr const char* kDefaultSendmail = "/usr/sbin/sendmail";

struct AlertChannel {
    std::string name;              // table key, valid per bg::is_valid_name(name, 64)
    AlertType type = AlertType::Webhook;
    std::string url;               // https://…; pagerduty: defaults to kPagerDutyEventsUrl
    std::string url_file;          // absolute; a root-only file holding the URL (slack, webhook)
    std::string routing_key_file;  // absolute; pagerduty only, required
    std::string token_file;        // absolute; webhook only, a bearer token (optional)
    std::string ca_file;           // absolute; "" = the system's CA store (https channels)
    std::vector<std::string> to;   // email only, non-empty: plain addresses (local@domain)
    std::string sendmail = kDefaultSendmail;  // email only: absolute path of sendmail(8)
    int line = 0;
};

// [defaults] alert_burst: deny/auth_failed records of one user that raise one
// alert per window.
struct AlertBurst {
    int failures = 5;
    std::chrono::seconds within{60};
};

struct Policy {
    std::map<std::string, AlertChannel> alerts;  // sorted by name; may be empty
    std::vector<std::string> alert_defaults;     // [defaults] alert (gates inherit it)
    AlertBurst alert_burst;
    std::chrono::seconds alert_fail_alarm{15 * 60};  // a channel failing longer ⇒ one LOG_ALERT record
    std::map<std::string, Sink> sinks;           // sorted by name; may be empty
    // [metrics] textfile: the Prometheus text file breakglassd keeps for
    // node_exporter's textfile collector; "" = none.
    std::string metrics_textfile;
    std::map<std::string, Gate> gates;           // sorted by name
    std::vector<std::string> trusted_frontends;  // users (besides root) whose processes may act for another user
    // [approver_keys] (issue 13, offline approvals): approver user name →
    // their Ed25519 public key, "ed25519:<base64>" (helper/audit/ed25519.hpp's
    // text form, checked strictly). One key per person, one person per key.
    std::map<std::string, std::string> approver_keys;
    // Top-level `auditors`: users and %groups who may read the audit log
    // through the daemon (reviews, show, report, export), besides root.
    std::vector<Principal> auditors;
};

// Limits on what the parser accepts.
inline constexpr std::size_t kMaxPolicyBytes = 1024 * 1024;
inline constexpr std::chrono::seconds kMaxDuration{7 * 24 * 3600};
inline constexpr std::chrono::seconds kDefaultMaxTtl{60 * 60};
inline constexpr int kMaxApprovals = 5;
inline constexpr std::chrono::seconds kDefaultApprovalTimeout{15 * 60};
inline constexpr std::chrono::seconds kMinApprovalTimeout{10};
inline constexpr std::chrono::seconds kMaxApprovalTimeout{24 * 3600};
inline constexpr std::chrono::seconds kDefaultReviewWithin{72 * 3600};
inline constexpr std::chrono::seconds kMinReviewWithin{60};
inline constexpr std::size_t kMaxPatternBytes = 256;
inline constexpr std::size_t kMaxDescriptionBytes = 1024;
inline constexpr std::size_t kMaxNameBytes = 64;
inline constexpr std::chrono::seconds kMinTerminationGrace{1};
inline constexpr std::chrono::seconds kMaxTerminationGrace{10 * 60};
inline constexpr std::size_t kMaxHookPathBytes = 256;
inline constexpr std::size_t kMaxSinkUrlBytes = 512;
inline constexpr std::size_t kMaxSinks = 8;
inline constexpr std::size_t kMaxConninfoBytes = 512;
inline constexpr int kMaxConnectionLimit = 100;
inline constexpr std::size_t kMaxAlertChannels = 8;
inline constexpr std::size_t kMaxAlertRecipients = 16;
inline constexpr std::size_t kMaxApproverKeys = 256;
inline constexpr std::size_t kMaxEmailAddressBytes = 254;
inline constexpr int kMaxAlertBurstFailures = 1000;
// proto::kRemoteAckAllowanceMs: the front-ends wait that much longer for a grant.
inline constexpr std::chrono::seconds kMaxRemoteAckTimeout{30};

// A hook path the parser accepts: absolute, printable ASCII without spaces,
// no "." or ".." component, no "//", at most kMaxHookPathBytes. Pure: the
// file itself is not looked at. nullopt when valid, else why not.
std::optional<std::string> hook_path_problem(std::string_view path);
// An e-mail address the parser accepts for [alert.NAME] to: local@domain in
// printable ASCII without spaces, quotes, commas, angle brackets, parentheses,
// ';', ':' or '\\' (nothing a mail header could read as more than one
// address or another header), at most kMaxEmailAddressBytes. nullopt when valid.
std::optional<std::string> email_address_problem(std::string_view address);

// Pure: bytes → Policy, or an Error whose message is "FILE:LINE:COL: message".
// Never throws.
Result<Policy> parse_policy(std::string_view text, std::string_view filename);

// Canonical, stable, readable rendering of a parsed policy (golden tests,
// `breakglassctl policy check -v`). One block per gate, sorted by name.
std::string dump_policy(const Policy& p);

struct LoadOptions {
    bool require_root_owner = true;
};
// Secure read: open with O_NOFOLLOW, then the descriptor must be a regular
// file owned by root, writable by neither group nor others, at most
// kMaxPolicyBytes. Each refusal has its own message naming the path.
Result<std::string> read_policy_file(const std::string& path, LoadOptions opts = {});
// Whether a hook command may be run as root, checked like the policy file:
// opened with O_NOFOLLOW, a regular file, owned by root (when
// opts.require_root_owner), writable by neither group nor others, executable
// by its owner. nullopt when it may, else why not ("is writable by others ...").
std::optional<std::string> hook_file_problem(const std::string& hook, LoadOptions opts = {});
// read_policy_file + parse_policy + hook_file_problem for every on_grant and
// on_revoke ("FILE:LINE:1: gate 'NAME': on_revoke PATH is ...").
Result<Policy> load_policy(const std::string& path, LoadOptions opts = {});

struct EvalRequest {
    std::string user;
    std::vector<std::string> groups;  // the user's group names (primary + supplementary), resolved by the caller
    std::string gate;
    std::string incident;
    std::string severity;             // may be empty
    std::chrono::seconds ttl{0};      // 0 = the gate's ttl
    std::string factor_kind;          // "totp"/"yubikey": the factor the user presents
};

enum class Verdict { Allow, Deny };

struct Decision {
    Verdict verdict = Verdict::Deny;
    std::string why;               // Deny: safe to show the user and to record (user text escaped)
    std::chrono::seconds ttl{0};   // Allow: the effective ttl
    int approvals = 0;             // copied from the gate
};

// Pure. `now` is reserved for time windows. Deny by default.
Decision evaluate(const Policy& p, const EvalRequest& r, std::chrono::system_clock::time_point now);

// Whether `user` (in `groups`) is one of the gate's approvers.
bool is_approver(const Gate& gate, std::string_view user, const std::vector<std::string>& groups);
// Whether `user` (in `groups`) is one of the gate's reviewers.
bool is_reviewer(const Gate& gate, std::string_view user, const std::vector<std::string>& groups);
// Whether `user` (in `groups`) is one of the policy's auditors.
bool is_auditor(const Policy& p, std::string_view user, const std::vector<std::string>& groups);

// Gates this user may request, sorted by name.
std::vector<std::string> gates_for(const Policy& p, std::string_view user, const std::vector<std::string>& groups);

// "30m", "1h30m", "45s", "2h", "1d": digit+unit groups with units d, h, m, s
// in that order, each at most once; total > 0 and <= 7d. Anything else nullopt.
std::optional<std::chrono::seconds> parse_duration(std::string_view s);
// The inverse: 5400s → "1h30m", 0 → "0s". Negative values render as "-" + magnitude.
std::string format_duration(std::chrono::seconds d);

}  // namespace bg::policy
