// SPDX-License-Identifier: ISC
// Alert benchmarks (issue 12). Prints figures; asserts nothing. Against real
// breakglassd processes (the test fixture's launcher) and the HTTPS receiver
// of the tests (certificates made with openssl at run time) standing for
// PagerDuty, Slack and a webhook on loopback:
//
//  a. Grant latency (GrantRequest -> Granted, a new connection each, YubiKey
//     OTP) with three channels configured and every grant alerting on all
//     three, vs a daemon with no channel: two daemons in the same run, the
//     grants interleaved between them. The alerts are sent by the channels'
//     threads after the answer; this says whether they add to it.
//  b. Grant -> the receiver has the PagerDuty trigger: from the moment the
//     GrantRequest is sent until the receiver has read the whole POST whose
//     dedup_key is the grant's event id, one grant at a time.
//  c. breakglassd's start with a large log vs an empty one: it verifies the
//     whole log at start on a thread of its own, so the time until it
//     answers should not grow with the log; the time a stop takes right
//     after (it joins the verification) shows what the verification costs.
//
//   usage: bench_alerts [--grants G] [--records N]   defaults G = 200, N = 200000
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_stats.hpp"
#include "common/hex.hpp"
#include "common/transport.hpp"
#include "helper/audit/audit_log.hpp"
#include "tests/support/files.hpp"
#include "tests/support/https_receiver.hpp"
#include "tests/support/run_directory.hpp"
#include "tests/support/test_certificates.hpp"
#include "tests/support/test_daemon.hpp"
#include "tests/unit/yubikey_test_tokens.hpp"

namespace {

using bg::bench::Clock;
using bg::bench::micros;
using bg::bench::percentiles;
using bg::test::HttpsReceiver;
using bg::test::ReceiverBehaviour;
using bg::test::TestCertificates;
using bg::test::TestDaemon;
using bg::yubikey::test::TestYubikey;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

struct OtpSource {
    TestYubikey key = TestYubikey::random();
    std::uint16_t session = 1;
    std::uint8_t use = 0;
    std::string next() {
        if (++use == 0) ++session;
        return key.otp(session, use);
    }
};

void enroll(TestDaemon& d, const OtpSource& otp) {
    (void)d.call(bg::proto::EnrollYubikeyRequest{"root", otp.key.public_id, bg::hex_encode(otp.key.aes_key),
                                                 bg::hex_encode(otp.key.private_uid)},
                 bg::proto::MessageType::YubikeyEnrolled);
}

std::string channels_toml(const HttpsReceiver& pd, const HttpsReceiver& slack, const HttpsReceiver& hook,
                          const std::string& dir, const TestCertificates& c) {
    bg::test::write_file(dir + "/pd.key", "R0UTINGKEY0123456789\n", 0600);
    bg::test::write_file(dir + "/slack.url", slack.url() + "/services/T0/B0/X\n", 0600);
    return "[alert.oncall]\ntype = \"pagerduty\"\nrouting_key_file = \"" + dir + "/pd.key\"\nurl = \"" + pd.url() +
           "/v2/enqueue\"\nca_file = \"" + c.ca.cert + "\"\n\n[alert.security]\ntype = \"slack\"\nurl_file = \"" + dir +
           "/slack.url\"\nca_file = \"" + c.ca.cert + "\"\n\n[alert.siem]\ntype = \"webhook\"\nurl = \"" + hook.url() +
           "/hook\"\nca_file = \"" + c.ca.cert + "\"\n\n";
}

std::string gate_toml(const std::string& alert) {
    return "[gate.ops]\nrequesters = [\"root\"]\nincident_pattern = '^INC-[0-9]+$'\nfactors = [\"yubikey\"]\n"
           "ttl = \"1h\"\nalert = " + alert + "\n";
}

// One grant and, so that the next can be given, its revocation (not timed).
std::optional<std::string> timed_grant(TestDaemon& d, OtpSource& otp, std::vector<double>& into,
                                       Clock::time_point* sent_at = nullptr) {
    const bg::proto::GrantRequest g{"", "ops", "benchmark run", "INC-1", "", 0, otp.next(), "bench", "bench_alerts"};
    const auto start = Clock::now();
    if (sent_at) *sent_at = start;
    auto r = bg::proto::call(d.socket(), g, bg::proto::MessageType::Granted);
    into.push_back(micros(Clock::now() - start));
    if (!r.answer || !std::holds_alternative<bg::proto::Granted>(*r.answer)) return std::nullopt;
    const std::string id = std::get<bg::proto::Granted>(*r.answer).event_id;
    d.revoke(id);
    return id;
}

void bench_latency(const std::string& dir, int grants, const TestCertificates& certs) {
    HttpsReceiver pd(certs.server), slack(certs.server), hook(certs.server);
    pd.set_behaviour(ReceiverBehaviour::answer(202, R"({"status":"success"})"));
    slack.set_behaviour(ReceiverBehaviour::answer(200, "ok"));
    hook.set_behaviour(ReceiverBehaviour::answer(200));
    TestDaemon alerting(channels_toml(pd, slack, hook, dir, certs) + gate_toml("[\"oncall\", \"security\", \"siem\"]"));
    TestDaemon quiet(gate_toml("[]"));
    OtpSource otp_a, otp_q;
    enroll(alerting, otp_a);
    enroll(quiet, otp_q);
    std::vector<double> with, without;
    int ok_with = 0, ok_without = 0;
    for (int i = 0; i < grants; ++i) {
        ok_with += timed_grant(alerting, otp_a, with) ? 1 : 0;
        ok_without += timed_grant(quiet, otp_q, without) ? 1 : 0;
    }
    // Every grant and revoke is a trigger and a resolve on each channel.
    const std::size_t expected = static_cast<std::size_t>(ok_with) * 2;
    const bool all = pd.wait_for_requests(expected, std::chrono::seconds(60)) &&
                     slack.wait_for_requests(expected, std::chrono::seconds(60)) &&
                     hook.wait_for_requests(expected, std::chrono::seconds(60));
    const auto pw = percentiles(with), pn = percentiles(without);
    std::printf("a. grant latency, GrantRequest -> Granted, new connection each, two daemons, interleaved\n");
    std::printf("  %-44s p50 %8.1f us  p99 %8.1f us  (%d of %zu granted)\n",
                "three channels (PagerDuty, Slack, webhook)", pw.p50_us, pw.p99_us, ok_with, with.size());
    std::printf("  %-44s p50 %8.1f us  p99 %8.1f us  (%d of %zu granted)\n", "baseline: no channel", pn.p50_us,
                pn.p99_us, ok_without, without.size());
    std::printf("  ratio three/none: p50 %.2fx  p99 %.2fx  (alerts delivered meanwhile: %zu + %zu + %zu of %zu each%s)\n",
                pw.p50_us / pn.p50_us, pw.p99_us / pn.p99_us, pd.request_count(), slack.request_count(),
                hook.request_count(), expected, all ? "" : "; NOT all arrived within 60 s");
    alerting.stop();
    quiet.stop();
}

void bench_delivery(const std::string& dir, int grants, const TestCertificates& certs) {
    HttpsReceiver pd(certs.server), slack(certs.server), hook(certs.server);
    pd.set_behaviour(ReceiverBehaviour::answer(202, R"({"status":"success"})"));
    TestDaemon d(channels_toml(pd, slack, hook, dir, certs) + gate_toml("[\"oncall\"]"));
    OtpSource otp;
    enroll(d, otp);
    std::vector<double> latency, unused;
    int missing = 0;
    for (int i = 0; i < grants; ++i) {
        Clock::time_point sent;
        const std::size_t before = pd.request_count();
        const auto id = timed_grant(d, otp, unused, &sent);
        if (!id) fail("a grant was refused");
        // The trigger, then the resolve of the revocation: the trigger is the first after `before`.
        if (!pd.wait_for_requests(before + 1, std::chrono::seconds(20))) {
            ++missing;
            continue;
        }
        const bg::test::HttpRequest r = pd.requests().at(before);
        if (nlohmann::json::parse(r.body).value("dedup_key", "") != *id) fail("the trigger came out of order");
        latency.push_back(micros(r.received_at - sent));
        (void)pd.wait_for_requests(before + 2, std::chrono::seconds(20));
    }
    if (latency.empty()) fail("no alert arrived");
    const auto p = percentiles(latency);
    std::printf("b. grant -> the receiver has the PagerDuty trigger (HTTPS, loopback), one grant at a time\n");
    std::printf("  %-44s p50 %8.1f us  p99 %8.1f us  max %8.1f us  (%zu alerts, %d missing)\n",
                "GrantRequest sent -> trigger read", p.p50_us, p.p99_us, p.max_us, latency.size(), missing);
    d.stop();
}

bg::audit::RecordFields sample_fields(std::uint64_t i) {
    bg::audit::RecordFields f;
    f.event = "command";
    f.action = "sudo";
    f.actor = "alice";
    f.actor_role = "requester";
    f.gate_bypassed = "ops";
    f.target = "systemctl restart postgresql --no-block # " + std::to_string(i);
    f.detail = "runas=alice:dba cwd=/srv/db tty=/dev/pts/3 " + std::string(300, 'x');
    return f;
}

void bench_start(const std::string& dir, std::uint64_t n) {
    (void)dir;
    std::printf("c. breakglassd's start (it verifies the whole log at start, on its own thread)\n");
    const auto ready = [&](std::uint64_t records) {
        bg::test::DaemonOptions options;
        options.start = false;
        options.ready_timeout = std::chrono::milliseconds(600000);
        TestDaemon d(gate_toml("[]"), options);
        ::mkdir(d.state_dir().c_str(), 0700);
        off_t bytes = 0;
        if (records > 0) {
            auto log = bg::audit::AuditLog::open(d.state_dir(), "bench-host");
            if (!log) fail("AuditLog::open: " + log.error().message);
            const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr)) - 60;
            for (std::uint64_t i = 0; i < records; ++i)
                if (auto r = (*log)->append(sample_fields(i), now, bg::audit::Durability::Deferred); !r)
                    fail("append: " + r.error().message);
            if (auto s = (*log)->flush(); !s) fail("flush: " + s.error().message);
            struct stat st {};
            ::stat((*log)->path().c_str(), &st);
            bytes = st.st_size;
        }
        const auto t0 = Clock::now();
        d.start();
        const double answered = micros(Clock::now() - t0) / 1000.0;
        // The verification's own figure: the daemon logs it when done (at the next sink watch, 5 s).
        std::string note;
        for (int i = 0; i < 1200 && note.empty(); ++i) {
            const std::string log = d.log();
            const auto at = log.find("the audit log verified at start: ");
            if (at != std::string::npos) note = log.substr(at + 33, log.find('\n', at) - at - 33);
            else std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        d.stop();
        std::printf("  %-44s answered after %8.1f ms (the state rebuilt from the log, no state.json); verified on "
                    "its thread: %s\n",
                    (std::to_string(records) + " records (" + std::to_string(bytes / 1000000) + " MB)").c_str(),
                    answered, note.empty() ? "(not logged within 120 s)" : note.c_str());
    };
    ready(n);
    ready(0);
}

}  // namespace

int main(int argc, char** argv) {
    int grants = 200;
    std::uint64_t records = 200000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--grants") == 0) grants = std::atoi(argv[i + 1]);
        else if (std::strcmp(argv[i], "--records") == 0) records = std::strtoull(argv[i + 1], nullptr, 10);
        else {
            std::fprintf(stderr, "usage: bench_alerts [--grants G] [--records N]\n");
            return 2;
        }
    }
    try {
        bg::test::ScratchDir dir("bench-alerts");
        const TestCertificates certs = bg::test::make_test_certificates(dir.path());
        std::printf("bench_alerts: %d grants per figure, %llu records for the start\n", grants,
                    static_cast<unsigned long long>(records));
        bench_latency(dir.path(), grants, certs);
        bench_delivery(dir.path(), grants, certs);
        bench_start(dir.path(), records);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_alerts: %s\n", e.what());
        return 1;
    }
    return 0;
}
