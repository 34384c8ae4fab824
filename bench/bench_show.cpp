// SPDX-License-Identifier: ISC
// `breakglassctl show ID` on a 1,000,000-record audit log (issue 14): the
// real subcommand (bg::ctl::run_show with --state-dir), its output discarded,
// best of 3, for an approved grant near the end, in the middle and near the
// start of the log. The log is written as breakglassd writes one: a record a
// second, background grants every 1,000 records whose commands fill the log,
// and a signed `checkpoint` record after each grant and after every 5 minutes
// of records, signed with the real code and a key generated for the run
// (checkpoint.pub beside the log). Each measured grant has a request, an
// approval, commands, a revoke and a review an hour later. show finds the
// story with the story index (audit.index, built here by the daemon's own
// catch-up code: its cold build time is printed) and verifies only the runs
// from each story record to its signed checkpoint; the baseline is
// verify_log alone over the whole log (what show did before), with the ratio.
// Through breakglassd: the same log (with its seal and checkpoint keys) in a
// test daemon's state directory (tests/support's launcher), started once
// (its start replays the log and verifies it on its own thread, awaited),
// then the real breakglassctl process, `show --json`, best of 3 per grant
// (a process start included).
// Usage: bench_show [records] [dir]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "helper/audit/audit_log.hpp"
#include "helper/audit/audit_verify.hpp"
#include "helper/audit/ed25519.hpp"
#include "helper/audit/seal_key.hpp"
#include "helper/audit/signed_checkpoint.hpp"
#include "helper/audit/story_index.hpp"
#include "helper/ctl/commands.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_daemon.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using bg::audit::RecordFields;

constexpr std::int64_t kT0 = 1781498047;
constexpr std::uint64_t kBackgroundGrantEvery = 1000;
constexpr std::uint64_t kReviewAfter = 3600;  // records (seconds) after the grant
const char* const kHost = "bench-host";

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string id_of(std::uint64_t seq) { return bg::audit::format_event_id(kT0 + static_cast<std::int64_t>(seq), seq); }

// A measured grant at seq g: request g-4, approve g-2, grant g, commands and
// their exits under it, revoke g+40, review g+kReviewAfter.
bool story_fields(std::uint64_t seq, std::uint64_t g, RecordFields& f) {
    const std::string request = id_of(g - 4), grant = id_of(g);
    if (seq == g - 4) {
        f.event = "request";
        f.reason = "db-1 disk full";
        f.incident_ref = "INC-4242";
        f.factor = "totp";
        f.detail = "needs 1 approval(s) by bob; ttl 1800s";
    } else if (seq == g - 2) {
        f.event = "approve";
        f.actor = "bob";
        f.grant_id = request;
        f.detail = "approved: seen";
    } else if (seq == g) {
        f.event = "grant";
        f.reason = "db-1 disk full";
        f.incident_ref = "INC-4242";
        f.factor = "totp";
        f.approver = "bob";
        f.review_status = "pending";
        f.grant_id = request;
        f.expires_at = kT0 + static_cast<std::int64_t>(seq) + 1800;
    } else if (seq > g && seq < g + 40 && (seq - g) % 7 == 3) {
        f.event = "command";
        f.target = "systemctl restart db";
        f.grant_id = grant;
        f.detail = "cwd=/root runas=root:root";
    } else if (seq > g && seq < g + 40 && (seq - g) % 7 == 5) {
        f.event = "session_close";
        f.target = "systemctl restart db";
        f.grant_id = grant;
        f.detail = "exit status 0";
    } else if (seq == g + 40) {
        f.event = "revoke";
        f.actor = "root";
        f.grant_id = grant;
        f.detail = "revoked by alice";
    } else if (seq == g + kReviewAfter) {
        f.event = "review";
        f.actor = "carol";
        f.grant_id = grant;
        f.detail = "justified: routine";
    } else {
        return false;
    }
    return true;
}

RecordFields fields_for(std::uint64_t seq, const std::vector<std::uint64_t>& measured) {
    RecordFields f;
    f.actor = "alice";
    f.actor_loginuid = 1000;
    f.gate_bypassed = "db";
    f.source = "pts/3";
    f.peer_uid = 0;
    for (const std::uint64_t g : measured)
        if (story_fields(seq, g, f)) return f;
    if (seq % kBackgroundGrantEvery == 1) {
        f.event = "grant";
        f.reason = "routine maintenance";
        f.incident_ref = "INC-1";
        f.factor = "totp";
        f.review_status = "pending";
        f.expires_at = kT0 + static_cast<std::int64_t>(seq) + 1800;
        return f;
    }
    // Commands under the latest background grant.
    f.event = "command";
    f.target = "id -u";
    f.grant_id = id_of(seq - (seq - 1) % kBackgroundGrantEvery);
    f.detail = "cwd=/root runas=root:root";
    return f;
}

}  // namespace

int main(int argc, char** argv) {
    const std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
    std::string base = argc > 2 ? argv[2] : "/var/tmp";
    if (n < 20000) {
        std::fprintf(stderr, "bench_show: at least 20000 records\n");
        return 2;
    }
    std::string tmpl = base + "/bg-bench-show.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    const std::string dir = tmpl;
    // Near the end (its review still in the log), in the middle, near the start.
    const std::uint64_t near_end = n - kReviewAfter - 100, middle = n / 2 + 500, near_start = 2500;
    const std::vector<std::uint64_t> measured = {near_start, middle, near_end};

    auto signer = bg::audit::Ed25519PrivateKey::generate();
    auto key0 = bg::audit::generate_key();
    if (!signer || !key0) {
        std::fprintf(stderr, "bench_show: cannot make the keys\n");
        return 1;
    }
    bg::audit::KeyBytes key = *key0;
    std::string big;
    big.reserve(n * 560);
    std::string prev(bg::audit::kGenesisPrevHash);
    std::int64_t last_checkpoint = kT0;
    bool checkpoint_next = false;
    std::uint64_t checkpoints = 0;
    const auto built = Clock::now();
    for (std::uint64_t seq = 1; seq <= n; ++seq) {
        bg::audit::Record r;
        const std::int64_t now = kT0 + static_cast<std::int64_t>(seq);
        if (checkpoint_next || now - last_checkpoint >= bg::audit::kCheckpointEverySeconds) {
            // As breakglassd: after a grant, and every 5 minutes of records.
            auto cp = bg::audit::sign_checkpoint(*signer, kHost, seq - 1, prev, now);
            if (!cp) return 1;
            r.event = std::string(bg::audit::kCheckpointEvent);
            r.actor = std::string(bg::audit::kCheckpointActor);
            r.detail = bg::audit::render_checkpoint_detail(*cp);
            last_checkpoint = now;
            checkpoint_next = false;
            ++checkpoints;
        } else {
            static_cast<RecordFields&>(r) = fields_for(seq, measured);
            checkpoint_next = r.event == "grant";
        }
        r.seq = seq;
        r.timestamp = now;
        r.event_id = bg::audit::format_event_id(r.timestamp, seq);
        r.host = kHost;
        r.prev_hash = prev;
        r.hash = bg::audit::compute_hash(r);
        r.seal = bg::audit::seal_hex(key, r.hash);
        bg::audit::evolve_key(key);
        big += bg::audit::canonical_json(r);
        big += '\n';
        prev = r.hash;
    }
    std::ofstream(dir + "/audit.log", std::ios::binary) << big;
    std::ofstream(dir + "/" + std::string(bg::audit::kCheckpointPublicKeyFileName))
        << bg::audit::format_ed25519_public_key(signer->public_key()) << '\n';
    std::fprintf(stderr, "built %llu records (%.0f MB, %llu signed checkpoints) in %.1f s\n",
                 static_cast<unsigned long long>(n), static_cast<double>(big.size()) / 1e6,
                 static_cast<unsigned long long>(checkpoints), seconds_since(built));

    // The index as breakglassd builds it when it is missing (cold), best of 3.
    const std::string index_path = dir + "/" + std::string(bg::audit::kStoryIndexFileName);
    double index_best = 1e9;
    for (int rep = 0; rep < 3; ++rep) {
        std::filesystem::remove(index_path);
        const auto t = Clock::now();
        bg::audit::StoryIndexCatchUp caught;
        auto w = bg::audit::StoryIndexWriter::open(dir, &caught);
        index_best = std::min(index_best, seconds_since(t));
        if (!w || caught.records != n) {
            std::fprintf(stderr, "index build failed: %s\n", w ? "short" : w.error().message.c_str());
            return 1;
        }
    }

    double verify_best = 1e9;
    for (int rep = 0; rep < 3; ++rep) {
        const auto t = Clock::now();
        const auto res = bg::audit::verify_log(big, {});
        verify_best = std::min(verify_best, seconds_since(t));
        if (!res.ok) std::fprintf(stderr, "verify failed: %s\n", res.message.c_str());
    }

    bg::ctl::CommonOptions o;
    o.state_dir = dir;
    o.state_dir_given = true;
    o.json = true;
    const int saved = ::dup(STDOUT_FILENO);
    const int devnull = ::open("/dev/null", O_WRONLY);
    int failures = 0;
    auto time_show = [&](std::uint64_t seq) {
        const std::string id = id_of(seq);
        double best = 1e9;
        int code = -1;
        for (int rep = 0; rep < 3; ++rep) {
            std::fflush(stdout);
            ::dup2(devnull, STDOUT_FILENO);
            const auto t = Clock::now();
            code = bg::ctl::run_show(o, id);
            std::fflush(stdout);
            best = std::min(best, seconds_since(t));
            ::dup2(saved, STDOUT_FILENO);
        }
        if (code != 0) {
            std::fprintf(stderr, "show %s exited %d\n", id.c_str(), code);
            ++failures;
        }
        return best;
    };
    // What the middle grant's show says it verified (its text output's second line).
    std::string verified_line;
    {
        const std::string out_path = dir + "/show.txt";
        const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        bg::ctl::CommonOptions text = o;
        text.json = false;
        std::fflush(stdout);
        ::dup2(out, STDOUT_FILENO);
        (void)bg::ctl::run_show(text, id_of(middle));
        std::fflush(stdout);
        ::dup2(saved, STDOUT_FILENO);
        ::close(out);
        std::ifstream in(out_path);
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("verified: ", 0) == 0) verified_line = line;
    }
    const double end_best = time_show(near_end);
    const double middle_best = time_show(middle);
    const double start_best = time_show(near_start);
    // Without the index: the scan it saves.
    std::filesystem::remove(index_path);
    const double scan_best = time_show(near_start);

    // Through breakglassd.
    double daemon_start = 0, daemon_end = -1, daemon_middle = -1, daemon_start_grant = -1, daemon_process = 1e9;
    std::string daemon_note;
    {
        bg::test::DaemonOptions options;
        options.start = false;
        options.ready_timeout = std::chrono::milliseconds(600000);
        bg::test::TestDaemon d("[gate.db]\nrequesters = [\"root\"]\nincident_pattern = '^INC-[0-9]+$'\n"
                               "factors = [\"totp\"]\nttl = \"1h\"\n",
                               options);
        ::mkdir(d.state_dir().c_str(), 0700);
        std::ofstream(d.state_dir() + "/audit.log", std::ios::binary) << big;
        // The seal key that follows the last record, and the checkpoint key that signed.
        auto key_file = bg::audit::KeyFile::create(d.state_dir() + "/" + std::string(bg::audit::kKeyFileName),
                                                   bg::audit::KeyState(key, n + 1));
        auto written = signer->write(d.state_dir() + "/" + std::string(bg::audit::kCheckpointKeyFileName));
        std::ofstream(d.state_dir() + "/" + std::string(bg::audit::kCheckpointPublicKeyFileName))
            << bg::audit::format_ed25519_public_key(signer->public_key()) << '\n';
        if (!key_file || !written) {
            daemon_note = "not measured: the key files could not be written";
        } else {
            const auto t = Clock::now();
            try {
                d.start();
            } catch (const std::exception& e) {
                daemon_note = std::string("not measured: ") + e.what();
            }
            daemon_start = seconds_since(t);
            // Its start verifies the whole log on a thread: wait, so the shows do not share the CPU with it.
            if (daemon_note.empty() &&
                !bg::test::eventually([&] { return d.log().find("verified at start") != std::string::npos; },
                                      std::chrono::seconds(300)))
                daemon_note = "(the daemon's own verification at start had not finished)";
            auto time_daemon_show = [&](std::uint64_t seq) {
                double best = 1e9;
                for (int rep = 0; rep < 3; ++rep) {
                    const auto t1 = Clock::now();
                    const auto r = bg::test::run(d.ctl({"show", id_of(seq), "--json"}));
                    best = std::min(best, seconds_since(t1));
                    if (r.exit_code != 0 || r.out.find("breakglassd's story index") == std::string::npos) {
                        std::fprintf(stderr, "show %s through breakglassd exited %d: %s%s\n", id_of(seq).c_str(),
                                     r.exit_code, r.out.substr(0, 2000).c_str(), r.err.c_str());
                        ++failures;
                    }
                }
                return best;
            };
            if (d.running()) {
                // What any breakglassctl call through the daemon costs: a process and one round trip.
                for (int rep = 0; rep < 3; ++rep) {
                    const auto t1 = Clock::now();
                    (void)bg::test::run(d.ctl({"status"}));
                    daemon_process = std::min(daemon_process, seconds_since(t1));
                }
                daemon_end = time_daemon_show(near_end);
                daemon_middle = time_daemon_show(middle);
                daemon_start_grant = time_daemon_show(near_start);
            }
        }
    }

    std::printf("== show of one grant in a %llu-record log (%.0f MB, %llu signed checkpoints), best of 3, output discarded\n",
                static_cast<unsigned long long>(n), static_cast<double>(big.size()) / 1e6,
                static_cast<unsigned long long>(checkpoints));
    std::printf("  lookup: the story index (audit.index), then the runs from each story record to its signed checkpoint\n");
    std::printf("  story index, cold build (breakglassd's catch-up): %8.1f ms\n", index_best * 1e3);
    std::printf("  show, grant near the end (seq %llu):   %8.1f ms\n", static_cast<unsigned long long>(near_end),
                end_best * 1e3);
    std::printf("  show, grant in the middle (seq %llu): %8.1f ms\n", static_cast<unsigned long long>(middle),
                middle_best * 1e3);
    std::printf("  show, grant near the start (seq %llu):   %8.1f ms\n", static_cast<unsigned long long>(near_start),
                start_best * 1e3);
    std::printf("  show near the start without the index (a scan of the log from the request): %8.1f ms\n",
                scan_best * 1e3);
    std::printf("  the middle grant's show says: %s\n", verified_line.c_str());
    if (daemon_end >= 0) {
        std::printf("  through breakglassd (breakglassctl process, StoryRequest + LogRequest), daemon start %.1f s %s:\n",
                    daemon_start, daemon_note.c_str());
        std::printf("    show, grant near the end:    %8.1f ms\n", daemon_end * 1e3);
        std::printf("    show, grant in the middle:  %8.1f ms\n", daemon_middle * 1e3);
        std::printf("    show, grant near the start: %8.1f ms\n", daemon_start_grant * 1e3);
        std::printf("    of which a breakglassctl process and one round trip (status, best of 3): %8.1f ms\n",
                    daemon_process * 1e3);
    } else {
        std::printf("  through breakglassd: %s\n", daemon_note.c_str());
    }
    std::printf("  baseline: verify_log over the whole log (what show did first before): %8.1f ms\n", verify_best * 1e3);
    const double worst = std::max({end_best, middle_best, start_best});
    std::printf("  ratio baseline / slowest indexed show: %.0fx\n", verify_best / worst);
    std::printf("  goal: <= 100 ms per show: --state-dir %s", worst <= 0.1 ? "met" : "NOT met");
    if (daemon_end >= 0) {
        const double daemon_worst = std::max({daemon_end, daemon_middle, daemon_start_grant});
        std::printf("; through breakglassd %s (slowest %.1f ms, a breakglassctl process included)",
                    daemon_worst <= 0.1 ? "met" : "NOT met", daemon_worst * 1e3);
    }
    std::printf("\n");
    std::filesystem::remove_all(dir);
    return failures == 0 ? 0 : 1;
}
