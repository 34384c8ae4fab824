// SPDX-License-Identifier: ISC
#include "helper/audit/audit_record.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <limits>
#include <new>
#include <nlohmann/json.hpp>

#include "common/hex.hpp"
#include "common/json_build.hpp"
#include "common/json_parse.hpp"
#include "common/text.hpp"
#include "common/utc_time.hpp"

namespace bg::audit {
namespace {

using Json = nlohmann::json;

Json to_json(const Record& r, bool with_seal) {
    Json j = Json::object();
    j["action"] = r.action;
    j["actor"] = r.actor;
    j["actor_loginuid"] = r.actor_loginuid;
    j["actor_role"] = r.actor_role;
    j["approver"] = r.approver;
    j["detail"] = r.detail;
    j["event"] = r.event;
    j["event_id"] = r.event_id;
    j["expires_at"] = r.expires_at == 0 ? std::string() : format_utc(r.expires_at);
    j["factor"] = r.factor;
    j["factor_counter"] = r.factor_counter;
    j["gate_bypassed"] = r.gate_bypassed;
    j["grant_id"] = r.grant_id;
    j["host"] = r.host;
    j["incident_ref"] = r.incident_ref;
    j["peer_uid"] = r.peer_uid;
    j["prev_hash"] = r.prev_hash;
    j["reason"] = r.reason;
    j["review_status"] = r.review_status;
    j["seq"] = r.seq;
    j["source"] = r.source;
    j["target"] = r.target;
    j["timestamp"] = format_utc(r.timestamp);
    if (with_seal) {
        j["hash"] = r.hash;
        j["seal"] = r.seal;
    }
    return j;
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

constexpr std::size_t kRecordKeys = 25;

// Field extraction for parse_record: false + message on a type mismatch.
bool get_string(const Json& j, const char* key, std::string* out, std::string* why) {
    const auto it = j.find(key);
    if (it == j.end()) {
        *why = std::string("missing key \"") + key + "\"";
        return false;
    }
    if (!it->is_string()) {
        *why = std::string("key \"") + key + "\" is not a string";
        return false;
    }
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > kMaxFieldBytes) {
        *why = std::string("key \"") + key + "\" is longer than " + std::to_string(kMaxFieldBytes) + " bytes";
        return false;
    }
    *out = s;
    return true;
}

bool get_int64(const Json& j, const char* key, std::int64_t* out, std::string* why) {
    const auto it = j.find(key);
    if (it == j.end()) {
        *why = std::string("missing key \"") + key + "\"";
        return false;
    }
    if (it->is_number_unsigned()) {
        const auto v = it->get<std::uint64_t>();
        if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            *why = std::string("key \"") + key + "\" is out of range";
            return false;
        }
        *out = static_cast<std::int64_t>(v);
        return true;
    }
    if (it->is_number_integer()) {
        *out = it->get<std::int64_t>();
        return true;
    }
    *why = std::string("key \"") + key + "\" is not an integer";
    return false;
}

bool get_uint64(const Json& j, const char* key, std::uint64_t* out, std::string* why) {
    const auto it = j.find(key);
    if (it == j.end()) {
        *why = std::string("missing key \"") + key + "\"";
        return false;
    }
    if (!it->is_number_unsigned()) {
        *why = std::string("key \"") + key + "\" is not an unsigned integer";
        return false;
    }
    *out = it->get<std::uint64_t>();
    return true;
}

Result<Record> parse_record_unchecked(std::string_view line) {
    if (line.size() > kMaxLineBytes) {
        return Error{"record is longer than " + std::to_string(kMaxLineBytes) + " bytes"};
    }
    Json j;
    const EmptiedBeforeDestruction emptied(j);
    if (parse_into(line, j) != JsonParse::Ok) return Error{"record is not valid JSON"};
    if (!j.is_object()) return Error{"record is not a JSON object"};

    Record r;
    std::string why;
    std::string timestamp, expires_at;
    const bool ok =
        get_string(j, "action", &r.action, &why) && get_string(j, "actor", &r.actor, &why) &&
        get_int64(j, "actor_loginuid", &r.actor_loginuid, &why) &&
        get_string(j, "actor_role", &r.actor_role, &why) && get_string(j, "approver", &r.approver, &why) &&
        get_string(j, "detail", &r.detail, &why) && get_string(j, "event", &r.event, &why) &&
        get_string(j, "event_id", &r.event_id, &why) && get_string(j, "expires_at", &expires_at, &why) &&
        get_string(j, "factor", &r.factor, &why) &&
        get_uint64(j, "factor_counter", &r.factor_counter, &why) &&
        get_string(j, "gate_bypassed", &r.gate_bypassed, &why) &&
        get_string(j, "grant_id", &r.grant_id, &why) && get_string(j, "hash", &r.hash, &why) &&
        get_string(j, "host", &r.host, &why) && get_string(j, "incident_ref", &r.incident_ref, &why) &&
        get_int64(j, "peer_uid", &r.peer_uid, &why) && get_string(j, "prev_hash", &r.prev_hash, &why) &&
        get_string(j, "reason", &r.reason, &why) &&
        get_string(j, "review_status", &r.review_status, &why) && get_string(j, "seal", &r.seal, &why) &&
        get_uint64(j, "seq", &r.seq, &why) && get_string(j, "source", &r.source, &why) &&
        get_string(j, "target", &r.target, &why) && get_string(j, "timestamp", &timestamp, &why);
    if (!ok) return Error{"record: " + why};
    if (j.size() != kRecordKeys) return Error{"record has unexpected keys"};

    if (!is_valid_event_name(r.event)) return Error{"record: \"event\" is not [a-z_]{1,32}"};
    if (r.seq == 0) return Error{"record: \"seq\" is 0"};
    const auto ts = parse_utc(timestamp);
    if (!ts) return Error{"record: \"timestamp\" is not a UTC time YYYY-MM-DDTHH:MM:SSZ"};
    r.timestamp = *ts;
    if (expires_at.empty()) {
        r.expires_at = 0;
    } else {
        const auto ex = parse_utc(expires_at);
        if (!ex || *ex == 0) return Error{"record: \"expires_at\" is neither \"\" nor a UTC time"};
        r.expires_at = *ex;
    }
    if (r.event_id != format_event_id(r.timestamp, r.seq)) {
        return Error{"record: \"event_id\" does not match timestamp and seq"};
    }
    if (!is_hex_digest(r.prev_hash)) return Error{"record: \"prev_hash\" is not 64 lowercase hex digits"};
    if (!is_hex_digest(r.hash)) return Error{"record: \"hash\" is not 64 lowercase hex digits"};
    if (!is_hex_digest(r.seal)) return Error{"record: \"seal\" is not 64 lowercase hex digits"};
    if (canonical_json(r) != line) return Error{"record is not in canonical form"};
    return r;
}

}  // namespace

std::string canonical_json(const Record& r) {
    Json j = to_json(r, true);
    const EmptiedBeforeDestruction emptied(j);
    return dump(j);
}

std::string canonical_json_unsealed(const Record& r) {
    Json j = to_json(r, false);
    const EmptiedBeforeDestruction emptied(j);
    return dump(j);
}

std::string compute_hash(const Record& r) {
    const std::string text = canonical_json_unsealed(r);
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(text.data(), text.size(), md.data(), &len, EVP_sha256(), nullptr) != 1 || len != 32) {
        return std::string();  // only on an OpenSSL failure; callers treat "" as an error
    }
    return to_hex(md.data(), len);
}

Result<Record> parse_record(std::string_view line) {
    try {
        return parse_record_unchecked(line);
    } catch (const std::bad_alloc&) {
        // Says nothing about the bytes: a record read as "could not be parsed"
        // for want of memory would be a false alarm of tampering. The caller's
        // guard refuses or retries (common/callback_guard.hpp).
        throw;
    } catch (...) {  // an unexpected library error: never escape
        return Error{"record could not be parsed"};
    }
}

std::string format_event_id(std::int64_t t, std::uint64_t seq) {
    std::array<char, 64> buf{};
    std::snprintf(buf.data(), buf.size(), "bg-%04d-%06llu", utc_year(t),
                  static_cast<unsigned long long>(seq));
    return std::string(buf.data());
}

bool is_valid_event_name(std::string_view event) {
    if (event.empty() || event.size() > kMaxEventBytes) return false;
    for (const char c : event) {
        if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
    }
    return true;
}

std::optional<std::string> validate_fields(const RecordFields& f) {
    if (!is_valid_event_name(f.event)) return std::string("event is not [a-z_]{1,32}");
    const std::pair<const char*, const std::string*> strings[] = {
        {"actor", &f.actor},         {"actor_role", &f.actor_role},
        {"action", &f.action},       {"target", &f.target},
        {"gate_bypassed", &f.gate_bypassed}, {"reason", &f.reason},
        {"incident_ref", &f.incident_ref},   {"approver", &f.approver},
        {"source", &f.source},       {"review_status", &f.review_status},
        {"grant_id", &f.grant_id},   {"detail", &f.detail},
        {"factor", &f.factor},
    };
    for (const auto& [name, value] : strings) {
        if (value->size() > kMaxFieldBytes) {
            return std::string(name) + " is longer than " + std::to_string(kMaxFieldBytes) + " bytes";
        }
        if (!bg::is_valid_utf8(*value)) return std::string(name) + " is not valid UTF-8";
    }
    if (f.expires_at < 0 || f.expires_at > kMaxTimestamp) return std::string("expires_at is out of range");
    return std::nullopt;
}

std::string to_hex(const unsigned char* data, std::size_t n) { return hex_encode({data, n}); }

bool is_hex_digest(std::string_view s) {
    if (s.size() != kHexDigestChars) return false;
    for (const char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

}  // namespace bg::audit
