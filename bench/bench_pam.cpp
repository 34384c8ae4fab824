// SPDX-License-Identifier: ISC
// PAM benchmark (issue #3): what pam_breakglass.so adds to an authentication
// that takes the Check fast path (an active grant), through real libpam.
// Baseline in the same run: the stack `auth required pam_permit.so` alone;
// measured: pam_permit followed by pam_breakglass (gate with an active grant)
// against a real breakglassd started for the run (the test fixture's). Each call is a full
// pam_start_confdir + pam_authenticate + pam_end, for both stacks, and the two
// are interleaved call by call so drift affects both alike.
// Prints figures; asserts nothing. Target: added p99 <= 0.5 ms.
#include <security/pam_appl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_stats.hpp"
#include "common/transport.hpp"
#include "tests/pam/pam_test_policy.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/files.hpp"
#include "tests/support/test_daemon.hpp"

namespace {

using bg::bench::Clock;

using bg::bench::percentiles;

// The fast path asks nothing: a conversation that is used at all is a failure.
int conversations_used = 0;
extern "C" int no_conversation(int, const pam_message**, pam_response**, void*) {
    ++conversations_used;
    return PAM_CONV_ERR;
}

// One full authentication; returns its duration in microseconds, or -1 when it failed.
double authenticate_once(const std::string& confdir, const char* service, const char* user) {
    const pam_conv conv{no_conversation, nullptr};
    const auto start = Clock::now();
    pam_handle_t* pamh = nullptr;
    int rc = pam_start_confdir(service, user, &conv, confdir.c_str(), &pamh);
    if (rc == PAM_SUCCESS) {
        rc = pam_authenticate(pamh, 0);
        pam_end(pamh, rc);
    }
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    return rc == PAM_SUCCESS ? us : -1;
}

}  // namespace

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 5000;
    try {
        bg::test::TestDaemon daemon(bg::test::kPamTestPolicy);
        const auto secret = daemon.enroll_totp(bg::test::kRequester);
        const auto granted =
            daemon.grant(bg::test::kRequester, bg::test::kGate, bg::test::totp_code_now(secret), 3600);
        if (!std::holds_alternative<bg::proto::Granted>(granted)) {
            std::fprintf(stderr, "bench_pam: the setup grant was refused\n");
            return 1;
        }
        const std::string module = BG_PAM_MODULE_PATH;
        bg::test::write_file(daemon.dir() + "/bench-permit", "auth required pam_permit.so\n", 0644);
        bg::test::write_file(daemon.dir() + "/bench-breakglass",
                             "auth required pam_permit.so\nauth required " + module + " gate=" + bg::test::kGate +
                                 " socket=" + daemon.socket() + "\n",
                             0644);

        for (int i = 0; i < 200; ++i) {  // warm-up: page cache, dlopen, the daemon's first connections
            (void)authenticate_once(daemon.dir(), "bench-permit", bg::test::kRequester);
            (void)authenticate_once(daemon.dir(), "bench-breakglass", bg::test::kRequester);
        }
        std::vector<double> permit, breakglass;
        permit.reserve(static_cast<std::size_t>(n));
        breakglass.reserve(static_cast<std::size_t>(n));
        int failures = 0;
        for (int i = 0; i < n; ++i) {
            const double a = authenticate_once(daemon.dir(), "bench-permit", bg::test::kRequester);
            const double b = authenticate_once(daemon.dir(), "bench-breakglass", bg::test::kRequester);
            if (a < 0 || b < 0) {
                ++failures;
                continue;
            }
            permit.push_back(a);
            breakglass.push_back(b);
        }
        // For reading the difference: the Check round trip alone (connect, ask, answer, close).
        std::vector<double> check;
        check.reserve(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) {
            const auto start = Clock::now();
            const auto r = bg::proto::call(daemon.socket(), bg::proto::CheckRequest{bg::test::kRequester, bg::test::kGate},
                                           bg::proto::MessageType::CheckAnswer);
            check.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
            if (!r.answer) ++failures;
        }
        if (permit.empty()) {
            std::fprintf(stderr, "bench_pam: every authentication failed\n%s\n", daemon.log().c_str());
            return 1;
        }
        const auto p = percentiles(permit);
        const auto b = percentiles(breakglass);
        std::printf("pam_authenticate, pam_start_confdir..pam_end per call, %zu calls each (interleaved)\n",
                    permit.size());
        std::printf("  pam_permit alone                  p50 %8.1f us  p99 %8.1f us  max %8.1f us\n", p.p50_us,
                    p.p99_us, p.max_us);
        std::printf("  pam_permit + pam_breakglass       p50 %8.1f us  p99 %8.1f us  max %8.1f us\n", b.p50_us,
                    b.p99_us, b.max_us);
        std::printf("  added by pam_breakglass           p50 %8.1f us  p99 %8.1f us  (target p99 <= 500 us: %s)\n",
                    b.p50_us - p.p50_us, b.p99_us - p.p99_us, b.p99_us - p.p99_us <= 500.0 ? "met" : "MISSED");
        const auto c = percentiles(check);
        std::printf("  of which the Check round trip     p50 %8.1f us  p99 %8.1f us  (bg::proto::call alone; the rest is\n"
                    "                                    dlopen/dlclose of the module by pam_start/pam_end and the PAM calls)\n",
                    c.p50_us, c.p99_us);
        std::printf("  ratio                             p50 %8.2fx    p99 %8.2fx\n", b.p50_us / p.p50_us,
                    b.p99_us / p.p99_us);
        std::printf("  failed authentications %d, conversations used %d (both should be 0)\n", failures,
                    conversations_used);
        return failures == 0 && conversations_used == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_pam: %s\n", e.what());
        return 1;
    }
}
