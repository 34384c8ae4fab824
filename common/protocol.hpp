// SPDX-License-Identifier: ISC
// The breakglass wire protocol: every message between a front-end (PAM module,
// sudo plugin, breakglassctl) and breakglassd, in one place. PROTOCOL.md
// documents the same table; keep them in step.
//
// Transport: AF_UNIX SOCK_SEQPACKET, one message per datagram, so the kernel
// keeps message boundaries. A frame is an 8-byte header followed by a JSON
// object:
//
//   offset 0  4 bytes  magic "BGP1"
//   offset 4  2 bytes  message type, little endian (MessageType below)
//   offset 6  2 bytes  zero (reserved; non-zero is a malformed frame)
//   offset 8  ...      body: one JSON object, UTF-8, only the fields listed
//                      for that type (unknown, missing or mistyped ⇒ malformed)
//
// A frame is at most kMaxFrameBytes; the receiver checks the datagram size
// with MSG_PEEK|MSG_TRUNC before allocating. Requests have even types,
// answers odd. Every request gets exactly one answer: the matching answer
// type or ErrorAnswer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "common/result.hpp"

namespace bg::proto {

inline constexpr std::size_t kMaxFrameBytes = 64 * 1024;
inline constexpr std::size_t kHeaderBytes = 8;
inline constexpr char kMagic[4] = {'B', 'G', 'P', '1'};
// Bodies nest at most this deep (the status answer: object → array → object).
inline constexpr int kMaxJsonDepth = 4;
// Answers that list things carry at most this many entries.
inline constexpr std::size_t kMaxListEntries = 100;
inline constexpr std::size_t kMaxLogRecordsPerAnswer = 64;
// A StoryAnswer lists at most this many seqs (20 digits each fit a frame).
inline constexpr std::size_t kMaxStorySeqsPerAnswer = 2000;

enum class MessageType : std::uint16_t {
    ErrorAnswer = 1,
    CheckRequest = 2,
    CheckAnswer = 3,
    GrantRequest = 4,
    Granted = 5,
    StatusRequest = 6,
    StatusAnswer = 7,
    RevokeRequest = 8,
    Revoked = 9,
    ExpireRequest = 10,
    Expired = 11,
    LogRequest = 12,
    LogAnswer = 13,
    PolicyCheckRequest = 14,
    PolicyCheckAnswer = 15,
    PolicyReloadRequest = 16,
    PolicyReloaded = 17,
    EnrollTotpRequest = 18,
    Enrolled = 19,
    EnrollYubikeyRequest = 20,
    YubikeyEnrolled = 21,
    SessionRequest = 22,
    SessionRecorded = 23,
    CommandRequest = 24,
    CommandAnswer = 25,
    WaitRequest = 26,
    RequestState = 27,
    CancelRequest = 28,
    RequestCancelled = 29,
    PendingRequest = 30,
    PendingAnswer = 31,
    ApproveRequest = 32,
    ApproveAnswer = 33,
    RejectRequest = 34,
    Rejected = 35,
    SubmitTokenRequest = 36,
    TokenAccepted = 37,
    AlertTestRequest = 38,
    AlertTestAnswer = 39,
    ReviewRequest = 40,
    Reviewed = 41,
    ReviewsRequest = 42,
    ReviewsAnswer = 43,
    DbCredentialsRequest = 44,
    DbCredentials = 45,
    StoryRequest = 46,
    StoryAnswer = 47,
};

std::string_view type_name(MessageType t);

// Why a request was refused. The front-ends map these to return codes.
enum class ErrorCode : std::uint8_t {
    Denied,        // policy says no (not a requester, incident mismatch, ttl too long, unknown gate)
    AuthFailed,    // wrong, replayed or missing second factor
    RateLimited,   // too many failed factors for this user; try again later
    BadRequest,    // a field failed validation (too long, control characters, bad UTF-8)
    NotPermitted,  // this peer may not send this message or act for that user
    NotFound,      // no such grant
    Unavailable,   // daemon cannot decide: no valid policy, state unwritable, audit append failed
    Internal,      // a bug; the request was refused
};
std::string_view error_code_name(ErrorCode c);

// ErrorAnswer (1): the request was refused.
struct ErrorAnswer {
    ErrorCode code = ErrorCode::Internal;
    std::string message;  // human-readable, safe to show (the daemon escapes user text in it)
};

// CheckRequest (2): is there an active grant for (user, gate)? The fast path
// front-ends take before prompting.
struct CheckRequest {
    std::string user;  // the actor; empty = the peer's own user; naming another needs a root/trusted peer
    std::string gate;  // gate name from the policy
    // pam_breakglass: the account being entered (PAM_USER). Only a grant for
    // this account answers active: one taken for it, or one that named no
    // account when it is the actor's own. "" = any grant of (user, gate).
    std::string target = {};
};
// CheckAnswer (3)
struct CheckAnswer {
    bool active = false;
    std::string event_id;     // the grant's event id when active, else empty
    std::int64_t expires_at = 0;  // unix seconds when active, else 0
    // The gate's allowed severities (policy `severities`), so that a front-end,
    // which never reads the policy, knows to ask for one. Empty when the gate
    // lists none or is not in the policy. At most kMaxListEntries names.
    std::vector<std::string> severities = {};
    // What this host does with a break-glass's records beyond breakglassd's
    // audit log, in the daemon's words, for the banner (today: whether each
    // record also goes to the system journal; alert channels and reviews will
    // say so here). Only what this daemon actually does; "" = nothing more.
    std::string notice = {};
};

// GrantRequest (4): break the glass. The factor is a secret: it is never
// logged and is erased from memory after verification.
struct GrantRequest {
    std::string user;      // the actor; empty = the peer's own user; naming another needs a root/trusted peer
    std::string gate;      // gate name
    std::string reason;    // free text, 1..1024 bytes, UTF-8, no control characters
    std::string incident;  // incident reference, must match the gate's incident_pattern
    std::string severity;  // e.g. "sev1"; required when the gate lists severities, else may be empty
    std::int64_t ttl_seconds = 0;  // requested duration; 0 = the gate's ttl
    std::string factor;    // the one-time code (TOTP digits, later YubiKey OTP)
    std::string tty;       // the requester's terminal or remote host, for the record
    std::string command;   // what the grant is for (sudo argv, service), for the record
    // Set by the sudo plugin: the run-as group/user that made the command gated.
    // The daemon refuses (and records) a request whose group/user the policy
    // does not map to `gate` (sudo_runas_group / sudo_runas_user). "" otherwise.
    std::string runas_group = {};
    std::string runas_user = {};
    // Set by pam_breakglass: the PAM service whose stack asks (PAM_SERVICE).
    // The daemon refuses (and records) a request for a gate whose policy
    // pam_service names another service. "" from sudo and breakglassctl.
    std::string pam_service = {};
    // Set by pam_breakglass (with pam_service): the account being entered
    // (PAM_USER). The grant is for this account only, and records name it as
    // their target. "" = no account (sudo, breakglassctl): the grant then
    // opens, through PAM, only the actor's own account.
    std::string target = {};
};
// Granted (5): the grant record is durable; the grant is active until expires_at.
struct Granted {
    std::string event_id;
    std::int64_t expires_at = 0;  // unix seconds
    // What this host did with the grant's record beyond the audit log, in the
    // daemon's words (as CheckAnswer.notice), shown with the grant. "" = nothing more.
    std::string notice = {};
};

// StatusRequest (6): list grants, most recent first, a page at a time (each
// answer fits a frame). Non-root peers see only their own.
struct StatusRequest {
    bool all = false;  // include ended (revoked/expired) grants
    // "" = from the most recent; else the event_id of the last grant of the
    // previous page: the answer continues after it.
    std::string after = {};
};
struct GrantInfo {
    std::string event_id;
    std::string user;
    std::string gate;
    std::string state;            // "active", "revoked", "expired"
    std::int64_t granted_at = 0;  // unix seconds
    std::int64_t expires_at = 0;
    std::int64_t ended_at = 0;    // 0 while active
    std::string reason;
    std::string incident;
};
// A remote sink's state, for root's status (the first page only).
struct SinkInfo {
    std::string name;
    std::string type;                   // journal-remote, http-json, splunk-hec, loki
    std::string url;
    bool insecure = false;
    std::uint64_t acked_seq = 0;        // the last seq the sink acknowledged
    std::uint64_t backlog = 0;          // durable records it has not acknowledged
    std::int64_t oldest_unacked_at = 0; // the first of them, unix seconds; 0 = none (or not read yet)
    std::int64_t backlog_limit = 0;     // seconds: older than this is a sink_gap
    std::string last_error;             // "" when the last attempt succeeded
    std::int64_t last_error_at = 0;
    std::int64_t last_ack_at = 0;
};
inline constexpr std::size_t kMaxSinkEntries = 8;
// An alert channel's state ([alert.NAME]), for root's status (the first page only).
struct ChannelInfo {
    std::string name;
    std::string type;                   // pagerduty, slack, webhook, email
    std::string target;                 // the URL (not one kept in url_file) or the addresses
    std::uint64_t cursor_seq = 0;       // records through this seq are done
    std::uint64_t backlog = 0;          // durable records not looked at yet
    std::uint64_t delivered = 0;        // alerts delivered since the daemon started
    std::int64_t last_delivery_at = 0;
    std::string last_error;             // "" when the last attempt succeeded
    std::int64_t failing_since = 0;     // 0 when not failing
};
inline constexpr std::size_t kMaxChannelEntries = 8;
// A pending request (issue 13): in PendingAnswer and in StatusAnswer.pending.
struct PendingInfo {
    std::string request_id;
    std::string user;
    std::string gate;
    std::string reason;
    std::string incident;
    std::int64_t requested_at = 0;
    std::int64_t expires_at = 0;
    std::int64_t approvals_needed = 0;
    std::string approved_by;  // comma-separated
};
// StatusAnswer (7)
struct StatusAnswer {
    std::vector<GrantInfo> grants;  // at most kMaxListEntries, and what fits a frame
    bool truncated = false;         // more grants follow: ask again with after = the last event_id here
    std::vector<SinkInfo> sinks;    // root, first page: each remote sink (at most kMaxSinkEntries)
    std::vector<ChannelInfo> channels;  // root, first page: each alert channel (at most kMaxChannelEntries)
    // First page: the requests waiting for approvals that the peer may see:
    // its own, those it may approve (an approver of the gate, not the
    // requester), all of them for root. Oldest first, at most kMaxListEntries.
    std::vector<PendingInfo> pending = {};
};

// RevokeRequest (8): end a grant early. Root, or the grant's own user.
struct RevokeRequest {
    std::string event_id;  // the grant's event id
    std::string reason;    // optional, 0..1024 bytes
};
// Revoked (9)
struct Revoked {
    std::string event_id;         // the grant
    std::string record_event_id;  // the revoke record
};

// ExpireRequest (10): the expiry timer fired. Root only; refused before expires_at.
struct ExpireRequest {
    std::string event_id;
};
// Expired (11)
struct Expired {
    std::string event_id;
    std::string record_event_id;  // the expire record; empty if it had already ended
};

// LogRequest (12): read audit records. Root and the policy's auditors.
struct LogRequest {
    std::uint64_t after_seq = 0;  // first record returned has seq > after_seq
    std::int64_t since = 0;       // unix seconds; records before are skipped (0 = all)
    std::uint32_t limit = 0;      // at most this many (0 or > kMaxLogRecordsPerAnswer = the cap)
};
// LogAnswer (13)
struct LogAnswer {
    std::vector<std::string> records;  // canonical JSON, one record each
    std::uint64_t last_seq = 0;        // seq of the last record scanned; pass as after_seq
    bool more = false;                 // more records follow
};

// PolicyCheckRequest (14): parse the daemon's policy file now and report,
// without applying it. Root only.
struct PolicyCheckRequest {};
// PolicyCheckAnswer (15)
struct PolicyCheckAnswer {
    bool ok = false;
    std::string path;                // the policy file
    std::string error;               // file:line:col: message when not ok
    std::vector<std::string> gates;  // gates of the file when ok
    bool active = false;             // the daemon has a valid policy loaded (possibly an older one)
    // What the daemon found wrong beyond the file: for each PostgreSQL gate,
    // the admin role's missing privileges or why the database could not be
    // asked ("gate G: ..."). Empty when nothing is.
    std::vector<std::string> problems = {};
};

// PolicyReloadRequest (16): load the policy file and apply it if valid. Root only.
struct PolicyReloadRequest {};
// PolicyReloaded (17)
struct PolicyReloaded {
    bool ok = false;
    std::string error;               // why the file was rejected; the last good policy stays
    std::vector<std::string> gates;  // gates now in force
};

// EnrollTotpRequest (18): store a TOTP secret for a user. Root only.
struct EnrollTotpRequest {
    std::string user;
    std::string secret_base32;  // empty = the daemon generates one (160 bits)
};
// Enrolled (19)
struct Enrolled {
    std::string user;
    std::string otpauth_uri;  // otpauth://totp/breakglass:USER?secret=...&issuer=breakglass
};

// EnrollYubikeyRequest (20): register a YubiKey (Yubico OTP mode) for a user. Root only.
// The AES key and private uid are secrets: never logged, erased after use.
struct EnrollYubikeyRequest {
    std::string user;
    std::string public_id;        // 12 modhex characters (the OTP's first 12)
    std::string aes_key_hex;      // 32 hex characters (AES-128 key)
    std::string private_uid_hex;  // 12 hex characters (6 bytes)
};
// YubikeyEnrolled (21)
struct YubikeyEnrolled {
    std::string user;
    std::string public_id;
};

// SessionRequest (22): a front-end reports a session or command under a grant,
// for the audit record (session_open, session_close, command). Root or a
// trusted front-end only. The daemon checks the grant is the user's.
struct SessionRequest {
    std::string user;         // the actor: who breaks the glass (not the account entered)
    std::string gate;
    std::string event;        // "session_open", "session_close" or "command"
    std::string service;      // PAM service or "sudo"
    std::string tty;
    std::string remote_host;  // PAM_RHOST, "" when local
    std::int64_t pid = 0;     // the session's or command's process
    std::string command;      // argv, for "command"
    std::string detail;       // e.g. "exit status 1", "killed by signal 9"
    // pam_breakglass: the account the session is in (PAM_USER); the grant
    // must be for it (as CheckRequest.target). "" from sudo.
    std::string target = {};
};
// SessionRecorded (23)
struct SessionRecorded {
    std::string record_event_id;
    std::string grant_id;  // the active grant the session runs under, "" if none
};

// CommandRequest (24): a gated command is about to run (the sudo plugin). In
// one exchange: if `user` holds an active grant for `gate`, the command is
// recorded under it (a "command" record, durable before the answer: the
// command runs only after it); if not, nothing is recorded and the answer
// says what a Check would, so the front-end can break the glass and then
// send this again. Root or a trusted front-end only.
struct CommandRequest {
    std::string user;     // the invoking user
    std::string gate;
    std::string service;  // "sudo"
    std::string tty;
    std::int64_t pid = 0;  // the front-end's process (sudo)
    std::string command;   // argv
    std::string detail;    // e.g. "cwd=/root runas=alice:breakglass"
    // The run-as group or user that made the command gated (one of them is
    // set): the daemon refuses, with a deny record, a command whose run-as
    // group/user the policy does not map to `gate` (sudo_runas_group /
    // sudo_runas_user), with or without an active grant.
    std::string runas_group = {};
    std::string runas_user = {};
};
// CommandAnswer (25)
struct CommandAnswer {
    bool active = false;           // a grant was active and the command record is durable
    std::string record_event_id;   // the command record when active, else empty
    std::string grant_id;          // the grant it runs under when active, else empty
    std::int64_t expires_at = 0;   // the grant's, when active
    std::vector<std::string> severities = {};  // when not active: as CheckAnswer.severities
    std::string notice = {};                   // when not active: as CheckAnswer.notice
    std::string scope = {};  // when active: the systemd scope the peer is being moved into, "" = none
};

// ---- Approvals (issue 13). A GrantRequest to a gate with `approvals = N`
// whose checks and factor pass is answered RequestState (state "pending")
// instead of Granted: the daemon recorded a `request`; the grant is made when
// N approvers other than the requester have approved it.

// WaitRequest (26): the state of one of the user's requests, answered at
// once (the front-end asks again while it waits, on the same connection or a
// new one). Only the requester (a trusted front-end may name them).
struct WaitRequest {
    std::string user;  // the requester; empty = the peer's own user
    std::string request_id;
};
// RequestState (27): also the answer to a GrantRequest that waits for approvals.
struct RequestState {
    std::string request_id;   // the request record's event id
    std::string gate;
    std::string state;        // "pending", "granted", "rejected", "cancelled", "expired"
    std::string approvers;    // who may approve, as in the policy ("%secleads, bob")
    std::int64_t approvals_needed = 0;
    std::string approved_by;  // who has approved so far, comma-separated
    std::int64_t expires_at = 0;        // when a pending request expires (unix seconds)
    std::string grant_id;               // "granted": the grant
    std::int64_t grant_expires_at = 0;  // "granted": when the grant ends
    std::string message;                // "rejected": who and why; else what to show
    // "pending": the request code for an offline approval (offline_token.hpp:
    // "USER@HOST/GATE/XXXX-…"), for the front-end to show; "" when the
    // policy has no [approver_keys] or the request has no nonce.
    std::string request_code = {};
};

// CancelRequest (28): the requester gives up (Ctrl-C): a request_cancelled record.
struct CancelRequest {
    std::string user;  // the requester; empty = the peer's own user
    std::string request_id;
};
// RequestCancelled (29)
struct RequestCancelled {
    std::string request_id;
    std::string record_event_id;
};

// PendingRequest (30): the pending requests the peer's user may approve (an
// approver of the gate, not the requester). Anyone; others get an empty list.
struct PendingRequest {};
// PendingAnswer (31)
struct PendingAnswer {
    std::vector<PendingInfo> requests;  // oldest first, at most kMaxListEntries
};

// ApproveRequest (32): the peer's user approves, with their own one-time
// code (a secret: wiped after verification). An `approve` record; at N
// approvals the grant record too. A refusal (the requester, not an approver,
// a second approval by the same person) is an `approval_refused` record.
struct ApproveRequest {
    std::string request_id;
    std::string note;    // optional, 0..1024 bytes
    std::string factor;  // the approver's one-time code
};
// ApproveAnswer (33)
struct ApproveAnswer {
    std::string request_id;
    std::string record_event_id;  // the approve record
    std::int64_t approvals = 0;   // approvals so far, this one included
    std::int64_t approvals_needed = 0;
    std::string grant_id;         // the grant when this approval completed it, else ""
};

// RejectRequest (34): an approver turns the request down (no factor): a
// `reject` record, and the request ends.
struct RejectRequest {
    std::string request_id;
    std::string reason;  // 1..1024 bytes
};
// Rejected (35)
struct Rejected {
    std::string request_id;
    std::string record_event_id;
};

// SubmitTokenRequest (36): the requester pastes an offline approval token
// (signed by an approver with a key in the policy's [approver_keys]) for one
// of their pending requests. Verified (signature, binding to this host,
// requester, gate and request, not_after, single use): an `approve` record
// naming the approver and the token's digest; at N approvals the grant too.
// A refused token is an `approval_refused` record saying why. Only the
// requester (a trusted front-end may name them).
struct SubmitTokenRequest {
    std::string user;  // the requester; empty = the peer's own user
    std::string request_id;
    std::string token;  // as typed: base32, dashes and spaces allowed
};
// TokenAccepted (37)
struct TokenAccepted {
    std::string request_id;
    std::string record_event_id;  // the approve record
    std::string approver;         // whose key signed the token
    std::int64_t approvals = 0;   // approvals so far, this one included
    std::int64_t approvals_needed = 0;
    std::string grant_id;         // the grant when this approval completed it, else ""
};
// AlertTestRequest (38): root: send one test alert on [alert.NAME] now,
// outside the channel's cursor, and say what the channel answered.
struct AlertTestRequest {
    std::string channel;
};
// AlertTestAnswer (39)
struct AlertTestAnswer {
    std::string channel;
    std::string type;              // pagerduty, slack, webhook, email
    bool delivered = false;        // the channel took it: HTTP 2xx, or sendmail -t exited 0
    std::int64_t http_status = 0;  // 0: no HTTP answer (e-mail, or no connection)
    std::string answer;            // the answer's first bytes (or sendmail's output), escaped for display
    std::string error;             // why not, when !delivered
};

// ---- Reviews (issue 14). Every grant opens a review; a reviewer of its gate
// who is neither its actor nor one of its approvers closes it with a verdict.

// ReviewRequest (40): the peer's user reviews a grant (no factor): a `review`
// record, or a `review_refused` record saying why not.
struct ReviewRequest {
    std::string grant_id;  // the grant's event id (as `list` shows it)
    std::string verdict;   // "justified", "unjustified" or "gate-needs-fix"
    std::string note;      // 1..1024 bytes
};
// Reviewed (41)
struct Reviewed {
    std::string grant_id;
    std::string record_event_id;  // the review record
};

// ReviewsRequest (42): the open reviews (grants not reviewed yet), oldest
// first. Root and the policy's auditors see all; a reviewer sees those of
// the gates they review; anyone else an empty list.
struct ReviewsRequest {
    bool overdue = false;      // only those past their gate's review_within
    std::string after = {};    // "" = from the oldest; else the grant_id of the last entry of the previous page
};
struct ReviewInfo {
    std::string grant_id;
    std::string user;       // the grant's actor
    std::string gate;
    std::string approvers;  // comma-separated, "" when none
    std::string reason;
    std::string incident;
    std::int64_t granted_at = 0;
    std::int64_t due_at = 0;  // granted_at + the gate's review_within
    bool overdue = false;
};
// ReviewsAnswer (43)
struct ReviewsAnswer {
    std::vector<ReviewInfo> reviews;  // at most kMaxListEntries, and what fits a frame
    bool truncated = false;           // more follow: ask again with after = the last grant_id here
};
// DbCredentialsRequest (44): the actor of an active grant of a PostgreSQL gate
// (issue 15) asks for its role's name and password. Only the grant's own user
// (the peer acting for itself), and only once: the daemon forgets the
// password when it answers.
struct DbCredentialsRequest {
    std::string event_id;  // the grant's event id
};
// DbCredentials (45): the password is a secret (never logged, wiped after use).
struct DbCredentials {
    std::string event_id;
    std::string role;
    std::string password;
    std::string host;    // from the gate's conninfo ("" = libpq's default)
    std::string port;
    std::string dbname;
    std::int64_t expires_at = 0;  // unix seconds: the role's VALID UNTIL and the session's end
};

// StoryRequest (46): the seqs of the records of one grant's story, from
// breakglassd's story index (helper/audit/story_index.hpp), for `breakglassctl
// show`, which then reads and checks them with LogRequest. Root and the
// policy's auditors, as LogRequest. Refused with `unavailable` when the
// daemon keeps no current index (the caller then reads the log).
struct StoryRequest {
    std::string grant_id;         // the grant's event id
    std::uint64_t after_seq = 0;  // page: seqs > after_seq
};
// StoryAnswer (47): hints, never trusted: the caller checks each record.
struct StoryAnswer {
    std::vector<std::uint64_t> seqs;  // ascending, at most kMaxStorySeqsPerAnswer: the grant, the request
                                      // the grant record names, and every record naming either
    bool more = false;                // more seqs follow: ask again with after_seq = the last one
    std::uint64_t indexed_through = 0;  // the index's (and the log's) last seq
    std::string checkpoint_key;       // "ed25519:<base64>" of the host's checkpoint key, "" for none
};

using Message = std::variant<ErrorAnswer, CheckRequest, CheckAnswer, GrantRequest, Granted, StatusRequest,
                             StatusAnswer, RevokeRequest, Revoked, ExpireRequest, Expired, LogRequest, LogAnswer,
                             PolicyCheckRequest, PolicyCheckAnswer, PolicyReloadRequest, PolicyReloaded,
                             EnrollTotpRequest, Enrolled, EnrollYubikeyRequest, YubikeyEnrolled, SessionRequest,
                             SessionRecorded, CommandRequest, CommandAnswer, WaitRequest, RequestState, CancelRequest,
                             RequestCancelled, PendingRequest, PendingAnswer, ApproveRequest, ApproveAnswer,
                             RejectRequest, Rejected, SubmitTokenRequest, TokenAccepted, AlertTestRequest,
                             AlertTestAnswer, ReviewRequest, Reviewed, ReviewsRequest, ReviewsAnswer,
                             DbCredentialsRequest, DbCredentials, StoryRequest, StoryAnswer>;

MessageType type_of(const Message& m);
inline constexpr bool is_request(MessageType t) { return (static_cast<std::uint16_t>(t) & 1u) == 0; }

// The type number of a message struct, at compile time: its place in Message
// (the alternatives are in type-number order from 1). Only Message's
// alternatives have one.
template <class M>
inline constexpr MessageType type_of_v = [] {
    return []<class... Ts>(std::variant<Ts...>*) {
        static_assert((std::is_same_v<M, Ts> || ...), "not a message type");
        std::size_t index = 0;
        (void)((std::is_same_v<M, Ts> ? true : (++index, false)) || ...);
        return static_cast<MessageType>(index + 1);
    }(static_cast<Message*>(nullptr));
}();

// Pure: message → frame bytes. Fails only if the frame would exceed kMaxFrameBytes.
Result<std::vector<std::uint8_t>> encode(const Message& m);
// Pure: frame bytes → message, or why the frame is malformed.
Result<Message> decode(std::span<const std::uint8_t> frame);

}  // namespace bg::proto
