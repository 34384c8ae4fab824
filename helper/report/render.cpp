// SPDX-License-Identifier: ISC
// The report's renderers: JSON (the shape), one self-contained XHTML
// page with inline SVG, and the Prometheus text format.
#include <algorithm>
#include <cstdio>
#include <functional>

#include <nlohmann/json.hpp>

#include "common/utc_time.hpp"
#include "helper/report/report.hpp"

namespace bg::report {
namespace {

using nlohmann::json;

json gate_json(const GateReport& g) {
    json verdicts = json::object();
    for (const auto& [k, v] : g.verdicts) verdicts[k] = v;
    return json{{"gate", g.gate},
                {"breaks", g.breaks},
                {"actors", g.actors},
                {"weekly", g.weekly},
                {"share", g.share},
                {"median_used_seconds", g.median_used_seconds ? json(*g.median_used_seconds) : json(nullptr)},
                {"median_ttl_seconds", g.median_ttl_seconds ? json(*g.median_ttl_seconds) : json(nullptr)},
                {"reviewed_on_time", g.reviewed_on_time ? json(*g.reviewed_on_time) : json(nullptr)},
                {"verdicts", verdicts},
                {"flags", g.flags}};
}

json gates_json(const std::vector<GateReport>& gates) {
    json a = json::array();
    for (const GateReport& g : gates) a.push_back(gate_json(g));
    return a;
}

// XML text and attribute values: & < > " ' escaped; C0 controls other than
// tab and newline are not allowed in XML 1.0 and become U+FFFD.
std::string xml(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 8);
    for (const char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') out += "\xEF\xBF\xBD";
                else out += c;
        }
    }
    return out;
}

std::string num(double x) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", x);
    return buf;
}

std::string opt_seconds(const std::optional<std::int64_t>& s) {
    if (!s) return "–";
    const std::int64_t v = *s;
    if (v >= 3600) return std::to_string(v / 3600) + "h" + (v % 3600 ? std::to_string((v % 3600) / 60) + "m" : "");
    if (v >= 60) return std::to_string(v / 60) + "m" + (v % 60 ? std::to_string(v % 60) + "s" : "");
    return std::to_string(v) + "s";
}

std::string percent(const std::optional<double>& f) {
    if (!f) return "–";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", *f * 100.0);
    return buf;
}

// Colours by gate index (fixed, so the same report gives the same page).
const char* colour(std::size_t i) {
    static const char* const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                          "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
    return palette[i % (sizeof palette / sizeof palette[0])];
}

// One chart: grouped bars, breaks per gate per week, and each gate's trend
// line over the complete weeks. Every bar carries its numbers as data-*
// attributes (what the tests compare with the JSON).
void chart(std::string& h, const std::vector<GateReport>& gates, const Period& p, std::string_view id) {
    std::size_t weeks = 0;
    std::uint64_t peak = 1;
    for (const GateReport& g : gates) {
        weeks = std::max(weeks, g.weekly.size());
        for (std::uint64_t v : g.weekly) peak = std::max(peak, v);
    }
    if (gates.empty() || weeks == 0) {
        h += "<p>No breaks in the period.</p>\n";
        return;
    }
    const double left = 40, top = 10, plot_h = 200, group_w = std::max(16.0, 8.0 * static_cast<double>(gates.size()) + 6);
    const double width = left + group_w * static_cast<double>(weeks) + 10, height = top + plot_h + 40;
    const double bar_w = (group_w - 6) / static_cast<double>(gates.size());
    auto y_of = [&](double v) { return top + plot_h - plot_h * v / static_cast<double>(peak); };
    h += "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"" + xml(id) + "\" width=\"" + num(width) + "\" height=\"" +
         num(height) + "\" viewBox=\"0 0 " + num(width) + " " + num(height) +
         "\" role=\"img\"><title>Breaks per gate per week</title>\n";
    // Axes and the peak's label.
    h += "<line x1=\"" + num(left) + "\" y1=\"" + num(top + plot_h) + "\" x2=\"" + num(width - 10) + "\" y2=\"" +
         num(top + plot_h) + "\" stroke=\"#444\"/>\n";
    h += "<line x1=\"" + num(left) + "\" y1=\"" + num(top) + "\" x2=\"" + num(left) + "\" y2=\"" + num(top + plot_h) +
         "\" stroke=\"#444\"/>\n";
    h += "<text x=\"" + num(left - 4) + "\" y=\"" + num(top + 8) + "\" text-anchor=\"end\" font-size=\"10\">" +
         std::to_string(peak) + "</text>\n";
    h += "<text x=\"" + num(left - 4) + "\" y=\"" + num(top + plot_h) + "\" text-anchor=\"end\" font-size=\"10\">0</text>\n";
    for (std::size_t w = 0; w < weeks; ++w) {
        const double gx = left + group_w * static_cast<double>(w) + 3;
        if (weeks <= 26 || w % 4 == 0)
            h += "<text x=\"" + num(gx + (group_w - 6) / 2) + "\" y=\"" + num(top + plot_h + 14) +
                 "\" text-anchor=\"middle\" font-size=\"9\">" + xml(format_utc(p.since + kWeekSeconds * static_cast<std::int64_t>(w)).substr(5, 5)) +
                 "</text>\n";
        for (std::size_t gi = 0; gi < gates.size(); ++gi) {
            const GateReport& g = gates[gi];
            const std::uint64_t v = w < g.weekly.size() ? g.weekly[w] : 0;
            const double x = gx + bar_w * static_cast<double>(gi);
            const double y = y_of(static_cast<double>(v));
            h += "<rect class=\"bar\" data-gate=\"" + xml(g.gate) + "\" data-week=\"" + std::to_string(w) +
                 "\" data-breaks=\"" + std::to_string(v) + "\" x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" +
                 num(std::max(1.0, bar_w - 1)) + "\" height=\"" + num(top + plot_h - y) + "\" fill=\"" + colour(gi) +
                 "\"><title>" + xml(g.gate) + ", week of " + xml(format_utc(p.since + kWeekSeconds * static_cast<std::int64_t>(w))) +
                 ": " + std::to_string(v) + "</title></rect>\n";
        }
    }
    for (std::size_t gi = 0; gi < gates.size(); ++gi) {
        const GateReport& g = gates[gi];
        if (g.complete_weeks < 2) continue;
        const double x1 = left + group_w * 0.5, x2 = left + group_w * (static_cast<double>(g.complete_weeks) - 0.5);
        const double v1 = g.trend_intercept, v2 = g.trend_intercept + g.trend_slope * static_cast<double>(g.complete_weeks - 1);
        h += "<line class=\"trend\" data-gate=\"" + xml(g.gate) + "\" data-slope=\"" + num(g.trend_slope) + "\" x1=\"" +
             num(x1) + "\" y1=\"" + num(y_of(std::max(0.0, v1))) + "\" x2=\"" + num(x2) + "\" y2=\"" +
             num(y_of(std::max(0.0, v2))) + "\" stroke=\"" + colour(gi) + "\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/>\n";
    }
    // Legend.
    for (std::size_t gi = 0; gi < gates.size(); ++gi) {
        const double lx = left + 120 * static_cast<double>(gi % 6), ly = top + plot_h + 24 + 12 * static_cast<double>(gi / 6);
        h += "<rect x=\"" + num(lx) + "\" y=\"" + num(ly) + "\" width=\"10\" height=\"10\" fill=\"" + colour(gi) +
             "\"/><text x=\"" + num(lx + 14) + "\" y=\"" + num(ly + 9) + "\" font-size=\"10\">" + xml(gates[gi].gate) +
             "</text>\n";
    }
    h += "</svg>\n";
}

void table(std::string& h, const std::vector<GateReport>& gates) {
    h += "<table>\n<thead><tr><th>gate</th><th>breaks</th><th>actors</th><th>share</th><th>median used</th>"
         "<th>median TTL</th><th>reviewed on time</th><th>justified</th><th>unjustified</th><th>gate-needs-fix</th>"
         "<th>unreviewed</th><th>flags</th></tr></thead>\n<tbody>\n";
    for (const GateReport& g : gates) {
        std::string flags;
        for (const std::string& f : g.flags) flags += "<span class=\"flag\">" + xml(f) + "</span> ";
        h += "<tr data-gate=\"" + xml(g.gate) + "\" data-breaks=\"" + std::to_string(g.breaks) + "\"><td>" + xml(g.gate) +
             "</td><td>" + std::to_string(g.breaks) + "</td><td>" + std::to_string(g.actors) + "</td><td>" +
             percent(g.share) + "</td><td>" + opt_seconds(g.median_used_seconds) + "</td><td>" +
             opt_seconds(g.median_ttl_seconds) + "</td><td>" + percent(g.reviewed_on_time) + "</td><td>" +
             std::to_string(g.verdicts.at("justified")) + "</td><td>" + std::to_string(g.verdicts.at("unjustified")) +
             "</td><td>" + std::to_string(g.verdicts.at("gate-needs-fix")) + "</td><td>" +
             std::to_string(g.verdicts.at("unreviewed")) + "</td><td>" + flags + "</td></tr>\n";
    }
    h += "</tbody>\n</table>\n";
}

std::string prom_label(std::string_view s) {
    std::string out;
    for (const char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

}  // namespace

std::string render_json(const Report& r, bool with_hosts) {
    json j = {{"since", format_utc(r.period.since)}, {"until", format_utc(r.period.until)}, {"gates", gates_json(r.gates)}};
    if (with_hosts) {
        json hosts = json::array();
        for (const auto& [host, gates] : r.hosts) hosts.push_back({{"host", host}, {"gates", gates_json(gates)}});
        j["hosts"] = hosts;
    }
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string render_html(const Report& r, bool with_hosts) {
    std::string h;
    h += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n"
         "<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"UTF-8\"/>\n"
         "<title>breakglass: bypasses per gate</title>\n<style>\n"
         "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
         "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}td:first-child,th:first-child{text-align:left}"
         ".flag{background:#d62728;color:#fff;border-radius:3px;padding:0 .3em;font-size:.85em}"
         ".flagged td:first-child{font-weight:bold}\n</style>\n</head>\n<body>\n";
    h += "<h1>Break-glass bypasses per gate</h1>\n<p>From " + xml(format_utc(r.period.since)) + " to " +
         xml(format_utc(r.period.until)) + ": " + std::to_string(r.breaks) + " break(s) over " +
         std::to_string(r.gates.size()) +
         " gate(s). A gate broken every week is a bug report against that gate.</p>\n";
    std::string flagged;
    for (const GateReport& g : r.gates)
        for (const std::string& f : g.flags) flagged += "<li><b>" + xml(g.gate) + "</b>: " + xml(f) + "</li>\n";
    if (!flagged.empty()) h += "<h2>Flags</h2>\n<ul class=\"flags\">\n" + flagged + "</ul>\n";
    h += "<h2>Breaks per gate per week</h2>\n";
    chart(h, r.gates, r.period, "chart-all");
    table(h, r.gates);
    if (with_hosts) {
        for (std::size_t i = 0; i < r.hosts.size(); ++i) {
            h += "<h2>Host " + xml(r.hosts[i].first) + "</h2>\n";
            chart(h, r.hosts[i].second, r.period, "chart-host-" + std::to_string(i));
            table(h, r.hosts[i].second);
        }
    }
    h += "<p>Flags: frequent = at least two breaks a week on average; rising = the least-squares trend of the "
         "complete weeks rises and the later half holds at least two more breaks than the earlier half; "
         "fix-the-gate = more than a third of all breaks; unreviewed = a grant past its review window without a "
         "review.</p>\n</body>\n</html>\n";
    return h;
}

std::string render_prometheus(const Report& r, bool with_hosts) {
    std::string out;
    auto family = [&](const char* name, const char* help) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n";
    };
    auto each = [&](const std::function<void(const std::string& labels, const GateReport& g)>& f) {
        for (const GateReport& g : r.gates) f("gate=\"" + prom_label(g.gate) + "\"", g);
        if (with_hosts)
            for (const auto& [host, gates] : r.hosts)
                for (const GateReport& g : gates) f("gate=\"" + prom_label(g.gate) + "\",host=\"" + prom_label(host) + "\"", g);
    };
    family("breakglass_report_breaks", "Grants (breaks of the glass) per gate in the report's period.");
    each([&](const std::string& l, const GateReport& g) { out += "breakglass_report_breaks{" + l + "} " + std::to_string(g.breaks) + "\n"; });
    family("breakglass_report_actors", "Distinct actors who broke the gate in the period.");
    each([&](const std::string& l, const GateReport& g) { out += "breakglass_report_actors{" + l + "} " + std::to_string(g.actors) + "\n"; });
    family("breakglass_report_share", "The gate's share of all breaks (0..1).");
    each([&](const std::string& l, const GateReport& g) { out += "breakglass_report_share{" + l + "} " + num(g.share) + "\n"; });
    family("breakglass_report_median_used_seconds", "Median time a grant was used before it ended.");
    each([&](const std::string& l, const GateReport& g) {
        if (g.median_used_seconds) out += "breakglass_report_median_used_seconds{" + l + "} " + std::to_string(*g.median_used_seconds) + "\n";
    });
    family("breakglass_report_median_ttl_seconds", "Median TTL granted.");
    each([&](const std::string& l, const GateReport& g) {
        if (g.median_ttl_seconds) out += "breakglass_report_median_ttl_seconds{" + l + "} " + std::to_string(*g.median_ttl_seconds) + "\n";
    });
    family("breakglass_report_reviewed_on_time_ratio", "Grants due for review that were reviewed on time (0..1).");
    each([&](const std::string& l, const GateReport& g) {
        if (g.reviewed_on_time) out += "breakglass_report_reviewed_on_time_ratio{" + l + "} " + num(*g.reviewed_on_time) + "\n";
    });
    family("breakglass_report_verdicts", "Grants by review verdict (unreviewed included).");
    each([&](const std::string& l, const GateReport& g) {
        for (const auto& [v, n] : g.verdicts)
            out += "breakglass_report_verdicts{" + l + ",verdict=\"" + prom_label(v) + "\"} " + std::to_string(n) + "\n";
    });
    family("breakglass_report_flag", "1 for each flag raised on the gate.");
    each([&](const std::string& l, const GateReport& g) {
        for (const std::string& f : g.flags) out += "breakglass_report_flag{" + l + ",flag=\"" + prom_label(f) + "\"} 1\n";
    });
    return out;
}

}  // namespace bg::report
