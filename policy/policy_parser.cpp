// SPDX-License-Identifier: ISC
// parse_policy: TOML bytes → Policy. Pure; every failure, whether toml11's,
// std::regex's or ours, becomes one "FILE:LINE:COL: message" Error.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

#include <toml.hpp>

#include "common/text.hpp"
#include "helper/audit/ed25519.hpp"
#include "policy/policy.hpp"

namespace bg::policy {
namespace {

using std::chrono::seconds;

// toml11 parses arrays and inline tables recursively; deeper input than this
// is refused before it reaches toml11 so a hostile file cannot exhaust the stack.
constexpr int kMaxNesting = 32;
// toml11 copies the whole source line for every value on it, so one huge
// line costs quadratic time. No sensible policy line comes near this.
constexpr std::size_t kMaxLineBytes = 4096;

struct Position {
    std::uint32_t line = 1;
    std::uint32_t column = 1;
};

// Thrown inside this file only; parse_policy turns it into an Error.
struct PolicyError {
    Position at;
    std::string message;
};

[[noreturn]] void fail(Position at, std::string message) { throw PolicyError{at, std::move(message)}; }

std::string in_quotes(std::string_view s) { return "'" + escape_for_display(s) + "'"; }

// Byte offset → line and column. toml11's own source_location counts the
// newlines from the start of the file on every call, which made walking a
// large policy quadratic; this index answers in O(log lines).
class LineIndex {
public:
    explicit LineIndex(std::string_view text) : text_(text) {
        starts_.push_back(0);
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '\n') starts_.push_back(i + 1);
        }
    }
    Position at(std::size_t offset) const {
        offset = std::min(offset, text_.size());
        const auto next = std::upper_bound(starts_.begin(), starts_.end(), offset);
        const auto line = static_cast<std::size_t>(next - starts_.begin());  // >= 1: starts_[0] == 0
        return {static_cast<std::uint32_t>(line), static_cast<std::uint32_t>(offset - starts_[line - 1] + 1)};
    }
    std::string_view line_text(std::uint32_t line) const {
        if (line == 0 || line > starts_.size()) return {};
        const std::size_t begin = starts_[line - 1];
        const std::size_t end = line < starts_.size() ? starts_[line] - 1 : text_.size();
        return text_.substr(begin, end - begin);
    }

private:
    std::string_view text_;
    std::vector<std::size_t> starts_;
};

// The index of the text being parsed. Set by parse_policy for the duration of
// one parse (IndexScope); positions fall back to toml11's when it is unset.
thread_local const LineIndex* t_index = nullptr;

class IndexScope {
public:
    explicit IndexScope(const LineIndex& index) : previous_(t_index) { t_index = &index; }
    IndexScope(const IndexScope&) = delete;
    IndexScope& operator=(const IndexScope&) = delete;
    ~IndexScope() { t_index = previous_; }

private:
    const LineIndex* previous_;
};

Position value_position(const toml::value& v) {
    // toml11 v3 keeps each value's source region; its offset is exact and cheap.
    const auto* region = dynamic_cast<const toml::detail::region*>(toml::detail::get_region(v));
    if (t_index && region) return t_index->at(static_cast<std::size_t>(region->first() - region->begin()));
    const auto loc = v.location();
    return {std::max<std::uint32_t>(loc.line(), 1), std::max<std::uint32_t>(loc.column(), 1)};
}

// toml11 v3 records where values are, not keys. The key is on the value's
// line: before the value for `key = value`, anywhere on the line for a table
// header or dotted key. When it cannot be found, point at the value.
Position key_position(const toml::value& v, std::string_view key) {
    Position at = value_position(v);
    const std::string fallback_line = t_index ? std::string() : v.location().line_str();
    const std::string_view line = t_index ? t_index->line_text(at.line) : std::string_view(fallback_line);
    std::size_t found = std::string::npos;
    if (v.is_table()) {
        found = line.rfind(key);
    } else {
        found = line.substr(0, std::min<std::size_t>(at.column - 1, line.size())).find(key);
    }
    if (!key.empty() && found != std::string::npos) at.column = static_cast<std::uint32_t>(found + 1);
    return at;
}

std::string type_name(const toml::value& v) {
    switch (v.type()) {
        case toml::value_t::empty: return "empty";
        case toml::value_t::boolean: return "a boolean";
        case toml::value_t::integer: return "an integer";
        case toml::value_t::floating: return "a float";
        case toml::value_t::string: return "a string";
        case toml::value_t::offset_datetime:
        case toml::value_t::local_datetime: return "a date-time";
        case toml::value_t::local_date: return "a date";
        case toml::value_t::local_time: return "a time";
        case toml::value_t::array: return "an array";
        case toml::value_t::table: return "a table";
    }
    return "an unknown type";
}

// The entries of a table in file order, so the first error reported is the
// first one in the file whatever toml11's hash order is.
std::vector<std::pair<std::string, const toml::value*>> in_file_order(const toml::value& table) {
    std::vector<std::tuple<std::uint32_t, std::uint32_t, std::string, const toml::value*>> keyed;
    for (const auto& [key, value] : table.as_table()) {
        const auto at = value_position(value);
        keyed.emplace_back(at.line, at.column, key, &value);
    }
    std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
        return std::tie(std::get<0>(a), std::get<1>(a), std::get<2>(a)) <
               std::tie(std::get<0>(b), std::get<1>(b), std::get<2>(b));
    });
    std::vector<std::pair<std::string, const toml::value*>> out;
    out.reserve(keyed.size());
    for (auto& [line, column, key, value] : keyed) out.emplace_back(std::move(key), value);
    return out;
}

// --- typed accessors; `where` is "[defaults]" or "[gate.NAME]" ------------

const std::string& expect_string(const toml::value& v, std::string_view key, std::string_view where,
                                 std::string_view what = "a string") {
    if (!v.is_string()) {
        fail(value_position(v), std::string(key) + " in " + std::string(where) + " must be " + std::string(what) +
                                    ", not " + type_name(v));
    }
    return v.as_string().str;
}

std::vector<std::pair<std::string, Position>> expect_string_array(const toml::value& v, std::string_view key,
                                                                  std::string_view where) {
    if (!v.is_array()) {
        fail(value_position(v), std::string(key) + " in " + std::string(where) +
                                    " must be an array of strings, not " + type_name(v));
    }
    std::vector<std::pair<std::string, Position>> out;
    std::set<std::string> seen;
    for (const auto& item : v.as_array()) {
        if (!item.is_string()) {
            fail(value_position(item), "each entry of " + std::string(key) + " in " + std::string(where) +
                                           " must be a string, not " + type_name(item));
        }
        const std::string& s = item.as_string().str;
        if (!seen.insert(s).second) {
            fail(value_position(item), in_quotes(s) + " is listed twice in " + std::string(key) + " in " +
                                           std::string(where));
        }
        out.emplace_back(s, value_position(item));
    }
    return out;
}

seconds expect_duration(const toml::value& v, std::string_view key, std::string_view where) {
    const std::string& text = expect_string(v, key, where, "a duration string such as \"30m\"");
    const auto d = parse_duration(text);
    if (!d) {
        fail(value_position(v), "invalid duration " + in_quotes(text) + " for " + std::string(key) + " in " +
                                    std::string(where) +
                                    ": use numbers with units d, h, m, s such as \"30m\" or \"1h30m\", "
                                    "more than 0s and at most 7d");
    }
    return *d;
}

std::vector<std::string> expect_factors(const toml::value& v, std::string_view where) {
    const auto items = expect_string_array(v, "factors", where);
    if (items.empty()) {
        fail(value_position(v), "factors in " + std::string(where) + " is empty; list at least one of totp, yubikey");
    }
    std::vector<std::string> out;
    for (const auto& [factor, at] : items) {
        if (factor != "totp" && factor != "yubikey") {
            fail(at, "unknown factor " + in_quotes(factor) + " in " + std::string(where) + "; known factors: totp, yubikey");
        }
        out.push_back(factor);
    }
    return out;
}

std::vector<std::string> expect_names(const toml::value& v, std::string_view key, std::string_view where,
                                      std::string_view what) {
    std::vector<std::string> out;
    for (const auto& [name, at] : expect_string_array(v, key, where)) {
        if (!is_valid_name(name, kMaxNameBytes)) {
            fail(at, "invalid " + std::string(what) + " " + in_quotes(name) + " in " + std::string(key) + " in " +
                         std::string(where) + "; use letters, digits, '_', '.', '-' (not first), at most 64 bytes");
        }
        out.push_back(name);
    }
    return out;
}

std::vector<Principal> expect_principals(const toml::value& v, std::string_view key, std::string_view where) {
    std::vector<Principal> out;
    for (const auto& [text, at] : expect_string_array(v, key, where)) {
        Principal p;
        p.is_group = !text.empty() && text.front() == '%';
        p.name = p.is_group ? text.substr(1) : text;
        if (!is_valid_name(p.name, kMaxNameBytes)) {
            fail(at, "invalid principal " + in_quotes(text) + " in " + std::string(key) + " in " + std::string(where) +
                         "; use a user name (\"alice\") or % and a group name (\"%oncall\")");
        }
        out.push_back(std::move(p));
    }
    return out;
}

std::string expect_name(const toml::value& v, std::string_view key, std::string_view where, std::string_view what) {
    const std::string& name = expect_string(v, key, where);
    if (!is_valid_name(name, kMaxNameBytes)) {
        fail(value_position(v), "invalid " + std::string(what) + " " + in_quotes(name) + " for " + std::string(key) +
                                    " in " + std::string(where) +
                                    "; use letters, digits, '_', '.', '-' (not first), at most 64 bytes");
    }
    return name;
}

// What makes a pattern too costly for std::regex, or nothing. libstdc++'s
// executor backtracks and recurses once per state: quantifiers stacked on one
// another ("a+++"), an unbounded group repeated ("(a*)+", "(a+){3}") or a
// large count ("a{1001}") overflow its stack on a 9-byte incident reference
// (found by fuzz_policy), which would take the daemon down at the first
// request. An incident pattern needs none of them. A pure function of the
// text; std::regex still judges the syntax.
std::optional<std::string> costly_pattern(std::string_view p) {
    constexpr unsigned kMaxCount = 32;
    enum class Last { Nothing, Atom, Group, Quantifier };
    Last last = Last::Nothing;
    bool lazy_allowed = false;
    bool group_unbounded = false;          // the group that just closed holds * + or {n,}
    std::vector<bool> open;                // per open group: holds an unbounded quantifier
    for (std::size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        bool is_quantifier = false, unbounded = false, repeats = false;
        if (c == '*' || c == '+') {
            is_quantifier = unbounded = repeats = true;
        } else if (c == '?') {
            if (last == Last::Quantifier && lazy_allowed) {  // "a*?": the lazy form, once
                lazy_allowed = false;
                continue;
            }
            is_quantifier = true;
        } else if (c == '{') {
            std::size_t j = i + 1;
            unsigned low = 0, high = 0;
            bool digits = false, comma = false, high_digits = false;
            for (; j < p.size() && p[j] >= '0' && p[j] <= '9'; ++j, digits = true)
                low = low > kMaxCount ? low : low * 10 + static_cast<unsigned>(p[j] - '0');
            if (j < p.size() && p[j] == ',') {
                comma = true;
                for (++j; j < p.size() && p[j] >= '0' && p[j] <= '9'; ++j, high_digits = true)
                    high = high > kMaxCount ? high : high * 10 + static_cast<unsigned>(p[j] - '0');
            }
            if (digits && j < p.size() && p[j] == '}') {
                if (low > kMaxCount || high > kMaxCount)
                    return "repeats more than " + std::to_string(kMaxCount) + " times";
                is_quantifier = true;
                unbounded = comma && !high_digits;
                repeats = unbounded || (comma ? high : low) > 1;
                i = j;
            }
        }
        if (is_quantifier) {
            if (last == Last::Quantifier) return std::string("has a quantifier on a quantifier");
            if (last == Last::Group && repeats && group_unbounded)
                return std::string("repeats a group that holds * or + (nested quantifiers)");
            if (unbounded && !open.empty()) open.back() = true;
            last = Last::Quantifier;
            lazy_allowed = true;
            continue;
        }
        switch (c) {
        case '\\':
            ++i;
            last = Last::Atom;
            break;
        case '[': {
            std::size_t j = i + 1;
            if (j < p.size() && p[j] == '^') ++j;
            if (j < p.size() && p[j] == ']') ++j;
            for (; j < p.size() && p[j] != ']'; ++j)
                if (p[j] == '\\') ++j;
            i = j;
            last = Last::Atom;
            break;
        }
        case '(':
            open.push_back(false);
            if (i + 1 < p.size() && p[i + 1] == '?') i += 2;  // (?: (?= (?!
            last = Last::Nothing;
            break;
        case ')':
            group_unbounded = !open.empty() && open.back();
            if (!open.empty()) open.pop_back();
            if (group_unbounded && !open.empty()) open.back() = true;
            last = Last::Group;
            break;
        case '|':
        case '^':
        case '$':
            last = Last::Nothing;
            break;
        default:
            last = Last::Atom;
        }
    }
    return std::nullopt;
}

std::regex compile_pattern(const std::string& pattern, Position at, std::string_view where) {
    if (const auto bad = validate_text(pattern, kMaxPatternBytes)) {
        fail(at, "incident_pattern in " + std::string(where) + " " + *bad);
    }
    if (const auto costly = costly_pattern(pattern)) {
        fail(at, "incident_pattern " + in_quotes(pattern) + " in " + std::string(where) + " " + *costly +
                     ": backtracking on it could exhaust the daemon's stack; write it without");
    }
    try {
        return std::regex(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
        fail(at, "incident_pattern " + in_quotes(pattern) + " in " + std::string(where) +
                     " is not a valid regular expression: " + e.what());
    }
}

// --- the two sections --------------------------------------------------------

template <typename T>
struct Setting {
    T value{};
    bool set = false;
    Position at;
};

struct Defaults {
    Setting<seconds> max_ttl;
    Setting<seconds> ttl;
    Setting<std::string> incident_pattern;
    Setting<std::vector<std::string>> factors;
    Setting<std::vector<std::string>> severities;
    Setting<bool> remote_ack;
    Setting<seconds> remote_ack_timeout;
    Setting<std::vector<std::string>> alert;
    Setting<std::string> alert_severity;
    Setting<std::vector<Principal>> reviewers;
    Setting<seconds> review_within;
};

constexpr const char* kDefaultsKeys =
    "max_ttl, ttl, incident_pattern, factors, severities, trusted_frontends, remote_ack, remote_ack_timeout, alert, "
    "alert_severity, alert_burst, alert_fail_alarm, reviewers, review_within";

// review_within: at least kMinReviewWithin (a review due sooner than a minute
// after the grant is noise), at most the longest duration.
seconds expect_review_within(const toml::value& v, std::string_view where) {
    const seconds t = expect_duration(v, "review_within", where);
    if (t < kMinReviewWithin)
        fail(value_position(v), "review_within " + format_duration(t) + " in " + std::string(where) +
                                    " is shorter than " + format_duration(kMinReviewWithin));
    return t;
}
constexpr const char* kAlertKeys = "type, url, url_file, routing_key_file, token_file, ca_file, to, sendmail";

// alert = ["oncall", ...]: every name an [alert.NAME] of this policy.
std::vector<std::string> expect_alert_names(const toml::value& v, std::string_view where,
                                            const std::map<std::string, AlertChannel>& channels) {
    std::vector<std::string> out;
    for (const auto& [name, at] : expect_string_array(v, "alert", where)) {
        if (!channels.contains(name)) {
            std::string known;
            for (const auto& [n, c] : channels) known += (known.empty() ? "" : ", ") + n;
            fail(at, "alert in " + std::string(where) + " names " + in_quotes(name) +
                         ", which is no [alert.NAME] of this policy" +
                         (known.empty() ? std::string("; define it") : "; defined: " + known));
        }
        out.push_back(name);
    }
    return out;
}

std::string expect_alert_severity(const toml::value& v, std::string_view where) {
    const std::string& s = expect_string(v, "alert_severity", where, "\"critical\", \"error\", \"warning\" or \"info\"");
    if (s != "critical" && s != "error" && s != "warning" && s != "info")
        fail(value_position(v), "alert_severity in " + std::string(where) +
                                    " must be \"critical\", \"error\", \"warning\" or \"info\", not " + in_quotes(s));
    return s;
}

AlertBurst expect_alert_burst(const toml::value& v) {
    const Position at = value_position(v);
    if (!v.is_table())
        fail(at, "alert_burst in [defaults] must be a table such as { failures = 5, within = \"1m\" }, not " + type_name(v));
    AlertBurst b;
    for (const auto& [key, item_ptr] : in_file_order(v)) {
        const toml::value& item = *item_ptr;
        if (key == "failures") {
            if (!item.is_integer())
                fail(value_position(item), "failures in alert_burst must be an integer, not " + type_name(item));
            const auto n = item.as_integer();
            if (n < 1 || n > kMaxAlertBurstFailures)
                fail(value_position(item), "failures in alert_burst must be between 1 and " +
                                               std::to_string(kMaxAlertBurstFailures) + ", not " + std::to_string(n));
            b.failures = static_cast<int>(n);
        } else if (key == "within") {
            b.within = expect_duration(item, "within", "alert_burst");
        } else {
            fail(key_position(item, key), "unknown key " + in_quotes(key) + " in alert_burst; known keys: failures, within");
        }
    }
    return b;
}

constexpr const char* kSinkKeys =
    "type, url, ca_file, client_cert, client_key, token_file, insecure, backlog_limit";

bool expect_remote_ack(const toml::value& v, std::string_view where) {
    const std::string& mode = expect_string(v, "remote_ack", where, "\"none\" or \"required\"");
    if (mode != "none" && mode != "required")
        fail(value_position(v), "remote_ack in " + std::string(where) + " must be \"none\" or \"required\", not " +
                                    in_quotes(mode));
    return mode == "required";
}

seconds expect_remote_ack_timeout(const toml::value& v, std::string_view where) {
    const seconds t = expect_duration(v, "remote_ack_timeout", where);
    if (t > kMaxRemoteAckTimeout)
        fail(value_position(v), "remote_ack_timeout " + format_duration(t) + " in " + std::string(where) +
                                    " is longer than " + format_duration(kMaxRemoteAckTimeout) +
                                    "; a requester waits that long for the remote log");
    return t;
}
constexpr const char* kGateKeys =
    "description, requesters, incident_pattern, ttl, max_ttl, factors, severities, sudo_runas_group, "
    "sudo_runas_user, pam_service, approvals, approvers, approval_timeout, termination_grace, on_grant, on_revoke, "
    "remote_ack, remote_ack_timeout, alert, alert_severity, reviewers, review_within, postgres";

// [gate.NAME.postgres]: conninfo, member_of, connection_limit.
PostgresGate parse_postgres(const toml::value& v, const std::string& gate_where) {
    const std::string where = gate_where.substr(0, gate_where.size() - 1) + ".postgres]";
    if (!v.is_table()) fail(value_position(v), "postgres in " + gate_where + " must be a table, not " + type_name(v));
    PostgresGate pg;
    bool have_conninfo = false;
    for (const auto& [key, value_ptr] : in_file_order(v)) {
        const toml::value& item = *value_ptr;
        const Position at = value_position(item);
        if (key == "conninfo") {
            pg.conninfo = expect_string(item, key, where, "a libpq connection string");
            if (const auto bad = validate_text(pg.conninfo, kMaxConninfoBytes)) fail(at, "conninfo in " + where + " " + *bad);
            // Secrets go in files (passfile=PATH), never in the policy.
            if (pg.conninfo.find("password") != std::string::npos)
                fail(at, "conninfo in " + where +
                             " names a password; use peer authentication or passfile=PATH (a root-only file)");
            have_conninfo = true;
        } else if (key == "member_of") {
            pg.member_of = expect_names(item, key, where, "role name");
        } else if (key == "connection_limit") {
            if (!item.is_integer())
                fail(at, "connection_limit in " + where + " must be an integer, not " + type_name(item));
            const auto n = item.as_integer();
            if (n < 1 || n > kMaxConnectionLimit)
                fail(at, "connection_limit in " + where + " must be between 1 and " +
                             std::to_string(kMaxConnectionLimit) + ", not " + std::to_string(n));
            pg.connection_limit = static_cast<int>(n);
        } else {
            fail(key_position(item, key), "unknown key " + in_quotes(key) + " in " + where +
                                              "; known keys: conninfo, member_of, connection_limit");
        }
    }
    if (!have_conninfo)
        fail(value_position(v), where + " has no conninfo; add conninfo = \"host=/var/run/postgresql dbname=postgres "
                                        "user=breakglass_admin\"");
    return pg;
}

Defaults parse_defaults(const toml::value& table, Policy& policy) {
    Defaults d;
    const std::string where = "[defaults]";
    if (!table.is_table()) fail(value_position(table), "defaults must be a table, not " + type_name(table));
    for (const auto& [key, value_ptr] : in_file_order(table)) {
        const toml::value& v = *value_ptr;
        const Position at = value_position(v);
        if (key == "max_ttl") {
            d.max_ttl = {expect_duration(v, key, where), true, at};
        } else if (key == "ttl") {
            d.ttl = {expect_duration(v, key, where), true, at};
        } else if (key == "incident_pattern") {
            const std::string& pattern = expect_string(v, key, where);
            compile_pattern(pattern, at, where);
            d.incident_pattern = {pattern, true, at};
        } else if (key == "factors") {
            d.factors = {expect_factors(v, where), true, at};
        } else if (key == "severities") {
            d.severities = {expect_names(v, key, where, "severity"), true, at};
        } else if (key == "trusted_frontends") {
            policy.trusted_frontends = expect_names(v, key, where, "user name");
        } else if (key == "remote_ack") {
            d.remote_ack = {expect_remote_ack(v, where), true, at};
        } else if (key == "remote_ack_timeout") {
            d.remote_ack_timeout = {expect_remote_ack_timeout(v, where), true, at};
        } else if (key == "alert") {
            d.alert = {expect_alert_names(v, where, policy.alerts), true, at};
            policy.alert_defaults = d.alert.value;
        } else if (key == "alert_severity") {
            d.alert_severity = {expect_alert_severity(v, where), true, at};
        } else if (key == "alert_burst") {
            policy.alert_burst = expect_alert_burst(v);
        } else if (key == "alert_fail_alarm") {
            policy.alert_fail_alarm = expect_duration(v, key, where);
        } else if (key == "reviewers") {
            d.reviewers = {expect_principals(v, key, where), true, at};
        } else if (key == "review_within") {
            d.review_within = {expect_review_within(v, where), true, at};
        } else {
            fail(key_position(v, key), "unknown key " + in_quotes(key) + " in [defaults]; known keys: " + kDefaultsKeys);
        }
    }
    return d;
}

// Separation of duties, as far as the file alone can tell: a requester never
// approves their own request, so every user requester needs N approvers
// besides themselves. Approver groups are resolved only at request time
// (the daemon refuses, with a record, a request whose approvers other than
// the requester are fewer than N), so a gate with one is not judged here.
void check_separation_of_duties(const Gate& g, Position approvals_at, Position approvers_at) {
    if (g.approvals == 0) return;
    std::vector<std::string> users;
    for (const Principal& p : g.approvers) {
        if (p.is_group) return;
        users.push_back(p.name);
    }
    const auto count = [&](const std::string& without) {
        return static_cast<int>(std::count_if(users.begin(), users.end(), [&](const std::string& u) { return u != without; }));
    };
    if (count("") < g.approvals) {
        fail(approvals_at, "gate " + in_quotes(g.name) + " needs " + std::to_string(g.approvals) +
                               " approval(s) from different people but names only " + std::to_string(users.size()) +
                               " approver(s); add approvers or lower approvals");
    }
    for (const Principal& r : g.requesters) {
        if (r.is_group || count(r.name) >= g.approvals) continue;
        fail(approvers_at, "gate " + in_quotes(g.name) + " needs " + std::to_string(g.approvals) +
                               " approval(s) but requester " + in_quotes(r.name) + " may not approve their own request, " +
                               "which leaves " + std::to_string(count(r.name)) + " approver(s); add approvers");
    }
}

struct GateMappings {
    std::map<std::string, std::string> runas_groups;  // value → gate
    std::map<std::string, std::string> runas_users;
    std::map<std::string, std::string> pam_services;
};

void claim_mapping(std::map<std::string, std::string>& taken, const std::string& value, const std::string& gate,
                   std::string_view key, Position at) {
    if (value.empty()) return;
    const auto [it, inserted] = taken.emplace(value, gate);
    if (!inserted) {
        fail(at, std::string(key) + " " + in_quotes(value) + " of gate " + in_quotes(gate) + " is already mapped by gate " +
                     in_quotes(it->second) + "; each " + std::string(key) + " may select one gate only");
    }
}

Gate parse_gate(const std::string& name, const toml::value& table, const Defaults& d, GateMappings& mappings,
                const std::map<std::string, AlertChannel>& channels) {
    const Position gate_at = key_position(table, name);
    if (!is_valid_name(name, kMaxNameBytes)) {
        fail(gate_at, "invalid gate name " + in_quotes(name) +
                          "; use letters, digits, '_', '.', '-' (not first), at most 64 bytes");
    }
    const std::string where = "[gate." + name + "]";
    if (!table.is_table()) fail(value_position(table), "gate " + in_quotes(name) + " must be a table, not " + type_name(table));

    Gate g;
    g.name = name;
    g.line = static_cast<int>(value_position(table).line);
    Setting<seconds> ttl;
    Setting<seconds> max_ttl;
    Setting<std::string> pattern;
    Setting<std::vector<std::string>> factors;
    Setting<std::vector<std::string>> severities;
    bool have_requesters = false;
    Position requesters_at = gate_at;
    Position approvals_at = gate_at;
    Position approvers_at = gate_at;
    Position runas_group_at, runas_user_at, pam_service_at;
    Setting<bool> remote_ack;
    Setting<seconds> remote_ack_timeout;
    Setting<std::vector<std::string>> alert;
    Setting<std::string> alert_severity;
    Setting<std::vector<Principal>> reviewers;
    Setting<seconds> review_within;
    Position postgres_at = gate_at;

    for (const auto& [key, value_ptr] : in_file_order(table)) {
        const toml::value& v = *value_ptr;
        const Position at = value_position(v);
        if (key == "description") {
            g.description = expect_string(v, key, where);
            if (const auto bad = validate_text(g.description, kMaxDescriptionBytes, true)) {
                fail(at, "description in " + where + " " + *bad);
            }
        } else if (key == "requesters") {
            g.requesters = expect_principals(v, key, where);
            have_requesters = true;
            requesters_at = at;
        } else if (key == "incident_pattern") {
            pattern = {expect_string(v, key, where), true, at};
        } else if (key == "ttl") {
            ttl = {expect_duration(v, key, where), true, at};
        } else if (key == "max_ttl") {
            max_ttl = {expect_duration(v, key, where), true, at};
        } else if (key == "factors") {
            factors = {expect_factors(v, where), true, at};
        } else if (key == "severities") {
            severities = {expect_names(v, key, where, "severity"), true, at};
        } else if (key == "sudo_runas_group") {
            g.sudo_runas_group = expect_name(v, key, where, "group name");
            runas_group_at = at;
        } else if (key == "sudo_runas_user") {
            g.sudo_runas_user = expect_name(v, key, where, "user name");
            runas_user_at = at;
        } else if (key == "pam_service") {
            g.pam_service = expect_name(v, key, where, "PAM service name");
            pam_service_at = at;
        } else if (key == "approvals") {
            if (!v.is_integer()) fail(at, "approvals in " + where + " must be an integer, not " + type_name(v));
            const auto n = v.as_integer();
            if (n < 0 || n > kMaxApprovals) {
                fail(at, "approvals in " + where + " must be between 0 and " + std::to_string(kMaxApprovals) +
                             ", not " + std::to_string(n));
            }
            g.approvals = static_cast<int>(n);
            approvals_at = at;
        } else if (key == "approvers") {
            g.approvers = expect_principals(v, key, where);
            approvers_at = at;
        } else if (key == "approval_timeout") {
            g.approval_timeout = expect_duration(v, key, where);
            if (g.approval_timeout < kMinApprovalTimeout || g.approval_timeout > kMaxApprovalTimeout) {
                fail(at, "approval_timeout " + format_duration(g.approval_timeout) + " in " + where +
                             " must be between " + format_duration(kMinApprovalTimeout) + " and " +
                             format_duration(kMaxApprovalTimeout));
            }
        } else if (key == "termination_grace") {
            g.termination_grace = expect_duration(v, key, where);
            if (g.termination_grace < kMinTerminationGrace || g.termination_grace > kMaxTerminationGrace) {
                fail(at, "termination_grace " + format_duration(g.termination_grace) + " in " + where +
                             " must be between " + format_duration(kMinTerminationGrace) + " and " +
                             format_duration(kMaxTerminationGrace));
            }
        } else if (key == "on_grant" || key == "on_revoke") {
            std::string& path = key == "on_grant" ? g.on_grant : g.on_revoke;
            path = expect_string(v, key, where, "an absolute path such as \"/usr/local/sbin/grant-hook\"");
            if (const auto bad = hook_path_problem(path)) {
                fail(at, key + " in " + where + " " + *bad);
            }
        } else if (key == "remote_ack") {
            remote_ack = {expect_remote_ack(v, where), true, at};
        } else if (key == "remote_ack_timeout") {
            remote_ack_timeout = {expect_remote_ack_timeout(v, where), true, at};
        } else if (key == "alert") {
            alert = {expect_alert_names(v, where, channels), true, at};
        } else if (key == "alert_severity") {
            alert_severity = {expect_alert_severity(v, where), true, at};
        } else if (key == "reviewers") {
            reviewers = {expect_principals(v, key, where), true, at};
        } else if (key == "review_within") {
            review_within = {expect_review_within(v, where), true, at};
        } else if (key == "postgres") {
            g.postgres = parse_postgres(v, where);
            postgres_at = key_position(v, key);
        } else {
            fail(key_position(v, key), "unknown key " + in_quotes(key) + " in " + where + "; known keys: " + kGateKeys);
        }
    }

    if (!have_requesters) fail(gate_at, "gate " + in_quotes(name) + " has no requesters; add requesters = [\"%group\", \"user\"]");
    if (g.requesters.empty()) fail(requesters_at, "requesters in " + where + " is empty; name at least one user or %group");

    // Inheritance: the gate's own value, else [defaults], else the built-in.
    const Setting<std::string>& effective_pattern = pattern.set ? pattern : d.incident_pattern;
    if (!effective_pattern.set) {
        fail(gate_at, "gate " + in_quotes(name) +
                          " has no incident_pattern and [defaults] sets none; add incident_pattern = '^INC-[0-9]+$' "
                          "or similar");
    }
    g.incident_pattern = effective_pattern.value;
    g.incident_regex = compile_pattern(g.incident_pattern, effective_pattern.at, pattern.set ? where : "[defaults]");

    g.max_ttl = max_ttl.set ? max_ttl.value : (d.max_ttl.set ? d.max_ttl.value : kDefaultMaxTtl);
    g.ttl = ttl.set ? ttl.value : (d.ttl.set ? d.ttl.value : g.max_ttl);
    if (g.ttl > g.max_ttl) {
        const Position at = ttl.set ? ttl.at : (max_ttl.set ? max_ttl.at : d.ttl.at);
        fail(at, "ttl " + format_duration(g.ttl) + (ttl.set ? "" : " (from [defaults])") + " of gate " +
                     in_quotes(name) + " exceeds its max_ttl " + format_duration(g.max_ttl) +
                     (max_ttl.set || d.max_ttl.set ? "" : " (the built-in default)"));
    }

    g.factors = factors.set ? factors.value : (d.factors.set ? d.factors.value : std::vector<std::string>{});
    if (g.factors.empty()) {
        fail(gate_at, "gate " + in_quotes(name) + " has no factors and [defaults] sets none; add factors = [\"totp\"]");
    }
    g.severities = severities.set ? severities.value : d.severities.value;
    g.remote_ack_required = remote_ack.set ? remote_ack.value : d.remote_ack.value;
    if (remote_ack_timeout.set || d.remote_ack_timeout.set)
        g.remote_ack_timeout = remote_ack_timeout.set ? remote_ack_timeout.value : d.remote_ack_timeout.value;
    g.alert = alert.set ? alert.value : d.alert.value;
    if (alert_severity.set || d.alert_severity.set)
        g.alert_severity = alert_severity.set ? alert_severity.value : d.alert_severity.value;

    g.reviewers = reviewers.set ? reviewers.value : d.reviewers.value;
    if (review_within.set || d.review_within.set)
        g.review_within = review_within.set ? review_within.value : d.review_within.value;

    if (g.approvals > 0 && g.approvers.empty()) {
        fail(approvals_at, "gate " + in_quotes(name) + " needs " + std::to_string(g.approvals) +
                               " approval(s) but names no approvers; add approvers = [\"%group\"]");
    }
    check_separation_of_duties(g, approvals_at, approvers_at);

    claim_mapping(mappings.runas_groups, g.sudo_runas_group, name, "sudo_runas_group", runas_group_at);
    claim_mapping(mappings.runas_users, g.sudo_runas_user, name, "sudo_runas_user", runas_user_at);
    claim_mapping(mappings.pam_services, g.pam_service, name, "pam_service", pam_service_at);
    return g;
}

// A sink URL: http(s)://, printable ASCII without spaces, no user:password@
// (secrets go in files), bounded.
void check_sink_url(const std::string& url, bool insecure, Position at, const std::string& where) {
    if (const auto bad = validate_text(url, kMaxSinkUrlBytes)) fail(at, "url in " + where + " " + *bad);
    for (const char c : url)
        if (c <= ' ' || c > '~') fail(at, "url in " + where + " has a space or a non-ASCII byte; percent-encode it");
    const bool https = url.rfind("https://", 0) == 0;
    const bool http = url.rfind("http://", 0) == 0;
    if (!https && !http) fail(at, "url " + in_quotes(url) + " in " + where + " must start with https://");
    const std::size_t host_at = url.find("//") + 2;
    const std::size_t host_end = url.find('/', host_at);
    const std::string authority = url.substr(host_at, host_end == std::string::npos ? std::string::npos : host_end - host_at);
    if (authority.empty()) fail(at, "url " + in_quotes(url) + " in " + where + " names no host");
    if (authority.find('@') != std::string::npos)
        fail(at, "url in " + where + " holds credentials (user@host); put a token in token_file instead");
    if (http && !insecure)
        fail(at, "url " + in_quotes(url) + " in " + where +
                     " is plain http: records would cross the network unencrypted and unauthenticated; use https:// "
                     "or, for a test on loopback, set insecure = true");
}

std::string expect_absolute_path(const toml::value& v, std::string_view key, const std::string& where) {
    const std::string& path = expect_string(v, key, where, "an absolute path such as \"/etc/breakglass/sink.token\"");
    if (const auto bad = hook_path_problem(path)) fail(value_position(v), std::string(key) + " in " + where + " " + *bad);
    return path;
}

Sink parse_sink(const std::string& name, const toml::value& table) {
    const Position sink_at = key_position(table, name);
    if (!is_valid_name(name, kMaxNameBytes))
        fail(sink_at, "invalid sink name " + in_quotes(name) +
                          "; use letters, digits, '_', '.', '-' (not first), at most 64 bytes");
    const std::string where = "[sink." + name + "]";
    if (!table.is_table()) fail(value_position(table), "sink " + in_quotes(name) + " must be a table, not " + type_name(table));
    Sink s;
    s.name = name;
    s.line = static_cast<int>(value_position(table).line);
    bool have_type = false;
    Position url_at = sink_at;
    for (const auto& [key, value_ptr] : in_file_order(table)) {
        const toml::value& v = *value_ptr;
        const Position at = value_position(v);
        if (key == "type") {
            const std::string& t = expect_string(v, key, where);
            if (t == "journal-remote") s.type = SinkType::JournalRemote;
            else if (t == "http-json") s.type = SinkType::HttpJson;
            else if (t == "splunk-hec") s.type = SinkType::SplunkHec;
            else if (t == "loki") s.type = SinkType::Loki;
            else fail(at, "unknown sink type " + in_quotes(t) + " in " + where +
                              "; known types: journal-remote, http-json, splunk-hec, loki");
            have_type = true;
        } else if (key == "url") {
            s.url = expect_string(v, key, where);
            url_at = at;
        } else if (key == "ca_file") {
            s.ca_file = expect_absolute_path(v, key, where);
        } else if (key == "client_cert") {
            s.client_cert = expect_absolute_path(v, key, where);
        } else if (key == "client_key") {
            s.client_key = expect_absolute_path(v, key, where);
        } else if (key == "token_file") {
            s.token_file = expect_absolute_path(v, key, where);
        } else if (key == "insecure") {
            if (!v.is_boolean()) fail(at, "insecure in " + where + " must be true or false, not " + type_name(v));
            s.insecure = v.as_boolean();
        } else if (key == "backlog_limit") {
            s.backlog_limit = expect_duration(v, key, where);
        } else {
            fail(key_position(v, key), "unknown key " + in_quotes(key) + " in " + where + "; known keys: " + kSinkKeys);
        }
    }
    if (!have_type) fail(sink_at, "sink " + in_quotes(name) + " has no type; add type = \"journal-remote\" (or http-json, splunk-hec, loki)");
    if (s.url.empty()) fail(sink_at, "sink " + in_quotes(name) + " has no url; add url = \"https://logs.example.net:19532\"");
    check_sink_url(s.url, s.insecure, url_at, where);
    if (s.client_cert.empty() != s.client_key.empty())
        fail(sink_at, "sink " + in_quotes(name) + " names only one of client_cert and client_key; a client certificate needs both");
    if (s.type == SinkType::SplunkHec && s.token_file.empty())
        fail(sink_at, "sink " + in_quotes(name) + " is a splunk-hec sink without token_file; Splunk's HTTP Event Collector "
                      "needs its token (a root-only file holding it)");
    return s;
}

// An https:// URL for an alert channel: like a sink's, never plain http.
void check_alert_url(const std::string& url, Position at, const std::string& where) {
    if (url.rfind("http://", 0) == 0)
        fail(at, "url " + in_quotes(url) + " in " + where +
                     " is plain http: an alert (and its secret) would cross the network unencrypted; use https://");
    check_sink_url(url, false, at, where);
}

AlertChannel parse_alert(const std::string& name, const toml::value& table) {
    const Position alert_at = key_position(table, name);
    if (!is_valid_name(name, kMaxNameBytes))
        fail(alert_at, "invalid alert name " + in_quotes(name) +
                           "; use letters, digits, '_', '.', '-' (not first), at most 64 bytes");
    const std::string where = "[alert." + name + "]";
    if (!table.is_table()) fail(value_position(table), "alert " + in_quotes(name) + " must be a table, not " + type_name(table));
    AlertChannel c;
    c.name = name;
    c.line = static_cast<int>(value_position(table).line);
    bool have_type = false;
    bool have_sendmail = false;
    bool have_to = false;
    Position url_at = alert_at;
    std::map<std::string, Position> seen;  // key → where, to refuse keys that do not fit the type
    for (const auto& [key, value_ptr] : in_file_order(table)) {
        const toml::value& v = *value_ptr;
        const Position at = value_position(v);
        seen.emplace(key, key_position(v, key));
        if (key == "type") {
            const std::string& t = expect_string(v, key, where);
            if (t == "pagerduty") c.type = AlertType::PagerDuty;
            else if (t == "slack") c.type = AlertType::Slack;
            else if (t == "webhook") c.type = AlertType::Webhook;
            else if (t == "email") c.type = AlertType::Email;
            else fail(at, "unknown alert type " + in_quotes(t) + " in " + where +
                              "; known types: pagerduty, slack, webhook, email");
            have_type = true;
        } else if (key == "url") {
            c.url = expect_string(v, key, where);
            url_at = at;
            check_alert_url(c.url, url_at, where);
        } else if (key == "url_file") {
            c.url_file = expect_absolute_path(v, key, where);
        } else if (key == "routing_key_file") {
            c.routing_key_file = expect_absolute_path(v, key, where);
        } else if (key == "token_file") {
            c.token_file = expect_absolute_path(v, key, where);
        } else if (key == "ca_file") {
            c.ca_file = expect_absolute_path(v, key, where);
        } else if (key == "to") {
            const auto items = expect_string_array(v, key, where);
            if (items.empty()) fail(at, "to in " + where + " is empty; name at least one address");
            if (items.size() > kMaxAlertRecipients)
                fail(at, "to in " + where + " names more than " + std::to_string(kMaxAlertRecipients) + " addresses");
            for (const auto& [address, address_at] : items) {
                if (const auto bad = email_address_problem(address))
                    fail(address_at, "address " + in_quotes(address) + " in to in " + where + " " + *bad);
                c.to.push_back(address);
            }
            have_to = true;
        } else if (key == "sendmail") {
            c.sendmail = expect_absolute_path(v, key, where);
            have_sendmail = true;
        } else {
            fail(key_position(v, key), "unknown key " + in_quotes(key) + " in " + where + "; known keys: " + kAlertKeys);
        }
    }
    if (!have_type)
        fail(alert_at, "alert " + in_quotes(name) + " has no type; add type = \"pagerduty\" (or slack, webhook, email)");
    // Keys that belong to other types are refused rather than ignored: a
    // secret named where it is never read would look configured.
    std::set<std::string> allowed = {"type"};
    switch (c.type) {
        case AlertType::PagerDuty: allowed.insert({"url", "routing_key_file", "ca_file"}); break;
        case AlertType::Slack: allowed.insert({"url", "url_file", "ca_file"}); break;
        case AlertType::Webhook: allowed.insert({"url", "url_file", "token_file", "ca_file"}); break;
        case AlertType::Email: allowed.insert({"to", "sendmail"}); break;
    }
    for (const auto& [key, at] : seen)
        if (!allowed.contains(key))
            fail(at, key + " does not apply to a " + std::string(alert_type_name(c.type)) + " alert in " + where);
    switch (c.type) {
        case AlertType::PagerDuty:
            if (c.routing_key_file.empty())
                fail(alert_at, "alert " + in_quotes(name) + " is a pagerduty alert without routing_key_file; add "
                               "routing_key_file = \"/etc/breakglass/pagerduty.key\" (a root-only file holding the "
                               "integration key)");
            if (c.url.empty()) c.url = kPagerDutyEventsUrl;
            break;
        case AlertType::Slack:
        case AlertType::Webhook:
            if (c.url.empty() == c.url_file.empty())
                fail(alert_at, "alert " + in_quotes(name) + " needs exactly one of url and url_file" +
                                   (c.type == AlertType::Slack
                                        ? std::string("; a Slack webhook URL is a secret, put it in url_file")
                                        : std::string()));
            break;
        case AlertType::Email:
            if (!have_to) fail(alert_at, "alert " + in_quotes(name) + " is an email alert without to; add to = [\"security@example.net\"]");
            (void)have_sendmail;
            break;
    }
    return c;
}

// [approver_keys]: `bob = "ed25519:<base64>"`, each a person (not a %group)
// who can approve some gate, each key someone else's than every other's (one
// key under two names would let one person count twice).
void parse_approver_keys(const toml::value& table, Policy& policy) {
    if (!table.is_table())
        fail(value_position(table), "approver_keys must be a table of NAME = \"ed25519:<base64>\" lines, not " +
                                        type_name(table));
    bool any_group_approver = false;
    std::set<std::string> named;
    for (const auto& [_, g] : policy.gates)
        for (const Principal& a : g.approvers) {
            if (a.is_group) any_group_approver = true;
            else named.insert(a.name);
        }
    std::map<std::string, std::string> owner_of_key;
    for (const auto& [name, value_ptr] : in_file_order(table)) {
        const Position at = key_position(*value_ptr, name);
        if (policy.approver_keys.size() == kMaxApproverKeys)
            fail(at, "more than " + std::to_string(kMaxApproverKeys) + " approver keys");
        if (!name.empty() && name.front() == '%')
            fail(at, "approver_keys " + in_quotes(name) +
                         ": a key belongs to one person; name the user (each member of a group gets a line)");
        if (!is_valid_name(name, kMaxNameBytes))
            fail(at, "invalid user name " + in_quotes(name) +
                         " in approver_keys; use letters, digits, '_', '.', '-' (not first), at most 64 bytes");
        if (!value_ptr->is_string())
            fail(value_position(*value_ptr), "approver_keys " + in_quotes(name) +
                                                 " must be a string \"ed25519:<base64>\", not " + type_name(*value_ptr));
        const std::string& text = value_ptr->as_string();
        const auto key = audit::parse_ed25519_public_key(text);
        if (!key || text.ends_with('\n'))
            fail(value_position(*value_ptr), "approver_keys " + in_quotes(name) +
                                                 " is not an Ed25519 public key (\"ed25519:\" and the base64 of 32 "
                                                 "bytes, as `breakglassctl approver-key generate` prints it)");
        if (!named.contains(name) && !any_group_approver)
            fail(at, "approver_keys " + in_quotes(name) +
                         " is not an approver of any gate; name them in a gate's approvers or remove the line");
        const auto [it, fresh] = owner_of_key.emplace(text, name);
        if (!fresh)
            fail(value_position(*value_ptr), "approver_keys " + in_quotes(name) + " has the same key as " +
                                                 in_quotes(it->second) +
                                                 "; each approver needs their own key (one person must not count twice)");
        policy.approver_keys.emplace(name, text);
    }
}

Policy parse_document(const toml::value& root) {
    Policy policy;
    const toml::value* approver_keys_table = nullptr;
    const toml::value* defaults_table = nullptr;
    const toml::value* gates_table = nullptr;
    const toml::value* sinks_table = nullptr;
    const toml::value* alerts_table = nullptr;
    for (const auto& [key, value_ptr] : in_file_order(root)) {
        if (key == "defaults") {
            defaults_table = value_ptr;
        } else if (key == "gate") {
            gates_table = value_ptr;
        } else if (key == "sink") {
            sinks_table = value_ptr;
        } else if (key == "alert") {
            alerts_table = value_ptr;
        } else if (key == "approver_keys") {
            approver_keys_table = value_ptr;
        } else if (key == "metrics") {
            const toml::value& m = *value_ptr;
            if (!m.is_table()) fail(value_position(m), "metrics must be a table, not " + type_name(m));
            for (const auto& [mkey, mvalue] : in_file_order(m)) {
                if (mkey != "textfile")
                    fail(key_position(m, mkey), "unknown key " + in_quotes(mkey) + " in [metrics]; known: textfile");
                policy.metrics_textfile = expect_absolute_path(*mvalue, mkey, "[metrics]");
                const std::string& f = policy.metrics_textfile;
                // node_exporter reads only *.prom files; the temporary file beside it is NAME.tmp.
                if (f.size() < 6 || f.compare(f.size() - 5, 5, ".prom") != 0 || f.back() == '/')
                    fail(value_position(*mvalue), "[metrics] textfile must name a file ending in .prom (node_exporter's "
                                                  "textfile collector reads only those), e.g. "
                                                  "\"/var/lib/prometheus/node-exporter/breakglass.prom\"");
            }
        } else if (key == "auditors") {
            policy.auditors = expect_principals(*value_ptr, key, "the policy's top level");
        } else {
            fail(key_position(*value_ptr, key),
                 "unknown top-level key " + in_quotes(key) +
                     "; a policy has auditors = [...] and [defaults], [gate.NAME], [sink.NAME], [alert.NAME], "
                     "[approver_keys] and [metrics] tables only");
        }
    }
    if (alerts_table) {
        if (!alerts_table->is_table())
            fail(value_position(*alerts_table), "alert must be a table of [alert.NAME] tables, not " + type_name(*alerts_table));
        for (const auto& [name, value_ptr] : in_file_order(*alerts_table)) {
            if (policy.alerts.size() == kMaxAlertChannels)
                fail(key_position(*alerts_table, name), "more than " + std::to_string(kMaxAlertChannels) + " alert channels");
            policy.alerts.emplace(name, parse_alert(name, *value_ptr));
        }
    }
    if (sinks_table) {
        if (!sinks_table->is_table())
            fail(value_position(*sinks_table), "sink must be a table of [sink.NAME] tables, not " + type_name(*sinks_table));
        for (const auto& [name, value_ptr] : in_file_order(*sinks_table)) {
            if (policy.sinks.size() == kMaxSinks)
                fail(key_position(*sinks_table, name), "more than " + std::to_string(kMaxSinks) + " sinks");
            policy.sinks.emplace(name, parse_sink(name, *value_ptr));
        }
    }
    const Defaults d = defaults_table ? parse_defaults(*defaults_table, policy) : Defaults{};

    if (!gates_table) fail(Position{}, "policy defines no gates; add a [gate.NAME] table");
    if (!gates_table->is_table()) {
        fail(value_position(*gates_table), "gate must be a table of [gate.NAME] tables, not " + type_name(*gates_table));
    }
    GateMappings mappings;
    for (const auto& [name, value_ptr] : in_file_order(*gates_table)) {
        Gate g = parse_gate(name, *value_ptr, d, mappings, policy.alerts);
        policy.gates.emplace(name, std::move(g));
    }
    if (policy.gates.empty()) fail(value_position(*gates_table), "policy defines no gates; add a [gate.NAME] table");
    for (const auto& [name, g] : policy.gates)
        if (g.remote_ack_required && policy.sinks.empty())
            fail(key_position(*gates_table, name), "gate " + in_quotes(name) +
                                                       " has remote_ack = \"required\" but the policy defines no "
                                                       "[sink.NAME]; its grants could never be answered");
    if (approver_keys_table) parse_approver_keys(*approver_keys_table, policy);
    return policy;
}

// Refuses input nested deeper than kMaxNesting, before toml11 recurses into
// it (arrays, inline tables) or copies keys quadratically (dotted keys). Follows strings and comments so brackets inside them do not count; it
// only has to be right for input toml11 would accept.
std::optional<Position> find_deep_nesting(std::string_view text) {
    enum class State { Code, Comment, Basic, Literal, MultiBasic, MultiLiteral };
    State state = State::Code;
    int depth = 0;
    int key_dots = 0;  // dots in the current key: `a.b.c = 1` and `[a.b.c]` nest tables too
    Position at;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const auto starts = [&](std::string_view s) { return text.substr(i, s.size()) == s; };
        switch (state) {
            case State::Code:
                if (c == '#') {
                    state = State::Comment;
                } else if (starts("\"\"\"")) {
                    state = State::MultiBasic;
                    i += 2;
                    at.column += 2;
                } else if (starts("'''")) {
                    state = State::MultiLiteral;
                    i += 2;
                    at.column += 2;
                } else if (c == '"') {
                    state = State::Basic;
                } else if (c == '\'') {
                    state = State::Literal;
                } else if (c == '[' || c == '{') {
                    if (++depth > kMaxNesting) return at;
                    key_dots = 0;
                } else if (c == ']' || c == '}') {
                    depth = std::max(depth - 1, 0);
                    key_dots = 0;
                } else if (c == '=' || c == ',' || c == '\n') {
                    key_dots = 0;
                } else if (c == '.') {
                    if (++key_dots > kMaxNesting) return at;
                }
                break;
            case State::Comment:
                if (c == '\n') state = State::Code;
                break;
            case State::Basic:
                if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') {
                    ++i;
                    ++at.column;
                } else if (c == '"' || c == '\n') {
                    state = State::Code;
                }
                break;
            case State::Literal:
                if (c == '\'' || c == '\n') state = State::Code;
                break;
            case State::MultiBasic:
                if (c == '\\' && i + 1 < text.size() && text[i + 1] != '\n') {
                    ++i;
                    ++at.column;
                } else if (starts("\"\"\"")) {
                    state = State::Code;
                    i += 2;
                    at.column += 2;
                }
                break;
            case State::MultiLiteral:
                if (starts("'''")) {
                    state = State::Code;
                    i += 2;
                    at.column += 2;
                }
                break;
        }
        if (text[i] == '\n') {
            ++at.line;
            at.column = 1;
        } else {
            ++at.column;
        }
    }
    return std::nullopt;
}

std::optional<Position> find_long_line(std::string_view text) {
    std::uint32_t line = 1;
    std::size_t begin = 0;
    while (begin <= text.size()) {
        std::size_t end = text.find('\n', begin);
        if (end == std::string_view::npos) end = text.size();
        if (end - begin > kMaxLineBytes) return Position{line, static_cast<std::uint32_t>(kMaxLineBytes + 1)};
        begin = end + 1;
        ++line;
    }
    return std::nullopt;
}

// TOML files are UTF-8. toml11 3.7 reads past its buffer on some invalid
// sequences inside literal strings, so invalid UTF-8 never reaches it.
std::optional<Position> find_invalid_utf8(std::string_view text) {
    if (is_valid_utf8(text)) return std::nullopt;
    Position at;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t n = 1;
        while (n <= 4 && !is_valid_utf8(text.substr(i, n))) ++n;
        if (n > 4) return at;
        if (text[i] == '\n') {
            ++at.line;
            at.column = 1;
        } else {
            at.column += static_cast<std::uint32_t>(n);  // columns count bytes, as toml11's do
        }
        i += n;
    }
    return at;  // unreachable: the whole text was invalid somewhere
}

// toml11 v3 reports a syntax error as a multi-line, human-formatted text:
//   [error] toml::parse_array: missing array separator `,` after a value
//    --> policy.toml
//      |
//    2 | x = [1,2
//      |     ^--- should be `,`
// The last "N | source" line with its marker line below is where the error
// is; the first line says what it is. Reduce it to one "LINE:COL: message".
PolicyError syntax_error_from(const toml::syntax_error& e) {
    std::istringstream lines{std::string(e.what())};
    std::string line;
    std::string headline;
    std::string comment;
    Position at = {std::max<std::uint32_t>(e.location().line(), 1), std::max<std::uint32_t>(e.location().column(), 1)};
    std::uint32_t source_line = 0;
    std::size_t source_offset = 0;
    bool first = true;
    while (std::getline(lines, line)) {
        if (first) {
            headline = line;
            first = false;
            continue;
        }
        const std::size_t bar = line.find(" | ");
        if (bar == std::string::npos) continue;
        const std::string_view gutter = std::string_view(line).substr(0, bar);
        const std::size_t digits_begin = gutter.find_first_not_of(' ');
        if (digits_begin != std::string_view::npos) {
            const std::string_view digits = gutter.substr(digits_begin);
            if (!digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                digits.size() < 9) {
                source_line = static_cast<std::uint32_t>(std::stoul(std::string(digits)));
                source_offset = bar + 3;
            }
            continue;
        }
        if (source_line == 0) continue;
        const std::size_t mark = line.find_first_of("^~", bar + 3);
        if (mark == std::string::npos || mark < source_offset) continue;
        at = {source_line, static_cast<std::uint32_t>(mark - source_offset + 1)};
        std::size_t text_begin = line.find_first_not_of("^~-", mark);
        comment = text_begin == std::string::npos ? std::string() : line.substr(text_begin);
        const std::size_t trimmed = comment.find_first_not_of(' ');
        comment = trimmed == std::string::npos ? std::string() : comment.substr(trimmed);
    }
    // "[error] toml::parse_array: missing ..." → "missing ..."
    if (headline.rfind("[error] ", 0) == 0) headline.erase(0, 8);
    if (headline.rfind("toml::", 0) == 0) {
        const std::size_t colon = headline.find(": ");
        if (colon != std::string::npos) headline.erase(0, colon + 2);
    }
    while (!headline.empty() && (headline.back() == '.' || headline.back() == ' ')) headline.pop_back();
    std::string message = "TOML syntax error: " + headline;
    if (!comment.empty()) message += " (" + comment + ")";
    return {at, escape_for_display(message)};
}

std::string located(std::string_view filename, Position at, std::string_view message) {
    return std::string(filename) + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " +
           std::string(message);
}

}  // namespace

Result<Policy> parse_policy(std::string_view text, std::string_view filename) {
    try {
        if (text.size() > kMaxPolicyBytes) {
            return Error{located(filename, Position{}, "policy is larger than " + std::to_string(kMaxPolicyBytes) + " bytes")};
        }
        if (const auto at = find_long_line(text)) {
            return Error{located(filename, *at, "line is longer than " + std::to_string(kMaxLineBytes) + " bytes")};
        }
        if (const auto at = find_invalid_utf8(text)) {
            return Error{located(filename, *at, "invalid UTF-8; a policy file must be UTF-8 text")};
        }
        if (const auto at = find_deep_nesting(text)) {
            return Error{located(filename, *at,
                                 "arrays or tables nested deeper than " + std::to_string(kMaxNesting) + " levels")};
        }
        const LineIndex index(text);
        const IndexScope scope(index);
        toml::value root;
        try {
            std::istringstream stream{std::string(text)};
            root = toml::parse(stream, std::string(filename));
        } catch (const toml::syntax_error& e) {
            const PolicyError err = syntax_error_from(e);
            return Error{located(filename, err.at, err.message)};
        }
        return parse_document(root);
    } catch (const PolicyError& e) {
        return Error{located(filename, e.at, e.message)};
    } catch (const toml::exception& e) {
        return Error{located(filename, Position{e.location().line(), e.location().column()},
                             "invalid TOML: " + escape_for_display(e.what()))};
    } catch (const std::bad_alloc&) {
        return Error{located(filename, Position{}, "out of memory while parsing the policy")};
    } catch (const std::exception& e) {
        return Error{located(filename, Position{}, "cannot parse the policy: " + escape_for_display(e.what()))};
    } catch (...) {
        return Error{located(filename, Position{}, "cannot parse the policy: unexpected error")};
    }
}

std::optional<std::string> email_address_problem(std::string_view address) {
    if (address.empty()) return std::string("is empty");
    if (address.size() > kMaxEmailAddressBytes)
        return "is longer than " + std::to_string(kMaxEmailAddressBytes) + " bytes";
    for (const char c : address) {
        if (c <= ' ' || c > '~') return std::string("may hold only printable ASCII characters without spaces");
        if (std::string_view("\",<>()[];:\\").find(c) != std::string_view::npos)
            return std::string("must be a plain address (local@domain) without quotes, commas, brackets, ';', ':' or '\\'");
    }
    const std::size_t at = address.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == address.size() ||
        address.find('@', at + 1) != std::string_view::npos)
        return std::string("must be local@domain with one '@'");
    if (address.front() == '-') return std::string("must not start with '-'");
    return std::nullopt;
}

std::optional<std::string> hook_path_problem(std::string_view path) {
    if (path.empty() || path.front() != '/') return "must be an absolute path";
    if (path.size() > kMaxHookPathBytes)
        return "is longer than " + std::to_string(kMaxHookPathBytes) + " bytes";
    for (const char c : path)
        if (c <= ' ' || c > '~') return "may hold only printable ASCII characters without spaces";
    if (path.find("//") != std::string_view::npos) return "must not contain \"//\"";
    if (path.back() == '/') return "must name a file, not end in '/'";
    std::size_t start = 1;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        const std::string_view part = path.substr(start, end - start);
        if (part == "." || part == "..") return "must not contain \".\" or \"..\" components";
        start = end + 1;
    }
    return std::nullopt;
}

}  // namespace bg::policy
