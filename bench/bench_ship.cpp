// SPDX-License-Identifier: ISC
// Shipper benchmarks (issue 11). Prints figures; asserts nothing. Three parts,
// each against a real breakglassd (the test fixture's launcher) and a real
// systemd-journal-remote on loopback over HTTPS (test certificates made with
// openssl at run time):
//
//  a. Drain after an outage. The backlog is written while no sink runs:
//     helper/audit's AuditLog appends N records (Deferred, one flush) into the
//     daemon's state directory before the daemon starts, so the sink's cursor
//     is at 0 and the whole log is behind it. Then journal-remote is started,
//     then breakglassd; timed from the daemon being ready until its status
//     says the sink acknowledged the last seq (the shipper's first attempt
//     finds the sink up: no backoff wait is in the figure). Baseline in the
//     same run: the same export bytes (payload.hpp's body for each batch of
//     kBatchRecords, read with LogTail) POSTed by one ship::HttpClient, in
//     the same order and batch sizes, to a second journal-remote started the
//     same way — no shipper, no daemon, no cursor writes.
//  b. Grant latency (GrantRequest -> Granted, a new connection each, YubiKey
//     OTP) with remote_ack = "required" vs "none": one daemon, two sets of
//     gates, the sink up, the two kinds interleaved.
//  c. breakglassd's memory (VmRSS, VmHWM) with a backlog of M records and the
//     sink down (its port closed), a few seconds after start (the shipper has
//     read its batch and failed at least once); baseline: the same policy,
//     no backlog.
//
//   usage: bench_ship [--records N] [--grants G] [--rss-records M]
//          defaults N = 100000, G = 200, M = 1000000
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_stats.hpp"
#include "common/hex.hpp"
#include "common/transport.hpp"
#include "helper/audit/audit_log.hpp"
#include "helper/ship/http_client.hpp"
#include "helper/ship/log_tail.hpp"
#include "helper/ship/payload.hpp"
#include "helper/ship/shipper.hpp"
#include "tests/support/journal_remote.hpp"
#include "tests/support/process_memory.hpp"
#include "tests/support/test_certificates.hpp"
#include "tests/support/test_daemon.hpp"
#include "tests/unit/yubikey_test_tokens.hpp"

namespace {

using bg::bench::Clock;
using bg::bench::micros;
using bg::bench::percentiles;
using bg::test::JournalRemote;
using bg::test::TestCertificates;
using bg::test::TestDaemon;
using bg::yubikey::test::TestYubikey;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

std::string sink_toml(const std::string& url, const TestCertificates& c) {
    return "[sink.central]\ntype = \"journal-remote\"\nurl = \"" + url + "\"\nca_file = \"" + c.ca.cert +
           "\"\nclient_cert = \"" + c.client.cert + "\"\nclient_key = \"" + c.client.key + "\"\n";
}

// A gate the backlog's records can name; parts a and c grant nothing.
std::string plain_policy(const std::string& sinks) {
    return sinks + "[gate.ops]\nrequesters = [\"root\"]\nincident_pattern = '^INC-[0-9]+$'\nfactors = [\"yubikey\"]\n"
                   "ttl = \"1h\"\n";
}

// A record of the size and shape of a sudo command's (about 600 bytes).
bg::audit::RecordFields sample_fields(std::uint64_t i) {
    bg::audit::RecordFields f;
    f.event = "command";
    f.actor = "alice";
    f.actor_loginuid = 1000;
    f.actor_role = "requester";
    f.action = "/usr/bin/systemctl restart postgresql@15-main.service";
    f.target = "root:breakglass";
    f.gate_bypassed = "ops";
    f.reason = "db-1 disk full, restarting after cleanup";
    f.incident_ref = "INC-" + std::to_string(4000 + i % 100);
    f.source = "sudo pts/3";
    f.grant_id = "bg-2026-000001";
    f.detail = "cwd=/root runas=root:breakglass";
    f.peer_uid = 0;
    return f;
}

// N records into <state_dir>/audit.log with the product's writer, as a
// daemon would have while the sink was down; returns the log's size.
off_t write_backlog(const std::string& state_dir, std::uint64_t n) {
    ::mkdir(state_dir.c_str(), 0700);
    auto log = bg::audit::AuditLog::open(state_dir, "bench-host");
    if (!log) fail("AuditLog::open: " + log.error().message);
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr)) - 60;
    for (std::uint64_t i = 0; i < n; ++i) {
        auto r = (*log)->append(sample_fields(i), now, bg::audit::Durability::Deferred);
        if (!r) fail("append: " + r.error().message);
    }
    if (auto s = (*log)->flush(); !s) fail("flush: " + s.error().message);
    struct stat st{};
    ::stat((*log)->path().c_str(), &st);
    return st.st_size;
}

std::uint64_t acked_seq(TestDaemon& daemon) {
    for (const bg::proto::SinkInfo& s : daemon.status(false).sinks)
        if (s.name == "central") return s.acked_seq;
    return 0;
}

void print_memory(const char* what, pid_t pid) {
    const auto m = bg::test::process_memory(pid);
    if (!m) {
        std::printf("  %-44s (not readable)\n", what);
        return;
    }
    std::printf("  %-44s VmRSS %7.1f MiB  VmHWM %7.1f MiB\n", what, static_cast<double>(m->rss_kib) / 1024.0,
                static_cast<double>(m->peak_kib) / 1024.0);
}

// ---- a

// The baseline: the same bytes, the same batches, one client, no shipper.
// Each body is read from the log and built just before its POST (one batch
// in memory, as in the shipper), and only the POSTs are on the clock.
double baseline_post(const std::string& log_path, std::uint64_t n, const JournalRemote& jr,
                     const TestCertificates& certs, std::size_t* bytes_out, double* build_s) {
    auto tail = bg::ship::LogTail::open(log_path);
    if (!tail) fail("LogTail::open: " + tail.error().message);
    bg::ship::HttpOptions options;
    options.ca_file = certs.ca.cert;
    options.client_cert = certs.client.cert;
    options.client_key = certs.client.key;
    bg::ship::HttpClient client(options);
    const std::string url = bg::ship::endpoint_for(bg::policy::SinkType::JournalRemote, jr.url());
    const auto headers = bg::ship::headers_for(bg::policy::SinkType::JournalRemote, "");
    double posting = 0, building = 0;
    std::size_t bytes = 0;
    for (std::uint64_t after = 0; after < n;) {
        const auto b0 = Clock::now();
        auto batch = tail->read(after, n, bg::ship::kBatchRecords, bg::ship::kBatchBytes);
        if (!batch || batch->empty()) fail("LogTail::read stopped at seq " + std::to_string(after));
        const std::string body = bg::ship::body_for(bg::policy::SinkType::JournalRemote, *batch);
        after = batch->back().record.seq;
        bytes += body.size();
        building += seconds_since(b0);
        const auto t0 = Clock::now();
        auto answer = client.post(url, headers, body);
        if (!answer) fail("baseline POST: " + answer.error().message);
        if (answer->status < 200 || answer->status > 299)
            fail("baseline POST: HTTP " + std::to_string(answer->status) + " " + answer->body.substr(0, 200));
        posting += seconds_since(t0);
    }
    *bytes_out = bytes;
    *build_s = building;
    return posting;
}

void bench_drain(const std::string& dir, std::uint64_t n, const TestCertificates& certs) {
    const std::string jr_dir = dir + "/drain-jr", base_dir = dir + "/drain-baseline-jr";
    ::mkdir(jr_dir.c_str(), 0700);
    ::mkdir(base_dir.c_str(), 0700);
    JournalRemote jr(jr_dir, certs), base_jr(base_dir, certs);
    jr.start();  // picks the port the policy names
    jr.stop();   // the outage

    bg::test::DaemonOptions options;
    options.start = false;
    options.ready_timeout = std::chrono::milliseconds(600000);
    TestDaemon daemon(plain_policy(sink_toml(jr.url(), certs)), options);
    auto t0 = Clock::now();
    const off_t log_bytes = write_backlog(daemon.state_dir(), n);
    const double made = seconds_since(t0);

    base_jr.start();
    std::size_t body_bytes = 0;
    double build_s = 0;
    const double base_s = baseline_post(daemon.audit().path(), n, base_jr, certs, &body_bytes, &build_s);
    const std::size_t base_entries = base_jr.entry_count();
    base_jr.stop();

    jr.start();
    const auto started = Clock::now();
    daemon.start();
    const double ready_s = seconds_since(started);
    // The shipper may start before the daemon answers: the rate counts what
    // was acknowledged between the first status read and the last seq.
    t0 = Clock::now();
    const std::uint64_t acked_at_ready = acked_seq(daemon);
    std::uint64_t acked = acked_at_ready;
    while ((acked = acked_seq(daemon)) < n) {
        if (seconds_since(t0) > 600) fail("the shipper acknowledged only " + std::to_string(acked) + " of " +
                                          std::to_string(n) + " in 600 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const double ship_s = seconds_since(t0);
    const std::uint64_t shipped = n - acked_at_ready;
    const std::size_t entries = jr.entry_count();
    std::printf("a. drain after an outage: %llu records (%.0f bytes each in the log, %.1f MB of export format), "
                "backlog written with AuditLog (Deferred appends, one flush) in %.1f s before a real breakglassd\n"
                "   started on it; journal-remote on 127.0.0.1 over HTTPS; timed from the daemon ready until its sink's "
                "acknowledged seq is the last\n",
                static_cast<unsigned long long>(n), static_cast<double>(log_bytes) / static_cast<double>(n),
                static_cast<double>(body_bytes) / 1e6, made);
    std::printf("  (the daemon answered %.1f s after it was started; its sink had acknowledged seq %llu by then; no "
                "state.json, so it rebuilt its grant state from the whole log)\n",
                ready_s, static_cast<unsigned long long>(acked_at_ready));
    std::printf("  %-44s %9.0f records/s  (%llu records in %.2f s; the sink holds %zu entries)   target >= 20,000/s\n",
                "breakglassd's shipper", static_cast<double>(shipped) / ship_s,
                static_cast<unsigned long long>(shipped), ship_s, entries);
    std::printf("  %-44s %9.0f records/s  (%.2f s; the sink holds %zu entries)\n",
                "baseline: the same batches, one HttpClient", static_cast<double>(n) / base_s, base_s, base_entries);
    std::printf("  ratio shipper/baseline (records/s): %.2f   (the baseline's bodies were read from the log and built "
                "off its clock, %.2f s in all; the shipper does that per batch, and writes + fsyncs its cursor)\n",
                (static_cast<double>(shipped) / ship_s) / (static_cast<double>(n) / base_s), build_s);
    print_memory("breakglassd after the drain", daemon.pid());
    daemon.stop();
    jr.stop();
}

// ---- b

struct OtpSource {
    TestYubikey key = TestYubikey::random();
    std::uint16_t session = 1;
    std::uint8_t use = 0;
    std::string next() {
        if (++use == 0) ++session;
        return key.otp(session, use);
    }
};

void bench_remote_ack(const std::string& dir, int grants, const TestCertificates& certs) {
    const std::string jr_dir = dir + "/ack-jr";
    ::mkdir(jr_dir.c_str(), 0700);
    JournalRemote jr(jr_dir, certs);
    jr.start();
    std::string policy = sink_toml(jr.url(), certs) +
                         "[defaults]\nincident_pattern = '^INC-[0-9]+$'\nfactors = [\"yubikey\"]\nttl = \"30m\"\n";
    for (int i = 0; i < grants; ++i) {
        policy += "[gate.n" + std::to_string(i) + "]\nrequesters = [\"root\"]\nremote_ack = \"none\"\n";
        policy += "[gate.r" + std::to_string(i) +
                  "]\nrequesters = [\"root\"]\nremote_ack = \"required\"\nremote_ack_timeout = \"5s\"\n";
    }
    TestDaemon daemon(policy);
    OtpSource otp;
    (void)daemon.call(bg::proto::EnrollYubikeyRequest{"root", otp.key.public_id, bg::hex_encode(otp.key.aes_key),
                                                      bg::hex_encode(otp.key.private_uid)},
                      bg::proto::MessageType::YubikeyEnrolled);
    std::vector<double> none, required;
    int granted_none = 0, granted_required = 0;
    const auto grant = [&](const std::string& gate, std::vector<double>& into) {
        const bg::proto::GrantRequest g{"", gate, "benchmark run", "INC-1", "", 0, otp.next(), "bench", "bench_ship"};
        const auto start = Clock::now();
        auto r = bg::proto::call(daemon.socket(), g, bg::proto::MessageType::Granted);
        into.push_back(micros(Clock::now() - start));
        return r.answer && std::holds_alternative<bg::proto::Granted>(*r.answer);
    };
    for (int i = 0; i < grants; ++i) {
        granted_none += grant("n" + std::to_string(i), none) ? 1 : 0;
        granted_required += grant("r" + std::to_string(i), required) ? 1 : 0;
    }
    const auto pn = percentiles(none), pr = percentiles(required);
    std::printf("b. grant latency, GrantRequest -> Granted, new connection each, one daemon, the sink (journal-remote, "
                "HTTPS, loopback) up, interleaved\n");
    std::printf("  %-44s p50 %8.1f us  p99 %8.1f us  (%d of %zu granted)\n", "remote_ack = \"required\"", pr.p50_us,
                pr.p99_us, granted_required, required.size());
    std::printf("  %-44s p50 %8.1f us  p99 %8.1f us  (%d of %zu granted)\n", "baseline: remote_ack = \"none\"",
                pn.p50_us, pn.p99_us, granted_none, none.size());
    std::printf("  ratio required/none: p50 %.2fx  p99 %.2fx\n", pr.p50_us / pn.p50_us, pr.p99_us / pn.p99_us);
    daemon.stop();
    jr.stop();
}

// ---- c

void bench_memory(const std::string& dir, std::uint64_t m, const TestCertificates& certs) {
    const std::string jr_dir = dir + "/rss-jr";
    ::mkdir(jr_dir.c_str(), 0700);
    JournalRemote jr(jr_dir, certs);
    jr.start();
    jr.stop();  // down for the whole part: its port refuses
    const std::string policy = plain_policy(sink_toml(jr.url(), certs));
    constexpr auto kSettle = std::chrono::seconds(3);

    std::printf("c. breakglassd's memory with the sink down (port closed), %lld s after it is ready\n",
                static_cast<long long>(kSettle.count()));
    {
        TestDaemon empty(policy);
        std::this_thread::sleep_for(kSettle);
        print_memory("baseline: no backlog", empty.pid());
        empty.stop();
    }
    bg::test::DaemonOptions options;
    options.start = false;
    options.ready_timeout = std::chrono::milliseconds(600000);
    TestDaemon daemon(policy, options);
    const auto t0 = Clock::now();
    const off_t bytes = write_backlog(daemon.state_dir(), m);
    const double made = seconds_since(t0);
    const auto started = Clock::now();
    daemon.start();
    const double ready_s = seconds_since(started);
    std::this_thread::sleep_for(kSettle);
    std::string error;
    std::uint64_t backlog = 0;
    for (const bg::proto::SinkInfo& s : daemon.status(false).sinks)
        if (s.name == "central") {
            backlog = s.backlog;
            error = s.last_error;
        }
    char what[96];
    std::snprintf(what, sizeof what, "backlog of %llu records (%.0f MB log)", static_cast<unsigned long long>(m),
                  static_cast<double>(bytes) / 1e6);
    print_memory(what, daemon.pid());
    std::printf("    (backlog written in %.1f s; the daemon answered %.1f s after it was started; status: backlog %llu, last error \"%.80s\"; memory bound: two batches of "
                "<= %zu records / %zu MiB per sink, the one in flight and the next)\n",
                made, ready_s, static_cast<unsigned long long>(backlog), error.c_str(), bg::ship::kBatchRecords,
                bg::ship::kBatchBytes / (1024 * 1024));
    daemon.stop();
}

std::uint64_t option(int argc, char** argv, const char* name, std::uint64_t fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], name) == 0) return std::strtoull(argv[i + 1], nullptr, 10);
    return fallback;
}

}  // namespace

int main(int argc, char** argv) {
    const std::uint64_t records = option(argc, argv, "--records", 100000);
    const int grants = static_cast<int>(option(argc, argv, "--grants", 200));
    const std::uint64_t rss_records = option(argc, argv, "--rss-records", 1000000);
    char tmpl[] = "/var/tmp/bg-bench-ship-XXXXXX";
    if (!::mkdtemp(tmpl)) return 1;
    const std::string dir = tmpl;
    int status = 0;
    try {
        bg::ship::init_http();
        const TestCertificates certs = bg::test::make_test_certificates(dir);
        bench_drain(dir, records, certs);
        bench_remote_ack(dir, grants, certs);
        bench_memory(dir, rss_records, certs);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_ship: %s\n", e.what());
        status = 1;
    }
    const std::string rm = "rm -rf '" + dir + "'";
    if (std::system(rm.c_str()) != 0) status = 1;
    return status;
}
