// SPDX-License-Identifier: ISC
// bench_postgres: the PostgreSQL gate (issue 15) end to end, with a real
// PostgreSQL 15 and breakglassd from the test fixture (needs root; changes
// nothing on the host but a per-run server and users). For each of N DBAs (a
// TOTP code can open one grant per 30 s step, so one user per run):
// `breakglassctl psql` on a pty, the code typed, then `select pg_sleep(1000);`
// at the psql prompt, the grant's ttl 3 s.
//   prompt   from the moment the code is typed to psql's prompt (p50, p99):
//            the grant (fsync'd record), the role's creation, the credentials,
//            psql's start and login
//   baseline psql's own start and login as an existing role with a password
//   ended    from expires_at to the role's last backend gone (max; goal ≤ 2 s),
//            polled every 20 ms in pg_stat_activity
//   usage: bench_postgres [N]   (default 5)
// Prints figures; asserts nothing.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_stats.hpp"
#include "common/utc_time.hpp"
#include "helper/mfa/totp.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/pty_session.hpp"
#include "tests/support/test_accounts.hpp"
#include "tests/support/test_daemon.hpp"

using namespace bg;
using namespace bg::test;
using namespace bg::bench;
using namespace std::chrono_literals;

namespace {

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    if (!postgres_available()) {
        std::printf("PostgreSQL 15 is not installed (%s): nothing measured\n", kPostgresBin);
        return 0;
    }
    PostgresServer pg;
    TestGroup dbas("dbas");
    std::vector<std::unique_ptr<TestUser>> users;
    for (int i = 0; i < n; ++i) users.push_back(std::make_unique<TestUser>("dba" + std::to_string(i), UserOptions{{dbas.name()}}));
    const std::string policy = "[defaults]\nincident_pattern = '^INC-[0-9]+$'\nfactors = [\"totp\"]\n\n"
                               "[gate.db]\nrequesters = [\"%" + dbas.name() + "\"]\nttl = \"30m\"\n\n"
                               "[gate.db.postgres]\nconninfo = \"" + pg.admin_conninfo() + "\"\nmember_of = [\"emergency_dba\"]\n";
    TestDaemon daemon(policy);
    std::vector<double> prompt_ms, baseline_ms, ended_ms;
    // The baseline: psql alone, as a role that exists, with its password in the environment.
    pg.query("CREATE ROLE bench_plain LOGIN PASSWORD 'bench'");
    for (int i = 0; i < n; ++i) {
        const auto t0 = Clock::now();
        const ProcessResult r = run({"/usr/bin/env", "PGPASSWORD=bench", PostgresServer::psql(), "-X", "-h",
                                     pg.socket_dir(), "-U", "bench_plain", "-d", "postgres", "-c", "select 1"});
        if (r.exit_code == 0) baseline_ms.push_back(ms(Clock::now() - t0));
    }
    for (int i = 0; i < n; ++i) {
        const TestUser& u = *users[static_cast<std::size_t>(i)];
        const auto secret = random_totp_secret();
        if (run(daemon.ctl({"enroll", "totp", u.name(), "--secret-stdin"}), totp::base32_encode(secret) + "\n").exit_code != 0) {
            std::printf("enrolment failed\n");
            return 1;
        }
        std::vector<std::string> cmd =
            daemon.ctl({"psql", "--gate", "db", "--reason", "bench", "--incident", "INC-1", "--ttl", "3s"});
        cmd.insert(cmd.end(), {"--", "-X"});
        PtyOptions options;
        options.user = u.name();
        options.environment = {"PATH=" + std::string(kPostgresBin) + ":/usr/bin:/bin", "LANG=C.UTF-8", "PAGER="};
        options.timeout = 30s;
        Clock::time_point typed{}, prompted{};
        std::string seen;
        options.on_output = [&](std::string_view chunk) {
            seen += chunk;
            if (typed == Clock::time_point{} && seen.find("One-time code: ") != std::string::npos) typed = Clock::now();
            if (prompted == Clock::time_point{} && seen.find("=> ") != std::string::npos) prompted = Clock::now();
        };
        // The last backend's end, polled while the session runs.
        double ended = -1;
        std::thread watch([&] {
            const auto grant = daemon.audit().wait_for("grant", static_cast<std::size_t>(i + 1), 30s);
            if (grant.size() != static_cast<std::size_t>(i + 1)) return;
            const auto expires_at = parse_utc(grant.back()["expires_at"].get<std::string>());
            if (!expires_at) return;
            const std::string who = "SELECT count(*) FROM pg_stat_activity WHERE usename LIKE 'bg\\_" + u.name() + "\\_%'";
            while (std::time(nullptr) < *expires_at) std::this_thread::sleep_for(20ms);
            const auto at_expiry = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(*expires_at));
            for (int k = 0; k < 500; ++k) {
                if (pg.query(who) == "0") {
                    ended = std::chrono::duration<double, std::milli>(std::chrono::system_clock::now() - at_expiry).count();
                    return;
                }
                std::this_thread::sleep_for(20ms);
            }
        });
        const PtySession s = run_on_pty(cmd, {{"One-time code: ", totp_code_now(secret)}, {"=> ", "select pg_sleep(1000);"}},
                                        options);
        watch.join();
        if (prompted == Clock::time_point{} || typed == Clock::time_point{}) {
            std::printf("run %d: no psql prompt:\n%s\n", i, s.output.c_str());
            continue;
        }
        prompt_ms.push_back(ms(prompted - typed));
        if (ended >= 0) ended_ms.push_back(ended);
    }
    if (!prompt_ms.empty()) {
        const Percentiles p = percentiles(prompt_ms);
        std::printf("factor typed -> psql prompt: p50 %.1f ms, p99 %.1f ms (%zu runs)\n", p.p50_us, p.p99_us, prompt_ms.size());
    }
    if (!baseline_ms.empty()) {
        const Percentiles p = percentiles(baseline_ms);
        std::printf("baseline psql start + login + select 1: p50 %.1f ms, p99 %.1f ms\n", p.p50_us, p.p99_us);
    }
    if (!ended_ms.empty()) {
        double worst = 0;
        for (const double e : ended_ms) worst = std::max(worst, e);
        std::printf("expires_at -> last backend gone: max %.0f ms (goal <= 2000 ms; %zu runs; expires_at is whole seconds)\n",
                    worst, ended_ms.size());
    }
    return 0;
}
