// SPDX-License-Identifier: ISC
#include "helper/ctl/report_commands.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/file_io.hpp"
#include "common/text.hpp"
#include "common/utc_time.hpp"
#include "helper/audit/audit_verify.hpp"
#include "helper/audit/remote_copy.hpp"
#include "helper/audit/remote_verify.hpp"
#include "helper/audit/seal_key.hpp"
#include "helper/ctl/arguments.hpp"
#include "helper/ctl/exit_code.hpp"
#include "helper/ctl/log_reader.hpp"
#include "helper/report/report.hpp"
#include "policy/policy.hpp"

namespace bg::ctl {
namespace {

constexpr std::size_t kMaxLogBytes = std::size_t{4} * 1024 * 1024 * 1024;

int usage(const std::string& message) {
    print_error(message + " (see --help)");
    return kExitUsage;
}

struct Input {
    std::vector<report::Entry> records;
    std::vector<report::HostVerification> verification;
    report::Period period;
    bool fleet = false;
    bool verify_failed = false;
};

// Reads the records the arguments name; prints its own errors (nullopt, with
// the exit code in *code).
// report_only: only the records the report reads are decoded (report::report_reads).
std::optional<Input> read_input(const CommonOptions& o, const ReportArguments& a, bool report_only, int* code) {
    Input in;
    const auto now = wall_clock_seconds();
    const auto since = parse_since(a.since, now);
    if (!since) {
        *code = usage("--since: " + since.error().message);
        return std::nullopt;
    }
    in.period.since = *since;
    in.period.until = now + 1;  // "now" included
    if (!a.until.empty()) {
        const auto until = parse_since(a.until, now);
        if (!until) {
            *code = usage("--until: " + until.error().message);
            return std::nullopt;
        }
        in.period.until = *until;
    }
    if (in.period.until <= in.period.since) {
        *code = usage("--until must be after --since");
        return std::nullopt;
    }

    if (!a.pubkey_files.empty() && a.journal_files.empty() && a.journal_dirs.empty()) {
        *code = usage("--pubkey verifies remote copies: give --journal-file or --journal-dir");
        return std::nullopt;
    }
    if (!a.journal_files.empty() || !a.journal_dirs.empty()) {
        in.fleet = true;
        std::vector<std::string> paths = a.journal_files;
        for (const std::string& dir : a.journal_dirs) {
            std::error_code ec;
            std::vector<std::string> found;
            for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
                const std::string p = entry.path().string();
                if (entry.is_regular_file() && (p.ends_with(".journal") || p.ends_with(".journal~"))) found.push_back(p);
            }
            if (ec) {
                print_error("--journal-dir " + escape_for_display(dir) + ": " + ec.message());
                *code = kExitRefused;
                return std::nullopt;
            }
            std::sort(found.begin(), found.end());
            paths.insert(paths.end(), found.begin(), found.end());
        }
        auto lines = audit::record_lines_from_journal_files(paths);
        if (!lines) {
            print_error(escape_for_display(lines.error().message));
            *code = kExitRefused;
            return std::nullopt;
        }
        // With --pubkey: each host's copy verified as verify --journal-file
        // does (hashes, links, gap-free seqs, checkpoint signatures). A key
        // proves only the host it is bound to (HOST=FILE): otherwise one
        // host's key would vouch for records another host's name was put
        // on. A key given without HOST= is taken only when the copies hold
        // one host.
        std::map<std::string, std::vector<audit::RemoteLine>> by_host;
        std::vector<std::pair<std::string, audit::Ed25519PublicKey>> keys;  // host ("" = unbound), key
        for (const std::string& spec : a.pubkey_files) {
            std::string host, file = spec;
            if (const auto eq = spec.find('='); eq != std::string::npos && spec.substr(0, eq).find('/') == std::string::npos) {
                host = spec.substr(0, eq);
                file = spec.substr(eq + 1);
            }
            auto key = audit::read_ed25519_public_key_file(file);
            if (!key) {
                print_error("--pubkey " + escape_for_display(file) + ": " + escape_for_display(key.error().message));
                *code = kExitRefused;
                return std::nullopt;
            }
            keys.emplace_back(host, *key);
        }
        if (!keys.empty())
            for (const audit::RemoteLine& l : *lines) {
                auto e = report::decode_line(l.line);
                by_host[e ? e->host : std::string()].push_back(l);
            }
        // A copy is shipped at least once: keep the first line of each (host, seq).
        std::set<std::pair<std::string, std::uint64_t>> seen;
        std::set<std::string> hosts;
        std::size_t bad = 0;
        in.records.reserve(lines->size());
        for (const audit::RemoteLine& l : *lines) {
            if (report_only && !report::report_reads(report::event_of_line(l.line))) continue;
            auto e = report::decode_line(l.line);
            if (!e) {
                ++bad;
                continue;
            }
            if (!seen.emplace(e->host, e->seq).second) continue;
            hosts.insert(e->host);
            in.records.push_back(std::move(e.value()));
        }
        if (bad > 0) print_error(std::to_string(bad) + " entr(ies) of the copies are not canonical records and were skipped");
        for (const std::string& h : hosts) {
            if (keys.empty()) {
                in.verification.push_back({h, false, false, 0, "remote copy: not checked (give --pubkey)"});
                continue;
            }
            std::vector<const audit::Ed25519PublicKey*> candidates;
            for (const auto& [bound, key] : keys)
                if (bound == h) candidates.push_back(&key);
            if (candidates.empty() && hosts.size() == 1)
                for (const auto& [bound, key] : keys)
                    if (bound.empty()) candidates.push_back(&key);
            if (candidates.empty()) {
                in.verify_failed = true;
                in.verification.push_back({h, true, false, 1, "remote copy: no key for this host (--pubkey " + h + "=FILE)"});
                print_error("no --pubkey for host " + escape_for_display(h) + " (give --pubkey HOST=FILE)");
                continue;
            }
            audit::RemoteVerifyResult best;
            bool first = true;
            for (const audit::Ed25519PublicKey* key : candidates) {
                audit::RemoteVerifyOptions options;
                options.public_key = *key;
                audit::RemoteVerifyResult r = audit::verify_remote(by_host[h], options);
                if (first || r.ok || (!best.ok && r.first_bad_seq > best.first_bad_seq)) best = std::move(r);
                first = false;
                if (best.ok) break;
            }
            std::string message = "remote copy: " + audit::format_remote_verify(best);
            while (!message.empty() && message.back() == '\n') message.pop_back();
            in.verification.push_back({h, true, best.ok, best.ok ? 0 : std::max<std::uint64_t>(best.first_bad_seq, 1), message});
            if (!best.ok) {
                in.verify_failed = true;
                print_error("the copy of host " + escape_for_display(h) + " failed verification");
            }
        }
        for (const auto& [h, unused] : by_host)
            if (!hosts.contains(h)) {
                in.verify_failed = true;
                print_error("entries that are not canonical records were found in the copies");
            }
        return in;
    }

    if (!o.state_dir_given) {
        // Through breakglassd: root and the policy's auditors. Every record
        // from `since` on (ends and reviews follow their grants), the chain
        // checked over that range (hashes and links; seals need root's key).
        LogRangeCheck check;
        std::string host;
        std::size_t bad = 0;
        const DaemonLogRead read = read_log_through_daemon(o.socket, 0, in.period.since, [&](const std::string& line) {
            check.add(line);
            if (report_only && !report::report_reads(report::event_of_line(line))) return true;
            auto e = report::decode_line(line);
            if (!e) {
                ++bad;
                return true;
            }
            if (host.empty()) host = e->host;
            in.records.push_back(std::move(e.value()));
            return true;
        });
        if (!read.ok) {
            print_error(read.error);
            *code = read.exit_code;
            return std::nullopt;
        }
        const std::string scope = check.records == 0
                                      ? std::string("no records in the period")
                                      : "seq " + std::to_string(check.first) + ".." + std::to_string(check.last) +
                                            " read through breakglassd: hashes and links checked (seals need root's "
                                            "key: --state-dir, or verify)";
        in.verification.push_back({host, true, check.ok, check.ok ? 0 : check.first_bad_seq,
                                   check.ok ? std::to_string(check.records) + " records verified; " + scope
                                            : check.problem + "; " + scope});
        if (!check.ok) {
            in.verify_failed = true;
            print_error("the audit log failed verification: " + escape_for_display(check.problem));
        }
        if (bad > 0) print_error(std::to_string(bad) + " record(s) could not be decoded and were skipped");
        return in;
    }

    const std::string log_path = o.state_dir + "/audit.log";
    int open_errno = 0;
    auto log = read_regular_file(log_path, kMaxLogBytes, &open_errno);
    if (!log) {
        print_error(escape_for_display(log.error().message) +
                    (open_errno == EACCES ? " (run as root, or on a copy of the state directory)" : ""));
        *code = kExitRefused;
        return std::nullopt;
    }
    audit::VerifyOptions options;
    const std::string key_path = o.state_dir + "/" + std::string(audit::kKeyFileName);
    auto key_bytes = read_regular_file(key_path, audit::kKeyFileBytes);
    if (key_bytes) {
        auto state = audit::decode_key_file(*key_bytes);
        OPENSSL_cleanse(key_bytes->data(), key_bytes->size());
        if (state) options.key_file = std::move(state.value());
    }
    const audit::VerifyResult v = audit::verify_log(*log, options);
    options.key_file.reset();
    std::string host;
    std::size_t pos = 0;
    const std::string_view bytes = *log;
    while (pos < bytes.size()) {
        std::size_t end = bytes.find('\n', pos);
        if (end == std::string_view::npos) end = bytes.size();
        const std::string_view line = bytes.substr(pos, end - pos);
        pos = end + 1;
        if (report_only && !report::report_reads(report::event_of_line(line))) continue;
        // A log that verified is canonical line by line: not scanned twice.
        auto e = v.ok ? report::decode_verified_line(line) : report::decode_line(line);
        if (!e) continue;  // the verification names it
        if (host.empty()) host = e->host;
        in.records.push_back(std::move(e.value()));
    }
    in.verification.push_back({host, true, v.ok, v.first_bad_seq, v.message});
    if (!v.ok) {
        in.verify_failed = true;
        print_error("the audit log failed verification: " + escape_for_display(v.message));
    }
    return in;
}

bool write_output(const std::string& path, const std::string& text) {
    if (path == "-") {
        std::cout << text << std::flush;
        return static_cast<bool>(std::cout);
    }
    // Run as root into a directory others can write (/tmp): never follow a
    // symbolic link, and never truncate a file that is not the caller's own
    // regular file with one link (a hard link another user planted to a file
    // root owns would otherwise be emptied). Truncated only after the checks.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    if (fd < 0) {
        print_error(escape_for_display(path) + ": " + std::strerror(errno));
        return false;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != ::geteuid()) {
        print_error(escape_for_display(path) + ": not a regular file of yours with one link; not written");
        ::close(fd);
        return false;
    }
    if (::ftruncate(fd, 0) != 0) {
        print_error(escape_for_display(path) + ": " + std::strerror(errno));
        ::close(fd);
        return false;
    }
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            print_error(escape_for_display(path) + ": " + std::strerror(errno));
            ::close(fd);
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) {
        print_error(escape_for_display(path) + ": " + std::strerror(errno));
        return false;
    }
    return true;
}

std::string seconds_text(const std::optional<std::int64_t>& s) {
    if (!s) return "-";
    return std::to_string(*s / 60) + "m";
}

std::string text_report(const report::Report& r) {
    std::string out = "bypasses per gate, " + format_utc(r.period.since) + " .. " + format_utc(r.period.until) + ": " +
                      std::to_string(r.breaks) + " break(s)\n";
    for (const report::GateReport& g : r.gates) {
        char share[16], on_time[16];
        std::snprintf(share, sizeof share, "%.0f%%", g.share * 100);
        if (g.reviewed_on_time) std::snprintf(on_time, sizeof on_time, "%.0f%%", *g.reviewed_on_time * 100);
        else std::snprintf(on_time, sizeof on_time, "-");
        std::string weekly;
        for (std::uint64_t w : g.weekly) weekly += (weekly.empty() ? "" : " ") + std::to_string(w);
        std::string flags;
        for (const std::string& f : g.flags) flags += (flags.empty() ? "" : ", ") + f;
        out += "  " + escape_for_display(g.gate) + ": " + std::to_string(g.breaks) + " break(s) by " +
               std::to_string(g.actors) + " actor(s), " + share + " of all; used " + seconds_text(g.median_used_seconds) +
               " of " + seconds_text(g.median_ttl_seconds) + " (median); reviewed on time " + on_time +
               "; weekly [" + weekly + "]" + (flags.empty() ? "" : "; FLAGS: " + flags) + "\n";
    }
    return out;
}

}  // namespace

int run_report(const CommonOptions& o, const ReportArguments& a) {
    int code = kExitOk;
    const auto in = read_input(o, a, true, &code);
    if (!in) return code;
    report::ReportOptions options;
    options.period = in->period;
    if (!a.policy_file.empty()) {
        // A copy of the policy need not be root's (as policy check FILE).
        policy::LoadOptions load;
        load.require_root_owner = false;
        const auto loaded = policy::load_policy(a.policy_file, load);
        if (!loaded) {
            print_error("--policy: " + escape_for_display(loaded.error().message));
            return kExitRefused;
        }
        for (const auto& [name, gate] : loaded->gates) options.review_within[name] = gate.review_within.count();
    }
    const report::Report r = report::build_report(in->records, options);
    bool ok = true;
    if (!a.html_file.empty()) ok = write_output(a.html_file, report::render_html(r, in->fleet)) && ok;
    if (!a.prometheus_file.empty()) ok = write_output(a.prometheus_file, report::render_prometheus(r, in->fleet)) && ok;
    if (o.json) std::cout << report::render_json(r, in->fleet) << std::flush;
    else if (a.html_file != "-" && a.prometheus_file != "-") std::cout << text_report(r) << std::flush;
    if (!ok) return kExitRefused;
    return in->verify_failed ? kExitVerifyFailed : kExitOk;
}

int run_export(const CommonOptions& o, const ReportArguments& a) {
    if (a.format != "json" && a.format != "csv") return usage("--format is json or csv");
    int code = kExitOk;
    const auto in = read_input(o, a, false, &code);
    if (!in) return code;
    const report::Evidence e = report::build_evidence(in->records, in->period, in->verification);
    std::cout << (a.format == "csv" ? report::render_evidence_csv(e) : report::render_evidence_json(e)) << std::flush;
    return in->verify_failed ? kExitVerifyFailed : kExitOk;
}

}  // namespace bg::ctl
