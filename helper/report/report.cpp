// SPDX-License-Identifier: ISC
#include "helper/report/report.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cmath>
#include <set>
#include <unordered_map>

#include "helper/audit/audit_record.hpp"
#include "helper/audit/audit_verify.hpp"

namespace bg::report {
namespace {

// Decodes a JSON string body (between the quotes) that scan_line accepted:
// only the escapes nlohmann emits occur.
std::string unescape(std::string_view s) {
    if (s.find('\\') == std::string_view::npos) return std::string(s);
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 >= s.size()) {
            out += s[i];
            continue;
        }
        const char c = s[++i];
        switch (c) {
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                // \u00XX: a C0 control (scan_line accepts nothing else).
                if (i + 4 >= s.size()) return out;
                unsigned v = 0;
                for (std::size_t k = 1; k <= 4; ++k) {
                    const char h = s[i + k];
                    v = v * 16 + static_cast<unsigned>(h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0');
                }
                out += static_cast<char>(v & 0x7f);
                i += 4;
                break;
            }
            default: out += c; break;  // \" and \\ (and \/)
        }
    }
    return out;
}

std::int64_t median(std::vector<std::int64_t>& v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    if (n % 2 == 1) return v[n / 2];
    return (v[n / 2 - 1] + v[n / 2]) / 2;
}

double round4(double x) { return std::round(x * 10000.0) / 10000.0; }

struct GrantState {
    const Entry* grant = nullptr;
    std::int64_t ended_at = 0;
    const Entry* review = nullptr;
};

std::string key_of(std::string_view host, std::string_view id) {
    std::string k;
    k.reserve(host.size() + id.size() + 1);
    k.append(host).append(1, '\n').append(id);
    return k;
}

std::vector<GateReport> gates_of(const std::vector<const GrantState*>& grants, const ReportOptions& o) {
    const Period& p = o.period;
    const std::size_t weeks = static_cast<std::size_t>((p.until - p.since + kWeekSeconds - 1) / kWeekSeconds);
    const std::size_t complete = static_cast<std::size_t>((p.until - p.since) / kWeekSeconds);
    struct Acc {
        GateReport r;
        std::set<std::string> actors;
        std::vector<std::int64_t> used, ttl;
    };
    std::map<std::string, Acc, std::less<>> by_gate;
    std::uint64_t total = 0;
    for (const GrantState* g : grants) {
        const Entry& e = *g->grant;
        auto it = by_gate.find(e.gate);
        if (it == by_gate.end()) {
            it = by_gate.emplace(e.gate, Acc{}).first;
            it->second.r.gate = e.gate;
            it->second.r.weekly.assign(weeks, 0);
            for (std::string_view v : kVerdicts) it->second.r.verdicts[std::string(v)] = 0;
            it->second.r.verdicts["other"] = 0;
            it->second.r.verdicts["unreviewed"] = 0;
        }
        Acc& a = it->second;
        ++total;
        ++a.r.breaks;
        a.actors.insert(e.actor);
        a.r.weekly[static_cast<std::size_t>((e.timestamp - p.since) / kWeekSeconds)] += 1;
        if (e.expires_at > e.timestamp) a.ttl.push_back(e.expires_at - e.timestamp);
        if (g->ended_at != 0) a.used.push_back(g->ended_at - e.timestamp);
        const auto w = o.review_within.find(e.gate);
        const std::int64_t within = w == o.review_within.end() ? o.default_review_within : w->second;
        const bool due = e.timestamp + within <= p.until;
        if (g->review != nullptr) {
            const std::string& v = g->review->review_status;
            const bool known = std::find(std::begin(kVerdicts), std::end(kVerdicts), v) != std::end(kVerdicts);
            a.r.verdicts[known ? v : std::string("other")] += 1;
            ++a.r.due;
            if (g->review->timestamp - e.timestamp <= within) ++a.r.on_time;
        } else {
            a.r.verdicts["unreviewed"] += 1;
            if (due) {
                ++a.r.due;
                ++a.r.overdue_unreviewed;
            }
        }
    }
    std::vector<GateReport> out;
    out.reserve(by_gate.size());
    for (auto& [name, a] : by_gate) {
        GateReport r = std::move(a.r);
        r.actors = a.actors.size();
        r.share = total == 0 ? 0 : round4(static_cast<double>(r.breaks) / static_cast<double>(total));
        if (!a.used.empty()) r.median_used_seconds = median(a.used);
        if (!a.ttl.empty()) r.median_ttl_seconds = median(a.ttl);
        if (r.due > 0) r.reviewed_on_time = round4(static_cast<double>(r.on_time) / static_cast<double>(r.due));
        // Trend over the complete weeks.
        r.complete_weeks = complete;
        if (complete >= 2) {
            const double n = static_cast<double>(complete);
            double sy = 0, sxy = 0;
            const double mx = (n - 1) / 2;
            double sxx = 0;
            for (std::size_t i = 0; i < complete; ++i) {
                sy += static_cast<double>(r.weekly[i]);
                sxy += (static_cast<double>(i) - mx) * static_cast<double>(r.weekly[i]);
                sxx += (static_cast<double>(i) - mx) * (static_cast<double>(i) - mx);
            }
            r.trend_slope = sxy / sxx;
            r.trend_intercept = sy / n - r.trend_slope * mx;
        }
        if (static_cast<__int128>(r.breaks) * kWeekSeconds >= static_cast<__int128>(2) * (p.until - p.since))
            r.flags.emplace_back(kFlagFrequent);
        if (complete >= kRisingMinWeeks) {
            // Sign of the slope in integers: sum((2i - (n-1)) * y_i) > 0.
            std::int64_t s = 0;
            std::uint64_t early = 0, late = 0;
            for (std::size_t i = 0; i < complete; ++i) {
                s += (2 * static_cast<std::int64_t>(i) - static_cast<std::int64_t>(complete - 1)) *
                     static_cast<std::int64_t>(r.weekly[i]);
                if (i < complete / 2) early += r.weekly[i];
                else if (i >= complete - complete / 2) late += r.weekly[i];
            }
            if (s > 0 && late >= early + kRisingMinIncrease) r.flags.emplace_back(kFlagRising);
        }
        if (total >= kFixTheGateMinBreaks && r.breaks * 3 > total) r.flags.emplace_back(kFlagFixTheGate);
        if (r.overdue_unreviewed > 0) r.flags.emplace_back(kFlagUnreviewed);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace

bool independent_reviewer(std::string_view reviewer, const Entry& grant) {
    if (reviewer.empty() || reviewer == grant.actor) return false;
    // approver: the approvers' names joined with ", " (or ",").
    std::string_view list = grant.approver;
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        std::string_view name = list.substr(0, comma);
        while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
        while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
        if (name == reviewer) return false;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return true;
}

std::string_view event_of_line(std::string_view line) {
    constexpr std::string_view kKey = ",\"event\":\"";
    const std::size_t at = line.find(kKey);
    if (at == std::string_view::npos) return {};
    const std::size_t begin = at + kKey.size();
    const std::size_t end = line.find('"', begin);
    if (end == std::string_view::npos) return {};
    return line.substr(begin, end - begin);
}

bool report_reads(std::string_view event) {
    return event == "grant" || event == "revoke" || event == "expire" || event == "grant_void" || event == "review";
}

Result<Entry> decode_line(std::string_view line) {
    audit::LineScan scan;
    if (const char* why = audit::scan_line(line, &scan)) return make_error(std::string("not a canonical record: ") + why);
    return decode_verified_line(line);
}

Result<Entry> decode_verified_line(std::string_view line) {
    Entry e;
    // The canonical layout: {"k":v,...} with the keys in a fixed order and
    // no whitespace; string values end at the first unescaped quote.
    std::size_t i = 1;
    const std::size_t n = line.size();
    while (i < n && line[i] == '"') {
        const std::size_t key_end = line.find('"', i + 1);
        if (key_end == std::string_view::npos || key_end + 1 >= n || line[key_end + 1] != ':')
            return make_error("malformed member");
        const std::string_view key = line.substr(i + 1, key_end - i - 1);
        std::size_t v = key_end + 2;
        std::string_view value;
        bool is_string = false;
        if (v < n && line[v] == '"') {
            is_string = true;
            std::size_t j = v + 1;
            while (j < n && line[j] != '"') j += line[j] == '\\' ? std::size_t{2} : std::size_t{1};
            if (j >= n) return make_error("unterminated string");
            value = line.substr(v + 1, j - v - 1);
            i = j + 1;
        } else {
            std::size_t j = v;
            while (j < n && line[j] != ',' && line[j] != '}') ++j;
            value = line.substr(v, j - v);
            i = j;
        }
        const bool last = !(i < n && line[i] == ',');
        if (!last) ++i;
        if (!is_string) {
            if (key == "seq") {
                std::uint64_t seq = 0;
                for (const char c : value) {
                    if (c < '0' || c > '9' || seq > (UINT64_MAX - 9) / 10) return make_error("bad seq");
                    seq = seq * 10 + static_cast<std::uint64_t>(c - '0');
                }
                e.seq = seq;
            }
            if (last) break;
            continue;
        }
        switch (key[0]) {
            case 'a':
                if (key == "actor") e.actor = unescape(value);
                else if (key == "approver") e.approver = unescape(value);
                break;
            case 'd':
                if (key == "detail") e.detail = unescape(value);
                break;
            case 'e':
                if (key == "event") e.event = unescape(value);
                else if (key == "event_id") e.event_id = unescape(value);
                else if (key == "expires_at" && !value.empty()) {
                    const auto x = audit::parse_utc(value);
                    if (!x) return make_error("bad expires_at");
                    e.expires_at = *x;
                }
                break;
            case 'g':
                if (key == "gate_bypassed") e.gate = unescape(value);
                else if (key == "grant_id") e.grant_id = unescape(value);
                break;
            case 'h':
                if (key == "host") e.host = unescape(value);
                break;
            case 'i':
                if (key == "incident_ref") e.incident_ref = unescape(value);
                break;
            case 'r':
                if (key == "reason") e.reason = unescape(value);
                else if (key == "review_status") e.review_status = unescape(value);
                break;
            case 't':
                if (key == "target") e.target = unescape(value);
                else if (key == "timestamp") {
                    const auto ts = audit::parse_utc(value);
                    if (!ts) return make_error("bad timestamp");
                    e.timestamp = *ts;
                }
                break;
            default: break;
        }
        if (last) break;
    }
    if (e.seq == 0 || e.event.empty()) return make_error("not a record: seq or event missing");
    return e;
}

Report build_report(const std::vector<Entry>& records, const ReportOptions& o) {
    Report out;
    out.period = o.period;
    // Grants in the period, then their ends and reviews (which may come in
    // any order in a fleet's merged records).
    std::unordered_map<std::string, GrantState> grants;
    std::vector<std::string> order;
    for (const Entry& e : records) {
        if (e.event != "grant" || e.timestamp < o.period.since || e.timestamp >= o.period.until) continue;
        auto [it, fresh] = grants.try_emplace(key_of(e.host, e.event_id));
        if (fresh) {
            it->second.grant = &e;
            order.push_back(it->first);
        }
    }
    // A grant committed by approvals (issue 13) carries its request's id in
    // grant_id: records that name the request reach the same grant.
    std::unordered_map<std::string, std::string> alias;
    for (const std::string& k : order) {
        const Entry& g = *grants.at(k).grant;
        if (!g.grant_id.empty() && g.grant_id != g.event_id) alias.emplace(key_of(g.host, g.grant_id), k);
    }
    for (const Entry& e : records) {
        if (e.grant_id.empty() || e.timestamp >= o.period.until) continue;
        const bool end = e.event == "revoke" || e.event == "expire" || e.event == "grant_void";
        const bool review = e.event == "review";
        if (!end && !review) continue;
        std::string k = key_of(e.host, e.grant_id);
        auto it = grants.find(k);
        if (it == grants.end()) {
            const auto a = alias.find(k);
            if (a == alias.end()) continue;
            it = grants.find(a->second);
        }
        GrantState& g = it->second;
        if (e.timestamp < g.grant->timestamp) continue;
        // Separation of duties, checked again here: a review by the grant's
        // own actor or one of its approvers is no review (the daemon refuses
        // those; a log that holds one anyway does not get credit for it).
        if (review && !independent_reviewer(e.actor, *g.grant)) continue;
        if (end && (g.ended_at == 0 || e.timestamp < g.ended_at)) g.ended_at = e.timestamp;
        if (review && (g.review == nullptr || e.timestamp < g.review->timestamp ||
                       (e.timestamp == g.review->timestamp && e.seq < g.review->seq)))
            g.review = &e;
    }
    std::vector<const GrantState*> all;
    std::map<std::string, std::vector<const GrantState*>> by_host;
    all.reserve(order.size());
    for (const std::string& k : order) {
        const GrantState* g = &grants.at(k);
        all.push_back(g);
        by_host[g->grant->host].push_back(g);
    }
    out.breaks = all.size();
    out.gates = gates_of(all, o);
    for (const auto& [host, list] : by_host) out.hosts.emplace_back(host, gates_of(list, o));
    return out;
}

}  // namespace bg::report
