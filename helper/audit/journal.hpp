// SPDX-License-Identifier: ISC
// Every audit record is also sent to journald, so
// `journalctl -o json MESSAGE_ID=<id>` is an audit export (docs/ARCHITECTURE.md,
// "The audit record"). Fields: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER=breakglassd,
// MESSAGE_ID (fixed per event type, message_id_for()), and
// BREAKGLASS_<FIELD> for every record field (EVENT_ID, SEQ, EVENT, TIMESTAMP,
// HOST, ACTOR, ..., PREV_HASH, HASH, SEAL), values escaped with
// bg::escape_for_display, and BREAKGLASS_RECORD, the canonical line itself.
//
// PRIORITY (syslog levels):
//   grant                                        LOG_ALERT   a gate is open: page someone
//   hook_failed                                  LOG_ALERT   a gate's side effect may be left behind
//   verify_failed                                LOG_ALERT   breakglassd found at start that the audit log
//                                                            does not verify (hash chain, seq, key index)
//   db_revoke_failed                             LOG_ALERT   a PostgreSQL gate's role could not be dropped at
//                                                            the grant's end (database unreachable): retried with
//                                                            backoff; VALID UNTIL still stops new logins
//   alert_failed, sink_gap, grant_void           LOG_ERR     the audit/alert pipeline lost something
//                                                            (grant_void: a grant refused after its record, the
//                                                            remote acknowledgement it required never came)
//   deny, auth_failed, rate_limited, policy_error LOG_WARNING refused or suspicious
//   approval_refused                             LOG_WARNING an approval refused (the requester, not an
//                                                            approver, the same approver twice, no such request)
//   refusals_suppressed                          LOG_WARNING refusals beyond a requester's budget, counted
//   review_refused                               LOG_WARNING a review refused (the grant's actor or an
//                                                            approver of it, not a reviewer, already
//                                                            reviewed, no such grant)
//   review_overdue                               LOG_WARNING a grant not reviewed within its gate's
//                                                            review_within (once per grant)
//   terminate                                    LOG_WARNING what was signalled after a grant ended (SIGTERM,
//                                                            SIGKILL at the grace), or why nothing could be
//   request, approve, revoke, expire, review, enroll, hook LOG_NOTICE  normal but significant
//   db_role, db_role_drop                        LOG_NOTICE  a PostgreSQL gate's role made for a grant (its
//                                                            name), and dropped at its end (the backends ended)
//   reject, request_cancelled, request_expired   LOG_NOTICE  a request for approval ended without a grant
//                                                            (reject: an approver turned it down; `deny`
//                                                            stays the daemon's own refusal)
//   anything else (session_open, command, session_close, policy_load,
//   daemon_start, checkpoint, unknown)           LOG_INFO
// checkpoint: a signed checkpoint (signed_checkpoint.hpp), after every grant,
// at start-up and every 5 minutes while records are written; its entry's
// BREAKGLASS_RECORD is what verify --journal-file/--journal-export checks.
// The README and breakglassd(8) list every id ("JOURNAL").
#pragma once

#include <string>
#include <string_view>
#include <vector>

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

// Every field of the record's journal entry, "NAME=value": MESSAGE,
// PRIORITY, SYSLOG_IDENTIFIER, MESSAGE_ID, every BREAKGLASS_<FIELD> and,
// when `record_line` is not empty, BREAKGLASS_RECORD=<the canonical line>,
// byte for byte, so a copy of the entry can be verified like the log.
std::vector<std::string> journal_fields(const Record& r, std::string_view record_line);

// One entry in the journal export format (what `journalctl -o export`
// writes and systemd-journal-remote's /upload reads): __REALTIME_TIMESTAMP
// (the record's time), _HOSTNAME (the record's host), journal_fields(), each
// "NAME=value\n" (the binary form when a value holds a newline), then an
// empty line.
std::string journal_export_entry(const Record& r, std::string_view record_line);
// Appends one "NAME=value" field to an export entry, in the binary form
// when the value holds a newline.
void append_export_field(std::string& out, std::string_view field);

// sd_journal_sendv of journal_fields(r, canonical_json(r)). A missing or failing journald is not an error: the
// record is already durable in the log; the result is ignored.
void send_to_journal(const Record& r);

}  // namespace bg::audit
