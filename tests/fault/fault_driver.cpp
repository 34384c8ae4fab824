// SPDX-License-Identifier: ISC
// Fault injection (issue 16, item 3): the scenario request -> grant ->
// session -> revoke through the real breakglassd, the real pam_breakglass.so
// in real libpam (pam_start_confdir, in fault_pam_client) and the real
// breakglassctl, with the fault interposer (fault_inject.c) preloaded into all
// three. The gate requires a remote acknowledgement from a real
// systemd-journal-remote over HTTPS (not preloaded: it is the world outside),
// so the daemon's libcurl, and OpenSSL under it, are on the grant's path.
// First a run with no fault counts the scenario's failable calls; then
// one run fails call N, for every N (or, past BG_FAULT_MAX_RUNS, a
// deterministic sample of them, spread over every kind of call, which it
// says). Each run must show:
//   - no grant when a fault fired before the grant's record was durable: the
//     user got no session, and the daemon's state holds no grant, unless the
//     grant's record was synced to audit.log before the failed call;
//   - every grant the user got and every grant the daemon holds has its record
//     in the log;
//   - no crash: no process of the scenario died of a signal, the daemon stops
//     cleanly or has exited on its own, no sanitizer wrote a report;
//   - no torn record: breakglassctl verify passes on the log;
//   - revocation still happens: a clean daemon started on the same state
//     serves, and after it has revoked what remained nothing is active and
//     every grant in the log has its end.
// Prints the counts: calls, runs, calls failed, grants while faulted (= 0).
// BG_FAULT_JOBS=J spreads the runs over J forked workers, each with a sink of
// its own (the counting run stays in the parent).
// Exit 0 when every run passed. Needs root (it runs the daemon as tests do).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/fault/fault_inject.h"
#include "tests/pam/pam_harness.hpp"
#include "tests/pam/pam_test_policy.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/files.hpp"
#include "tests/support/journal_remote.hpp"
#include "tests/support/process.hpp"
#include "tests/support/run_directory.hpp"
#include "tests/support/test_certificates.hpp"
#include "tests/support/test_daemon.hpp"

namespace bg::test {
namespace {

const char* kind_name(int k) {
    static const char* const names[] = {"none", "open",  "read",   "write", "fsync",     "rename",  "send",
                                        "recv", "nss",   "pam",    "sd-bus", "sd-journal", "openssl", "curl",
                                        "truncate", "malloc"};
    return k >= 0 && k < BG_FAULT_KIND_COUNT ? names[k] : "?";
}

// The shared state file, mapped here as in every preloaded process.
class SharedState {
public:
    explicit SharedState(const std::string& path) : path_(path) {
        write_file(path, std::string(sizeof(bg_fault_shared), '\0'), 0600);
        const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) throw std::runtime_error("open " + path);
        void* p = ::mmap(nullptr, sizeof(bg_fault_shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        ::close(fd);
        if (p == MAP_FAILED) throw std::runtime_error("mmap " + path);
        s_ = static_cast<bg_fault_shared*>(p);
    }
    ~SharedState() { ::munmap(s_, sizeof(bg_fault_shared)); }
    SharedState(const SharedState&) = delete;
    SharedState& operator=(const SharedState&) = delete;
    bg_fault_shared* operator->() { return s_; }
    void arm(bool on) { __atomic_store_n(&s_->armed, on ? 1 : 0, __ATOMIC_RELEASE); }

private:
    std::string path_;
    bg_fault_shared* s_ = nullptr;
};

struct Outcome {
    std::uint64_t calls = 0;
    std::uint64_t fired = 0;
    std::string fired_name;
    int fired_kind = 0;
    bool got_in = false;             // the front-end opened the session
    bool grant_recorded = false;     // a grant record is in the log
    bool grant_durable_first = false;  // that record was synced before the failed call
    bool daemon_exited = false;      // it exited on its own (fail closed)
    std::vector<unsigned char> kinds;  // counting run only
    std::vector<std::string> problems;
    std::string front_end;  // what the PAM client printed
    nlohmann::json grant, session_open;  // the records of the scenario's grant and session
    bool recovered = false;  // the user got in after a fault before the grant was durable, on the same facts
};

// The fields of a record that a fault must not change: all but those that
// differ between any two runs (ids, times, chain hashes, the TOTP step, the
// PAM client's pid).
std::vector<std::string> changed_facts(const nlohmann::json& clean, const nlohmann::json& faulted) {
    static const std::set<std::string> volatile_fields = {"event_id", "seq",        "timestamp", "expires_at",
                                                          "factor_counter", "hash", "prev_hash", "seal",
                                                          "grant_id", "pid"};
    static const std::regex pid(R"(\bpid [0-9]+)");
    // A grant made while the sink's connection was failing says so in its
    // detail (grant_handlers.cpp): the daemon telling what the fault did, not
    // a fact the fault changed. The grant still waited for the sink's ack.
    static const std::regex sink_failing("; every remote log sink was failing: .*$");
    const auto normal = [](const nlohmann::json& v) {
        if (!v.is_string()) return v;
        return nlohmann::json(
            std::regex_replace(std::regex_replace(v.get<std::string>(), pid, "pid N"), sink_failing, ""));
    };
    std::vector<std::string> out;
    for (const auto& [key, value] : clean.items()) {
        if (volatile_fields.count(key) != 0) continue;
        const auto it = faulted.find(key);
        if (it == faulted.end()) out.push_back(key + " missing");
        else if (normal(*it) != normal(value)) out.push_back(key + ": " + value.dump() + " -> " + it->dump());
    }
    return out;
}

nlohmann::json first_record(const TestDaemon& d, std::string_view event) {
    const auto records = d.audit().records_of(event);
    return records.empty() ? nlohmann::json() : records.front();
}

std::string grant_id_of(const TestDaemon& d) {
    const auto grants = d.audit().records_of("grant");
    return grants.empty() ? std::string() : grants.front().value("event_id", std::string());
}

// End offset of the record line with event `event` and id `id` in the log text, or npos.
std::size_t record_end(const std::string& log, const std::string& event, const std::string& id) {
    std::size_t start = 0;
    for (std::size_t nl; (nl = log.find('\n', start)) != std::string::npos; start = nl + 1) {
        const auto line = log.substr(start, nl - start);
        try {
            const auto j = nlohmann::json::parse(line);
            if (j.value("event", "") == event && j.value("event_id", "") == id) return nl + 1;
        } catch (const std::exception&) {
        }
    }
    return std::string::npos;
}

bool signalled(int wait_status, int except = 0) {
    return WIFSIGNALED(wait_status) && WTERMSIG(wait_status) != except;
}

void set_preload(const std::string& lib, const std::string& state, const std::string& sanitizer_log) {
    ::setenv("LD_PRELOAD", lib.c_str(), 1);
    ::setenv("BG_FAULT_STATE", state.c_str(), 1);
    // The interposer comes before the sanitizer runtime; reports go to files the run checks.
    std::string asan = "verify_asan_link_order=0:log_path=" + sanitizer_log;
    if (const char* base = std::getenv("BG_FAULT_ASAN_OPTIONS"); base != nullptr && *base != '\0')
        asan = std::string(base) + ":" + asan;
    ::setenv("ASAN_OPTIONS", asan.c_str(), 1);
    std::string ubsan = "log_path=" + sanitizer_log;
    if (const char* base = std::getenv("BG_FAULT_UBSAN_OPTIONS"); base != nullptr && *base != '\0')
        ubsan = std::string(base) + ":" + ubsan;
    ::setenv("UBSAN_OPTIONS", ubsan.c_str(), 1);
    // libpam leaks on its own error paths (96 bytes when pam_start_confdir
    // cannot open the service's file): not ours to fix, so LeakSanitizer is
    // told to ignore allocations under libpam in the faulted processes only.
    // This also hides a leak of pam_breakglass.so called from libpam during the
    // sweep; the ASan stage's PAM tests (no faults, no suppression) still find those.
    const std::string suppressions = std::filesystem::path(sanitizer_log).parent_path() / "lsan-suppressions";
    if (FILE* f = std::fopen(suppressions.c_str(), "we")) {
        std::fputs("leak:libpam.so\n", f);
        std::fclose(f);
    }
    ::setenv("LSAN_OPTIONS", ("print_suppressions=0:suppressions=" + suppressions).c_str(), 1);
}

void clear_preload() {
    ::unsetenv("LD_PRELOAD");
    ::unsetenv("LSAN_OPTIONS");
    ::unsetenv("BG_FAULT_STATE");
}

// The remote end of every run: one systemd-journal-remote for the whole sweep,
// started before anything is preloaded.
class RemoteSink {
public:
    RemoteSink() : certificates_(make_test_certificates(dir_.path())), remote_(dir_.path(), certificates_) {
        remote_.start();
    }
    // The canonical record lines the sink holds.
    std::vector<std::string> records() const { return remote_.records(); }
    // kPamTestPolicy with its gate waiting for the sink's acknowledgement.
    std::string policy() const {
        return std::string(kPamTestPolicy) + "remote_ack = \"required\"\nremote_ack_timeout = \"10s\"\n\n" +
               "[sink.central]\ntype = \"journal-remote\"\nurl = \"" + remote_.url() + "\"\nca_file = \"" +
               certificates_.ca.cert + "\"\nclient_cert = \"" + certificates_.client.cert + "\"\nclient_key = \"" +
               certificates_.client.key + "\"\n";
    }

private:
    ScratchDir dir_{"fault-sink"};
    TestCertificates certificates_;
    JournalRemote remote_;
};

Outcome run_scenario(const RemoteSink& sink, const std::string& lib, const std::string& client, std::uint64_t fail_at,
                     const Outcome* clean, const std::string& match = {}) {
    Outcome o;
    ScratchDir scratch("fault");
    SharedState shared(scratch.file("state"));
    const std::string sanitizer_log = scratch.file("sanitizer");
    shared->fail_at = fail_at;
    std::snprintf(shared->match, sizeof shared->match, "%s", match.c_str());
    set_preload(lib, scratch.file("state"), sanitizer_log);

    DaemonOptions options;
    options.journal = true;  // sd_journal_sendv is on the path
    options.start = false;
    TestDaemon d(sink.policy(), options);
    d.start();  // preloaded, not armed: the scenario starts with a serving daemon
    const auto secret = d.enroll_totp(kRequester);
    const std::string module = kModulePath + " gate=" + kGate + " socket=" + d.socket();
    write_service(d.dir(), "bg-pam-test", {"auth required " + module, "account required " + module,
                                        "session required " + module});

    // The scenario, armed.
    shared.arm(true);
    RunOptions run_options;
    run_options.timeout = std::chrono::seconds(60);
    const ProcessResult pam = run({client, d.dir(), "bg-pam-test", kRequester, "disk full on db-3", "INC-9",
                                   totp_code_now(secret)},
                                  run_options);
    o.got_in = pam.exit_code == 0 && pam.out.find("session=1") != std::string::npos;
    o.front_end = pam.out + pam.err;
    if (fail_at == 0 && std::getenv("BG_FAULT_DEBUG") != nullptr)
        std::printf("daemon log:\n%s\naudit log:\n%s\n", d.log().c_str(),
                    read_file(d.state_dir() + "/audit.log").c_str());
    if (pam.exit_code >= 128 || pam.timed_out)
        o.problems.push_back("the PAM client died (exit " + std::to_string(pam.exit_code) + "): " + pam.out + pam.err);
    const std::string id = grant_id_of(d);
    if (!id.empty()) {
        const ProcessResult revoked = run(d.ctl({"revoke", id, "--reason", "fault scenario"}), run_options);
        if (revoked.exit_code >= 128 || revoked.timed_out)
            o.problems.push_back("breakglassctl revoke died (exit " + std::to_string(revoked.exit_code) + ")");
    }
    shared.arm(false);
    clear_preload();

    o.calls = shared->calls;
    o.fired = shared->fired;
    o.fired_name = shared->fired_name;
    o.fired_kind = shared->fired_kind;
    if (fail_at == 0)
        o.kinds.assign(shared->kinds, shared->kinds + std::min<std::uint64_t>(o.calls, BG_FAULT_MAX_CALLS));

    // The grant and when its record became durable.
    const std::string log_text = read_file(d.state_dir() + "/audit.log");
    if (!id.empty()) {
        o.grant_recorded = true;
        const std::size_t end = record_end(log_text, "grant", id);
        const std::uint64_t syncs = std::min<std::uint64_t>(shared->syncs, BG_FAULT_MAX_SYNCS);
        for (std::uint64_t i = 0; i < syncs && end != std::string::npos; ++i)
            if (shared->sync[i].size >= static_cast<std::int64_t>(end)) {
                o.grant_durable_first = shared->sync[i].index < shared->fired_at || shared->fired == 0;
                break;
            }
    }
    o.grant = first_record(d, "grant");
    o.session_open = first_record(d, "session_open");
    // A fault before the grant's record was durable may end in a session only
    // when the failed call was retried or did not matter: the grant was still
    // made durable before the answer, and its record and the session's say
    // exactly what they say in the run without a fault. Anything else is a
    // grant while faulted.
    const bool faulted_before_durable = o.fired > 0 && !o.grant_durable_first;
    if (o.got_in && !o.grant_recorded)
        o.problems.push_back("GRANT WHILE FAULTED: the user got a session with no grant record in the log");
    if (o.got_in && o.grant_recorded && !o.grant_durable_first && o.fired == 0)
        o.problems.push_back("GRANT WHILE FAULTED: no sync of audit.log covered the grant's record");
    // remote_ack = "required": a session means the sink had the grant's
    // record, byte for byte (the lines are unique across runs: each has its
    // own chain and times).
    if (o.got_in && o.grant_recorded) {
        const std::size_t end = record_end(log_text, "grant", id);
        const std::size_t start = log_text.rfind('\n', end - 2);
        const std::string line = log_text.substr(start == std::string::npos ? 0 : start + 1,
                                                 end - 1 - (start == std::string::npos ? 0 : start + 1));
        const std::vector<std::string> remote = sink.records();
        if (std::find(remote.begin(), remote.end(), line) == remote.end())
            o.problems.push_back("GRANT WHILE FAULTED: the user got a session but the sink never received the grant's "
                                 "record (remote_ack = \"required\")");
    }
    if (o.got_in && faulted_before_durable && clean != nullptr) {
        std::vector<std::string> changed = changed_facts(clean->grant, o.grant);
        for (auto& c : changed_facts(clean->session_open, o.session_open)) changed.push_back("session_open " + c);
        bool durable = false;
        const std::size_t end = record_end(log_text, "grant", id);
        for (std::uint64_t i = 0; i < std::min<std::uint64_t>(shared->syncs, BG_FAULT_MAX_SYNCS); ++i)
            durable = durable || (end != std::string::npos && shared->sync[i].size >= static_cast<std::int64_t>(end));
        if (!durable) changed.push_back("the grant's record was never synced");
        if (changed.empty()) {
            o.recovered = true;
        } else {
            std::string what;
            for (const auto& c : changed) what += "\n    " + c;
            o.problems.push_back("GRANT WHILE FAULTED: the user got a session after call " + std::to_string(shared->fired_at) +
                                 " (" + o.fired_name + ") failed, on facts the fault changed:" + what);
        }
    }

    // The daemon: alive, or exited on its own; never killed by a signal we did not send.
    const bool alive = d.running();
    if (!alive) {
        o.daemon_exited = true;
        if (d.wait_status() && signalled(*d.wait_status()))
            o.problems.push_back("breakglassd died of signal " + std::to_string(WTERMSIG(*d.wait_status())));
    } else {
        try {
            d.stop();
        } catch (const std::exception& e) {
            o.problems.push_back(std::string("breakglassd did not stop cleanly after the fault: ") + e.what());
        }
    }
    // No torn record.
    const std::vector<std::string> verify = d.ctl({"verify", "--state-dir", d.state_dir(), "--key",
                                                   d.state_dir() + "/audit.key.initial"});
    const ProcessResult verified = run(verify);
    if (verified.exit_code != 0) o.problems.push_back("verify failed after the fault: " + verified.out + verified.err);

    // A clean daemon on the same state: it serves, what remained is revoked, every grant has its end.
    try {
        d.start();
        const auto status = d.status(false);
        for (const auto& g : status.grants) {
            if (record_end(read_file(d.state_dir() + "/audit.log"), "grant", g.event_id) == std::string::npos)
                o.problems.push_back("the daemon holds grant " + g.event_id + " with no record in the log");
            d.revoke(g.event_id);
        }
        if (!d.status(false).grants.empty()) o.problems.push_back("grants still active after revoking them");
        d.stop();
        std::set<std::string> granted, ended;
        for (const auto& r : d.audit().records_of("grant")) granted.insert(r.value("event_id", ""));
        for (const char* end : {"revoke", "expire", "grant_void"})
            for (const auto& r : d.audit().records_of(end)) ended.insert(r.value("grant_id", ""));
        for (const auto& g : granted)
            if (ended.count(g) == 0)
                o.problems.push_back("grant " + g + " has no revoke, expire or grant_void record");
        const ProcessResult again = run(verify);
        if (again.exit_code != 0) o.problems.push_back("verify failed after the clean restart: " + again.out + again.err);
    } catch (const std::exception& e) {
        o.problems.push_back(std::string("the clean daemon failed: ") + e.what());
    }
    for (const auto& e : std::filesystem::directory_iterator(scratch.path()))
        if (e.path().filename().string().rfind("sanitizer", 0) == 0)
            o.problems.push_back("sanitizer report: " + read_file(e.path().string()));
    return o;
}

// Which calls to fail: all when they fit in `max_runs`, else a deterministic
// sample: every call up to the grant's durability point is weighted first
// (where a fault must refuse the grant), each kind of call keeps at least a few
// (spread over the scenario), the rest evenly spaced.
std::vector<std::uint64_t> choose(const std::vector<unsigned char>& kinds, std::uint64_t calls, std::size_t max_runs,
                                  bool& sampled) {
    std::vector<std::uint64_t> all;
    for (std::uint64_t n = 1; n <= calls; ++n) all.push_back(n);
    sampled = all.size() > max_runs;
    if (!sampled) return all;
    std::set<std::uint64_t> pick;
    std::map<int, std::vector<std::uint64_t>> by_kind;
    for (std::uint64_t n = 1; n <= kinds.size(); ++n) by_kind[kinds[n - 1]].push_back(n);
    const std::size_t per_kind = std::max<std::size_t>(2, max_runs / (3 * std::max<std::size_t>(1, by_kind.size())));
    for (const auto& [kind, list] : by_kind) {
        const std::size_t take = std::min(per_kind, list.size());
        for (std::size_t i = 0; i < take; ++i) pick.insert(list[i * list.size() / take]);
    }
    for (std::size_t i = 0; pick.size() < max_runs && i < max_runs; ++i) pick.insert(all[i * all.size() / max_runs]);
    return {pick.begin(), pick.end()};
}

// One worker's share of the sweep: each call in `calls` failed in its own
// run, FAIL lines printed as they happen; returns the tallies.
nlohmann::json run_sweep(const RemoteSink& sink, const std::string& lib, const std::string& client,
                         const std::vector<std::uint64_t>& calls, const Outcome& counting) {
    std::size_t scenarios = 0, failed_calls = 0, refused = 0, granted_after = 0, recovered = 0, exited = 0, bad = 0,
                while_faulted = 0;
    std::map<std::string, std::size_t> failed_by_name;
    for (const std::uint64_t n : calls) {
        const Outcome o = run_scenario(sink, lib, client, n, &counting);
        ++scenarios;
        if (o.fired > 0) {
            ++failed_calls;
            ++failed_by_name[o.fired_name.substr(0, o.fired_name.find(" "))];
        }
        if (o.got_in) ++granted_after; else ++refused;
        if (o.recovered) ++recovered;
        if (o.daemon_exited) ++exited;
        for (const auto& p : o.problems)
            if (p.rfind("GRANT WHILE FAULTED", 0) == 0) ++while_faulted;
        if (!o.problems.empty()) {
            ++bad;
            std::string report = "FAIL call " + std::to_string(n) + " (" + o.fired_name + ", " +
                                 kind_name(o.fired_kind) + "):\n";
            for (const auto& p : o.problems) report += "  " + p + "\n";
            std::fputs(report.c_str(), stdout);  // one write per report: workers share stdout
        }
        std::fflush(stdout);
    }
    return {{"scenarios", scenarios}, {"failed_calls", failed_calls}, {"refused", refused},
            {"granted_after", granted_after}, {"recovered", recovered}, {"exited", exited}, {"bad", bad},
            {"while_faulted", while_faulted}, {"failed_by_name", failed_by_name}};
}

int drive(const std::string& lib, const std::string& client) {
    const auto started = std::chrono::steady_clock::now();
    std::size_t max_runs = 300;
    if (const char* m = std::getenv("BG_FAULT_MAX_RUNS"); m != nullptr && *m != '\0') max_runs = std::stoul(m);

    const RemoteSink sink;
    const Outcome counting = run_scenario(sink, lib, client, 0, nullptr);
    std::printf("fault injection: the scenario makes %llu failable calls\n",
                static_cast<unsigned long long>(counting.calls));
    std::map<int, std::size_t> per_kind;
    for (unsigned char k : counting.kinds) ++per_kind[k];
    for (const auto& [k, count] : per_kind) std::printf("  %-10s %zu\n", kind_name(k), count);
    if (!counting.got_in || !counting.problems.empty()) {
        std::printf("the scenario does not pass without a fault (the PAM client: %s):\n", counting.front_end.c_str());
        for (const auto& p : counting.problems) std::printf("  %s\n", p.c_str());
        return 1;
    }
    bool sampled = false;
    const auto chosen = choose(counting.kinds, counting.calls, max_runs, sampled);
    if (sampled)
        std::printf("fault injection: %llu calls is more than BG_FAULT_MAX_RUNS=%zu: failing a deterministic sample of "
                    "%zu of them (each kind of call, then evenly spread)\n",
                    static_cast<unsigned long long>(counting.calls), max_runs, chosen.size());

    // The runs, on BG_FAULT_JOBS workers (default 1): each worker a forked
    // child with a sink of its own, taking every JOBS-th run of the list; its
    // tallies come back as one JSON document on a pipe. The runs share
    // nothing but the test users (each has its own daemon, state and socket).
    std::size_t jobs = 1;
    if (const char* j = std::getenv("BG_FAULT_JOBS"); j != nullptr && *j != '\0')
        jobs = std::clamp<std::size_t>(std::stoul(j), 1, 16);
    jobs = std::min(jobs, std::max<std::size_t>(1, chosen.size()));
    if (jobs > 1) std::printf("fault injection: %zu runs on %zu workers\n", chosen.size(), jobs);
    std::fflush(stdout);
    std::vector<std::pair<pid_t, int>> workers;  // pid, read end
    for (std::size_t k = 0; k < jobs; ++k) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
        const pid_t pid = ::fork();
        if (pid < 0) throw std::runtime_error("fork");
        if (pid == 0) {
            ::close(fds[0]);
            int rc = 0;
            std::string out;
            try {
                const RemoteSink own_sink;
                std::vector<std::uint64_t> mine;
                for (std::size_t i = k; i < chosen.size(); i += jobs) mine.push_back(chosen[i]);
                out = run_sweep(own_sink, lib, client, mine, counting).dump();
            } catch (const std::exception& e) {
                out = nlohmann::json{{"error", e.what()}}.dump();
                rc = 1;
            }
            std::fflush(stdout);
            for (std::size_t off = 0; off < out.size();) {
                const ssize_t w = ::write(fds[1], out.data() + off, out.size() - off);
                if (w <= 0) break;
                off += static_cast<std::size_t>(w);
            }
            ::_exit(rc);  // not the parent's destructors (its sink is the parent's)
        }
        ::close(fds[1]);
        workers.emplace_back(pid, fds[0]);
    }
    nlohmann::json total = {{"scenarios", 1}, {"failed_by_name", nlohmann::json::object()}};
    bool worker_failed = false;
    for (const auto& [pid, fd] : workers) {
        std::string text;
        char buf[4096];
        for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) break;
            text.append(buf, static_cast<std::size_t>(n));
        }
        ::close(fd);
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        const auto tally = nlohmann::json::parse(text, nullptr, false);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || tally.is_discarded() || tally.contains("error")) {
            std::printf("FAIL worker %d (%s): %s\n", static_cast<int>(pid),
                        WIFEXITED(status) ? ("exit " + std::to_string(WEXITSTATUS(status))).c_str() : "killed",
                        tally.is_discarded() ? "no tallies" : tally.value("error", std::string("no error")).c_str());
            worker_failed = true;
            continue;
        }
        for (const auto& [key, value] : tally.items()) {
            if (key == "failed_by_name") {
                for (const auto& [name, count] : value.items())
                    total["failed_by_name"][name] = total["failed_by_name"].value(name, std::size_t{0}) +
                                                    count.get<std::size_t>();
            } else {
                total[key] = total.value(key, std::size_t{0}) + value.get<std::size_t>();
            }
        }
    }
    const auto count = [&total](const char* key) { return total.value(key, std::size_t{0}); };
    const std::size_t bad = count("bad") + (worker_failed ? 1 : 0), while_faulted = count("while_faulted");
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count();
    std::printf("fault injection: calls failed %zu, scenarios %zu, users refused %zu, sessions %zu (of which %zu after "
                "a fault before the grant was durable that was retried or did not matter: same records as without "
                "it), daemon exited on its own %zu\n",
                count("failed_calls"), count("scenarios"), count("refused"), count("granted_after"), count("recovered"),
                count("exited"));
    if (total.contains("failed_by_name"))
        for (const auto& [name, n] : total["failed_by_name"].items())
            std::printf("  failed %-32s %zu\n", name.c_str(), n.get<std::size_t>());
    std::printf("fault injection: grants while faulted = %zu, runs with problems = %zu, %lld s\n", while_faulted, bad,
                static_cast<long long>(seconds));
    return bad == 0 ? 0 : 1;
}

// One run failing the first call named `match` (a regression test for one
// fault found by the sweep): the call must be reached and the run must pass.
int drive_one(const std::string& lib, const std::string& client, const std::string& match) {
    const RemoteSink sink;
    const Outcome clean = run_scenario(sink, lib, client, 0, nullptr);
    if (!clean.got_in || !clean.problems.empty()) {
        std::printf("the scenario does not pass without a fault (the PAM client: %s)\n", clean.front_end.c_str());
        for (const auto& p : clean.problems) std::printf("  %s\n", p.c_str());
        return 1;
    }
    const Outcome o = run_scenario(sink, lib, client, 0, &clean, match);
    std::printf("fault injection: failed '%s': %s; the user %s\n", match.c_str(),
                o.fired > 0 ? "reached" : "NOT REACHED", o.got_in ? "got a session" : "was refused");
    for (const auto& p : o.problems) std::printf("  %s\n", p.c_str());
    return o.fired > 0 && o.problems.empty() ? 0 : 1;
}

}  // namespace
}  // namespace bg::test

int main(int argc, char** argv) {
    if (argc != 3 && !(argc == 5 && std::string(argv[3]) == "--match")) {
        std::fprintf(stderr, "usage: %s INTERPOSER.so fault_pam_client [--match 'CALL DETAIL']\n", argv[0]);
        return 2;
    }
    try {
        if (argc == 5) return bg::test::drive_one(argv[1], argv[2], argv[4]);
        return bg::test::drive(argv[1], argv[2]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fault driver: %s\n", e.what());
        return 1;
    }
}
