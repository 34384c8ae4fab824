// SPDX-License-Identifier: ISC
// Every audit record is also sent to journald, so
// `journalctl -o json MESSAGE_ID=<id>` is an audit export (docs/ARCHITECTURE.md,
// "The audit record"). Fields: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER=breakglassd,
// MESSAGE_ID (fixed per event type, message_id_for()), and
// BREAKGLASS_<FIELD> for every record field (EVENT_ID, SEQ, EVENT, TIMESTAMP,
// HOST, ACTOR, ..., PREV_HASH, HASH, SEAL), values escaped with
// bg::escape_for_display.
//
// PRIORITY (syslog levels):
//   grant                                        LOG_ALERT   a gate is open: page someone
//   hook_failed                                  LOG_ALERT   a gate's side effect may be left behind
//   alert_failed, sink_gap                       LOG_ERR     the audit/alert pipeline lost something
//   deny, auth_failed, rate_limited, policy_error LOG_WARNING refused or suspicious
//   refusals_suppressed                          LOG_WARNING refusals beyond a requester's budget, counted
//   terminate                                    LOG_WARNING what was signalled after a grant ended (SIGTERM,
//                                                            SIGKILL at the grace), or why nothing could be
//   request, approve, revoke, expire, review, enroll, hook LOG_NOTICE  normal but significant
//   anything else (session_open, command, session_close, policy_load,
//   daemon_start, unknown)                       LOG_INFO
// request, approve, review, alert_failed and sink_gap have their MESSAGE_ID
// and priority reserved for later components; this version records none of
// them. The README and breakglassd(8) list every id ("JOURNAL").
#pragma once

#include <string_view>

#include "helper/audit/audit_record.hpp"

namespace bg::audit {

// The 32-hex MESSAGE_ID of an event type; unknown types get kGenericMessageId.
std::string_view message_id_for(std::string_view event);
inline constexpr std::string_view kGenericMessageId = "60b4b388c232f2be359e940605e7a5ff";

// The syslog priority used for an event type (table above).
int priority_for(std::string_view event);

// The MESSAGE field: "breakglass <event> <event_id> actor="…" gate="…"",
// then action, target, source, incident, approver, grant, detail when not
// empty, and expires when set, each as name="value". Every value is escaped
// (escape_for_display) and always quoted, with `"` inside it written `\"`, so
// text inside a value cannot pass for a field.
std::string journal_message(const Record& r);

// sd_journal_sendv. A missing or failing journald is not an error: the
// record is already durable in the log; the result is ignored.
void send_to_journal(const Record& r);

}  // namespace bg::audit
