// SPDX-License-Identifier: ISC
// `breakglassctl show ID` on a 1,000,000-record audit log (issue 14): the
// real subcommand (bg::ctl::run_show with --state-dir), its output discarded,
// best of 3, for a grant near the end of the log and one in the middle. show
// finds the grant by a binary search on seq (the id is "bg-YYYY-<seq>", seqs
// are gap-free and in file order), then scans forward from there for the
// records that name it (no index file); it also checks the whole chain as
// `verify` does, which is printed on its own (the same verify_log call).
// Usage: bench_show [records] [dir]
#include <fcntl.h>
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
#include "helper/audit/seal_key.hpp"
#include "helper/ctl/commands.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using bg::audit::RecordFields;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

RecordFields fields_for(std::uint64_t seq, std::uint64_t g1, std::uint64_t g2) {
    RecordFields f;
    f.actor = "alice";
    f.actor_loginuid = 1000;
    f.gate_bypassed = "db";
    f.source = "pts/3";
    f.peer_uid = 0;
    auto story = [&](std::uint64_t g) -> std::string { return bg::audit::format_event_id(1781498047 + static_cast<std::int64_t>(g), g); };
    for (const std::uint64_t g : {g1, g2}) {
        if (seq == g) {
            f.event = "grant";
            f.reason = "db-1 disk full";
            f.incident_ref = "INC-4242";
            f.factor = "totp";
            f.review_status = "pending";
            f.expires_at = 1781498047 + static_cast<std::int64_t>(seq) + 1800;
            return f;
        }
        if (seq == g + 3 || seq == g + 5) {
            f.event = seq == g + 3 ? "command" : "session_close";
            f.target = "systemctl restart db";
            f.grant_id = story(g);
            f.detail = seq == g + 3 ? "cwd=/root runas=root:root" : "exit status 0";
            return f;
        }
        if (seq == g + 7) {
            f.event = "revoke";
            f.grant_id = story(g);
            f.detail = "revoked by alice";
            return f;
        }
    }
    f.event = "command";
    f.target = "id -u";
    f.grant_id = "bg-2026-000001";
    f.detail = "cwd=/root runas=root:root";
    return f;
}

}  // namespace

int main(int argc, char** argv) {
    const std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
    std::string base = argc > 2 ? argv[2] : "/var/tmp";
    std::string tmpl = base + "/bg-bench-show.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    const std::string dir = tmpl;
    const std::uint64_t near_end = n - 20, middle = n / 2;
    const std::int64_t t0 = 1781498047;

    auto key0 = bg::audit::generate_key();
    if (!key0) return 1;
    bg::audit::KeyBytes key = *key0;
    std::string big;
    big.reserve(n * 520);
    std::string prev(bg::audit::kGenesisPrevHash);
    const auto built = Clock::now();
    for (std::uint64_t seq = 1; seq <= n; ++seq) {
        bg::audit::Record r;
        static_cast<RecordFields&>(r) = fields_for(seq, middle, near_end);
        r.seq = seq;
        r.timestamp = t0 + static_cast<std::int64_t>(seq);
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
    std::ofstream(dir + "/audit.log", std::ios::binary) << big;
    std::fprintf(stderr, "built %llu records (%.0f MB) in %.1f s\n", static_cast<unsigned long long>(n),
                 static_cast<double>(big.size()) / 1e6, seconds_since(built));

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
    auto time_show = [&](std::uint64_t seq) {
        const std::string id = bg::audit::format_event_id(t0 + static_cast<std::int64_t>(seq), seq);
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
        if (code != 0) std::fprintf(stderr, "show %s exited %d\n", id.c_str(), code);
        return best;
    };
    const double end_best = time_show(near_end);
    const double middle_best = time_show(middle);

    std::printf("== show of one grant in a %llu-record log (%.0f MB), best of 3, output discarded\n",
                static_cast<unsigned long long>(n), static_cast<double>(big.size()) / 1e6);
    std::printf("  lookup: binary search on seq to the grant, then a forward scan for its id (no index)\n");
    std::printf("  show, grant near the end (seq %llu):   %8.1f ms\n", static_cast<unsigned long long>(near_end),
                end_best * 1e3);
    std::printf("  show, grant in the middle (seq %llu): %8.1f ms\n", static_cast<unsigned long long>(middle),
                middle_best * 1e3);
    std::printf("  of which the whole-chain check (verify_log, as verify does): %8.1f ms\n", verify_best * 1e3);
    std::printf("  goal: <= 100 ms\n");
    std::filesystem::remove_all(dir);
    return 0;
}
