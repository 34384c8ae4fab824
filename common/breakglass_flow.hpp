// SPDX-License-Identifier: ISC
// The break-glass conversation shared by the front-ends (pam_breakglass.so,
// breakglass_sudo.so): the Check fast path, then banner → reason → incident
// reference → severity (only when the daemon says the gate lists severities)
// → one-time code → GrantRequest, and the mapping of the daemon's answer to an
// outcome the front-end turns into its own return code.
//
// The flow talks to the user only through a Prompter, which each front-end
// implements over its host program's conversation function. It does no
// logging (the front-end logs once, from the outcome) and keeps no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol.hpp"
#include "common/transport.hpp"

namespace bg::flow {

class Prompter {
public:
    virtual ~Prompter() = default;
    // One question. nullopt = the conversation failed, was aborted or gave no answer.
    virtual std::optional<std::string> ask(std::string_view prompt, bool echo) = 0;
    virtual void info(std::string_view text) = 0;
    virtual void error(std::string_view text) = 0;
};

// How the wait for a gate's approvals behaves (wait_for_approval).
struct WaitPacing {
    int poll_ms = 250;          // the request's state is asked for this often
    int refresh_seconds = 60;   // the waiting line is shown again at most this often (and when approvals change)
    std::int64_t unreachable_grace_seconds = 30;  // a daemon unreachable this long past the request's expiry ends it
};

// Who asks for which gate, from where, and which daemon decides.
struct Target {
    std::string user;         // the actor: the human who asks (names checked with is_valid_name)
    std::string gate;         // gate name from the front-end's configuration
    std::string tty;          // terminal or remote host, for the record ("" when unknown)
    std::string command;      // what the grant is for, for the record ("pam:SERVICE", sudo argv)
    std::string socket_path;  // breakglassd's socket
    // How long to wait for the daemon (common/transport.hpp): each answer, and
    // each connect + send. A wait that runs out is Unavailable (fail closed).
    int timeout_ms = proto::kDefaultTimeoutMs;
    int connect_timeout_ms = proto::kConnectTimeoutMs;
    // sudo only: the run-as group/user that made the command gated, sent in the
    // GrantRequest so the daemon re-checks the mapping against the policy. "" otherwise.
    std::string runas_group = {};
    std::string runas_user = {};
    // pam_breakglass only: its PAM service, sent in the GrantRequest so the
    // daemon checks it against the gate's pam_service. "" otherwise.
    std::string pam_service = {};
    // pam_breakglass only: the account being entered (PAM_USER), which may
    // not be the actor (su: the actor is the invoking user). The check and the
    // grant are for this account. "" otherwise.
    std::string account = {};
    // A gate that needs approvals: how the wait paces itself.
    WaitPacing pacing = {};
};

enum class Outcome {
    Granted,             // a new grant is durable; event_id/expires_at are set
    AlreadyActive,       // Check found an active grant; nothing was asked
    AuthFailed,          // wrong, replayed or missing factor; rate limited
    Denied,              // policy refused (also: not permitted, no such grant)
    Unavailable,         // daemon unreachable, no valid policy, audit append failed, protocol error
    ConversationFailed,  // the prompter gave no answer
    BadInput,            // an answer failed validation (nothing was sent), or the daemon said bad_request
    Cancelled,           // the user interrupted the wait for approvals (Ctrl-C): request_cancelled
};
std::string_view outcome_name(Outcome o);

struct Result {
    Outcome outcome = Outcome::Unavailable;
    std::string event_id;
    std::int64_t expires_at = 0;
    std::string message;  // what was (or would be) shown to the user; printable, escaped
    std::string record_event_id = {};  // the command record, when the flow was given a command to record
    std::string scope = {};  // with a recorded command: the systemd scope the caller is being moved into, "" = none
};

// The whole flow. Everything shown goes through the prompter: the banner and
// the grant as info, every refusal as error. The fast path asks nothing and
// shows nothing. Its exchanges share one connection.
Result check_or_break_glass(Prompter& prompter, const Target& target);

// The same on the caller's connection to the daemon. With a command (the sudo
// plugin), the check is a CommandRequest: under an active grant the command
// is recorded in the same exchange (AlreadyActive, record_event_id set);
// after a new grant it is sent again to record the command under it. The
// outcome is AlreadyActive or Granted only once the command record is
// durable; a new grant whose command could not be recorded is a refusal that
// keeps the grant's event_id. The command's user and gate are the target's.
Result check_or_break_glass(Prompter& prompter, const Target& target, proto::Client& daemon,
                            const proto::CommandRequest* command = nullptr);

// ---- approvals (issue 13)

// The waiting line: "waiting for approval by %secleads — request bg-…, 14:52 left; Ctrl-C cancels".
std::string waiting_line(const proto::RequestState& state, std::int64_t now);

// A GrantRequest answered RequestState "pending": waits on `daemon` for the
// request's approvals, asking its state (WaitRequest) every poll_ms and
// holding nothing in the daemon but the connection, which is made again when
// it drops. The waiting line goes through the prompter's info once, then when
// approvals arrive or the connection drops and at most every refresh_seconds
// (each info is a new line in sudo's and PAM's conversations; sshd queues them
// until the next prompt). SIGINT, SIGTERM, SIGHUP and SIGQUIT are caught only
// while it waits (the host program's handlers are restored before it returns):
// Ctrl-C sends CancelRequest, a request_cancelled record, and ends as
// Cancelled. Granted: Outcome::Granted with the grant's event id and end;
// rejected, expired or cancelled elsewhere: Denied with the daemon's reason;
// no answer until past the expiry: Unavailable. Refusals are shown as errors;
// the grant is not shown (the caller shows it).
// Paced by target.pacing.
// When the request has a request code (the policy has [approver_keys]), the
// code is shown first and an "Approval token" asked (one blocking question:
// the host's conversation cannot poll beside it): a token is submitted at
// once (SubmitTokenRequest) and the request's state asked after every answer,
// so an online approval that came meanwhile is taken too; Enter alone goes on
// to the wait above; a refused token is shown and asked again (at most 5).
Result wait_for_approval(Prompter& prompter, const Target& target, proto::Client& daemon, proto::RequestState state);

// Only the Check: AlreadyActive when a grant for (user, gate[, account]) is active,
// Denied when none is, Unavailable when the daemon cannot answer. Shows nothing.
Result check_active(const Target& target);
// The same on the caller's connection; with a command, AlreadyActive means the
// command is recorded under the grant (a CommandRequest, as above).
Result check_active(const Target& target, proto::Client& daemon, const proto::CommandRequest* command = nullptr);

// Reports a session or command under a grant (SessionRequest → SessionRecorded).
struct SessionResult {
    bool recorded = false;        // the daemon wrote the record
    std::string record_event_id;  // when recorded
    std::string grant_id;         // the active grant it ran under; "" = none was active
    Outcome failure = Outcome::Unavailable;  // when !recorded: why (Denied, BadInput, Unavailable)
    std::string message;          // when !recorded, or recorded without a grant: printable, escaped
};
SessionResult record_session(const std::string& socket_path, const proto::SessionRequest& request,
                             int timeout_ms = proto::kDefaultTimeoutMs);
SessionResult record_session(proto::Client& daemon, const proto::SessionRequest& request,
                             int timeout_ms = proto::kDefaultTimeoutMs);

// ---- pure pieces, exposed for tests and for front-ends that need them.

// nullopt when acceptable, else the message shown to the user.
std::optional<std::string> validate_reason(std::string_view reason);
std::optional<std::string> validate_incident(std::string_view incident);
// The severity must be exactly one of the gate's (as the daemon listed them).
std::optional<std::string> validate_severity(std::string_view severity, const std::vector<std::string>& allowed);
// "Incident severity (sev1, sev2): ", the names escaped.
std::string severity_prompt(const std::vector<std::string>& allowed);
// 1..kMaxFactorBytes printable ASCII without spaces (TOTP digits, YubiKey modhex).
std::optional<std::string> validate_factor(std::string_view factor);

// How a daemon refusal reads as an outcome.
Outcome outcome_for(proto::ErrorCode code);

// Text from the host program (PAM_TTY, PAM_RHOST, a service name) made fit for
// a request field: returned as is when valid, else escaped, then cut to
// max_bytes on a character boundary. Never fails: these fields are context for
// the record, not something to refuse a break-glass over.
std::string fit_context_text(std::string_view text, std::size_t max_bytes);

// The banner shown before the questions. It says only what is true of every
// break-glass (what is asked; that the request and the decision are recorded
// in breakglassd's audit log) and then the daemon's notice of what else this
// host does with the records (CheckAnswer.notice), escaped; nothing is
// promised that the host does not do.
std::string banner(std::string_view gate, bool asks_severity = false, std::string_view notice = {});
// The line shown once granted, with the daemon's notice (Granted.notice).
std::string granted_line(std::string_view gate, const proto::Granted& granted);
// A notice from the daemon is shown escaped and at most this long.
inline constexpr std::size_t kMaxNoticeBytes = 512;

// Overwrites a string's whole buffer (also the bytes past size()) and empties it.
void wipe(std::string& secret);

}  // namespace bg::flow
