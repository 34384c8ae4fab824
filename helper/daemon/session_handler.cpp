// SPDX-License-Identifier: ISC
// SessionRequest and CommandRequest (root or a trusted front-end): a session
// or command under a grant, recorded. A command record opens something and is
// durable before the answer (the command runs only then); a session's close is
// a closing record, written at once and synced by the next maintenance, or, on
// a full disk, written as soon as it can be (record_closing).
#include "common/text.hpp"
#include "helper/daemon/daemon.hpp"

namespace bg {

using proto::ErrorAnswer;
using proto::ErrorCode;

namespace {

// What a front-end reports about a session or command, whichever request carried it.
struct SessionReport {
    const std::string& user;
    const std::string& gate;
    const std::string& event;
    const std::string& service;
    const std::string& tty;
    const std::string& remote_host;
    std::int64_t pid;
    const std::string& command;
    const std::string& detail;
    const std::string& target;  // the account the session is in (pam_breakglass), "" otherwise
};

// Why the report cannot be recorded as given, or nullopt.
std::optional<ErrorAnswer> report_problem(const SessionReport& r) {
    if (!is_valid_name(r.user, kMaxUserBytes) || !is_valid_name(r.gate, kMaxGateBytes))
        return ErrorAnswer{ErrorCode::BadRequest, "user and gate must be valid names"};
    if (!r.target.empty() && !is_valid_name(r.target, kMaxUserBytes))
        return ErrorAnswer{ErrorCode::BadRequest, "the target must be a valid user name"};
    const struct {
        const char* what;
        const std::string& value;
        std::size_t max;
    } texts[] = {{"service", r.service, kMaxGateBytes},
                 {"tty", r.tty, kMaxTtyBytes},
                 {"remote host", r.remote_host, kMaxTtyBytes},
                 {"command", r.command, kMaxCommandBytes},
                 {"detail", r.detail, kMaxReasonBytes}};
    for (const auto& t : texts)
        if (auto bad = validate_text(t.value, t.max, true))
            return ErrorAnswer{ErrorCode::BadRequest, std::string("the ") + t.what + " " + *bad};
    return std::nullopt;
}

// The record of a report: actor is the user the front-end names, target the
// account entered (PAM) or the command (sudo), the grant (if any) the one
// active for that user and gate that opens the account.
audit::RecordFields report_record(const PeerIdentity& peer, const SessionReport& r, const Grant* grant) {
    audit::RecordFields f;
    f.event = r.event;
    f.action = r.service.empty() ? "session" : r.service;
    f.actor = r.user;
    f.actor_loginuid = peer.loginuid;
    f.actor_role = "requester";
    f.peer_uid = static_cast<std::int64_t>(peer.uid);
    f.gate_bypassed = r.gate;
    f.target = !r.command.empty() ? r.command : !r.target.empty() ? r.target : "service=" + r.service;
    f.source = r.remote_host.empty() ? r.tty : r.tty + " from " + r.remote_host;
    f.grant_id = grant ? grant->event_id : std::string();
    if (grant) {
        f.incident_ref = grant->incident;
        f.expires_at = grant->expires_at;
    }
    f.detail = bounded_for_record(with_loginuid_note("pid " + std::to_string(r.pid) +
                                                         (r.detail.empty() ? "" : "; " + r.detail) +
                                                         (grant ? "" : "; no active grant"),
                                                     peer),
                                  audit::kMaxFieldBytes);
    return f;
}

// The deny record of a gated command refused: the command, and the grant it
// tried to run under.
audit::RecordFields refused_command_record(const PeerIdentity& peer, const SessionReport& r, const Grant* grant) {
    audit::RecordFields f = report_record(peer, r, grant);
    f.event = "deny";
    f.action = "break_glass";
    return f;
}

}  // namespace

proto::Message Daemon::on_session(const PeerIdentity& peer, proto::SessionRequest& m, std::int64_t now) {
    if (m.event != "session_open" && m.event != "session_close" && m.event != "command")
        return ErrorAnswer{ErrorCode::BadRequest, "event must be session_open, session_close or command"};
    const SessionReport report{m.user, m.gate,    m.event,  m.service, m.tty,
                               m.remote_host, m.pid, m.command, m.detail, m.target};
    if (auto bad = report_problem(report)) return std::move(*bad);
    if (auto refused = actor_refusal(peer, m.user)) return ErrorAnswer{ErrorCode::NotPermitted, *refused};
    const Grant* grant = grants_.active_for(m.user, m.gate, m.target, now);
    const audit::RecordFields f = report_record(peer, report, grant);
    if (m.event == "session_close") {
        // Closing: never refused for want of disk; queued when it cannot be written now.
        const auto rec = record_closing(f, now, audit::Durability::Deferred);
        return proto::SessionRecorded{rec ? rec->event_id : std::string(), f.grant_id};
    }
    const auto rec = record(f, now, audit::Durability::Synced);
    if (!rec)
        return ErrorAnswer{ErrorCode::Unavailable,
                           "the session could not be recorded (" + escape_for_display(last_record_error_) + ")"};
    if (grant && m.event == "session_open") start_session_scope(peer, grant->event_id, rec->seq, m.service + " session");
    return proto::SessionRecorded{rec->event_id, f.grant_id};
}

// The check and the command record in one exchange: nothing is recorded
// without an active grant (the front-end then breaks the glass, or refuses).
// The run-as group/user must map to the gate in the policy, grant or not: a
// grant opens its gate's group or user only, the one its revocation ends.
proto::Message Daemon::on_command(const PeerIdentity& peer, proto::CommandRequest& m, std::int64_t now) {
    static const std::string kEvent = "command";
    static const std::string kNone;
    const SessionReport report{m.user, m.gate, kEvent, m.service, m.tty, kNone, m.pid, m.command, m.detail, kNone};
    if (auto bad = report_problem(report)) return std::move(*bad);
    if (auto refused = actor_refusal(peer, m.user)) return ErrorAnswer{ErrorCode::NotPermitted, *refused};
    if (m.runas_group.empty() && m.runas_user.empty())
        return ErrorAnswer{ErrorCode::BadRequest, "a command request names the run-as group or user that made it gated"};
    if (auto bad = validate_text(m.runas_group, kMaxGateBytes, true))
        return ErrorAnswer{ErrorCode::BadRequest, "the run-as group " + *bad};
    if (auto bad = validate_text(m.runas_user, kMaxUserBytes, true))
        return ErrorAnswer{ErrorCode::BadRequest, "the run-as user " + *bad};
    proto::CommandAnswer a;
    const Grant* grant = grants_.active_for(m.user, m.gate, now);
    const policy::Gate* gate = gate_in_force(m.gate);
    if (gate == nullptr && grant != nullptr)
        return refuse(peer, ErrorCode::Unavailable,
                      "gate '" + m.gate + "' is not in the policy in force, so the run-as mapping of " + m.user +
                          "'s grant " + grant->event_id + " cannot be checked; the command was refused",
                      refused_command_record(peer, report, grant), now);
    if (gate != nullptr)
        if (auto problem = sudo_mapping_problem(*gate, m.runas_group, m.runas_user))
            return refuse(peer, ErrorCode::Denied, *problem + "; the command was refused",
                          refused_command_record(peer, report, grant), now);
    if (grant == nullptr) {
        // What the front-end needs to break the glass, as a CheckAnswer says it.
        if (gate != nullptr) a.severities = gate->severities;
        a.notice = notice(m.gate);
        return a;
    }
    const audit::RecordFields f = report_record(peer, report, grant);
    const auto rec = record(f, now, audit::Durability::Synced);
    if (!rec)
        return ErrorAnswer{ErrorCode::Unavailable,
                           "the command could not be recorded (" + escape_for_display(last_record_error_) + ")"};
    a.scope = start_session_scope(peer, grant->event_id, rec->seq, m.service + " command");
    a.active = true;
    a.record_event_id = rec->event_id;
    a.grant_id = f.grant_id;
    a.expires_at = f.expires_at;
    return a;
}

}  // namespace bg
