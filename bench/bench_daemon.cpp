// SPDX-License-Identifier: ISC
// Daemon benchmarks (issue #2):
//  1. GrantRequest → Granted round trip, 1000 sequential, including the
//     fsync'd audit append and the state checkpoint. The daemon core runs in
//     this process behind a real AF_UNIX SOCK_SEQPACKET socket pair; its clock
//     is advanced 2 minutes per request, because TOTP replay protection allows
//     only a few grants per user per 30 s of real time. Baseline in the same
//     run: one write+fdatasync of a record-sized line in the same directory.
//  2. The Check fast path against a real breakglassd process with an active
//     grant: a new connection per check (what a front-end does), and on one
//     kept connection. Baseline: connect + close on the same socket.
// Prints figures; asserts nothing.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <openssl/rand.h>

#include "bench/bench_stats.hpp"
#include "common/transport.hpp"
#include "helper/daemon/daemon.hpp"
#include "helper/daemon/dispatch.hpp"
#include "helper/mfa/totp.hpp"

namespace {

using bg::bench::Clock;

using bg::bench::percentiles;

using bg::bench::micros;

void write_text(const std::string& path, const std::string& text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    (void)!::write(fd, text.data(), text.size());
    ::close(fd);
}

const char* kPolicy = R"([defaults]
max_ttl = "1h"
incident_pattern = '^INC-[0-9]+$'
factors = ["totp"]
[gate.bench]
requesters = ["root"]
ttl = "1m"
)";

bg::PeerIdentity root_peer() {
    bg::PeerIdentity p;
    p.pid = ::getpid();
    p.uid = 0;
    p.user = "root";
    return p;
}

std::vector<unsigned char> random_secret() {
    std::vector<unsigned char> s(20);
    RAND_bytes(s.data(), static_cast<int>(s.size()));
    return s;
}

void bench_grant(const std::string& dir) {
    const std::string state = dir + "/grant-state";
    ::mkdir(state.c_str(), 0700);
    write_text(dir + "/policy.toml", kPolicy);
    std::int64_t t = static_cast<std::int64_t>(std::time(nullptr));
    auto daemon = bg::Daemon::create({state, dir + "/policy.toml", "bench", false}, t);
    if (!daemon) {
        std::fprintf(stderr, "cannot start the daemon core: %s\n", daemon.error().message.c_str());
        std::exit(1);
    }
    const auto secret = random_secret();
    (void)(*daemon)->handle(root_peer(), bg::proto::EnrollTotpRequest{"root", bg::totp::base32_encode(secret)}, t);

    int sv[2];
    ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
    bg::UniqueFd client(sv[0]), server(sv[1]);
    std::atomic<std::int64_t> now{t};
    std::atomic<int> served{0};  // requests fully handled, including after_answer
    std::vector<double> in_core;  // time inside Daemon::handle, written by the server thread only
    in_core.reserve(1000);
    std::thread serve([&] {
        bg::ConnectionState conn;
        for (;;) {
            bg::proto::Received r = bg::proto::receive_message(server.get(), -1);
            if (!r.message) return;
            conn.used_once.clear();  // one grant per connection; the bench reuses one socket
            auto out = bg::dispatch(conn, root_peer(), std::move(r), [&](const bg::PeerIdentity& p, const bg::proto::Message& m) {
                const auto begin = Clock::now();
                auto answer = (*daemon)->handle(p, m, now.load());
                in_core.push_back(micros(Clock::now() - begin));
                return answer;
            });
            if (out.answer) (void)bg::proto::send_message(server.get(), *out.answer);
            (*daemon)->after_answer(now.load());  // as breakglassd's loop does, after the answer
            served.fetch_add(1);
        }
    });

    constexpr int kGrants = 1000;
    std::vector<double> lat;
    lat.reserve(kGrants);
    int granted = 0;
    for (int i = 0; i < kGrants; ++i) {
        t += 120;  // past the previous grant's ttl, and a fresh TOTP step
        (*daemon)->expire_due(t, "bench");  // not timed: ends the previous grant (its own record)
        now.store(t);
        bg::proto::GrantRequest g{"", "bench", "benchmark run", "INC-1", "", 0,
                                  bg::totp::hotp(secret, bg::totp::step_at(t)), "bench", "bench_daemon"};
        const auto start = Clock::now();
        (void)bg::proto::send_message(client.get(), g);
        bg::proto::Received r = bg::proto::receive_message(client.get(), 10000);
        lat.push_back(micros(Clock::now() - start));
        if (r.message && std::holds_alternative<bg::proto::Granted>(*r.message)) ++granted;
        while (served.load() != i + 1) std::this_thread::yield();  // the daemon core is single-threaded
    }
    client.reset();
    serve.join();

    // Baseline: the bare cost of one durable append of a record-sized line.
    const std::string line(560, 'x');
    const int fd = ::open((dir + "/baseline.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    std::vector<double> base;
    for (int i = 0; i < kGrants; ++i) {
        const auto start = Clock::now();
        (void)!::write(fd, line.data(), line.size());
        ::fdatasync(fd);
        base.push_back(micros(Clock::now() - start));
    }
    ::close(fd);

    const auto g = percentiles(lat);
    const auto core = percentiles(in_core);
    const auto b = percentiles(base);
    std::printf("grant round trip (%d sequential, %d granted; decision + TOTP + fsync'd record + checkpoint)\n", kGrants, granted);
    std::printf("  p50 %8.1f us   p99 %8.1f us   max %8.1f us   (target p99 <= 2000 us)\n", g.p50_us, g.p99_us, g.max_us);
    std::printf("  of which inside Daemon::handle: p50 %8.1f us   p99 %8.1f us\n", core.p50_us, core.p99_us);
    std::printf("baseline: write+fdatasync of one 560-byte line, same directory\n");
    std::printf("  p50 %8.1f us   p99 %8.1f us\n", b.p50_us, b.p99_us);
    std::printf("  ratio grant/baseline: p50 %.2fx  p99 %.2fx\n", g.p50_us / b.p50_us, g.p99_us / b.p99_us);
}

void bench_check(const std::string& dir, const std::string& daemon_path) {
    const std::string state = dir + "/check-state";
    const std::string sock = dir + "/socket";
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 1);
        ::dup2(null, 2);
        ::execl(daemon_path.c_str(), daemon_path.c_str(), "--socket", sock.c_str(), "--state-dir", state.c_str(),
                "--policy", (dir + "/policy.toml").c_str(), "--no-journal", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    for (int i = 0; i < 100 && !bg::proto::connect_socket(sock).ok(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto secret = random_secret();
    (void)bg::proto::call(sock, bg::proto::EnrollTotpRequest{"root", bg::totp::base32_encode(secret)}, bg::proto::MessageType::Enrolled);
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    auto granted = bg::proto::call(sock,
                                   bg::proto::GrantRequest{"", "bench", "benchmark run", "INC-1", "", 3600,
                                                           bg::totp::hotp(secret, bg::totp::step_at(now)), "", ""},
                                   bg::proto::MessageType::Granted);
    if (!granted.answer || !std::holds_alternative<bg::proto::Granted>(*granted.answer)) {
        std::fprintf(stderr, "check bench: no grant\n");
        ::kill(pid, SIGTERM);
        ::waitpid(pid, nullptr, 0);
        return;
    }
    constexpr int kChecks = 10000;
    std::vector<double> fresh, kept, connect_only;
    int active = 0;
    for (int i = 0; i < kChecks; ++i) {
        const auto start = Clock::now();
        auto r = bg::proto::call(sock, bg::proto::CheckRequest{"root", "bench"}, bg::proto::MessageType::CheckAnswer);
        fresh.push_back(micros(Clock::now() - start));
        if (r.answer && std::get<bg::proto::CheckAnswer>(*r.answer).active) ++active;
    }
    auto fd = bg::proto::connect_socket(sock);
    for (int i = 0; i < kChecks; ++i) {
        const auto start = Clock::now();
        (void)bg::proto::send_message(fd->get(), bg::proto::CheckRequest{"root", "bench"});
        (void)bg::proto::receive_message(fd->get(), 5000);
        kept.push_back(micros(Clock::now() - start));
    }
    for (int i = 0; i < kChecks; ++i) {
        const auto start = Clock::now();
        auto c = bg::proto::connect_socket(sock);
        connect_only.push_back(micros(Clock::now() - start));
    }
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    const auto f = percentiles(fresh), k = percentiles(kept), c = percentiles(connect_only);
    std::printf("check fast path against a real breakglassd with an active grant (%d checks, %d active)\n", kChecks, active);
    std::printf("  new connection each: p50 %7.1f us   p99 %7.1f us   (target p99 <= 200 us)\n", f.p50_us, f.p99_us);
    std::printf("  kept connection:     p50 %7.1f us   p99 %7.1f us\n", k.p50_us, k.p99_us);
    std::printf("baseline: connect + close only: p50 %7.1f us   p99 %7.1f us\n", c.p50_us, c.p99_us);
}

}  // namespace

int main(int argc, char** argv) {
    const std::string daemon_path = argc > 1 ? argv[1] : BG_DAEMON_PATH;
    char tmpl[] = "/var/tmp/bg-bench-XXXXXX";
    if (!::mkdtemp(tmpl)) return 1;
    const std::string dir = tmpl;
    bench_grant(dir);
    bench_check(dir, daemon_path);
    const std::string rm = "rm -rf '" + dir + "'";
    return std::system(rm.c_str()) == 0 ? 0 : 1;
}
