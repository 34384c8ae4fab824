// SPDX-License-Identifier: ISC
// The per-gate bypass report and the auditor's export (issue 14, items 3 and
// 4). Fixture logs are written by the real audit store (helper/audit's
// AuditLog: canonical, hash-chained, sealed records) with timestamps spread
// over six weeks, which a daemon run cannot produce; the real breakglassctl
// reads them (and verifies them first). Golden files: tests/golden/report/
// (BG_UPDATE_GOLDEN=1 rewrites them). The fleet test ships two hosts' records
// through the real systemd-journal-remote and reads its journal files.
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "helper/audit/audit_log.hpp"
#include "helper/audit/audit_record.hpp"
#include "helper/audit/journal.hpp"
#include "helper/audit/signed_checkpoint.hpp"
#include "helper/report/report.hpp"

namespace bg::report {
namespace {

using nlohmann::json;

extern "C" char** environ;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    if (::chmod(path.c_str(), mode) != 0) throw std::runtime_error("chmod " + path);
}

struct ProcessResult {
    int exit_code = -1;
    std::string out, err;
};

// Runs argv[0] (an absolute path) to completion; stdout and stderr through files.
ProcessResult run(const std::vector<std::string>& argv) {
    static int counter = 0;
    const std::string base = "/tmp/bg-report-run." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, (base + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, (base + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    ProcessResult r;
    if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) throw std::runtime_error("spawn " + argv[0]);
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(base + ".out");
    r.err = read_file(base + ".err");
    std::filesystem::remove(base + ".out");
    std::filesystem::remove(base + ".err");
    return r;
}

constexpr std::int64_t kDay = 24 * 3600;
// Monday 2026-01-05T00:00:00Z; the period is six whole weeks.
constexpr std::int64_t kSince = 1767571200;
constexpr std::int64_t kUntil = kSince + 42 * kDay;
constexpr const char* kSinceText = "2026-01-05T00:00:00Z";
constexpr const char* kUntilText = "2026-02-16T00:00:00Z";
constexpr const char* kJournalRemote = "/lib/systemd/systemd-journal-remote";

std::string temp_dir() {
    char tmpl[] = "/tmp/bg-report-XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    if (d == nullptr) throw std::runtime_error("mkdtemp");
    return d;
}

// Writes records through the real audit store, in time order.
class LogWriter {
public:
    LogWriter(const std::string& dir, const std::string& host) {
        auto log = audit::AuditLog::open(dir, host);
        if (!log) throw std::runtime_error(log.error().message);
        log_ = std::move(log.value());
    }
    struct Pending {
        std::int64_t at;
        audit::RecordFields f;
        int grant_ref = -1;  // the grant's index (its own, or the one it follows)
    };
    // A grant at `at` for `ttl`; returns its index (its event id is known after write()).
    int grant(std::int64_t at, const std::string& gate, const std::string& actor, std::int64_t ttl,
              const std::string& reason = "disk full", const std::string& incident = "INC-1") {
        audit::RecordFields f;
        f.event = "grant";
        f.action = "break_glass";
        f.actor = actor;
        f.actor_role = "requester";
        f.gate_bypassed = gate;
        f.reason = reason;
        f.incident_ref = incident;
        f.expires_at = at + ttl;
        f.review_status = "pending";
        f.factor = "totp";
        f.detail = "ttl " + std::to_string(ttl / 60) + "m";
        queue_.push_back({at, f, grants_});
        return grants_++;
    }
    void follow(int grant, std::int64_t at, const std::string& event, const std::string& actor,
                const std::string& gate, const std::string& status = "", const std::string& reason = "",
                const std::string& target = "", const std::string& detail = "") {
        audit::RecordFields f;
        f.event = event;
        f.actor = actor;
        f.gate_bypassed = gate;
        f.review_status = status;
        f.reason = reason;
        f.target = target;
        f.detail = detail;
        queue_.push_back({at, f, grant});
    }
    void write() {
        std::stable_sort(queue_.begin(), queue_.end(), [](const Pending& a, const Pending& b) { return a.at < b.at; });
        std::map<int, std::string> ids;
        for (Pending& p : queue_) {
            if (p.f.event != "grant") p.f.grant_id = ids.at(p.grant_ref);
            auto r = log_->append(p.f, p.at);
            if (!r) throw std::runtime_error(r.error().message);
            if (p.f.event == "grant") ids[p.grant_ref] = r->event_id;
        }
        queue_.clear();
    }

    // A signed checkpoint over everything written so far, as breakglassd
    // writes it (its key created in `dir`, checkpoint.pub beside it).
    void checkpoint(const std::string& dir, const std::string& host, std::int64_t at) {
        auto key = audit::open_checkpoint_key(dir);
        if (!key) throw std::runtime_error(key.error().message);
        auto cp = audit::sign_checkpoint(*key, host, log_->last_seq(), log_->last_hash(), at);
        if (!cp) throw std::runtime_error(cp.error().message);
        audit::RecordFields f;
        f.event = std::string(audit::kCheckpointEvent);
        f.actor = std::string(audit::kCheckpointActor);
        f.detail = audit::render_checkpoint_detail(*cp);
        if (auto r = log_->append(f, at); !r) throw std::runtime_error(r.error().message);
    }

private:
    std::unique_ptr<audit::AuditLog> log_;
    std::vector<Pending> queue_;
    int grants_ = 0;
};

std::int64_t week(int w, int day = 1, int hour = 10) { return kSince + w * 7 * kDay + day * kDay + hour * 3600; }

// Host web-1: db broken 0,1,1,2,3,5 times in the six weeks (frequent, rising,
// more than a third of all breaks); web three times, all reviewed on time;
// dns once, never reviewed.
void write_host_a(const std::string& dir) {
    LogWriter w(dir, "web-1");
    const int db_weeks[] = {0, 1, 1, 2, 3, 5};
    int n = 0;
    for (int wk = 0; wk < 6; ++wk)
        for (int i = 0; i < db_weeks[wk]; ++i, ++n) {
            const std::int64_t at = week(wk, i % 5, 9 + i);
            const int g = w.grant(at, "db", n % 3 == 0 ? "alice" : "bob", 3600, "replica lag, failover", "INC-" + std::to_string(100 + n));
            if (n % 2 == 0) w.follow(g, at + 600 + 60 * n, "revoke", n % 3 == 0 ? "alice" : "bob", "db", "", "done");
            else w.follow(g, at + 3600, "expire", "breakglassd", "db");
            w.follow(g, at + 120, "command", n % 3 == 0 ? "alice" : "bob", "db", "", "", "/usr/bin/psql -c 'select 1'", "pid 4242; exit 0");
            // Reviews: the first seven on time, two late, the rest (recent) none.
            if (n < 7) w.follow(g, at + 24 * 3600, "review", "carol", "db", n == 3 ? "gate-needs-fix" : n == 5 ? "unjustified" : "justified", "ok");
            else if (n < 9) w.follow(g, at + 100 * 3600, "review", "carol", "db", "justified", "late");
        }
    for (int wk : {1, 3, 4}) {
        const std::int64_t at = week(wk, 2, 14);
        const int g = w.grant(at, "web", "dave", 1800, "cert, \"expired\"\nagain", "=HYPERLINK(\"http://x\")");
        w.follow(g, at + 300, "command", "dave", "web", "", "", "=cmd|' /C calc'!A0", "pid 7; exit 1");
        w.follow(g, at + 900, "revoke", "dave", "web", "", "fixed");
        w.follow(g, at + 3 * 3600, "review", "erin", "web", "justified", "fine");
    }
    const int g = w.grant(week(0, 3, 3), "dns", "frank", 600);
    w.follow(g, week(0, 3, 3) + 600, "expire", "breakglassd", "dns");
    w.write();
}

// Host db-1: db twice, web once.
void write_host_b(const std::string& dir) {
    LogWriter w(dir, "db-1");
    for (int wk : {2, 4}) {
        const std::int64_t at = week(wk, 4, 20);
        const int g = w.grant(at, "db", "gina", 900);
        w.follow(g, at + 900, "expire", "breakglassd", "db");
        w.follow(g, at + 3600, "review", "carol", "db", "justified", "ok");
    }
    const int g = w.grant(week(5, 0, 1), "web", "gina", 1800);
    w.follow(g, week(5, 0, 1) + 60, "revoke", "root", "web", "", "not needed");
    w.write();
    w.checkpoint(dir, "db-1", week(5, 0, 2));
}

std::string trimmed(std::string s) {
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

std::string golden_dir() { return std::string(BG_SOURCE_DIR) + "/tests/golden/report/"; }

void expect_golden(const std::string& name, const std::string& actual) {
    const std::string path = golden_dir() + name;
    if (std::getenv("BG_UPDATE_GOLDEN") != nullptr) {
        std::filesystem::create_directories(golden_dir());
        std::ofstream(path, std::ios::binary) << actual;
    }
    EXPECT_EQ(actual, read_file(path)) << "golden file " << path << " (BG_UPDATE_GOLDEN=1 rewrites it)";
}

std::vector<std::string> ctl(std::vector<std::string> args) {
    args.insert(args.begin(), BG_CTL_PATH);
    return args;
}

class ReportFixture : public ::testing::Test {
protected:
    // BG_REPORT_FIXTURE_DIR=DIR writes the fixture there and keeps it (for
    // the README's excerpt, or to look at the HTML).
    static void SetUpTestSuite() {
        const char* keep = std::getenv("BG_REPORT_FIXTURE_DIR");
        keep_ = keep != nullptr;
        root_ = keep ? std::string(keep) : temp_dir();
        std::filesystem::remove_all(root_);
        std::filesystem::create_directories(root_);
        host_a_ = root_ + "/web-1";
        host_b_ = root_ + "/db-1";
        std::filesystem::create_directory(host_a_);
        std::filesystem::create_directory(host_b_);
        write_host_a(host_a_);
        write_host_b(host_b_);
    }
    static void TearDownTestSuite() {
        if (!keep_) std::filesystem::remove_all(root_);
    }
    static ProcessResult report(const std::string& dir, std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"report", "--json", "--since", kSinceText, "--until", kUntilText};
        if (!dir.empty()) args.insert(args.end(), {"--state-dir", dir});
        args.insert(args.end(), extra.begin(), extra.end());
        return run(ctl(args));
    }
    static inline std::string root_, host_a_, host_b_;
    static inline bool keep_ = false;
};

TEST_F(ReportFixture, ReportJsonMatchesTheGoldenFile) {
    const auto r = report(host_a_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_golden("web-1.report.json", r.out);
    const json j = json::parse(r.out);
    ASSERT_EQ(j["gates"].size(), 3u);
    const json& db = j["gates"][0];
    EXPECT_EQ(db["gate"], "db");
    EXPECT_EQ(db["breaks"], 12);
    EXPECT_EQ(db["weekly"], json({0, 1, 1, 2, 3, 5}));
    EXPECT_EQ(db["flags"], json({"frequent", "rising", "fix-the-gate", "unreviewed"}));
    EXPECT_EQ(j["gates"][1]["gate"], "dns");
    EXPECT_EQ(j["gates"][1]["flags"], json({"unreviewed"}));
    EXPECT_EQ(j["gates"][2]["gate"], "web");
    EXPECT_EQ(j["gates"][2]["flags"], json::array());
    EXPECT_EQ(j["gates"][2]["reviewed_on_time"], 1.0);
    EXPECT_EQ(j["gates"][2]["median_used_seconds"], 900);
}

// --policy: each gate's review_within from the policy. db within 96 h: 7 of
// 10 on time (with 72 h one more unreviewed grant is due: 7 of 11).
TEST_F(ReportFixture, ReviewWindowsComeFromThePolicy) {
    const std::string policy = root_ + "/policy.toml";
    write_file(policy, R"([defaults]
max_ttl = "1h"
incident_pattern = '^INC-[0-9]+$'
factors = ["totp"]

[gate.db]
requesters = ["root"]
ttl = "10m"
review_within = "96h"
)", 0644);
    const auto r = report(host_a_, {"--policy", policy});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(j["gates"][0]["gate"], "db");
    EXPECT_EQ(j["gates"][0]["reviewed_on_time"], 0.7);
    EXPECT_EQ(j["gates"][2]["reviewed_on_time"], 1.0);  // web: not in the policy, 72 h
}

TEST_F(ReportFixture, ExportCsvMatchesTheGoldenFileAndDefusesFormulas) {
    const auto r = run(ctl({"export", "--format", "csv", "--since", kSinceText, "--until", kUntilText, "--state-dir", host_a_}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expect_golden("web-1.export.csv", r.out);
    // The incident reference and the command start with '=': prefixed, so a
    // spreadsheet shows them as text.
    EXPECT_NE(r.out.find("\"'=HYPERLINK(\"\"http://x\"\")\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"2026-01-14T14:05:00Z bg-2026-"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(",\"=HYPERLINK"), std::string::npos);
    const auto j = run(ctl({"export", "--format", "json", "--since", kSinceText, "--until", kUntilText, "--state-dir", host_a_}));
    ASSERT_EQ(j.exit_code, 0) << j.err;
    expect_golden("web-1.export.json", j.out);
    const json e = json::parse(j.out);
    EXPECT_EQ(e["grants"].size(), 16u);
    EXPECT_EQ(e["verification"][0]["ok"], true);
    EXPECT_EQ(e["grants"][0]["verified"], "yes");
}

TEST_F(ReportFixture, ATamperedLogIsReportedAndExportedAsUnverified) {
    const std::string copy = root_ + "/tampered";
    std::filesystem::create_directory(copy);
    std::string log = read_file(host_a_ + "/audit.log");
    const auto pos = log.find("replica lag");
    ASSERT_NE(pos, std::string::npos);
    log.replace(pos, 7, "REPLICA");
    write_file(copy + "/audit.log", log, 0600);
    const auto r = run(ctl({"export", "--format", "csv", "--since", kSinceText, "--until", kUntilText, "--state-dir", copy}));
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_NE(r.out.find("\"no\"\r\n"), std::string::npos) << r.out;
}

TEST_F(ReportFixture, HtmlIsWellFormedAndItsChartsCarryTheJsonNumbers) {
    const std::string html = root_ + "/report.html";
    const auto r = report(host_a_, {"--html", html});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto lint = run({"/usr/bin/xmllint", "--noout", "--nonet", html});
    ASSERT_EQ(lint.exit_code, 0) << lint.err;
    const std::string page = read_file(html);
    EXPECT_EQ(page.find("<script"), std::string::npos);
    EXPECT_EQ(page.find("href="), std::string::npos);
    EXPECT_EQ(page.find("src="), std::string::npos);
    EXPECT_EQ(page.find("@import"), std::string::npos);
    const json j = json::parse(r.out);
    for (const json& g : j["gates"]) {
        const std::string gate = g["gate"];
        for (std::size_t w = 0; w < g["weekly"].size(); ++w) {
            const auto x = run({"/usr/bin/xmllint", "--nonet", "--xpath",
                                "string(//*[local-name()='svg'][@id='chart-all']/*[local-name()='rect'][@data-gate='" + gate +
                                    "'][@data-week='" + std::to_string(w) + "']/@data-breaks)",
                                html});
            ASSERT_EQ(x.exit_code, 0) << x.err;
            EXPECT_EQ(trimmed(x.out), std::to_string(g["weekly"][w].get<std::uint64_t>())) << gate << " week " << w;
        }
        const auto row = run({"/usr/bin/xmllint", "--nonet", "--xpath",
                              "string(//*[local-name()='tr'][@data-gate='" + gate + "']/@data-breaks)", html});
        EXPECT_EQ(trimmed(row.out), std::to_string(g["breaks"].get<std::uint64_t>()));
    }
}

TEST_F(ReportFixture, PrometheusCarriesTheBreaksAndFlags) {
    const auto r = report(host_a_, {"--prometheus", "-"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("breakglass_report_breaks{gate=\"db\"} 12\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("breakglass_report_flag{gate=\"db\",flag=\"rising\"} 1\n"), std::string::npos);
    EXPECT_EQ(r.out.find("breakglass_report_flag{gate=\"web\""), std::string::npos);
}

// Root writes --html where others can write: a hard link planted to a file
// root owns is refused, not truncated; a symbolic link is not followed.
TEST_F(ReportFixture, OutputFilesPlantedAsLinksAreNotWritten) {
    const std::string precious = root_ + "/precious";
    write_file(precious, "keep me\n", 0600);
    const std::string hard = root_ + "/hard.html";
    ASSERT_EQ(::link(precious.c_str(), hard.c_str()), 0);
    auto r = report(host_a_, {"--html", hard});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(read_file(precious), "keep me\n");
    const std::string soft = root_ + "/soft.prom";
    ASSERT_EQ(::symlink(precious.c_str(), soft.c_str()), 0);
    r = report(host_a_, {"--prometheus", soft});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(read_file(precious), "keep me\n");
}

// Two hosts' records through the real systemd-journal-remote, one journal
// file each: the fleet report's per-host sections equal each host's own
// report, and its gates add up.
TEST_F(ReportFixture, FleetReportFromJournalRemoteAgreesWithPerHostReports) {
    ASSERT_EQ(::access(kJournalRemote, X_OK), 0) << kJournalRemote << " is not installed (scripts/install-deps.sh)";
    const std::string fleet = root_ + "/fleet";
    std::filesystem::create_directories(fleet);
    for (const std::string& host : {host_a_, host_b_}) {
        std::string stream;
        const std::string log = read_file(host + "/audit.log");
        std::size_t i = 0;
        while (i < log.size()) {
            const std::size_t nl = log.find('\n', i);
            const std::string line = log.substr(i, nl - i);
            i = nl + 1;
            auto rec = audit::parse_record(line);
            ASSERT_TRUE(rec.ok());
            stream += audit::journal_export_entry(*rec, line);
        }
        const std::string name = std::filesystem::path(host).filename();
        write_file(root_ + "/" + name + ".export", stream, 0600);
        const auto r = run({kJournalRemote, "--split-mode=none", "-o", fleet + "/" + name + ".journal",
                            root_ + "/" + name + ".export"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    const auto all = report("", {"--journal-dir", fleet});
    ASSERT_EQ(all.exit_code, 0) << all.err;
    const json f = json::parse(all.out);
    ASSERT_EQ(f["hosts"].size(), 2u);
    std::map<std::string, std::uint64_t> sum;
    for (const json& h : f["hosts"]) {
        const std::string host = h["host"];
        const auto own = report(root_ + "/" + host);
        ASSERT_EQ(own.exit_code, 0) << own.err;
        EXPECT_EQ(h["gates"], json::parse(own.out)["gates"]) << host;
        for (const json& g : h["gates"]) sum[g["gate"]] += g["breaks"].get<std::uint64_t>();
        // One host's journal file alone gives the same.
        const auto one = report("", {"--journal-file", fleet + "/" + host + ".journal"});
        ASSERT_EQ(one.exit_code, 0) << one.err;
        EXPECT_EQ(json::parse(one.out)["gates"], h["gates"]) << host;
    }
    for (const json& g : f["gates"]) EXPECT_EQ(g["breaks"].get<std::uint64_t>(), sum[g["gate"]]) << g["gate"];
    EXPECT_EQ(f["gates"][0]["gate"], "db");
    EXPECT_EQ(f["gates"][0]["breaks"], 14);

    // The export verifies each host's copy with --pubkey: the copies as
    // shipped verify; one whose record was edited after the fact does not,
    // and its grants from that record on say "no".
    ASSERT_TRUE(audit::open_checkpoint_key(host_b_).ok());
    const std::string pub = host_b_ + "/" + std::string(audit::kCheckpointPublicKeyFileName);
    auto ev = run(ctl({"export", "--format", "json", "--since", kSinceText, "--until", kUntilText, "--journal-file",
                       fleet + "/db-1.journal", "--pubkey", pub}));
    ASSERT_EQ(ev.exit_code, 0) << ev.err;
    json e = json::parse(ev.out);
    ASSERT_EQ(e["verification"].size(), 1u);
    EXPECT_EQ(e["verification"][0]["checked"], true);
    EXPECT_EQ(e["verification"][0]["ok"], true) << e["verification"].dump();
    ASSERT_EQ(e["grants"].size(), 3u);
    for (const json& g : e["grants"]) EXPECT_EQ(g["verified"], "yes");
    ASSERT_EQ(e["checkpoints"].size(), 1u);  // the signed checkpoint covering the period
    // Two hosts: a key proves only the host it is bound to. Unbound, db-1's
    // key is not taken for either; bound to web-1 it does not hold for
    // web-1's copy (which holds no signed checkpoint anyway); bound to db-1
    // it verifies db-1 alone.
    ev = run(ctl({"export", "--format", "json", "--since", kSinceText, "--until", kUntilText, "--journal-dir", fleet,
                  "--pubkey", pub}));
    EXPECT_EQ(ev.exit_code, 4) << ev.err;
    e = json::parse(ev.out);
    ASSERT_EQ(e["verification"].size(), 2u);
    EXPECT_EQ(e["verification"][0]["ok"], false);
    EXPECT_EQ(e["verification"][1]["ok"], false);
    ev = run(ctl({"export", "--format", "json", "--since", kSinceText, "--until", kUntilText, "--journal-dir", fleet,
                  "--pubkey", "db-1=" + pub, "--pubkey", "web-1=" + pub}));
    EXPECT_EQ(ev.exit_code, 4) << ev.err;
    e = json::parse(ev.out);
    ASSERT_EQ(e["verification"].size(), 2u);
    EXPECT_EQ(e["verification"][0]["host"], "db-1");
    EXPECT_EQ(e["verification"][0]["ok"], true) << e["verification"].dump();
    EXPECT_EQ(e["verification"][1]["host"], "web-1");
    EXPECT_EQ(e["verification"][1]["ok"], false);
    const std::string edited_dir = root_ + "/edited";
    std::filesystem::create_directories(edited_dir);
    std::string stream;
    const std::string log = read_file(host_b_ + "/audit.log");
    std::size_t i = 0;
    std::uint64_t seq = 0;
    while (i < log.size()) {
        const std::size_t nl = log.find('\n', i);
        const std::string line = log.substr(i, nl - i);
        i = nl + 1;
        auto rec = audit::parse_record(line);
        ASSERT_TRUE(rec.ok());
        if (++seq == 4) {
            rec->reason = "edited afterwards";  // still canonical; its hash no longer matches
            const std::string edited = audit::canonical_json(*rec);
            stream += audit::journal_export_entry(*rec, edited);
        } else {
            stream += audit::journal_export_entry(*rec, line);
        }
    }
    write_file(root_ + "/edited.export", stream, 0600);
    const auto shipped = run({kJournalRemote, "--split-mode=none", "-o", edited_dir + "/db-1.journal", root_ + "/edited.export"});
    ASSERT_EQ(shipped.exit_code, 0) << shipped.err;
    ev = run(ctl({"export", "--format", "json", "--since", kSinceText, "--until", kUntilText, "--journal-dir", edited_dir,
                  "--pubkey", pub}));
    EXPECT_EQ(ev.exit_code, 4) << ev.err;
    e = json::parse(ev.out);
    ASSERT_EQ(e["verification"].size(), 1u);
    EXPECT_EQ(e["verification"][0]["ok"], false);
    EXPECT_EQ(e["verification"][0]["first_bad_seq"], 4);
    ASSERT_EQ(e["grants"].size(), 3u);
    EXPECT_EQ(e["grants"][0]["verified"], "yes");  // seq 1
    EXPECT_EQ(e["grants"][1]["verified"], "no");   // seq 4
    EXPECT_EQ(e["grants"][2]["verified"], "no");
}

// ---- the model alone: each flag fires on a fixture built for it, and not otherwise ----

Entry grant_entry(std::int64_t at, const std::string& gate, std::uint64_t seq) {
    Entry e;
    e.event = "grant";
    e.seq = seq;
    e.timestamp = at;
    e.expires_at = at + 600;
    e.event_id = audit::format_event_id(at, seq);
    e.host = "h";
    e.actor = "alice";
    e.gate = gate;
    return e;
}

Entry review_entry(const Entry& g, std::int64_t after, std::uint64_t seq) {
    Entry e;
    e.event = "review";
    e.seq = seq;
    e.timestamp = g.timestamp + after;
    e.event_id = audit::format_event_id(e.timestamp, seq);
    e.host = g.host;
    e.actor = "carol";
    e.gate = g.gate;
    e.grant_id = g.event_id;
    e.review_status = "justified";
    return e;
}

// weekly counts for one gate, each grant reviewed an hour later.
std::vector<Entry> weekly_fixture(const std::vector<int>& counts, const std::string& gate = "g", std::uint64_t seq0 = 1) {
    std::vector<Entry> out;
    std::uint64_t seq = seq0;
    for (std::size_t w = 0; w < counts.size(); ++w)
        for (int i = 0; i < counts[w]; ++i) {
            out.push_back(grant_entry(kSince + static_cast<std::int64_t>(w) * kWeekSeconds + i * 3600, gate, seq++));
            out.push_back(review_entry(out.back(), 3600, seq++));
        }
    return out;
}

std::vector<std::string> flags_of(const std::vector<Entry>& records, const std::string& gate = "g") {
    ReportOptions o;
    o.period = {kSince, kUntil};
    for (const GateReport& g : build_report(records, o).gates)
        if (g.gate == gate) return g.flags;
    return {};
}

bool has(const std::vector<std::string>& v, std::string_view f) { return std::find(v.begin(), v.end(), f) != v.end(); }

TEST(ReportFlags, FrequentAtTwoAWeekOnAverageNotBelow) {
    EXPECT_TRUE(has(flags_of(weekly_fixture({2, 2, 2, 2, 2, 2})), kFlagFrequent));
    EXPECT_FALSE(has(flags_of(weekly_fixture({2, 2, 2, 2, 2, 1})), kFlagFrequent));
}

TEST(ReportFlags, RisingNeedsAPositiveSlopeAndTwoMoreLateBreaks) {
    EXPECT_TRUE(has(flags_of(weekly_fixture({0, 0, 1, 1, 1, 1})), kFlagRising));
    EXPECT_FALSE(has(flags_of(weekly_fixture({0, 0, 1, 0, 1, 0})), kFlagRising));  // one more, not two
    EXPECT_FALSE(has(flags_of(weekly_fixture({3, 2, 1, 1, 2, 3})), kFlagRising));  // flat
    EXPECT_FALSE(has(flags_of(weekly_fixture({3, 3, 3, 0, 0, 0})), kFlagRising));  // falling
}

TEST(ReportFlags, FixTheGateAboveAThirdOfAllBreaks) {
    auto records = weekly_fixture({1, 1, 0, 0, 0, 0}, "a", 1);
    auto other = weekly_fixture({1, 1, 1, 1, 0, 0}, "b", 100);
    records.insert(records.end(), other.begin(), other.end());
    EXPECT_TRUE(has(flags_of(records, "b"), kFlagFixTheGate));   // 4 of 6
    EXPECT_FALSE(has(flags_of(records, "a"), kFlagFixTheGate));  // 2 of 6: exactly a third
    EXPECT_FALSE(has(flags_of(weekly_fixture({1, 1, 0, 0, 0, 0})), kFlagFixTheGate));  // 2 in all: too few
}

TEST(ReportFlags, UnreviewedOnlyOnceTheReviewIsDue) {
    std::vector<Entry> records = {grant_entry(kUntil - 4 * kDay, "g", 1)};
    EXPECT_TRUE(has(flags_of(records), kFlagUnreviewed));
    records.push_back(review_entry(records[0], 80 * 3600, 2));  // late, but a review
    EXPECT_FALSE(has(flags_of(records), kFlagUnreviewed));
    const std::vector<Entry> recent = {grant_entry(kUntil - kDay, "g", 1)};  // not due yet
    EXPECT_FALSE(has(flags_of(recent), kFlagUnreviewed));
    ReportOptions o;
    o.period = {kSince, kUntil};
    const Report r = build_report(records, o);
    ASSERT_TRUE(r.gates[0].reviewed_on_time.has_value());
    EXPECT_EQ(*r.gates[0].reviewed_on_time, 0.0);  // 80 h > 72 h
    o.review_within["g"] = 96 * 3600;
    EXPECT_EQ(*build_report(records, o).gates[0].reviewed_on_time, 1.0);
}

TEST(ReportFlags, AnotherHostsRecordsNeverEndOrReviewAGrant) {
    std::vector<Entry> records = {grant_entry(kSince + kDay, "g", 1)};
    Entry review = review_entry(records[0], 3600, 2);
    review.host = "other";  // same event id, another host
    records.push_back(review);
    EXPECT_TRUE(has(flags_of(records), kFlagUnreviewed));
}

TEST(ReportFlags, AReviewByTheActorOrAnApproverIsNoReview) {
    std::vector<Entry> records = {grant_entry(kSince + kDay, "g", 1)};
    records[0].approver = "bob, carol";
    Entry self = review_entry(records[0], 3600, 2);
    self.actor = "alice";  // the grant's own actor
    Entry approver = review_entry(records[0], 3600, 3);
    approver.actor = "carol";
    records.push_back(self);
    records.push_back(approver);
    EXPECT_TRUE(has(flags_of(records), kFlagUnreviewed));
    const Evidence e = build_evidence(records, {kSince, kUntil}, {});
    ASSERT_EQ(e.grants.size(), 1u);
    EXPECT_EQ(e.grants[0].reviewer, "");
    Entry other = review_entry(records[0], 7200, 4);
    other.actor = "dan";
    records.push_back(other);
    EXPECT_FALSE(has(flags_of(records), kFlagUnreviewed));
    EXPECT_EQ(build_evidence(records, {kSince, kUntil}, {}).grants[0].reviewer, "dan");
}

// A grant committed by approvals carries its request's id: the approvals
// (which name the request) and a review naming either id reach it; the
// period's checkpoints and the first after it are listed, per host.
TEST(ReportEvidence, ApprovalsReviewsAndCheckpointsReachTheirGrant) {
    Entry request;
    request.event = "request";
    request.seq = 1;
    request.timestamp = kSince + kDay;
    request.event_id = audit::format_event_id(request.timestamp, 1);
    request.host = "h";
    request.grant_id = "req-1";
    Entry approve = request;
    approve.event = "approve";
    approve.seq = 2;
    approve.actor = "bob";
    approve.event_id = audit::format_event_id(request.timestamp, 2);
    Entry g = grant_entry(kSince + kDay + 60, "g", 3);
    g.grant_id = "req-1";
    g.approver = "bob";
    Entry review = review_entry(g, 3600, 4);
    review.grant_id = "req-1";
    Entry cp_in;
    cp_in.event = "checkpoint";
    cp_in.seq = 5;
    cp_in.timestamp = kSince + 2 * kDay;
    cp_in.host = "h";
    cp_in.detail = "seq=4 head=...";
    Entry cp_after = cp_in;
    cp_after.seq = 9;
    cp_after.timestamp = kUntil + kDay;
    Entry cp_later = cp_in;
    cp_later.seq = 12;
    cp_later.timestamp = kUntil + 2 * kDay;
    const std::vector<Entry> records = {request, approve, g, review, cp_in, cp_after, cp_later};
    const Evidence e = build_evidence(records, {kSince, kUntil}, {});
    ASSERT_EQ(e.grants.size(), 1u);
    EXPECT_EQ(e.grants[0].approvals, std::vector<std::string>{"bob at 2026-01-06T00:00:00Z"});
    EXPECT_EQ(e.grants[0].reviewer, "carol");
    ASSERT_EQ(e.checkpoints.size(), 2u);
    EXPECT_EQ(e.checkpoints[0].record_seq, 5u);
    EXPECT_EQ(e.checkpoints[1].record_seq, 9u);
    EXPECT_FALSE(has(flags_of(records), kFlagUnreviewed));
}

TEST(ReportRender, HostileGateNamesAreEscapedEverywhere) {
    std::vector<Entry> records = {grant_entry(kSince + kDay, "<script>\"x\"&'\n", 1)};
    ReportOptions o;
    o.period = {kSince, kUntil};
    const Report r = build_report(records, o);
    const std::string html = render_html(r, true);
    EXPECT_EQ(html.find("<script>"), std::string::npos);
    EXPECT_NE(html.find("&lt;script&gt;&quot;x&quot;&amp;&#39;"), std::string::npos);
    const std::string prom = render_prometheus(r, false);
    EXPECT_NE(prom.find("gate=\"<script>\\\"x\\\"&'\\n\""), std::string::npos) << prom;
}

TEST(ReportRender, CsvFieldsQuoteAndDefuse) {
    EXPECT_EQ(csv_field("plain"), "\"plain\"");
    EXPECT_EQ(csv_field("a \"b\", c\nd"), "\"a \"\"b\"\", c\nd\"");
    for (const char* f : {"=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"}) EXPECT_EQ(csv_field(f).substr(0, 2), "\"'") << f;
}

TEST(ReportDecode, DecodesEscapedFieldsOfACanonicalLine) {
    audit::Record rec;
    rec.event = "grant";
    rec.actor = "al\"ice";
    rec.reason = "line1\nline2\t\x01";
    rec.gate_bypassed = "db";
    rec.seq = 7;
    rec.timestamp = kSince;
    rec.expires_at = kSince + 60;
    rec.event_id = audit::format_event_id(rec.timestamp, rec.seq);
    rec.host = "h1";
    rec.prev_hash = std::string(64, '0');
    rec.hash = audit::compute_hash(rec);
    rec.seal = std::string(64, 'a');
    const auto e = decode_line(audit::canonical_json(rec));
    ASSERT_TRUE(e.ok()) << e.error().message;
    EXPECT_EQ(e->actor, rec.actor);
    EXPECT_EQ(e->reason, rec.reason);
    EXPECT_EQ(e->gate, "db");
    EXPECT_EQ(e->expires_at, kSince + 60);
    EXPECT_EQ(e->seq, 7u);
    EXPECT_FALSE(decode_line("{\"actor\":\"x\"}").ok());
    // The event is found without decoding, and a value cannot imitate it.
    audit::Record cmd = rec;
    cmd.event = "command";
    cmd.actor = "x\",\"event\":\"grant";
    cmd.detail = ",\"event\":\"grant\"";
    cmd.hash = audit::compute_hash(cmd);
    const std::string line = audit::canonical_json(cmd);
    EXPECT_EQ(event_of_line(line), "command") << line;
    EXPECT_FALSE(report_reads(event_of_line(line)));
    const auto v = decode_verified_line(line);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->event, "command");
    EXPECT_EQ(v->actor, cmd.actor);
    EXPECT_EQ(v->seq, 7u);
    EXPECT_EQ(v->timestamp, kSince);
}

}  // namespace
}  // namespace bg::report
