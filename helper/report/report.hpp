// SPDX-License-Identifier: ISC
// The per-gate bypass report and the auditor's export (docs/ARCHITECTURE.md,
// "After the glass"): read-only views of one or many hosts' audit logs. Pure:
// the callers (breakglassctl report / export) read the files; everything here
// is a function of the records, the period and the review windows, so the
// same records always give the same report, byte for byte.
//
// What counts (each definition is documented in breakglassctl(1) too):
//   - a break is a `grant` record whose timestamp is in [since, until); its
//     id is its event_id, its host the record's host (ids are per host);
//   - it ends at the first `revoke`, `expire` or `grant_void` record naming
//     it in grant_id; time used = end - grant (only ended grants count in
//     median_used_seconds); TTL granted = expires_at - grant;
//   - its review is the first `review` record naming it by someone who is
//     neither its actor nor one of its approvers (the verdict in
//     review_status, the reviewer in actor, the note in reason); it is on time
//     when it comes at most review_within (the gate's, default 72 h) after the
//     grant; a grant is due when grant + review_within <= until;
//     reviewed_on_time = on-time reviews / grants that are due or reviewed;
//   - weekly[i] = breaks in [since + i*7d, since + (i+1)*7d) (the last week
//     may be partial).
// Flags (each a fixed string):
//   - "frequent":     breaks * 7d >= 2 * (until - since): on average at least
//                     two breaks a week over the period;
//   - "rising":       at least 4 complete weeks, the least-squares slope of
//                     the complete weeks' counts is > 0, and the later half of
//                     those weeks holds at least 2 more breaks than the
//                     earlier half (a single extra break is not a trend);
//   - "fix-the-gate": breaks * 3 > all breaks, with at least 3 breaks in all;
//   - "unreviewed":   a grant due for review has no review by `until`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace bg::report {

inline constexpr std::int64_t kWeekSeconds = 7 * 24 * 3600;
inline constexpr std::int64_t kDefaultReviewWithinSeconds = 72 * 3600;
inline constexpr std::string_view kFlagFrequent = "frequent";
inline constexpr std::string_view kFlagRising = "rising";
inline constexpr std::string_view kFlagFixTheGate = "fix-the-gate";
inline constexpr std::string_view kFlagUnreviewed = "unreviewed";
inline constexpr std::size_t kRisingMinWeeks = 4;
inline constexpr std::uint64_t kRisingMinIncrease = 2;
inline constexpr std::uint64_t kFixTheGateMinBreaks = 3;
// The verdicts a review may carry; anything else is counted as "other".
inline constexpr std::string_view kVerdicts[] = {"justified", "unjustified", "gate-needs-fix"};

// The members of a record the report and the export read (the record's
// fields, audit_record.hpp, decoded).
struct Entry {
    std::uint64_t seq = 0;
    std::int64_t timestamp = 0;
    std::int64_t expires_at = 0;  // 0: none
    std::string event, event_id, host, actor, gate, grant_id, reason, incident_ref, approver, review_status, target,
        detail;
};

// False when `reviewer` is the grant's actor or one of its approvers (its
// approver field): such a review is not counted, whatever the log says.
bool independent_reviewer(std::string_view reviewer, const Entry& grant);

// Decodes one canonical record line (it must pass audit::scan_line, which
// this runs first). Errors say what is wrong with the line.
Result<Entry> decode_line(std::string_view line);

// The same, for a line of a log verify_log() has just accepted up to and
// including it (so every line is canonical: scan_line is not run again).
Result<Entry> decode_verified_line(std::string_view line);

// The event of a canonical line, found without decoding it (a value cannot
// hold the unescaped `,"event":"` this looks for); "" when there is none.
std::string_view event_of_line(std::string_view line);

// The events the report reads: grant, its ends (revoke, expire, grant_void)
// and review. The others (most of a log: commands, sessions) are skipped
// before decoding.
bool report_reads(std::string_view event);

struct Period {
    std::int64_t since = 0, until = 0;  // [since, until), until > since
};

struct ReportOptions {
    Period period;
    // review_within per gate (the policy's, when known); others use the default.
    std::map<std::string, std::int64_t, std::less<>> review_within;
    std::int64_t default_review_within = kDefaultReviewWithinSeconds;
};

struct GateReport {
    std::string gate;
    std::uint64_t breaks = 0;
    std::uint64_t actors = 0;
    std::vector<std::uint64_t> weekly;
    double share = 0;  // breaks / all breaks, rounded to 4 places
    std::optional<std::int64_t> median_used_seconds, median_ttl_seconds;
    std::optional<double> reviewed_on_time;  // fraction, rounded to 4 places
    std::uint64_t due = 0, on_time = 0, overdue_unreviewed = 0;
    std::map<std::string, std::uint64_t> verdicts;  // the three verdicts, "other" and "unreviewed", always present
    std::vector<std::string> flags;
    // Least-squares line through the complete weeks (y = intercept + slope * i).
    double trend_slope = 0, trend_intercept = 0;
    std::size_t complete_weeks = 0;
};

struct Report {
    Period period;
    std::uint64_t breaks = 0;
    std::vector<GateReport> gates;  // by gate name
    // Per host (by host name): the same report over that host's records alone.
    std::vector<std::pair<std::string, std::vector<GateReport>>> hosts;
};

// The records in any order, of one host or many (fleet). Records outside the
// period still matter (a review after `until` is ignored; an end after
// `until` is ignored; grants before `since` are not counted).
Report build_report(const std::vector<Entry>& records, const ReportOptions& options);

// Renderers. JSON: {"since","until","gates":[{"gate","breaks","actors",
// "weekly","share","median_used_seconds","median_ttl_seconds",
// "reviewed_on_time","verdicts","flags"}]} plus "hosts":[{"host","gates"}]
// when with_hosts. HTML: one self-contained XHTML page (inline SVG, no
// scripts, no external resources, every string escaped). Prometheus: the
// text exposition format.
std::string render_json(const Report& r, bool with_hosts);
std::string render_html(const Report& r, bool with_hosts);
std::string render_prometheus(const Report& r, bool with_hosts);

// ---- the auditor's export ----

struct CommandRun {
    std::int64_t timestamp = 0;
    std::string event_id, actor, target, detail;
};

struct GrantEvidence {
    std::string grant_id, host, actor, gate, reason, incident_ref, approvers, source_detail;
    std::int64_t timestamp = 0, expires_at = 0;
    std::uint64_t seq = 0;
    std::vector<std::string> approvals;  // "actor at time" of each approve record
    std::vector<CommandRun> commands;    // command, session_open, session_close, terminate, hook
    std::int64_t ended_at = 0;           // 0: not ended
    std::string ended_by, end_event, end_reason;
    std::string review_verdict, reviewer, review_note;
    std::int64_t reviewed_at = 0;
    std::string verified;  // "yes", "no" (at or after the first bad record), "not checked"
};

struct Checkpoint {
    std::string host, event_id;
    std::int64_t timestamp = 0;
    std::uint64_t record_seq = 0;
    std::string detail;
};

// What the chain verification said, per host.
struct HostVerification {
    std::string host;
    bool checked = false, ok = false;
    std::uint64_t first_bad_seq = 0;  // 0: none
    std::string message;
};

struct Evidence {
    Period period;
    std::vector<HostVerification> verification;
    std::vector<GrantEvidence> grants;   // sorted by (timestamp, host, grant_id)
    std::vector<Checkpoint> checkpoints; // the checkpoints in the period, and the first one after it per host
};

Evidence build_evidence(const std::vector<Entry>& records, const Period& period,
                        const std::vector<HostVerification>& verification);
std::string render_evidence_json(const Evidence& e);
// RFC 4180 (CRLF, every field quoted, quotes doubled); a field that starts
// with = + - @ TAB or CR gets a leading ' so a spreadsheet shows it as text.
std::string render_evidence_csv(const Evidence& e);
std::string csv_field(std::string_view value);

}  // namespace bg::report
