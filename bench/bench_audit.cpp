// SPDX-License-Identifier: ISC
// Audit store throughput: synced appends (write + fdatasync + the seal key's
// in-place pwrite; its fdatasync is the daemon's maintenance, at most once a
// second, not per append) and deferred appends (write only), against a bare
// write+fdatasync of the same size measured in the same run, and
// verify speed on a 100,000-record log with and without the seal key.
// Plain timing (no benchmark framework). Usage: bench_audit [appends] [dir]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "helper/audit/audit_log.hpp"
#include "helper/audit/audit_verify.hpp"
#include "helper/audit/seal_key.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using bg::audit::RecordFields;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    return v[i];
}

RecordFields sample_fields(std::uint64_t i) {
    RecordFields f;
    f.event = "command";
    f.actor = "alice";
    f.actor_loginuid = 1000;
        f.gate_bypassed = "breakglass";
    f.reason = "db-1 disk full";
    f.incident_ref = "INC-" + std::to_string(4000 + i % 100);
    f.source = "pts/3";
    f.factor = "totp";
    f.factor_counter = 59383333;
    f.peer_uid = 0;
    return f;
}

struct Stats {
    double per_second, p50_us, p99_us;
};

Stats summarize(const std::vector<double>& lat, double total) {
    return Stats{static_cast<double>(lat.size()) / total, percentile(lat, 0.50) * 1e6, percentile(lat, 0.99) * 1e6};
}

}  // namespace

int main(int argc, char** argv) {
    const int appends = argc > 1 ? std::atoi(argv[1]) : 1000;
    std::string base = argc > 2 ? argv[2] : "/var/tmp";
    std::string tmpl = base + "/bg-bench-audit.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    const std::string dir = tmpl;
    const std::int64_t now = 1781498047;

    // 1. Durable appends.
    auto opened = bg::audit::AuditLog::open(dir, "bench-host");
    if (!opened) {
        std::fprintf(stderr, "open: %s\n", opened.error().message.c_str());
        return 1;
    }
    auto& log = *opened;
    std::vector<double> lat;
    lat.reserve(static_cast<std::size_t>(appends));
    std::size_t line_bytes = 0;
    auto t0 = Clock::now();
    for (int i = 0; i < appends; ++i) {
        const auto t = Clock::now();
        auto r = log->append(sample_fields(static_cast<std::uint64_t>(i)), now + i);
        lat.push_back(seconds_since(t));
        if (!r) {
            std::fprintf(stderr, "append: %s\n", r.error().message.c_str());
            return 1;
        }
        if (i == 0) line_bytes = bg::audit::canonical_json(*r).size() + 1;
    }
    const Stats app = summarize(lat, seconds_since(t0));

    // 1b. Deferred appends (closing records), flushed as the daemon does: when
    // 64 are waiting.
    lat.clear();
    t0 = Clock::now();
    for (int i = 0; i < appends; ++i) {
        const auto t = Clock::now();
        auto r = log->append(sample_fields(static_cast<std::uint64_t>(i)), now + i, bg::audit::Durability::Deferred);
        if (r && log->deferred_records() >= 64) (void)log->flush();
        lat.push_back(seconds_since(t));
        if (!r) {
            std::fprintf(stderr, "append: %s\n", r.error().message.c_str());
            return 1;
        }
    }
    const Stats deferred = summarize(lat, seconds_since(t0));

    // 2. Baseline: write + fdatasync of a line of the same size, same file system.
    const std::string base_path = dir + "/baseline.log";
    const int fd = ::open(base_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    const std::string line(line_bytes - 1, 'x');
    const std::string payload = line + "\n";
    lat.clear();
    t0 = Clock::now();
    for (int i = 0; i < appends; ++i) {
        const auto t = Clock::now();
        if (::write(fd, payload.data(), payload.size()) != static_cast<ssize_t>(payload.size()) || ::fdatasync(fd) != 0) {
            std::perror("baseline");
            return 1;
        }
        lat.push_back(seconds_since(t));
    }
    const Stats bare = summarize(lat, seconds_since(t0));
    ::close(fd);

    std::printf("== audit append, %d records of %zu bytes, dir %s\n", appends, line_bytes, dir.c_str());
    std::printf("  synced append (write + fdatasync + key pwrite): %8.0f records/s   p50 %8.1f us   p99 %8.1f us\n",
                app.per_second, app.p50_us, app.p99_us);
    std::printf("  deferred append (write; fdatasync per 64):      %8.0f records/s   p50 %8.1f us   p99 %8.1f us\n",
                deferred.per_second, deferred.p50_us, deferred.p99_us);
    std::printf("  baseline write+fdatasync:                       %8.0f writes/s    p50 %8.1f us   p99 %8.1f us\n",
                bare.per_second, bare.p50_us, bare.p99_us);
    std::printf("  ratio synced/baseline throughput: %.2f  (p50 latency ratio %.2f)\n", app.per_second / bare.per_second,
                app.p50_us / bare.p50_us);

    // 3. Verify a 100,000-record log built in memory with the same record shape.
    const std::uint64_t n = 100000;
    auto key0 = bg::audit::generate_key();
    if (!key0) return 1;
    bg::audit::KeyBytes key = *key0;
    std::string big;
    big.reserve(n * 560);
    std::string prev(bg::audit::kGenesisPrevHash);
    for (std::uint64_t seq = 1; seq <= n; ++seq) {
        bg::audit::Record r;
        static_cast<RecordFields&>(r) = sample_fields(seq);
        r.seq = seq;
        r.timestamp = now + static_cast<std::int64_t>(seq);
        r.event_id = bg::audit::format_event_id(r.timestamp, seq);
        r.host = "bench-host";
        r.prev_hash = prev;
        r.hash = bg::audit::compute_hash(r);
        r.seal = bg::audit::seal_hex(key, r.hash);
        bg::audit::evolve_key(key);
        big += bg::audit::canonical_json(r);
        big += '\n';
        prev = r.hash;
    }
    const auto run = [&](bool with_key) {
        bg::audit::VerifyOptions o;
        if (with_key) o.initial_key = *key0;
        o.expect_last_seq = n;
        double best = 1e9;
        bg::audit::VerifyResult res;
        for (int rep = 0; rep < 3; ++rep) {
            const auto t = Clock::now();
            res = bg::audit::verify_log(big, o);
            best = std::min(best, seconds_since(t));
        }
        if (!res.ok) std::fprintf(stderr, "verify failed: %s\n", res.message.c_str());
        return best;
    };
    const double with_key = run(true);
    const double without_key = run(false);
    // Reference: a bare SHA-256 over the same bytes (one pass).
    std::printf("== verify %llu records, %.1f MB (avg %.0f bytes/record), best of 3\n",
                static_cast<unsigned long long>(n), static_cast<double>(big.size()) / 1e6,
                static_cast<double>(big.size()) / static_cast<double>(n));
    std::printf("  with key (chain + seals): %10.0f records/s  (%.1f ms)\n", static_cast<double>(n) / with_key,
                with_key * 1e3);
    std::printf("  without key (chain only): %10.0f records/s  (%.1f ms)\n", static_cast<double>(n) / without_key,
                without_key * 1e3);
    std::printf("  target: >= 500000 records/s\n");
    std::filesystem::remove_all(dir);
    return 0;
}
