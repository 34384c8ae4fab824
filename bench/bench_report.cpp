// SPDX-License-Identifier: ISC
// `breakglassctl report` over a large log (issue 14: 1,000,000 records, goal
// >= 500,000 records/s). The log is written by the real audit store
// (deferred appends: canonical, chained, sealed), 90 days of a busy host:
// per 10 records one grant (over 8 gates, 40 actors), six commands, one end
// (revoke or expire), one review, one session_open. Timed, each best of 3:
//   baseline: verify_log over the bytes (the pass `report` makes first);
//   decode:   every line scanned and decoded (what export and unverified
//             remote copies cost);
//   report:   the records the report reads selected without decoding, decoded
//             (the log verified), build_report and render_json;
//   total:    verify + report, what the command costs end to end (minus I/O).
// Wall and CPU time both: the machine may be shared.
// Usage: bench_report [records] [dir]   (CI-sized: bench_report 100000)
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "helper/audit/audit_log.hpp"
#include "helper/audit/audit_verify.hpp"
#include "helper/report/report.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

constexpr std::int64_t kStart = 1767571200;  // 2026-01-05
constexpr std::int64_t kSpan = 90LL * 24 * 3600;

struct Timing {
    double wall, cpu;  // cpu: the process's CPU time (all threads), fairer on a loaded machine
};

double cpu_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

template <typename F>
Timing best_of_3(F&& f) {
    Timing best{1e100, 1e100};
    for (int i = 0; i < 3; ++i) {
        const auto t0 = Clock::now();
        const double c0 = cpu_seconds();
        f();
        best.wall = std::min(best.wall, seconds_since(t0));
        best.cpu = std::min(best.cpu, cpu_seconds() - c0);
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    const std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
    const std::string dir = argc > 2 ? argv[2] : "/tmp/bench_report." + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    {
        auto log = bg::audit::AuditLog::open(dir, "bench-host");
        if (!log) {
            std::fprintf(stderr, "open: %s\n", log.error().message.c_str());
            return 1;
        }
        std::string last_grant;
        const auto t0 = Clock::now();
        for (std::uint64_t i = 0; i < n; ++i) {
            const std::int64_t at = kStart + static_cast<std::int64_t>(static_cast<__int128>(i) * kSpan / static_cast<__int128>(n));
            bg::audit::RecordFields f;
            const std::uint64_t k = i % 10;
            f.gate_bypassed = "gate-" + std::to_string((i / 10) % 8);
            f.actor = "user" + std::to_string((i / 10) % 40);
            f.grant_id = last_grant;
            if (k == 0) {
                f.event = "grant";
                f.grant_id.clear();
                f.reason = "replica lag on db-" + std::to_string(i % 17);
                f.incident_ref = "INC-" + std::to_string(i);
                f.expires_at = at + 3600;
                f.review_status = "pending";
            } else if (k <= 6) {
                f.event = "command";
                f.target = "/usr/bin/systemctl restart postgresql";
                f.detail = "pid 4242; exit 0";
            } else if (k == 7) {
                f.event = i % 20 < 10 ? "revoke" : "expire";
            } else if (k == 8) {
                f.event = "review";
                f.actor = "reviewer";
                f.review_status = "justified";
            } else {
                f.event = "session_open";
                f.target = "user=root";
            }
            auto r = (*log)->append(f, at, bg::audit::Durability::Deferred);
            if (!r) {
                std::fprintf(stderr, "append: %s\n", r.error().message.c_str());
                return 1;
            }
            if (k == 0) last_grant = r->event_id;
        }
        if (!(*log)->flush()) return 1;
        std::printf("wrote %llu records in %.2f s\n", static_cast<unsigned long long>(n), seconds_since(t0));
    }
    std::ifstream in(dir + "/audit.log", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    std::printf("log: %.1f MiB\n", static_cast<double>(bytes.size()) / (1 << 20));

    bool verified = false;
    const Timing t_verify = best_of_3([&] { verified = bg::audit::verify_log(bytes, {}).ok; });
    std::vector<bg::report::Entry> entries;
    // What `report` does after verify_log: skip the records it does not read
    // (found without decoding), decode the rest without scanning them again.
    auto decode_for_report = [&] {
        entries.clear();
        std::size_t pos = 0;
        const std::string_view all(bytes);
        while (pos < all.size()) {
            std::size_t end = all.find('\n', pos);
            if (end == std::string_view::npos) end = all.size();
            const std::string_view line = all.substr(pos, end - pos);
            pos = end + 1;
            if (!bg::report::report_reads(bg::report::event_of_line(line))) continue;
            auto e = bg::report::decode_verified_line(line);
            if (e) entries.push_back(std::move(e.value()));
        }
    };
    // Every line decoded and scanned (what `export` and unverified copies cost).
    std::size_t all_decoded = 0;
    const Timing t_decode_all = best_of_3([&] {
        all_decoded = 0;
        std::size_t pos = 0;
        const std::string_view all(bytes);
        while (pos < all.size()) {
            std::size_t end = all.find('\n', pos);
            if (end == std::string_view::npos) end = all.size();
            if (bg::report::decode_line(all.substr(pos, end - pos))) ++all_decoded;
            pos = end + 1;
        }
    });
    std::size_t gates = 0, json_bytes = 0;
    const Timing t_report = best_of_3([&] {
        decode_for_report();
        bg::report::ReportOptions o;
        o.period = {kStart, kStart + kSpan};
        const auto r = bg::report::build_report(entries, o);
        gates = r.gates.size();
        json_bytes = bg::report::render_json(r, false).size();
    });
    const double nn = static_cast<double>(n);
    auto line = [&](const char* what, const Timing& t, const std::string& note) {
        std::printf("%-34s wall %7.3f s %10.0f rec/s | cpu %7.3f s %10.0f rec/s  %s\n", what, t.wall, nn / t.wall, t.cpu,
                    nn / t.cpu, note.c_str());
    };
    line("baseline: verify_log (2 threads)", t_verify, verified ? "ok" : "FAILED");
    line("decode every line (scan + fields)", t_decode_all, std::to_string(all_decoded) + " decoded");
    line("report: select+decode+model+json", t_report,
         std::to_string(entries.size()) + " read, " + std::to_string(gates) + " gates, " + std::to_string(json_bytes) + " B JSON");
    line("report --json end to end (+verify)", Timing{t_report.wall + t_verify.wall, t_report.cpu + t_verify.cpu}, "");
    std::printf("goal >= 500000 records/s for the report (wall, this run): %s\n", nn / t_report.wall >= 500000 ? "met" : "NOT met");
    std::filesystem::remove_all(dir);
    return 0;
}
