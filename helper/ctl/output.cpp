// SPDX-License-Identifier: ISC
#include "helper/ctl/output.hpp"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "common/text.hpp"

namespace bg::ctl {
namespace {

using json = nlohmann::json;

std::string dump(const json& j) {
    // replace: a record with invalid UTF-8 still prints (as U+FFFD) instead of throwing.
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Length of the UTF-8 sequence starting at s[i] if it is well-formed in
// shape (lead byte + continuation bytes), else 1. escape_for_display decides
// validity; this only keeps a character in one piece when truncating.
std::size_t sequence_length(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 1;
    if ((c & 0xE0) == 0xC0) len = 2;
    else if ((c & 0xF0) == 0xE0) len = 3;
    else if ((c & 0xF8) == 0xF0) len = 4;
    if (i + len > s.size()) return 1;
    for (std::size_t k = 1; k < len; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
    return len;
}

std::string pad(std::string_view escaped, std::size_t width) {
    std::string out(escaped);
    const std::size_t w = display_width(escaped);
    if (w < width) out.append(width - w, ' ');
    return out;
}

// A string member of a record, or "" when absent; non-strings are dumped.
std::string member(const json& record, const char* key) {
    const auto it = record.find(key);
    if (it == record.end() || it->is_null()) return {};
    if (it->is_string()) return it->get<std::string>();
    return dump(*it);
}

// key=value with the value escaped, quoted when it would otherwise be
// ambiguous. Backslashes are already doubled by escaping, so \" is unambiguous.
std::string key_value(std::string_view key, std::string_view raw) {
    const std::string escaped = escape_for_display(raw);
    const bool quote = escaped.find_first_of(" \"=") != std::string::npos;
    std::string out(key);
    out += '=';
    if (!quote) return out + escaped;
    out += '"';
    for (const char c : escaped) {
        if (c == '"') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

std::string error_hint(proto::ErrorCode c) {
    switch (c) {
        case proto::ErrorCode::Denied: return {};  // the daemon's message already says why
        case proto::ErrorCode::AuthFailed:
            return "check the one-time code and the clock, wait for a fresh code and try again";
        case proto::ErrorCode::RateLimited: return "too many failed attempts; wait a few minutes before trying again";
        case proto::ErrorCode::BadRequest: return "correct the field named above and try again";
        case proto::ErrorCode::NotPermitted: return "this needs root or the grant's own user (try sudo)";
        case proto::ErrorCode::NotFound: return "see 'breakglassctl list --all' for known grants";
        case proto::ErrorCode::Unavailable:
            return "breakglassd cannot decide right now; see 'journalctl -u breakglassd' and 'breakglassctl policy check'";
        case proto::ErrorCode::Internal: return "this is a bug in breakglassd; see 'journalctl -u breakglassd'";
    }
    return {};
}

// "key": unix seconds plus "key_utc": the same time in RFC 3339 ("" for 0).
void add_time(json& into, const char* key, std::int64_t t) {
    into[key] = t;
    into[std::string(key) + "_utc"] = t != 0 ? format_utc(t) : std::string();
}

}  // namespace

std::string format_span(std::int64_t seconds) {
    if (seconds < 0) return "-" + format_span(-seconds);
    if (seconds < 60) return std::to_string(seconds) + "s";
    if (seconds < 86400 - 30) {
        const std::int64_t minutes = (seconds + 30) / 60;
        const std::int64_t h = minutes / 60;
        const std::int64_t m = minutes % 60;
        if (h == 0) return std::to_string(m) + "m";
        return std::to_string(h) + "h" + (m != 0 ? std::to_string(m) + "m" : "");
    }
    const std::int64_t hours = (seconds + 1800) / 3600;
    const std::int64_t d = hours / 24;
    const std::int64_t h = hours % 24;
    return std::to_string(d) + "d" + (h != 0 ? std::to_string(h) + "h" : "");
}

std::size_t display_width(std::string_view escaped) {
    return static_cast<std::size_t>(
        std::count_if(escaped.begin(), escaped.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string escape_and_truncate(std::string_view raw, std::size_t max_columns) {
    static constexpr std::string_view kEllipsis = "...";
    const std::string whole = escape_for_display(raw);
    if (display_width(whole) <= max_columns) return whole;
    const std::size_t budget = max_columns > kEllipsis.size() ? max_columns - kEllipsis.size() : 0;
    std::string out;
    std::size_t width = 0;
    for (std::size_t i = 0; i < raw.size();) {
        const std::size_t n = sequence_length(raw, i);
        const std::string piece = escape_for_display(raw.substr(i, n));
        const std::size_t w = display_width(piece);
        if (width + w > budget) break;
        out += piece;
        width += w;
        i += n;
    }
    return out + std::string(kEllipsis.substr(0, std::min(kEllipsis.size(), max_columns)));
}

std::string format_granted(std::string_view gate, const proto::Granted& g, std::int64_t now) {
    const std::int64_t left = g.expires_at - now;
    return "granted: " + escape_for_display(g.event_id) + " gate=" + escape_for_display(gate) +
           " expires_at=" + format_utc(g.expires_at) +
           (left > 0 ? " (in " + format_span(left) + ")" : std::string(" (already expired)"));
}

std::string format_grant_table(const proto::StatusAnswer& a, bool all, std::int64_t now) {
    if (a.grants.empty()) return all ? "no grants\n" : "no active grants\n";
    using Row = std::array<std::string, 7>;
    std::vector<Row> rows;
    rows.push_back({"EVENT ID", "USER", "GATE", "STATE", all ? "EXPIRES/ENDED" : "EXPIRES", "INCIDENT", "REASON"});
    for (const proto::GrantInfo& g : a.grants) {
        std::string when;
        if (g.ended_at != 0) {
            when = format_utc(g.ended_at);
        } else {
            const std::int64_t left = g.expires_at - now;
            when = format_utc(g.expires_at) + (left > 0 ? " (in " + format_span(left) + ")" : std::string(" (due)"));
        }
        rows.push_back({escape_for_display(g.event_id), escape_for_display(g.user), escape_for_display(g.gate),
                        escape_for_display(g.state), when, escape_for_display(g.incident),
                        escape_and_truncate(g.reason, kReasonColumnWidth)});
    }
    std::array<std::size_t, 7> widths{};
    for (const Row& r : rows)
        for (std::size_t c = 0; c < r.size(); ++c) widths[c] = std::max(widths[c], display_width(r[c]));
    std::string out;
    for (const Row& r : rows) {
        std::string line;
        for (std::size_t c = 0; c < r.size(); ++c) {
            if (c + 1 < r.size()) line += pad(r[c], widths[c]) + "  ";
            else line += r[c];
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    if (a.truncated) out += "(more grants exist than breakglassd sent; the list is cut at " +
                            std::to_string(proto::kMaxListEntries) + ")\n";
    return out;
}

std::string format_log_record(std::string_view record_json) {
    const json record = json::parse(record_json, nullptr, /*allow_exceptions=*/false);
    if (!record.is_object()) return "(unparsable record) " + escape_for_display(record_json);
    std::string line = escape_for_display(member(record, "timestamp")) + " " +
                       escape_for_display(member(record, "event_id")) + " " + escape_for_display(member(record, "event"));
    static constexpr std::array<std::pair<const char*, const char*>, 5> kFields = {{
        {"actor", "actor"},
        {"gate", "gate_bypassed"},
        {"incident", "incident_ref"},
        {"reason", "reason"},
        {"detail", "detail"},
    }};
    for (const auto& [label, key] : kFields) {
        const std::string value = member(record, key);
        if (!value.empty()) line += " " + key_value(label, value);
    }
    return line;
}

std::string export_log_record(std::string_view record_json) {
    const bool has_raw_control = std::any_of(record_json.begin(), record_json.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7F;
    });
    return has_raw_control ? escape_for_display(record_json) : std::string(record_json);
}

std::string format_verify(const VerifyOutcome& v) {
    if (!v.ok)
        return "FAILED at seq " + std::to_string(v.first_bad_seq) + ": " + escape_for_display(v.message);
    // What the verdict does not cover is worth saying (a key file behind the
    // log, an end nothing could check): verify_log's notes follow "; ".
    const auto note = v.message.find("; ");
    return "OK: " + std::to_string(v.records) + " records, " +
           (v.seals_checked ? std::string("chain and seals verified")
                            : std::string("chain verified; seals NOT checked (no --key)")) +
           (note == std::string::npos ? std::string() : escape_for_display(v.message.substr(note)));
}

std::string format_gate_list(const std::vector<std::string>& gates) {
    if (gates.empty()) return "(none)";
    std::string out;
    for (const std::string& g : gates) {
        if (!out.empty()) out += ", ";
        out += escape_for_display(g);
    }
    return out;
}

std::string escape_lines(std::string_view text) {
    std::string out;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        out += escape_for_display(text.substr(0, end));
        if (end == std::string_view::npos) break;
        out += '\n';
        text.remove_prefix(end + 1);
    }
    return out;
}

std::string format_policy_ok(std::string_view path, const std::vector<std::string>& gates) {
    return escape_for_display(path) + ": OK, gates: " + format_gate_list(gates);
}

std::string describe_error(const proto::ErrorAnswer& e) {
    std::string out(proto::error_code_name(e.code));
    out += ": ";
    out += e.message.empty() ? std::string("(no message)") : escape_for_display(e.message);
    const std::string hint = error_hint(e.code);
    if (!hint.empty()) out += "; " + hint;
    return out;
}

std::string granted_json(std::string_view gate, const proto::Granted& g) {
    json j = {{"event_id", g.event_id}, {"gate", gate}};
    add_time(j, "expires_at", g.expires_at);
    return dump(j);
}

std::string format_sinks(const std::vector<proto::SinkInfo>& sinks, std::int64_t now) {
    std::string out;
    for (const proto::SinkInfo& s : sinks) {
        out += "sink " + escape_for_display(s.name) + " (" + escape_for_display(s.type) + " " +
               escape_for_display(s.url) + (s.insecure ? ", INSECURE" : "") + "): acknowledged through seq " +
               std::to_string(s.acked_seq);
        if (s.backlog == 0) {
            out += ", nothing waiting";
        } else {
            out += ", " + std::to_string(s.backlog) + " record(s) waiting";
            if (s.oldest_unacked_at > 0)
                out += ", the oldest " + format_span(std::max<std::int64_t>(now - s.oldest_unacked_at, 0)) + " old" +
                       (now - s.oldest_unacked_at >= s.backlog_limit ? " (over its backlog_limit)" : "");
        }
        if (!s.last_error.empty())
            out += "\n  last error " + (s.last_error_at > 0 ? format_utc(s.last_error_at) + ": " : std::string()) +
                   escape_for_display(s.last_error);
        out += "\n";
    }
    return out;
}

std::string format_channels(const std::vector<proto::ChannelInfo>& channels, std::int64_t now) {
    std::string out;
    for (const proto::ChannelInfo& c : channels) {
        out += "alert " + escape_for_display(c.name) + " (" + escape_for_display(c.type) + " " +
               escape_for_display(c.target) + "): done through seq " + std::to_string(c.cursor_seq) + ", " +
               std::to_string(c.delivered) + " delivered";
        if (c.last_delivery_at > 0) out += ", the last at " + format_utc(c.last_delivery_at);
        out += c.backlog == 0 ? ", nothing waiting" : ", " + std::to_string(c.backlog) + " record(s) waiting";
        if (c.failing_since > 0)
            out += "\n  FAILING for " + format_span(std::max<std::int64_t>(now - c.failing_since, 0)) +
                   " (since " + format_utc(c.failing_since) + "): " + escape_for_display(c.last_error);
        out += "\n";
    }
    return out;
}

std::string format_pending(const std::vector<proto::PendingInfo>& pending, const std::string& me, std::int64_t now) {
    std::string out;
    for (const proto::PendingInfo& p : pending) {
        const std::string id = escape_for_display(p.request_id);
        out += "pending " + id + "  " + escape_for_display(p.user) + "  gate " + escape_for_display(p.gate) +
               "  incident " + escape_for_display(p.incident) + "  " +
               (p.approved_by.empty() ? std::string("no approval yet") : "approved by " + escape_for_display(p.approved_by)) +
               ", " + std::to_string(p.approvals_needed) + " needed, expires " + format_utc(p.expires_at) + " (in " +
               format_span(std::max<std::int64_t>(p.expires_at - now, 0)) + ")" +
               (p.user == me ? std::string("  [yours: waiting for approval]")
                             : "  [breakglassctl approve " + id + " | deny " + id + " --reason TEXT]") +
               "\n    reason: " + escape_for_display(p.reason) + "\n";
    }
    return out;
}

std::string status_json(const proto::StatusAnswer& a) {
    json grants = json::array();
    for (const proto::GrantInfo& g : a.grants) {
        json e = {{"event_id", g.event_id}, {"user", g.user},         {"gate", g.gate},
                  {"state", g.state},       {"reason", g.reason},     {"incident", g.incident}};
        add_time(e, "granted_at", g.granted_at);
        add_time(e, "expires_at", g.expires_at);
        add_time(e, "ended_at", g.ended_at);
        grants.push_back(std::move(e));
    }
    json sinks = json::array();
    for (const proto::SinkInfo& k : a.sinks) {
        json e = {{"name", k.name},           {"type", k.type},       {"url", k.url},
                  {"insecure", k.insecure},   {"acked_seq", k.acked_seq}, {"backlog", k.backlog},
                  {"backlog_limit_seconds", k.backlog_limit}, {"last_error", k.last_error}};
        add_time(e, "oldest_unacked_at", k.oldest_unacked_at);
        add_time(e, "last_error_at", k.last_error_at);
        add_time(e, "last_ack_at", k.last_ack_at);
        sinks.push_back(std::move(e));
    }
    json channels = json::array();
    for (const proto::ChannelInfo& c : a.channels) {
        json e = {{"name", c.name},       {"type", c.type},           {"target", c.target},
                  {"cursor_seq", c.cursor_seq}, {"backlog", c.backlog}, {"delivered", c.delivered},
                  {"last_error", c.last_error}};
        add_time(e, "last_delivery_at", c.last_delivery_at);
        add_time(e, "failing_since", c.failing_since);
        channels.push_back(std::move(e));
    }
    json pending = json::array();
    for (const proto::PendingInfo& p : a.pending) {
        json e = {{"request_id", p.request_id}, {"user", p.user},         {"gate", p.gate},
                  {"reason", p.reason},         {"incident", p.incident}, {"approvals_needed", p.approvals_needed},
                  {"approved_by", p.approved_by}};
        add_time(e, "requested_at", p.requested_at);
        add_time(e, "expires_at", p.expires_at);
        pending.push_back(std::move(e));
    }
    return dump({{"grants", std::move(grants)}, {"truncated", a.truncated}, {"sinks", std::move(sinks)},
                 {"channels", std::move(channels)}, {"pending", std::move(pending)}});
}

std::string revoked_json(const proto::Revoked& r) {
    return dump({{"event_id", r.event_id}, {"record_event_id", r.record_event_id}});
}

std::string expired_json(const proto::Expired& e) {
    return dump({{"event_id", e.event_id}, {"record_event_id", e.record_event_id}});
}

std::string verify_json(const VerifyOutcome& v) {
    return dump({{"ok", v.ok},
                 {"records", v.records},
                 {"first_bad_seq", v.first_bad_seq},
                 {"message", v.message},
                 {"seals_checked", v.seals_checked}});
}

std::string policy_check_json(const proto::PolicyCheckAnswer& a) {
    return dump({{"ok", a.ok}, {"path", a.path}, {"error", a.error}, {"gates", a.gates}, {"active", a.active},
                 {"problems", a.problems}});
}

std::string policy_reloaded_json(const proto::PolicyReloaded& r) {
    return dump({{"ok", r.ok}, {"error", r.error}, {"gates", r.gates}});
}

std::string enrolled_json(const proto::Enrolled& e) {
    return dump({{"user", e.user}, {"otpauth_uri", e.otpauth_uri}});
}

std::string error_json(std::string_view code, std::string_view message) {
    return dump({{"error", {{"code", code}, {"message", message}}}});
}

}  // namespace bg::ctl
