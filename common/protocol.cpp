// SPDX-License-Identifier: ISC
#include "common/protocol.hpp"

#include <cstring>
#include <exception>
#include <limits>
#include <set>
#include <type_traits>
#include <utility>

#include <new>

#include <nlohmann/json.hpp>

#include "common/json_build.hpp"
#include "common/json_parse.hpp"
#include "common/text.hpp"

namespace bg::proto {
namespace {

using json = nlohmann::json;

// Per-field bounds on socket input (bytes). Free text is validated again by
// the daemon with a field-specific message; these only keep decode bounded.
constexpr std::size_t kMaxShortField = 256;
constexpr std::size_t kMaxLongField = 4096;
constexpr std::size_t kMaxRecordField = 16 * 1024;

struct DecodeError : std::exception {
    explicit DecodeError(std::string m) : message(std::move(m)) {}
    const char* what() const noexcept override { return message.c_str(); }
    std::string message;
};

// Reads the fields of one body object strictly: each field must be present
// with the right type; finish() rejects any field that was not read.
class Reader {
public:
    explicit Reader(const json& obj) : obj_(obj) {
        if (!obj_.is_object()) throw DecodeError("body is not an object");
    }

    std::string str(const char* key, std::size_t max_bytes) {
        const json& v = field(key);
        if (!v.is_string()) throw DecodeError(std::string("field '") + key + "' is not a string");
        const auto& s = v.get_ref<const std::string&>();
        if (s.size() > max_bytes) throw DecodeError(std::string("field '") + key + "' is too long");
        return s;
    }
    bool boolean(const char* key) {
        const json& v = field(key);
        if (!v.is_boolean()) throw DecodeError(std::string("field '") + key + "' is not a boolean");
        return v.get<bool>();
    }
    std::int64_t i64(const char* key) {
        const json& v = field(key);
        if (!v.is_number_integer()) throw DecodeError(std::string("field '") + key + "' is not an integer");
        if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            throw DecodeError(std::string("field '") + key + "' is out of range");
        return v.get<std::int64_t>();
    }
    std::uint64_t u64(const char* key) {
        const json& v = field(key);
        if (!v.is_number_unsigned()) throw DecodeError(std::string("field '") + key + "' is not a non-negative integer");
        return v.get<std::uint64_t>();
    }
    std::uint32_t u32(const char* key) {
        const std::uint64_t v = u64(key);
        if (v > std::numeric_limits<std::uint32_t>::max()) throw DecodeError(std::string("field '") + key + "' is out of range");
        return static_cast<std::uint32_t>(v);
    }
    std::vector<std::string> str_list(const char* key, std::size_t max_entries, std::size_t max_bytes) {
        const json& v = field(key);
        if (!v.is_array() || v.size() > max_entries) throw DecodeError(std::string("field '") + key + "' is not a bounded list");
        std::vector<std::string> out;
        out.reserve(v.size());
        for (const json& e : v) {
            if (!e.is_string() || e.get_ref<const std::string&>().size() > max_bytes)
                throw DecodeError(std::string("field '") + key + "' has a bad entry");
            out.push_back(e.get<std::string>());
        }
        return out;
    }
    std::vector<std::uint64_t> u64_list(const char* key, std::size_t max_entries) {
        const json& v = field(key);
        if (!v.is_array() || v.size() > max_entries) throw DecodeError(std::string("field '") + key + "' is not a bounded list");
        std::vector<std::uint64_t> out;
        out.reserve(v.size());
        for (const json& e : v) {
            if (!e.is_number_unsigned()) throw DecodeError(std::string("field '") + key + "' has a bad entry");
            out.push_back(e.get<std::uint64_t>());
        }
        return out;
    }
    const json& array(const char* key, std::size_t max_entries) {
        const json& v = field(key);
        if (!v.is_array() || v.size() > max_entries) throw DecodeError(std::string("field '") + key + "' is not a bounded list");
        return v;
    }
    void finish() const {
        if (read_.size() != obj_.size()) {
            for (const auto& [k, _] : obj_.items())
                if (!read_.contains(k)) throw DecodeError("unknown field '" + escape_for_display(k) + "'");
            throw DecodeError("duplicate or unknown fields");
        }
    }

private:
    const json& field(const char* key) {
        const auto it = obj_.find(key);
        if (it == obj_.end()) throw DecodeError(std::string("missing field '") + key + "'");
        read_.insert(key);
        return *it;
    }
    const json& obj_;
    std::set<std::string> read_;
};

// ---- encode: one function per message, field order irrelevant (JSON object).

json to_json(const ErrorAnswer& m) {
    return JsonObject()("code", std::string(error_code_name(m.code)))("message", m.message).take();
}
json to_json(const CheckRequest& m) { return JsonObject()("user", m.user)("gate", m.gate)("target", m.target).take(); }
json to_json(const CheckAnswer& m) {
    return JsonObject()("active", m.active)("event_id", m.event_id)("expires_at", m.expires_at)
            ("severities", m.severities)("notice", m.notice).take();
}
json to_json(const GrantRequest& m) {
    return JsonObject()("user", m.user)("gate", m.gate)("reason", m.reason)("incident", m.incident)
            ("severity", m.severity)("ttl_seconds", m.ttl_seconds)("factor", m.factor)("tty", m.tty)
            ("command", m.command)("runas_group", m.runas_group)("runas_user", m.runas_user)
            ("pam_service", m.pam_service)("target", m.target).take();
}
json to_json(const Granted& m) {
    return JsonObject()("event_id", m.event_id)("expires_at", m.expires_at)("notice", m.notice).take();
}
json to_json(const StatusRequest& m) { return JsonObject()("all", m.all)("after", m.after).take(); }
json pending_json(const PendingInfo& p) {
    return JsonObject()("request_id", p.request_id)("user", p.user)("gate", p.gate)("reason", p.reason)
            ("incident", p.incident)("requested_at", p.requested_at)("expires_at", p.expires_at)
            ("approvals_needed", p.approvals_needed)("approved_by", p.approved_by).take();
}
json to_json(const StatusAnswer& m) {
    json grants = json::array();
    for (const GrantInfo& g : m.grants)
        grants.push_back(JsonObject()("event_id", g.event_id)("user", g.user)("gate", g.gate)("state", g.state)
                ("granted_at", g.granted_at)("expires_at", g.expires_at)("ended_at", g.ended_at)("reason", g.reason)
                ("incident", g.incident).take());
    json sinks = json::array();
    for (const SinkInfo& s : m.sinks)
        sinks.push_back(JsonObject()("name", s.name)("type", s.type)("url", s.url)("insecure", s.insecure)
                ("acked_seq", s.acked_seq)("backlog", s.backlog)("oldest_unacked_at", s.oldest_unacked_at)
                ("backlog_limit", s.backlog_limit)("last_error", s.last_error)("last_error_at", s.last_error_at)
                ("last_ack_at", s.last_ack_at).take());
    json channels = json::array();
    for (const ChannelInfo& c : m.channels)
        channels.push_back(JsonObject()("name", c.name)("type", c.type)("target", c.target)("cursor_seq", c.cursor_seq)
                ("backlog", c.backlog)("delivered", c.delivered)("last_delivery_at", c.last_delivery_at)
                ("last_error", c.last_error)("failing_since", c.failing_since).take());
    json pending = json::array();
    for (const PendingInfo& p : m.pending) pending.push_back(pending_json(p));
    return JsonObject()("grants", std::move(grants))("truncated", m.truncated)("sinks", std::move(sinks))
            ("channels", std::move(channels))("pending", std::move(pending)).take();
}
json to_json(const RevokeRequest& m) { return JsonObject()("event_id", m.event_id)("reason", m.reason).take(); }
json to_json(const Revoked& m) {
    return JsonObject()("event_id", m.event_id)("record_event_id", m.record_event_id).take();
}
json to_json(const ExpireRequest& m) { return JsonObject()("event_id", m.event_id).take(); }
json to_json(const Expired& m) {
    return JsonObject()("event_id", m.event_id)("record_event_id", m.record_event_id).take();
}
json to_json(const LogRequest& m) {
    return JsonObject()("after_seq", m.after_seq)("since", m.since)("limit", m.limit)
            .take();
}
json to_json(const LogAnswer& m) {
    return JsonObject()("records", m.records)("last_seq", m.last_seq)("more", m.more)
            .take();
}
json to_json(const PolicyCheckRequest&) { return json::object(); }
json to_json(const PolicyCheckAnswer& m) {
    return JsonObject()("ok", m.ok)("path", m.path)("error", m.error)("gates", m.gates)("active", m.active)
            ("problems", m.problems).take();
}
json to_json(const PolicyReloadRequest&) { return json::object(); }
json to_json(const PolicyReloaded& m) { return JsonObject()("ok", m.ok)("error", m.error)("gates", m.gates).take(); }
json to_json(const EnrollTotpRequest& m) {
    return JsonObject()("user", m.user)("secret_base32", m.secret_base32).take();
}
json to_json(const Enrolled& m) { return JsonObject()("user", m.user)("otpauth_uri", m.otpauth_uri).take(); }
json to_json(const EnrollYubikeyRequest& m) {
    return JsonObject()("user", m.user)("public_id", m.public_id)("aes_key_hex", m.aes_key_hex)
            ("private_uid_hex", m.private_uid_hex).take();
}
json to_json(const YubikeyEnrolled& m) { return JsonObject()("user", m.user)("public_id", m.public_id).take(); }
json to_json(const SessionRequest& m) {
    return JsonObject()("user", m.user)("gate", m.gate)("event", m.event)("service", m.service)("tty", m.tty)
            ("remote_host", m.remote_host)("pid", m.pid)("command", m.command)("detail", m.detail)("target", m.target)
            .take();
}
json to_json(const SessionRecorded& m) {
    return JsonObject()("record_event_id", m.record_event_id)("grant_id", m.grant_id).take();
}
json to_json(const CommandRequest& m) {
    return JsonObject()("user", m.user)("gate", m.gate)("service", m.service)("tty", m.tty)("pid", m.pid)
            ("command", m.command)("detail", m.detail)("runas_group", m.runas_group)("runas_user", m.runas_user)
            .take();
}
json to_json(const CommandAnswer& m) {
    return JsonObject()("active", m.active)("record_event_id", m.record_event_id)("grant_id", m.grant_id)
            ("expires_at", m.expires_at)("severities", m.severities)("notice", m.notice)("scope", m.scope).take();
}
json to_json(const WaitRequest& m) { return JsonObject()("user", m.user)("request_id", m.request_id).take(); }
json to_json(const RequestState& m) {
    return JsonObject()("request_id", m.request_id)("gate", m.gate)("state", m.state)("approvers", m.approvers)
            ("approvals_needed", m.approvals_needed)("approved_by", m.approved_by)("expires_at", m.expires_at)
            ("grant_id", m.grant_id)("grant_expires_at", m.grant_expires_at)("message", m.message)
            ("request_code", m.request_code).take();
}
json to_json(const CancelRequest& m) { return JsonObject()("user", m.user)("request_id", m.request_id).take(); }
json to_json(const RequestCancelled& m) {
    return JsonObject()("request_id", m.request_id)("record_event_id", m.record_event_id).take();
}
json to_json(const PendingRequest&) { return json::object(); }
json to_json(const PendingAnswer& m) {
    json list = json::array();
    for (const PendingInfo& p : m.requests) list.push_back(pending_json(p));
    return JsonObject()("requests", std::move(list)).take();
}
json to_json(const ApproveRequest& m) {
    return JsonObject()("request_id", m.request_id)("note", m.note)("factor", m.factor).take();
}
json to_json(const ApproveAnswer& m) {
    return JsonObject()("request_id", m.request_id)("record_event_id", m.record_event_id)("approvals", m.approvals)
            ("approvals_needed", m.approvals_needed)("grant_id", m.grant_id).take();
}
json to_json(const RejectRequest& m) { return JsonObject()("request_id", m.request_id)("reason", m.reason).take(); }
json to_json(const Rejected& m) {
    return JsonObject()("request_id", m.request_id)("record_event_id", m.record_event_id)
            .take();
}
json to_json(const SubmitTokenRequest& m) {
    return JsonObject()("user", m.user)("request_id", m.request_id)("token", m.token).take();
}
json to_json(const TokenAccepted& m) {
    return JsonObject()("request_id", m.request_id)("record_event_id", m.record_event_id)("approver", m.approver)
            ("approvals", m.approvals)("approvals_needed", m.approvals_needed)("grant_id", m.grant_id).take();
}
json to_json(const AlertTestRequest& m) { return JsonObject()("channel", m.channel).take(); }
json to_json(const AlertTestAnswer& m) {
    return JsonObject()("channel", m.channel)("type", m.type)("delivered", m.delivered)("http_status", m.http_status)
            ("answer", m.answer)("error", m.error).take();
}
json to_json(const ReviewRequest& m) {
    return JsonObject()("grant_id", m.grant_id)("verdict", m.verdict)("note", m.note)
            .take();
}
json to_json(const Reviewed& m) {
    return JsonObject()("grant_id", m.grant_id)("record_event_id", m.record_event_id).take() ;
}
json to_json(const ReviewsRequest& m) { return JsonObject()("overdue", m.overdue)("after", m.after).take(); }
json to_json(const ReviewsAnswer& m) {
    json list = json::array();
    for (const ReviewInfo& v : m.reviews)
        list.push_back(JsonObject()("grant_id", v.grant_id)("user", v.user)("gate", v.gate)("approvers", v.approvers)
                ("reason", v.reason)("incident", v.incident)("granted_at", v.granted_at)("due_at", v.due_at)
                ("overdue", v.overdue).take());
    return JsonObject()("reviews", std::move(list))("truncated", m.truncated).take();
}
json to_json(const DbCredentialsRequest& m) { return JsonObject()("event_id", m.event_id).take(); }
json to_json(const DbCredentials& m) {
    return JsonObject()("event_id", m.event_id)("role", m.role)("password", m.password)("host", m.host)("port", m.port)
            ("dbname", m.dbname)("expires_at", m.expires_at).take();
}
json to_json(const StoryRequest& m) { return JsonObject()("grant_id", m.grant_id)("after_seq", m.after_seq).take(); }
json to_json(const StoryAnswer& m) {
    return JsonObject()("seqs", m.seqs)("more", m.more)("indexed_through", m.indexed_through)
            ("checkpoint_key", m.checkpoint_key).take();
}

// ---- decode

ErrorCode parse_error_code(const std::string& s) {
    for (auto c : {ErrorCode::Denied, ErrorCode::AuthFailed, ErrorCode::RateLimited, ErrorCode::BadRequest,
                   ErrorCode::NotPermitted, ErrorCode::NotFound, ErrorCode::Unavailable, ErrorCode::Internal})
        if (s == error_code_name(c)) return c;
    throw DecodeError("unknown error code");
}

PendingInfo pending_from(const json& e) {
    Reader p(e);
    PendingInfo info;
    info.request_id = p.str("request_id", kMaxShortField);
    info.user = p.str("user", kMaxShortField);
    info.gate = p.str("gate", kMaxShortField);
    info.reason = p.str("reason", kMaxLongField);
    info.incident = p.str("incident", kMaxShortField);
    info.requested_at = p.i64("requested_at");
    info.expires_at = p.i64("expires_at");
    info.approvals_needed = p.i64("approvals_needed");
    info.approved_by = p.str("approved_by", kMaxLongField);
    p.finish();
    return info;
}

Message decode_body(MessageType type, const json& body) {
    Reader r(body);
    Message out;
    switch (type) {
        case MessageType::ErrorAnswer: {
            ErrorAnswer m;
            m.code = parse_error_code(r.str("code", 32));
            m.message = r.str("message", kMaxLongField);
            out = std::move(m);
            break;
        }
        case MessageType::CheckRequest: {
            CheckRequest m;
            m.user = r.str("user", kMaxShortField);
            m.gate = r.str("gate", kMaxShortField);
            m.target = r.str("target", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::CheckAnswer: {
            CheckAnswer m;
            m.active = r.boolean("active");
            m.event_id = r.str("event_id", kMaxShortField);
            m.expires_at = r.i64("expires_at");
            m.severities = r.str_list("severities", kMaxListEntries, kMaxShortField);
            m.notice = r.str("notice", kMaxLongField);
            out = std::move(m);
            break;
        }
        case MessageType::GrantRequest: {
            GrantRequest m;
            m.user = r.str("user", kMaxShortField);
            m.gate = r.str("gate", kMaxShortField);
            m.reason = r.str("reason", kMaxLongField);
            m.incident = r.str("incident", kMaxShortField);
            m.severity = r.str("severity", kMaxShortField);
            m.ttl_seconds = r.i64("ttl_seconds");
            m.factor = r.str("factor", kMaxShortField);
            m.tty = r.str("tty", kMaxShortField);
            m.command = r.str("command", kMaxLongField + 1);
            m.runas_group = r.str("runas_group", kMaxShortField);
            m.runas_user = r.str("runas_user", kMaxShortField);
            m.pam_service = r.str("pam_service", kMaxShortField);
            m.target = r.str("target", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::Granted: {
            Granted m;
            m.event_id = r.str("event_id", kMaxShortField);
            m.expires_at = r.i64("expires_at");
            m.notice = r.str("notice", kMaxLongField);
            out = std::move(m);
            break;
        }
        case MessageType::StatusRequest: {
            StatusRequest m;
            m.all = r.boolean("all");
            m.after = r.str("after", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::StatusAnswer: {
            StatusAnswer m;
            for (const json& e : r.array("grants", kMaxListEntries)) {
                Reader g(e);
                GrantInfo info;
                info.event_id = g.str("event_id", kMaxShortField);
                info.user = g.str("user", kMaxShortField);
                info.gate = g.str("gate", kMaxShortField);
                info.state = g.str("state", kMaxShortField);
                info.granted_at = g.i64("granted_at");
                info.expires_at = g.i64("expires_at");
                info.ended_at = g.i64("ended_at");
                info.reason = g.str("reason", kMaxLongField);
                info.incident = g.str("incident", kMaxShortField);
                g.finish();
                m.grants.push_back(std::move(info));
            }
            m.truncated = r.boolean("truncated");
            for (const json& e : r.array("sinks", kMaxSinkEntries)) {
                Reader k(e);
                SinkInfo info;
                info.name = k.str("name", kMaxShortField);
                info.type = k.str("type", kMaxShortField);
                info.url = k.str("url", kMaxLongField);
                info.insecure = k.boolean("insecure");
                info.acked_seq = k.u64("acked_seq");
                info.backlog = k.u64("backlog");
                info.oldest_unacked_at = k.i64("oldest_unacked_at");
                info.backlog_limit = k.i64("backlog_limit");
                info.last_error = k.str("last_error", kMaxLongField);
                info.last_error_at = k.i64("last_error_at");
                info.last_ack_at = k.i64("last_ack_at");
                k.finish();
                m.sinks.push_back(std::move(info));
            }
            for (const json& e : r.array("channels", kMaxChannelEntries)) {
                Reader k(e);
                ChannelInfo info;
                info.name = k.str("name", kMaxShortField);
                info.type = k.str("type", kMaxShortField);
                info.target = k.str("target", kMaxLongField);
                info.cursor_seq = k.u64("cursor_seq");
                info.backlog = k.u64("backlog");
                info.delivered = k.u64("delivered");
                info.last_delivery_at = k.i64("last_delivery_at");
                info.last_error = k.str("last_error", kMaxLongField);
                info.failing_since = k.i64("failing_since");
                k.finish();
                m.channels.push_back(std::move(info));
            }
            for (const json& e : r.array("pending", kMaxListEntries)) m.pending.push_back(pending_from(e));
            out = std::move(m);
            break;
        }
        case MessageType::RevokeRequest: {
            RevokeRequest m;
            m.event_id = r.str("event_id", kMaxShortField);
            m.reason = r.str("reason", kMaxLongField);
            out = std::move(m);
            break;
        }
        case MessageType::Revoked: {
            Revoked m;
            m.event_id = r.str("event_id", kMaxShortField);
            m.record_event_id = r.str("record_event_id", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::ExpireRequest: {
            ExpireRequest m;
            m.event_id = r.str("event_id", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::Expired: {
            Expired m;
            m.event_id = r.str("event_id", kMaxShortField);
            m.record_event_id = r.str("record_event_id", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::LogRequest: {
            LogRequest m;
            m.after_seq = r.u64("after_seq");
            m.since = r.i64("since");
            m.limit = r.u32("limit");
            out = std::move(m);
            break;
        }
        case MessageType::LogAnswer: {
            LogAnswer m;
            m.records = r.str_list("records", kMaxLogRecordsPerAnswer, kMaxRecordField);
            m.last_seq = r.u64("last_seq");
            m.more = r.boolean("more");
            out = std::move(m);
            break;
        }
        case MessageType::PolicyCheckRequest: out = PolicyCheckRequest{}; break;
        case MessageType::PolicyCheckAnswer: {
            PolicyCheckAnswer m;
            m.ok = r.boolean("ok");
            m.path = r.str("path", kMaxLongField);
            m.error = r.str("error", kMaxLongField);
            m.gates = r.str_list("gates", kMaxListEntries, kMaxShortField);
            m.active = r.boolean("active");
            m.problems = r.str_list("problems", kMaxListEntries, kMaxLongField);
            out = std::move(m);
            break;
        }
        case MessageType::PolicyReloadRequest: out = PolicyReloadRequest{}; break;
        case MessageType::PolicyReloaded: {
            PolicyReloaded m;
            m.ok = r.boolean("ok");
            m.error = r.str("error", kMaxLongField);
            m.gates = r.str_list("gates", kMaxListEntries, kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::EnrollTotpRequest: {
            EnrollTotpRequest m;
            m.user = r.str("user", kMaxShortField);
            m.secret_base32 = r.str("secret_base32", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::Enrolled: {
            Enrolled m;
            m.user = r.str("user", kMaxShortField);
            m.otpauth_uri = r.str("otpauth_uri", kMaxLongField);
            out = std::move(m);
            break;
        }
        case MessageType::EnrollYubikeyRequest: {
            EnrollYubikeyRequest m;
            m.user = r.str("user", kMaxShortField);
            m.public_id = r.str("public_id", kMaxShortField);
            m.aes_key_hex = r.str("aes_key_hex", kMaxShortField);
            m.private_uid_hex = r.str("private_uid_hex", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::YubikeyEnrolled: {
            YubikeyEnrolled m;
            m.user = r.str("user", kMaxShortField);
            m.public_id = r.str("public_id", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::SessionRequest: {
            SessionRequest m;
            m.user = r.str("user", kMaxShortField);
            m.gate = r.str("gate", kMaxShortField);
            m.event = r.str("event", kMaxShortField);
            m.service = r.str("service", kMaxShortField);
            m.tty = r.str("tty", kMaxShortField);
            m.remote_host = r.str("remote_host", kMaxShortField);
            m.pid = r.i64("pid");
            m.command = r.str("command", kMaxLongField + 1);
            m.detail = r.str("detail", kMaxLongField);
            m.target = r.str("target", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::SessionRecorded: {
            SessionRecorded m;
            m.record_event_id = r.str("record_event_id", kMaxShortField);
            m.grant_id = r.str("grant_id", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::CommandRequest: {
            CommandRequest m;
            m.user = r.str("user", kMaxShortField);
            m.gate = r.str("gate", kMaxShortField);
            m.service = r.str("service", kMaxShortField);
            m.tty = r.str("tty", kMaxShortField);
            m.pid = r.i64("pid");
            m.command = r.str("command", kMaxLongField + 1);
            m.detail = r.str("detail", kMaxLongField);
            m.runas_group = r.str("runas_group", kMaxShortField);
            m.runas_user = r.str("runas_user", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::CommandAnswer: {
            CommandAnswer m;
            m.active = r.boolean("active");
            m.record_event_id = r.str("record_event_id", kMaxShortField);
            m.grant_id = r.str("grant_id", kMaxShortField);
            m.expires_at = r.i64("expires_at");
            m.severities = r.str_list("severities", kMaxListEntries, kMaxShortField);
            m.notice = r.str("notice", kMaxLongField);
            m.scope = r.str("scope", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::WaitRequest: {
            WaitRequest m;
            m.user = r.str("user", kMaxShortField);
            m.request_id = r.str("request_id", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::RequestState: {
            RequestState m;
            m.request_id = r.str("request_id", kMaxShortField);
            m.gate = r.str("gate", kMaxShortField);
            m.state = r.str("state", kMaxShortField);
            m.approvers = r.str("approvers", kMaxLongField);
            m.approvals_needed = r.i64("approvals_needed");
            m.approved_by = r.str("approved_by", kMaxLongField);
            m.expires_at = r.i64("expires_at");
            m.grant_id = r.str("grant_id", kMaxShortField);
            m.grant_expires_at = r.i64("grant_expires_at");
            m.message = r.str("message", kMaxLongField);
            m.request_code = r.str("request_code", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::CancelRequest: {
            CancelRequest m;
            m.user = r.str("user", kMaxShortField);
            m.request_id = r.str("request_id", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::RequestCancelled: {
            RequestCancelled m;
            m.request_id = r.str("request_id", kMaxShortField);
            m.record_event_id = r.str("record_event_id", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::PendingRequest: out = PendingRequest{}; break;
        case MessageType::PendingAnswer: {
            PendingAnswer m;
            for (const json& e : r.array("requests", kMaxListEntries)) m.requests.push_back(pending_from(e));
            out = std::move(m);
            break;
        }
        case MessageType::ApproveRequest: {
            ApproveRequest m;
            m.request_id = r.str("request_id", kMaxShortField);
            m.note = r.str("note", kMaxLongField);
            m.factor = r.str("factor", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::ApproveAnswer: {
            ApproveAnswer m;
            m.request_id = r.str("request_id", kMaxShortField);
            m.record_event_id = r.str("record_event_id", kMaxShortField);
            m.approvals = r.i64("approvals");
            m.approvals_needed = r.i64("approvals_needed");
            m.grant_id = r.str("grant_id", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::RejectRequest: {
            RejectRequest m;
            m.request_id = r.str("request_id", kMaxShortField);
            m.reason = r.str("reason", kMaxLongField);
            out = std::move(m);
            break;
        }
        case MessageType::Rejected: {
            Rejected m;
            m.request_id = r.str("request_id", kMaxShortField);
            m.record_event_id = r.str("record_event_id", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::SubmitTokenRequest: {
            SubmitTokenRequest m;
            m.user = r.str("user", kMaxShortField);
            m.request_id = r.str("request_id", kMaxShortField);
            m.token = r.str("token", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::TokenAccepted: {
            TokenAccepted m;
            m.request_id = r.str("request_id", kMaxShortField);
            m.record_event_id = r.str("record_event_id", kMaxShortField);
            m.approver = r.str("approver", kMaxShortField);
            m.approvals = r.i64("approvals");
            m.approvals_needed = r.i64("approvals_needed");
            m.grant_id = r.str("grant_id", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::AlertTestRequest: {
            AlertTestRequest m;
            m.channel = r.str("channel", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::AlertTestAnswer: {
            AlertTestAnswer m;
            m.channel = r.str("channel", kMaxShortField);
            m.type = r.str("type", kMaxShortField);
            m.delivered = r.boolean("delivered");
            m.http_status = r.i64("http_status");
            m.answer = r.str("answer", kMaxLongField);
            m.error = r.str("error", kMaxLongField);
            out = std::move(m);
            break;
        }
        case MessageType::ReviewRequest: {
            ReviewRequest m;
            m.grant_id = r.str("grant_id", kMaxShortField);
            m.verdict = r.str("verdict", kMaxShortField);
            m.note = r.str("note", kMaxLongField);
            out = std::move(m);
            break;
        }
        case MessageType::Reviewed: {
            Reviewed m;
            m.grant_id = r.str("grant_id", kMaxShortField);
            m.record_event_id = r.str("record_event_id", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::ReviewsRequest: {
            ReviewsRequest m;
            m.overdue = r.boolean("overdue");
            m.after = r.str("after", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::ReviewsAnswer: {
            ReviewsAnswer m;
            for (const json& e : r.array("reviews", kMaxListEntries)) {
                Reader p(e);
                ReviewInfo v;
                v.grant_id = p.str("grant_id", kMaxShortField);
                v.user = p.str("user", kMaxShortField);
                v.gate = p.str("gate", kMaxShortField);
                v.approvers = p.str("approvers", kMaxLongField);
                v.reason = p.str("reason", kMaxLongField);
                v.incident = p.str("incident", kMaxShortField);
                v.granted_at = p.i64("granted_at");
                v.due_at = p.i64("due_at");
                v.overdue = p.boolean("overdue");
                p.finish();
                m.reviews.push_back(std::move(v));
            }
            m.truncated = r.boolean("truncated");
            out = std::move(m);
            break;
        }
        case MessageType::DbCredentialsRequest: {
            DbCredentialsRequest m;
            m.event_id = r.str("event_id", kMaxShortField);
            out = std::move(m);
            break;
        }
        case MessageType::DbCredentials: {
            DbCredentials m;
            m.event_id = r.str("event_id", kMaxShortField);
            m.role = r.str("role", kMaxShortField);
            m.password = r.str("password", kMaxShortField);
            m.host = r.str("host", kMaxLongField);
            m.port = r.str("port", kMaxShortField);
            m.dbname = r.str("dbname", kMaxShortField);
            m.expires_at = r.i64("expires_at");
            out = std::move(m);
            break;
        }
        case MessageType::StoryRequest: {
            StoryRequest m;
            m.grant_id = r.str("grant_id", kMaxShortField);
            m.after_seq = r.u64("after_seq");
            out = std::move(m);
            break;
        }
        case MessageType::StoryAnswer: {
            StoryAnswer m;
            m.seqs = r.u64_list("seqs", kMaxStorySeqsPerAnswer);
            m.more = r.boolean("more");
            m.indexed_through = r.u64("indexed_through");
            m.checkpoint_key = r.str("checkpoint_key", kMaxShortField);
            out = std::move(m);
            break;
        }
        default: throw DecodeError("unknown message type");
    }
    r.finish();
    return out;
}

bool known_type(std::uint16_t t) { return t >= 1 && t <= static_cast<std::uint16_t>(MessageType::StoryAnswer); }

}  // namespace

std::string_view type_name(MessageType t) {
    switch (t) {
        case MessageType::ErrorAnswer: return "ErrorAnswer";
        case MessageType::CheckRequest: return "CheckRequest";
        case MessageType::CheckAnswer: return "CheckAnswer";
        case MessageType::GrantRequest: return "GrantRequest";
        case MessageType::Granted: return "Granted";
        case MessageType::StatusRequest: return "StatusRequest";
        case MessageType::StatusAnswer: return "StatusAnswer";
        case MessageType::RevokeRequest: return "RevokeRequest";
        case MessageType::Revoked: return "Revoked";
        case MessageType::ExpireRequest: return "ExpireRequest";
        case MessageType::Expired: return "Expired";
        case MessageType::LogRequest: return "LogRequest";
        case MessageType::LogAnswer: return "LogAnswer";
        case MessageType::PolicyCheckRequest: return "PolicyCheckRequest";
        case MessageType::PolicyCheckAnswer: return "PolicyCheckAnswer";
        case MessageType::PolicyReloadRequest: return "PolicyReloadRequest";
        case MessageType::PolicyReloaded: return "PolicyReloaded";
        case MessageType::EnrollTotpRequest: return "EnrollTotpRequest";
        case MessageType::Enrolled: return "Enrolled";
        case MessageType::EnrollYubikeyRequest: return "EnrollYubikeyRequest";
        case MessageType::YubikeyEnrolled: return "YubikeyEnrolled";
        case MessageType::SessionRequest: return "SessionRequest";
        case MessageType::SessionRecorded: return "SessionRecorded";
        case MessageType::CommandRequest: return "CommandRequest";
        case MessageType::CommandAnswer: return "CommandAnswer";
        case MessageType::WaitRequest: return "WaitRequest";
        case MessageType::RequestState: return "RequestState";
        case MessageType::CancelRequest: return "CancelRequest";
        case MessageType::RequestCancelled: return "RequestCancelled";
        case MessageType::PendingRequest: return "PendingRequest";
        case MessageType::PendingAnswer: return "PendingAnswer";
        case MessageType::ApproveRequest: return "ApproveRequest";
        case MessageType::ApproveAnswer: return "ApproveAnswer";
        case MessageType::RejectRequest: return "RejectRequest";
        case MessageType::Rejected: return "Rejected";
        case MessageType::SubmitTokenRequest: return "SubmitTokenRequest";
        case MessageType::TokenAccepted: return "TokenAccepted";
        case MessageType::AlertTestRequest: return "AlertTestRequest";
        case MessageType::AlertTestAnswer: return "AlertTestAnswer";
        case MessageType::ReviewRequest: return "ReviewRequest";
        case MessageType::Reviewed: return "Reviewed";
        case MessageType::ReviewsRequest: return "ReviewsRequest";
        case MessageType::ReviewsAnswer: return "ReviewsAnswer";
        case MessageType::DbCredentialsRequest: return "DbCredentialsRequest";
        case MessageType::DbCredentials: return "DbCredentials";
        case MessageType::StoryRequest: return "StoryRequest";
        case MessageType::StoryAnswer: return "StoryAnswer";
    }
    return "unknown";
}

std::string_view error_code_name(ErrorCode c) {
    switch (c) {
        case ErrorCode::Denied: return "denied";
        case ErrorCode::AuthFailed: return "auth_failed";
        case ErrorCode::RateLimited: return "rate_limited";
        case ErrorCode::BadRequest: return "bad_request";
        case ErrorCode::NotPermitted: return "not_permitted";
        case ErrorCode::NotFound: return "not_found";
        case ErrorCode::Unavailable: return "unavailable";
        case ErrorCode::Internal: return "internal";
    }
    return "internal";
}

static_assert(std::variant_size_v<Message> == static_cast<std::size_t>(MessageType::StoryAnswer),
              "Message alternatives must be listed in type-number order, one per type");

MessageType type_of(const Message& m) {
    // The variant's alternatives are in type-number order starting at 1.
    return static_cast<MessageType>(m.index() + 1);
}

Result<std::vector<std::uint8_t>> encode(const Message& m) {
    std::string body;
    try {
        body = std::visit(
            [](const auto& msg) {
                json j = to_json(msg);
                const EmptiedBeforeDestruction emptied(j);
                return j.dump(-1, ' ', false, json::error_handler_t::strict);
            },
            m);
    } catch (const std::bad_alloc&) {
        // Not the message's fault: the caller must know it made no answer
        // (breakglassd voids a grant it could not answer).
        throw;
    } catch (const std::exception&) {
        return make_error("message has a field that is not valid UTF-8");
    }
    if (kHeaderBytes + body.size() > kMaxFrameBytes) return make_error("message exceeds the frame size limit");
    std::vector<std::uint8_t> frame(kHeaderBytes + body.size());
    std::memcpy(frame.data(), kMagic, sizeof kMagic);
    const auto t = static_cast<std::uint16_t>(type_of(m));
    frame[4] = static_cast<std::uint8_t>(t & 0xFFu);
    frame[5] = static_cast<std::uint8_t>(t >> 8);
    frame[6] = 0;
    frame[7] = 0;
    std::memcpy(frame.data() + kHeaderBytes, body.data(), body.size());
    return frame;
}

Result<Message> decode(std::span<const std::uint8_t> frame) {
    if (frame.size() > kMaxFrameBytes) return make_error("frame exceeds the size limit");
    if (frame.size() < kHeaderBytes) return make_error("frame is shorter than its header");
    if (std::memcmp(frame.data(), kMagic, sizeof kMagic) != 0) return make_error("frame has a bad magic");
    if (frame[6] != 0 || frame[7] != 0) return make_error("frame has non-zero reserved bytes");
    const auto t = static_cast<std::uint16_t>(frame[4] | (frame[5] << 8));
    if (!known_type(t)) return make_error("frame has an unknown message type " + std::to_string(t));
    const auto body = frame.subspan(kHeaderBytes);
    try {
        // Depth is bounded so hostile bodies cannot nest deeply, and a key
        // seen twice is refused (nlohmann would keep the last). Parsed into a
        // value emptied before it is freed, out of memory too
        // (common/json_parse.hpp).
        json parsed;
        const EmptiedBeforeDestruction emptied(parsed);
        switch (parse_into(std::string_view(reinterpret_cast<const char*>(body.data()), body.size()), parsed,
                           JsonParseLimits{.max_depth = kMaxJsonDepth, .refuse_duplicate_keys = true})) {
            case JsonParse::Ok: break;
            case JsonParse::TooDeep: throw DecodeError("body nests too deeply");
            case JsonParse::DuplicateKey: throw DecodeError("duplicate field");
            case JsonParse::Invalid: throw DecodeError("body is not valid JSON");
        }
        return decode_body(static_cast<MessageType>(t), parsed);
    } catch (const DecodeError& e) {
        return make_error("malformed " + std::string(type_name(static_cast<MessageType>(t))) + ": " + e.message);
    } catch (const json::exception&) {
        return make_error("malformed " + std::string(type_name(static_cast<MessageType>(t))) + ": body is not valid JSON");
    } catch (const std::exception&) {
        return make_error("malformed frame");
    }
}

}  // namespace bg::proto
