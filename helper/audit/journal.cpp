// SPDX-License-Identifier: ISC
#include "helper/audit/journal.hpp"

#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/text.hpp"

namespace bg::audit {
namespace {

struct EventId {
    std::string_view event;
    std::string_view message_id;
};

// Fixed forever: journal queries and alert rules match on these.
constexpr EventId kMessageIds[] = {
    {"request", "f766535341c08f164eab5f45d0efbc7e"},
    {"approve", "fc4e3ad2db80632e82cf7baea3961d48"},
    {"deny", "8ab5821d6ea49fd6c1a453d50c89eae0"},
    {"grant", "63c7affc6836cfe79a364c0f510cdd33"},
    {"session_open", "fc1caf054efbf54d6f5e9ad1f290350a"},
    {"command", "443f6849fdaaff740b98cf40c8146359"},
    {"session_close", "90a0efac14fce6c30ee55561ab191e85"},
    {"revoke", "19c56924ef76ea314bdf1985b3d5487b"},
    {"expire", "005ea59de874fc0f74c7c71c06762771"},
    {"review", "081fd069a8a58ad51817737441019268"},
    {"alert_failed", "15c11c790f7d3751e7000b2dc17f6f68"},
    {"sink_gap", "1ec7829161f47b617b66e4fb6a71d776"},
    {"alert_alarm", "f569f26b43200edb6eab21fd57f888cd"},
    {"auth_failed", "fd6666950691df100b83180a146ac77d"},
    {"rate_limited", "ca09ab794e5d86b7d4f79091d519d536"},
    {"enroll", "a60b0ec9700090d65af5406fbf8e1e55"},
    {"policy_load", "f1cc32f942723391d8268109b3c7929d"},
    {"policy_error", "425dbfef6eaec957112d43460244c8ae"},
    {"daemon_start", "e5266665eaa74f59ff9cb331987abcc1"},
    {"terminate", "37a5f7a108f081232fe3f4059e6e96c2"},
    {"hook", "b0804ffe37fc5fc071ae78511f693ac8"},
    {"hook_failed", "65456f048f89377ebbc75b672621a63e"},
    {"refusals_suppressed", "1ffd766c6d804f9b9cef7987deadcda8"},
    {"checkpoint", "8480a26002e128844a84347661108e20"},
    {"grant_void", "7096e718c52190d420139460e3fbf61c"},
    {"reject", "0661b6e93574b47a0336589647c268e5"},
    {"approval_refused", "26c7bf5a4334f3a4e17d39888c057e39"},
    {"request_cancelled", "18a742bfbddcc572acd329bfc25fa148"},
    {"request_expired", "8becd2e4ece576eb23478472d106c3a6"},
    {"verify_failed", "4fd0274fd246e402176d02e3444560e5"},
    {"review_refused", "1aa990caf08a4e223f2ce0080557c091"},
    {"review_overdue", "d9dd79411f5695cd8c0df628df087a3b"},
    {"db_role", "8eec36b50a4969619427b3c900540fd1"},
    {"db_role_drop", "139cb00809d308388b96bdcfeb9b8ac5"},
    {"db_revoke_failed", "d3492ca0a242c4ad86fb5d598a717791"},
};

bool is_one_of(std::string_view event, std::initializer_list<std::string_view> names) {
    for (const auto n : names) {
        if (event == n) return true;
    }
    return false;
}

// ` name="value"`: the value escaped for display, then its double quotes
// escaped. Always quoted, so text inside a value (a command `x gate=other`, a
// detail with `" actor="root`) can never read as a field of its own: a `"`
// inside a value is always `\"` and a `\` always `\\`, so the value ends at
// the first unescaped `"` (issue 10, item 9).
void append_field(std::string& m, std::string_view name, std::string_view raw) {
    m += ' ';
    m += name;
    m += "=\"";
    for (const char c : escape_for_display(raw)) {
        if (c == '"') m += '\\';
        m += c;
    }
    m += '"';
}

}  // namespace

std::string_view message_id_for(std::string_view event) {
    for (const auto& e : kMessageIds) {
        if (e.event == event) return e.message_id;
    }
    return kGenericMessageId;
}

int priority_for(std::string_view event) {
    if (is_one_of(event, {"grant", "hook_failed", "alert_alarm", "verify_failed"})) return LOG_ALERT;
    if (is_one_of(event, {"grant", "hook_failed", "alert_alarm", "db_revoke_failed"})) return LOG_ALERT;
    if (is_one_of(event, {"alert_failed", "sink_gap", "grant_void"})) return LOG_ERR;
    if (is_one_of(event, {"deny", "auth_failed", "rate_limited", "refusals_suppressed", "policy_error", "terminate",
                          "approval_refused", "review_refused", "review_overdue"}))
        return LOG_WARNING;
    if (is_one_of(event, {"request", "approve", "reject", "request_cancelled", "request_expired", "revoke", "expire",
                          "review", "enroll", "hook", "db_role", "db_role_drop"}))
        return LOG_NOTICE;
    return LOG_INFO;
}

std::string journal_message(const Record& r) {
    std::string m = "breakglass " + escape_for_display(r.event) + " " + escape_for_display(r.event_id);
    append_field(m, "actor", r.actor);
    append_field(m, "gate", r.gate_bypassed);
    const std::pair<const char*, const std::string*> optional[] = {
        {"action", &r.action}, {"target", &r.target},     {"source", &r.source},
        {"incident", &r.incident_ref}, {"approver", &r.approver}, {"grant", &r.grant_id},
        {"detail", &r.detail},
    };
    for (const auto& [name, value] : optional) {
        if (!value->empty()) append_field(m, name, *value);
    }
    if (r.expires_at != 0) append_field(m, "expires", format_utc(r.expires_at));
    return m;
}

std::vector<std::string> journal_fields(const Record& r, std::string_view record_line) {
    std::vector<std::string> fields;
    fields.reserve(34);
    fields.push_back("MESSAGE=" + journal_message(r));
    fields.push_back("PRIORITY=" + std::to_string(priority_for(r.event)));
    fields.emplace_back("SYSLOG_IDENTIFIER=breakglassd");
    fields.push_back("MESSAGE_ID=" + std::string(message_id_for(r.event)));
    const auto text = [&](const char* name, const std::string& value) {
        fields.push_back(std::string("BREAKGLASS_") + name + "=" + escape_for_display(value));
    };
    const auto number = [&](const char* name, auto value) {
        fields.push_back(std::string("BREAKGLASS_") + name + "=" + std::to_string(value));
    };
    text("EVENT_ID", r.event_id);
    number("SEQ", r.seq);
    text("EVENT", r.event);
    text("TIMESTAMP", format_utc(r.timestamp));
    text("HOST", r.host);
    text("ACTOR", r.actor);
    number("ACTOR_LOGINUID", r.actor_loginuid);
    text("ACTOR_ROLE", r.actor_role);
    text("ACTION", r.action);
    text("TARGET", r.target);
    text("GATE_BYPASSED", r.gate_bypassed);
    text("REASON", r.reason);
    text("INCIDENT_REF", r.incident_ref);
    text("APPROVER", r.approver);
    text("EXPIRES_AT", r.expires_at == 0 ? std::string() : format_utc(r.expires_at));
    text("SOURCE", r.source);
    text("REVIEW_STATUS", r.review_status);
    text("GRANT_ID", r.grant_id);
    text("DETAIL", r.detail);
    text("FACTOR", r.factor);
    number("FACTOR_COUNTER", r.factor_counter);
    number("PEER_UID", r.peer_uid);
    text("PREV_HASH", r.prev_hash);
    text("HASH", r.hash);
    text("SEAL", r.seal);
    // The canonical line escapes every control character (audit_record.hpp),
    // so it holds no newline and goes as it is: the remote copy's bytes are
    // the log's.
    if (!record_line.empty()) fields.push_back("BREAKGLASS_RECORD=" + std::string(record_line));
    return fields;
}

void append_export_field(std::string& out, std::string_view field) {
    const std::size_t eq = field.find('=');
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : field.substr(eq + 1);
    if (value.find('\n') == std::string_view::npos) {
        out += field;
        out += '\n';
        return;
    }
    // The binary form: NAME, newline, little-endian 64-bit size, the bytes, newline.
    out += field.substr(0, eq);
    out += '\n';
    std::uint64_t n = value.size();
    for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
    out += value;
    out += '\n';
}

std::string journal_export_entry(const Record& r, std::string_view record_line) {
    std::string out;
    out.reserve(2 * record_line.size() + 1024);
    // The record's own time, so `journalctl --since` on the remote copy means
    // when it happened; the receiver keeps its own arrival time as well.
    out += "__REALTIME_TIMESTAMP=" + std::to_string(static_cast<std::uint64_t>(r.timestamp) * 1000000ULL) + "\n";
    append_export_field(out, "_HOSTNAME=" + escape_for_display(r.host));
    for (const std::string& f : journal_fields(r, record_line)) append_export_field(out, f);
    out += '\n';
    return out;
}

void send_to_journal(const Record& r) {
    std::vector<std::string> fields = journal_fields(r, canonical_json(r));
    std::vector<struct iovec> iov(fields.size());
    for (std::size_t i = 0; i < fields.size(); ++i) {
        iov[i].iov_base = fields[i].data();
        iov[i].iov_len = fields[i].size();
    }
    (void)sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

}  // namespace bg::audit
