// SPDX-License-Identifier: ISC
// bench_sudo: what breakglass_sudo.so adds to a sudo command, measured against
// sudo without the plugin in the same run. Real sudo (NOPASSWD rules, -n, no
// terminal) as a test user in a private mount namespace, a real breakglassd
// from the test fixture (see tests/sudo/sudo_host.hpp; needs root, changes
// nothing on the host). Variants are run in interleaved batches so drift hits all alike:
//   gated    sudo -n -g GATEGROUP true    plugin loaded, grant active: one connection, the
//                                         check that records the command, then session_close
//   ungated  sudo -n -g OTHERGROUP true   plugin loaded (no daemon contact)
//   baseline the same two commands with a sudo.conf that loads no plugin
// Prints p50/p99 and the ratios. Targets: gated ≤ 1.10 × baseline, ungated ≤ 1.02 ×.
// Also the CPU time per run, which a loaded machine disturbs far less than the
// wall time: sudo's (with the command and the plugin; getrusage of the
// children) and breakglassd's (all its threads, from /proc/PID/task/*/schedstat,
// taken around each batch).
// Each gated run makes the daemon fsync the command record before it answers
// (the session_close is answered first and synced later), so on a disk the
// gated figure is mostly one fsync's latency; `--tmpfs` puts the daemon's
// directory on a tmpfs (inside the namespace) to show the rest without it.
//   usage: bench_sudo [--tmpfs] [N]   (N = runs per variant, default 200)
// Last, the plugin's exchanges alone (no sudo): the three connections it made
// per gated command before against the one it makes now, interleaved.
// Prints figures; asserts nothing (exit 1 only when a sudo run fails).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <memory>
#include <string>
#include <sys/mount.h>
#include <sys/resource.h>
#include <vector>

#include "bench/bench_stats.hpp"
#include "common/transport.hpp"
#include "tests/sudo/sudo_host.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/run_directory.hpp"
#include "tests/support/test_daemon.hpp"

namespace {

using namespace bg::test;

struct Variant {
    const char* name;
    bool plugin;
    std::string group;
    std::vector<double> us;
    double sudo_cpu_us = 0;    // summed over the runs
    double daemon_cpu_us = 0;  // summed over the batches
};

// CPU time of the waited-for children so far (sudo and what it ran), in microseconds.
double children_cpu_us() {
    rusage u{};
    ::getrusage(RUSAGE_CHILDREN, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// CPU time of every thread of a process so far, in microseconds (schedstat: ns on the CPU).
double process_cpu_us(pid_t pid) {
    const std::string dir = "/proc/" + std::to_string(pid) + "/task";
    double total = 0;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (const dirent* e = ::readdir(d)) {
            if (e->d_name[0] == '.') continue;
            std::ifstream in(dir + "/" + e->d_name + "/schedstat");
            double ns = 0;
            if (in >> ns) total += ns / 1000;
        }
        ::closedir(d);
    }
    return total;
}

// The plugin's exchanges for one gated command under a grant, without sudo,
// from this process against the same daemon, the two ways interleaved:
// as the plugin made them before (Check, then SessionRequest "command", then
// SessionRequest "session_close", each on a new connection) and as it makes
// them now (CommandRequest, then the session_close, on one connection).
void exchanges_alone(bg::test::TestDaemon& daemon, const std::string& user, const std::string& gate_group, int n) {
    using namespace bg::proto;
    const SessionRequest command{user, kSudoGate, "command", "sudo", "", "", 1, "true", "cwd=/ bench"};
    SessionRequest close = command;
    close.event = "session_close";
    close.command.clear();
    close.detail = "exit status 0";
    const CommandRequest checked{user, kSudoGate, "sudo", "", 1, "true", "cwd=/ bench", gate_group};
    std::vector<double> three, one;
    bool ok = true;
    for (int i = 0; i < n && ok; ++i) {
        auto start = bg::bench::Clock::now();
        ok = call(daemon.socket(), CheckRequest{user, kSudoGate}, MessageType::CheckAnswer).answer.has_value() &&
             call(daemon.socket(), command, MessageType::SessionRecorded).answer.has_value() &&
             call(daemon.socket(), close, MessageType::SessionRecorded).answer.has_value();
        three.push_back(bg::bench::micros(bg::bench::Clock::now() - start));
        start = bg::bench::Clock::now();
        Client client(daemon.socket());
        ok = ok && client.call(checked, MessageType::CommandAnswer).answer.has_value() &&
             client.call(close, MessageType::SessionRecorded).answer.has_value();
        one.push_back(bg::bench::micros(bg::bench::Clock::now() - start));
    }
    if (!ok) {
        std::printf("  exchanges alone: a request failed\n");
        return;
    }
    const auto a = bg::bench::percentiles(three), b = bg::bench::percentiles(one);
    std::printf("  the plugin's exchanges alone (no sudo), per gated command, N=%d each, interleaved:\n", n);
    std::printf("    3 connections: Check, command, close   p50 %7.3f ms  p99 %7.3f ms\n", a.p50_us / 1000,
                a.p99_us / 1000);
    std::printf("    1 connection: CommandRequest, close    p50 %7.3f ms  p99 %7.3f ms\n", b.p50_us / 1000,
                b.p99_us / 1000);
}

}  // namespace

static int run_benchmark(int argc, char** argv) {
    if (const std::string missing = sudo_environment_missing(); !missing.empty()) {
        std::fprintf(stderr, "bench_sudo: %s\n", missing.c_str());
        return 77;
    }
    bool tmpfs = false;
    int n = 200;
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--tmpfs")
            tmpfs = true;
        else
            n = std::max(1, std::atoi(argv[i]));
    }
    constexpr int kBatch = 20;
    enter_private_mount_namespace();
    // The run's own directory (the daemon's lives inside it), only in this
    // namespace; unmounted before the run directory is removed at exit.
    if (tmpfs && ::mount("bench_sudo", run_directory().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
        std::perror("bench_sudo: mount tmpfs on the run directory (private namespace)");
        return 1;
    }
    const struct Unmount {
        bool mounted;
        ~Unmount() {
            if (mounted) ::umount2(run_directory().c_str(), MNT_DETACH);
        }
    } unmount{tmpfs};
    SudoAccounts accounts;
    TestDaemon daemon(sudo_policy(accounts));
    const auto secret = daemon.enroll_totp(accounts.user.name());
    const auto granted = daemon.grant(accounts.user.name(), kSudoGate, totp_code_now(secret), 3600);
    if (!std::holds_alternative<bg::proto::Granted>(granted)) {
        std::fprintf(stderr, "bench_sudo: the setup grant was refused\n");
        return 1;
    }
    const std::string options = sudo_gates_option(accounts) + " socket=" + daemon.socket();

    std::vector<Variant> variants = {{"baseline gate ", false, accounts.gate.name(), {}},
                                     {"baseline other", false, accounts.other.name(), {}},
                                     {"gated (grant) ", true, accounts.gate.name(), {}},
                                     {"ungated       ", true, accounts.other.name(), {}}};
    // Warm-up: page cache, NSS, the daemon's first connection.
    for (auto& v : variants) {
        SudoConfig config(daemon.dir(), accounts, plugin_sudo_conf(v.plugin ? options : ""));
        for (int i = 0; i < 5; ++i) (void)sudo_without_terminal(accounts, {kSudo, "-n", "-g", v.group, "true"});
    }
    for (int done = 0; done < n; done += kBatch) {
        for (auto& v : variants) {
            SudoConfig config(daemon.dir(), accounts, plugin_sudo_conf(v.plugin ? options : ""));
            const double daemon_before = process_cpu_us(daemon.pid());
            for (int i = done; i < std::min(n, done + kBatch); ++i) {
                const double cpu_before = children_cpu_us();
                const auto start = bg::bench::Clock::now();
                const int rc = sudo_without_terminal(accounts, {kSudo, "-n", "-g", v.group, "true"}).exit_code;
                const auto end = bg::bench::Clock::now();
                v.sudo_cpu_us += children_cpu_us() - cpu_before;
                if (rc != 0) {
                    std::fprintf(stderr, "bench_sudo: %s: sudo exited %d\n", v.name, rc);
                    return 1;
                }
                v.us.push_back(bg::bench::micros(end - start));
            }
            v.daemon_cpu_us += process_cpu_us(daemon.pid()) - daemon_before;
        }
    }
    std::printf("bench_sudo: N=%d per variant, sudo -n -g GROUP true as %s (fork+exec+sudo+true, wall time); "
                "daemon state on %s\n",
                n, accounts.user.name().c_str(), tmpfs ? "tmpfs" : "/tmp (disk: fsync is real)");
    std::vector<bg::bench::Percentiles> p;
    for (const auto& v : variants) {
        p.push_back(bg::bench::percentiles(v.us));
        std::printf("  %s  p50 %7.3f ms  p99 %7.3f ms   cpu/run: sudo %6.3f ms, breakglassd %6.3f ms\n", v.name,
                    p.back().p50_us / 1000, p.back().p99_us / 1000, v.sudo_cpu_us / static_cast<double>(n) / 1000,
                    v.daemon_cpu_us / static_cast<double>(n) / 1000);
    }
    std::printf("  gated/baseline    p50 %.3f  p99 %.3f   (target p50 <= 1.10)\n", p[2].p50_us / p[0].p50_us,
                p[2].p99_us / p[0].p99_us);
    std::printf("  ungated/baseline  p50 %.3f  p99 %.3f   (target p50 <= 1.02)\n", p[3].p50_us / p[1].p50_us,
                p[3].p99_us / p[1].p99_us);
    std::printf("  gated runs recorded: %zu command records\n", daemon.audit().records_of("command").size());
    exchanges_alone(daemon, accounts.user.name(), accounts.gate.name(), n);
    return 0;
}

int main(int argc, char** argv) {
    try {
        return run_benchmark(argc, argv);
    } catch (const std::exception& e) {  // so the accounts and the daemon are cleaned up
        std::fprintf(stderr, "bench_sudo: %s\n", e.what());
        return 1;
    }
}
