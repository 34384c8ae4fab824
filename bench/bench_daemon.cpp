// SPDX-License-Identifier: ISC
// Daemon benchmarks. Prints figures; asserts nothing. Three parts:
//
//  1. What each request does on the event loop (issue 9, item 4): the daemon
//     core in this process, driven through the dispatch table as the loop
//     does, per request type: the handler (up to the answer), the work after
//     the answer (terminations, hooks), and the maintenance the loop runs
//     when it is due (deferred records fsync'd, the seal key's sync and the
//     checkpoint handed to the state writer's thread). journald's copy goes
//     through its own thread, as in breakglassd.
//  2. GrantRequest -> Granted against a real breakglassd process (the test
//     fixture's launcher), a new connection per grant as a front-end makes,
//     back to back: each round trip includes whatever the daemon still did
//     after the previous answer. The factor is a YubiKey OTP made with
//     libyubikey from a key enrolled at run time (counters grow, so no clock
//     games), and each grant is for one of 1000 gates (a user holds one grant
//     per gate). Baseline in the same run and directory: write + fdatasync of
//     a record-sized line appended to a file. Target: p50 <= 1.5 x baseline.
//  3. The Check fast path against the same daemon: a new connection per
//     check, and one kept connection. Baseline: connect + close.
//
//   usage: bench_daemon [N]   (N grants, default 1000)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_stats.hpp"
#include "common/hex.hpp"
#include "common/transport.hpp"
#include "helper/daemon/daemon.hpp"
#include "helper/daemon/dispatch.hpp"
#include "tests/support/test_daemon.hpp"
#include "tests/unit/yubikey_test_tokens.hpp"

namespace {

using bg::bench::Clock;
using bg::bench::micros;
using bg::bench::percentiles;
using bg::yubikey::test::TestYubikey;

constexpr int kGates = 1000;

std::string policy_with_gates(int gates) {
    std::string p = "[defaults]\nmax_ttl = \"1h\"\nincident_pattern = '^INC-[0-9]+$'\nfactors = [\"yubikey\"]\n";
    for (int i = 0; i < gates; ++i)
        p += "[gate.g" + std::to_string(i) + "]\nrequesters = [\"root\"]\nttl = \"30m\"\nsudo_runas_group = \"bench-g" +
             std::to_string(i) + "\"\n";
    return p;
}

bg::PeerIdentity root_peer() {
    bg::PeerIdentity p;
    p.pid = ::getpid();
    p.uid = 0;
    p.real_uid = 0;
    p.user = "root";
    p.trusted = true;
    return p;
}

bg::proto::EnrollYubikeyRequest enrol(const TestYubikey& key) {
    return {"root", key.public_id, bg::hex_encode(key.aes_key), bg::hex_encode(key.private_uid)};
}

// OTPs with strictly growing (session, use) counters.
struct OtpSource {
    TestYubikey key = TestYubikey::random();
    std::uint16_t session = 1;
    std::uint8_t use = 0;
    std::string next() {
        if (++use == 0) ++session;
        return key.otp(session, use);
    }
};

void write_text(const std::string& path, const std::string& text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    (void)!::write(fd, text.data(), text.size());
    ::close(fd);
}

void print(const char* what, const std::vector<double>& v) {
    if (v.empty()) {
        std::printf("  %-34s (none)\n", what);
        return;
    }
    const auto p = percentiles(v);
    std::printf("  %-34s p50 %8.1f us  p99 %8.1f us  max %8.1f us  (n=%zu)\n", what, p.p50_us, p.p99_us, p.max_us,
                v.size());
}

// ---- part 1

struct LoopCost {
    std::vector<double> handler, after_answer;
};

void bench_loop_work(const std::string& dir, int n) {
    const std::string state = dir + "/loop-state";
    ::mkdir(state.c_str(), 0700);
    write_text(dir + "/loop-policy.toml", policy_with_gates(kGates));
    bg::DaemonConfig config;
    config.state_dir = state;
    config.policy_path = dir + "/loop-policy.toml";
    config.send_to_journal = true;  // its copy is queued to its own thread, as in breakglassd
    std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    auto created = bg::Daemon::create(config, now);
    if (!created) {
        std::fprintf(stderr, "cannot start the daemon core: %s\n", created.error().message.c_str());
        std::exit(1);
    }
    bg::Daemon& daemon = **created;
    OtpSource otp;
    std::map<std::string, LoopCost> costs;
    std::vector<double> maintenance;
    const auto run = [&](const char* name, bg::proto::Message m) -> std::optional<bg::proto::Message> {
        bg::ConnectionState conn;
        bg::proto::Received r;
        r.message = std::move(m);
        LoopCost& c = costs[name];
        auto t0 = Clock::now();
        bg::DispatchOutcome out = bg::dispatch(conn, root_peer(), std::move(r), daemon, now);
        c.handler.push_back(micros(Clock::now() - t0));
        t0 = Clock::now();
        (void)daemon.after_answer(now);
        (void)daemon.take_timer_changes();
        c.after_answer.push_back(micros(Clock::now() - t0));
        // The loop maintains at once when much waits, else within a second.
        static auto last = Clock::now();
        if (daemon.maintenance_urgent() ||
            (daemon.maintenance_pending(now) && Clock::now() - last > std::chrono::milliseconds(bg::kMaintenanceIntervalMs))) {
            t0 = Clock::now();
            (void)daemon.maintain(now);
            maintenance.push_back(micros(Clock::now() - t0));
            last = Clock::now();
        }
        return out.answer;
    };
    (void)run("EnrollYubikey", enrol(otp.key));
    std::vector<std::string> grants;
    for (int i = 0; i < n && i < kGates; ++i) {
        auto a = run("Grant", bg::proto::GrantRequest{"", "g" + std::to_string(i), "benchmark run", "INC-1", "", 0,
                                                      otp.next(), "bench", "bench_daemon"});
        if (a && std::holds_alternative<bg::proto::Granted>(*a)) grants.push_back(std::get<bg::proto::Granted>(*a).event_id);
        (void)run("Check", bg::proto::CheckRequest{"root", "g" + std::to_string(i)});
        // The sudo plugin's check: under the grant, the command record in the same request.
        (void)run("Command (check + record)", bg::proto::CommandRequest{"root", "g" + std::to_string(i), "sudo", "pts/1",
                                                                        4242, "/usr/bin/true", "cwd=/ runas=root:g",
                                                                        "bench-g" + std::to_string(i)});
        (void)run("Session command", bg::proto::SessionRequest{"root", "g" + std::to_string(i), "command", "sudo",
                                                              "pts/1", "", 4242, "/usr/bin/true", ""});
        (void)run("Session close", bg::proto::SessionRequest{"root", "g" + std::to_string(i), "session_close", "sudo",
                                                            "pts/1", "", 4242, "/usr/bin/true", "exit status 0"});
        if (i % 10 == 0) (void)run("Status", bg::proto::StatusRequest{false});
    }
    for (const std::string& id : grants) (void)run("Revoke", bg::proto::RevokeRequest{id, "bench"});
    std::printf("1. work on the event loop per request (daemon core in-process, %zu grants; the state writer and the\n"
                "   journald copy run on their own threads)\n",
                grants.size());
    for (const auto& [name, c] : costs) {
        std::printf(" %s\n", name.c_str());
        print("handler, up to the answer", c.handler);
        print("after the answer", c.after_answer);
    }
    std::printf(" maintenance, when due (at most every %lld ms or %llu records)\n",
                static_cast<long long>(bg::kMaintenanceIntervalMs), static_cast<unsigned long long>(bg::kMaintenanceRecords));
    print("flush + key sync and checkpoint handed off", maintenance);
}

// ---- part 2 and 3

// One write + fdatasync of a record-sized line appended to `fd`.
double fdatasync_once(int fd) {
    static const std::string line(600, 'x');
    const auto start = Clock::now();
    (void)!::write(fd, line.data(), line.size());
    ::fdatasync(fd);
    return micros(Clock::now() - start);
}

void bench_real_daemon(int n) {
    bg::test::DaemonOptions options;
    options.journal = std::getenv("BG_BENCH_NOJOURNAL") == nullptr;  // as packaged; without journald the copy fails fast on its thread
    bg::test::TestDaemon daemon(policy_with_gates(kGates), options);
    OtpSource otp;
    (void)daemon.call(enrol(otp.key), bg::proto::MessageType::YubikeyEnrolled);

    // The baseline runs in two blocks on the same file system, half before
    // and half after the grants, so drift in the disk's latency shows in
    // both. (Interleaving one sync with each grant was tried: each then
    // disturbs the other's journal commit, and the figures mean neither.)
    const int base_fd = ::open((daemon.dir() + "/baseline.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    std::vector<double> grant, base;
    for (int i = 0; i < n / 2; ++i) base.push_back(fdatasync_once(base_fd));
    int granted = 0;
    for (int i = 0; i < n && i < kGates; ++i) {
        const bg::proto::GrantRequest g{"", "g" + std::to_string(i), "benchmark run", "INC-1", "", 0, otp.next(),
                                        "bench", "bench_daemon"};
        const auto start = Clock::now();
        auto r = bg::proto::call(daemon.socket(), g, bg::proto::MessageType::Granted);
        grant.push_back(micros(Clock::now() - start));
        if (r.answer && std::holds_alternative<bg::proto::Granted>(*r.answer)) ++granted;
    }
    for (int i = n / 2; i < n; ++i) base.push_back(fdatasync_once(base_fd));
    ::close(base_fd);

    constexpr int kChecks = 10000;
    std::vector<double> fresh, kept, connect_only;
    int active = 0;
    for (int i = 0; i < kChecks; ++i) {
        const auto start = Clock::now();
        auto r = bg::proto::call(daemon.socket(), bg::proto::CheckRequest{"root", "g0"}, bg::proto::MessageType::CheckAnswer);
        fresh.push_back(micros(Clock::now() - start));
        if (r.answer && std::get<bg::proto::CheckAnswer>(*r.answer).active) ++active;
    }
    auto fd = bg::proto::connect_socket(daemon.socket());
    for (int i = 0; fd && i < kChecks; ++i) {
        const auto start = Clock::now();
        (void)bg::proto::send_message(fd->get(), bg::proto::CheckRequest{"root", "g0"});
        (void)bg::proto::receive_message(fd->get(), 5000);
        kept.push_back(micros(Clock::now() - start));
    }
    for (int i = 0; i < kChecks; ++i) {
        const auto start = Clock::now();
        auto c = bg::proto::connect_socket(daemon.socket());
        connect_only.push_back(micros(Clock::now() - start));
    }

    const auto g = percentiles(grant), b = percentiles(base);
    std::printf("2. GrantRequest -> Granted against breakglassd, new connection each, back to back "
                "(%d of %zu granted; YubiKey OTP, fsync'd record, post-answer work included)\n",
                granted, grant.size());
    print("grant round trip", grant);
    std::printf(" baseline, before and after the grants: write + fdatasync of a 600-byte line appended, same file system\n");
    print("write + fdatasync", base);
    std::printf("  ratio grant/baseline: p50 %.2fx  p99 %.2fx   (target p50 <= 1.5x)\n", g.p50_us / b.p50_us,
                g.p99_us / b.p99_us);
    std::printf("3. Check fast path, the same daemon with an active grant (%d checks, %d active)\n", kChecks, active);
    print("new connection each", fresh);
    print("kept connection", kept);
    std::printf(" baseline:\n");
    print("connect + close only", connect_only);
}

}  // namespace

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 1000;
    char tmpl[] = "/var/tmp/bg-bench-XXXXXX";
    if (!::mkdtemp(tmpl)) return 1;
    const std::string dir = tmpl;
    try {
        bench_loop_work(dir, n);
        bench_real_daemon(n);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_daemon: %s\n", e.what());
        return 1;
    }
    const std::string rm = "rm -rf '" + dir + "'";
    return std::system(rm.c_str()) == 0 ? 0 : 1;
}
