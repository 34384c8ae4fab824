// SPDX-License-Identifier: ISC
// SessionRequest (root or a trusted front-end): a session or command under
// a grant, recorded. The command record opens something and is durable
// before the answer (the command runs only then); a session's close is a
// closing record, written at once and synced by the next maintenance, or,
// on a full disk, written as soon as it can be (record_closing).
#include "common/text.hpp"
#include "helper/daemon/daemon.hpp"

namespace bg {

using proto::ErrorAnswer;
using proto::ErrorCode;

proto::Message Daemon::on_session(const PeerIdentity& peer, proto::SessionRequest& m, std::int64_t now) {
    if (m.event != "session_open" && m.event != "session_close" && m.event != "command")
        return ErrorAnswer{ErrorCode::BadRequest, "event must be session_open, session_close or command"};
    if (!is_valid_name(m.user, kMaxUserBytes) || !is_valid_name(m.gate, kMaxGateBytes))
        return ErrorAnswer{ErrorCode::BadRequest, "user and gate must be valid names"};
    const struct {
        const char* what;
        const std::string& value;
        std::size_t max;
    } texts[] = {{"service", m.service, kMaxGateBytes},
                 {"tty", m.tty, kMaxTtyBytes},
                 {"remote host", m.remote_host, kMaxTtyBytes},
                 {"command", m.command, kMaxCommandBytes},
                 {"detail", m.detail, kMaxReasonBytes}};
    for (const auto& t : texts)
        if (auto bad = validate_text(t.value, t.max, true))
            return ErrorAnswer{ErrorCode::BadRequest, std::string("the ") + t.what + " " + *bad};
    const Grant* grant = grants_.active_for(m.user, m.gate, now);
    audit::RecordFields f;
    f.event = m.event;
    f.action = m.service.empty() ? "session" : m.service;
    f.actor = m.user;
    f.actor_loginuid = peer.loginuid;
    f.actor_role = "requester";
    f.peer_uid = static_cast<std::int64_t>(peer.uid);
    f.gate_bypassed = m.gate;
    f.target = m.command.empty() ? "service=" + m.service : m.command;
    f.source = m.remote_host.empty() ? m.tty : m.tty + " from " + m.remote_host;
    f.grant_id = grant ? grant->event_id : std::string();
    if (grant) {
        f.incident_ref = grant->incident;
        f.expires_at = grant->expires_at;
    }
    f.detail = bounded_for_record("pid " + std::to_string(m.pid) + (m.detail.empty() ? "" : "; " + m.detail) +
                                      (grant ? "" : "; no active grant"),
                                  audit::kMaxFieldBytes);
    if (m.event == "session_close") {
        // Closing: never refused for want of disk; queued when it cannot be written now.
        const auto rec = record_closing(f, now, audit::Durability::Deferred);
        return proto::SessionRecorded{rec ? rec->event_id : std::string(), f.grant_id};
    }
    const auto rec = record(f, now);
    if (!rec)
        return ErrorAnswer{ErrorCode::Unavailable,
                           "the session could not be recorded (" + escape_for_display(last_record_error_) + ")"};
    return proto::SessionRecorded{rec->event_id, f.grant_id};
}

}  // namespace bg
