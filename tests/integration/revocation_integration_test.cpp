// SPDX-License-Identifier: ISC
// Revocation that does something, with real processes: breakglassd from the
// test fixture terminates what runs under a grant when it is revoked or
// expires, and runs the gate's on_grant/on_revoke hooks. Needs root: creates
// users and groups unique to the run and starts processes as them.
//
// Nothing here sleeps and then asserts that something did not happen: where a
// test says "nothing more was done", it waits for a later record that can
// only come after the point where it would have been done.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <sys/resource.h>
#include <unistd.h>

#include "common/protocol.hpp"
#include "common/transport.hpp"
#include "helper/mfa/totp.hpp"
#include "helper/revocation/process_scan.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/files.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/process.hpp"
#include "tests/support/run_directory.hpp"
#include "tests/support/test_accounts.hpp"
#include "tests/support/test_daemon.hpp"

namespace bg::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// SIGKILL to every live process of `uids`; how many were signalled.
int kill_processes_of(const std::vector<uid_t>& uids) {
    int killed = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        const auto status = parse_proc_status(read_file(entry.path().string() + "/status"));
        if (!status || status->state == 'Z' || std::find(uids.begin(), uids.end(), status->uid[0]) == uids.end())
            continue;
        if (::kill(static_cast<pid_t>(std::stol(name)), SIGKILL) == 0) ++killed;
    }
    return killed;
}

// Children of `parent` that have exited but were not reaped.
int zombie_children_of(pid_t parent) {
    int zombies = 0;
    const std::string ppid_line = "PPid:\t" + std::to_string(parent) + "\n";
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string status = read_file(entry.path().string() + "/status");
        if (status.find(ppid_line) != std::string::npos && status.find("State:\tZ") != std::string::npos) ++zombies;
    }
    return zombies;
}

// Processes of `uid` that hold `gid` (real, effective, saved or
// supplementary) and have not exited: what a grant of that group left running.
std::vector<pid_t> running_with_group(uid_t uid, gid_t gid) {
    std::vector<pid_t> out;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        const auto status = parse_proc_status(read_file(entry.path().string() + "/status"));
        if (!status || status->state == 'Z' || status->state == 'X' || status->uid[0] != uid) continue;
        const bool holds = std::find(std::begin(status->gid), std::end(status->gid), gid) != std::end(status->gid) ||
                           std::find(status->groups.begin(), status->groups.end(), gid) != status->groups.end();
        if (holds) out.push_back(static_cast<pid_t>(std::stol(name)));
    }
    return out;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

class RevocationTest : public ::testing::Test {
protected:
    void TearDown() override {
        if (HasFailure() && daemon_) std::fprintf(stderr, "daemon log:\n%s\n", daemon_->log().c_str());
        // What a failed test left running (a pid-hopping process outlives its
        // ChildProcess) would load every later test: SIGKILL the test users'
        // processes until none is left.
        for (int round = 0; round < 200 && kill_processes_of({alice_.uid(), bob_.uid()}) > 0; ++round)
            std::this_thread::sleep_for(10ms);
    }

    // The gate "rv" maps the gate group, with a 1 s grace; `extra` adds keys to it.
    void start_daemon(const std::string& extra = "", std::vector<std::string> args = {}) {
        DaemonOptions options;
        options.extra_args = std::move(args);
        daemon_ = std::make_unique<TestDaemon>(
            "[defaults]\nmax_ttl = \"1h\"\nincident_pattern = '^INC-[0-9]+$'\nfactors = [\"totp\"]\n\n"
            "[gate.rv]\nsudo_runas_group = \"" + gate_.name() + "\"\nrequesters = [\"%" + oncall_.name() +
                "\"]\nttl = \"30m\"\ntermination_grace = \"1s\"\n" + extra,
            options);
    }

    // `/bin/sleep 1000` as `user` with exactly `groups`, once it runs as "sleep"
    // (the name the daemon's process scan reports). Killed with the test.
    std::unique_ptr<ChildProcess> start_sleep(const TestUser& user, std::vector<gid_t> groups,
                                              bool ignore_sigterm = false) {
        SpawnOptions options;
        options.as = credentials_of(user.name(), std::move(groups));
        options.ignore_sigterm = ignore_sigterm;
        auto child = std::make_unique<ChildProcess>(std::vector<std::string>{"/bin/sleep", "1000"}, options);
        EXPECT_TRUE(child->wait_for_comm("sleep", 5s)) << "sleep did not start as " << user.name();
        return child;
    }

    // Enrols `user` and grants it the gate through the CLI; returns the grant id.
    std::string grant_for(const TestUser& user, const std::string& ttl = "30m") {
        const auto secret = random_totp_secret();
        const auto enrolled = run(daemon_->ctl({"enroll", "totp", user.name(), "--secret-stdin"}),
                                  totp::base32_encode(secret) + "\n");
        EXPECT_EQ(enrolled.exit_code, 0) << enrolled.err;
        const auto r = run_as(user.name(),
                              daemon_->ctl({"request", "--gate", "rv", "--reason", "revocation test", "--incident",
                                            "INC-77", "--ttl", ttl}),
                              totp_code_now(secret) + "\n");
        EXPECT_EQ(r.exit_code, 0) << r.err;
        const auto grants = records_of("grant");
        return grants.empty() ? std::string() : grants.back()["event_id"].get<std::string>();
    }
    void revoke(const std::string& id) {
        const auto r = run(daemon_->ctl({"revoke", id, "--reason", "done"}));
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }

    std::vector<json> records_of(const std::string& event) const { return daemon_->audit().records_of(event); }
    std::vector<json> wait_for(const std::string& event, std::size_t n, std::chrono::milliseconds limit) const {
        return daemon_->audit().wait_for(event, n, limit);
    }
    // A hook script; the body runs under /bin/sh.
    std::string write_hook(const std::string& name, const std::string& body) const {
        const std::string path = work_.file(name);
        write_file(path, "#!/bin/sh\n" + body, 0755);
        return path;
    }
    static std::string pid_text(const ChildProcess& c) { return std::to_string(c.pid()) + " (sleep)"; }

    TestGroup oncall_{"oncall"};  // requesters of the gate
    TestGroup gate_{"gate"};      // the gate's sudo_runas_group
    TestUser alice_{"alice", {.groups = {oncall_.name()}}};
    TestUser bob_{"bob", {.groups = {oncall_.name()}}};
    ScratchDir work_{"revocation"};  // hooks and what they write
    std::unique_ptr<TestDaemon> daemon_;
};

TEST_F(RevocationTest, RevokeTerminatesTheProcessHoldingTheGroupAndRecordsItsPid) {
    start_daemon();
    auto under_grant = start_sleep(alice_, {gate_.gid()});
    const std::string id = grant_for(alice_);
    revoke(id);
    EXPECT_TRUE(under_grant->ended_within(3s));
    EXPECT_TRUE(under_grant->killed_by(SIGTERM));
    ASSERT_EQ(records_of("revoke").size(), 1u);
    // The revoke record is answered first; the termination follows it, with
    // a record of its own naming what got SIGTERM.
    const auto sigterm = wait_for("terminate", 1, 5s);
    ASSERT_EQ(sigterm.size(), 1u);
    const std::string detail = sigterm[0]["detail"];
    EXPECT_EQ(detail.rfind("after the revoke; SIGTERM to pids " + pid_text(*under_grant) + " (group " + gate_.name() + ")", 0),
              0u)
        << detail;
    EXPECT_EQ(sigterm[0]["grant_id"], id);
    EXPECT_GT(sigterm[0]["seq"].get<int>(), records_of("revoke").at(0)["seq"].get<int>());
    // Nothing needed SIGKILL. The marker: a process that takes the group after
    // the revoke is found by the re-scan when the grace is over, so the second
    // terminate record comes then, and it names no survivor of SIGTERM.
    auto late = start_sleep(alice_, {gate_.gid()});
    const auto terminates = wait_for("terminate", 2, 5s);
    ASSERT_EQ(terminates.size(), 2u);
    const std::string killed = terminates[1]["detail"];
    EXPECT_NE(killed.find("SIGKILL to pids " + pid_text(*late) + " that appeared with group " + gate_.name()),
              std::string::npos)
        << killed;
    EXPECT_EQ(killed.find("survived SIGTERM"), std::string::npos) << killed;
    EXPECT_TRUE(late->ended_within(3s));
    EXPECT_TRUE(late->killed_by(SIGKILL));
}

TEST_F(RevocationTest, ProcessIgnoringSigtermIsKilledAfterTheGrace) {
    start_daemon();
    auto stubborn = start_sleep(alice_, {gate_.gid()}, true);
    const std::string id = grant_for(alice_);
    const auto revoked_at = Clock::now();
    revoke(id);
    ASSERT_TRUE(stubborn->ended_within(5s));
    // SIGTERM was ignored: it died of SIGKILL, and not before the 1 s grace.
    EXPECT_TRUE(stubborn->killed_by(SIGKILL));
    EXPECT_GE(Clock::now() - revoked_at, 1s);
    const auto terminates = wait_for("terminate", 2, 2s);
    ASSERT_EQ(terminates.size(), 2u);
    EXPECT_NE(terminates[0]["detail"].get<std::string>().find("SIGTERM to pids " + pid_text(*stubborn)), std::string::npos)
        << terminates[0]["detail"];
    const std::string detail = terminates[1]["detail"];
    EXPECT_NE(detail.find("SIGKILL to pids " + pid_text(*stubborn) + " that survived SIGTERM"), std::string::npos)
        << detail;
}

TEST_F(RevocationTest, TerminationCutShortByADaemonKillIsFinishedAtStartup) {
    start_daemon();
    auto stubborn = start_sleep(alice_, {gate_.gid()}, true);
    revoke(grant_for(alice_));
    // SIGTERM was sent (and ignored); killed within the grace, the daemon's
    // pending SIGKILL dies with it.
    ASSERT_EQ(wait_for("terminate", 1, 5s).size(), 1u);
    daemon_->kill();
    ASSERT_TRUE(stubborn->running());
    daemon_->start();
    EXPECT_TRUE(stubborn->ended_within(5s));
    EXPECT_TRUE(stubborn->killed_by(SIGKILL));
    const auto terminates = wait_for("terminate", 3, 2s);
    ASSERT_EQ(terminates.size(), 3u);
    const std::string found = terminates[1]["detail"];
    EXPECT_EQ(found.rfind("found at startup, still running after the grant ended; SIGTERM to pids " +
                              pid_text(*stubborn),
                          0),
              0u)
        << found;
    const std::string killed = terminates[2]["detail"];
    EXPECT_NE(killed.find("SIGKILL to pids " + pid_text(*stubborn) + " that survived SIGTERM"), std::string::npos)
        << killed;
    // A second restart finds nothing left to do. Its startup sweep runs
    // before it answers anything, and start() returns once it has answered.
    daemon_->restart();
    EXPECT_EQ(records_of("terminate").size(), 3u);
}

TEST_F(RevocationTest, OnlyTheActorsProcessesWithTheGroupAreTerminated) {
    start_daemon();
    auto without_group = start_sleep(alice_, {});
    auto other_user = start_sleep(bob_, {gate_.gid()});
    auto under_grant = start_sleep(alice_, {gate_.gid()});
    revoke(grant_for(alice_));
    EXPECT_TRUE(under_grant->ended_within(3s));
    // The grace-over re-scan is the last moment either could be signalled; a
    // process of alice's that takes the group now makes it leave a record.
    auto late = start_sleep(alice_, {gate_.gid()});
    const auto terminates = wait_for("terminate", 2, 5s);
    ASSERT_EQ(terminates.size(), 2u);
    const std::string revoked = terminates[0]["detail"];
    const std::string killed = terminates[1]["detail"];
    EXPECT_NE(revoked.find(pid_text(*under_grant)), std::string::npos) << revoked;
    EXPECT_NE(killed.find(pid_text(*late)), std::string::npos) << killed;
    for (ChildProcess* spared : {without_group.get(), other_user.get()}) {
        EXPECT_TRUE(spared->running()) << spared->pid();
        EXPECT_EQ(revoked.find(pid_text(*spared)), std::string::npos) << revoked;
        EXPECT_EQ(killed.find(pid_text(*spared)), std::string::npos) << killed;
    }
}

TEST_F(RevocationTest, ExpiryByTheDaemonTimerTerminatesToo) {
    start_daemon();
    auto under_grant = start_sleep(alice_, {gate_.gid()});
    const std::string id = grant_for(alice_, "2s");
    EXPECT_TRUE(under_grant->ended_within(6s));
    EXPECT_TRUE(under_grant->killed_by(SIGTERM));
    const auto expires = records_of("expire");
    ASSERT_EQ(expires.size(), 1u);
    EXPECT_EQ(expires[0]["grant_id"], id);
    const auto terminates = wait_for("terminate", 1, 2s);
    ASSERT_EQ(terminates.size(), 1u);
    EXPECT_EQ(terminates[0]["grant_id"], id);
    EXPECT_EQ(terminates[0]["detail"].get<std::string>().rfind("after the expire; SIGTERM to pids " + pid_text(*under_grant), 0),
              0u)
        << terminates[0]["detail"];
}

TEST_F(RevocationTest, NoProcessIsSaidSo) {
    start_daemon();
    revoke(grant_for(alice_));
    const auto terminates = wait_for("terminate", 1, 5s);
    ASSERT_EQ(terminates.size(), 1u);
    const std::string detail = terminates[0]["detail"];
    // The set-group-ID sweep of /tmp, /var/tmp and /dev/shm is bounded in
    // time (250 ms): on a loaded machine with big trees there it may stop
    // early and say so; it must find nothing either way.
    const std::string said = "after the revoke; no process ran under group " + gate_.name();
    EXPECT_EQ(detail.substr(0, said.size()), said) << detail;
    const std::string rest = detail.substr(std::min(said.size(), detail.size()));
    EXPECT_TRUE(rest.empty() || rest.rfind("; the set-group-ID sweep stopped after ", 0) == 0) << detail;
}

TEST_F(RevocationTest, HooksGetAFixedArgvAndAnEmptyEnvironment) {
    // /proc/$$/environ is what execve gave the shell (sh itself adds PWD to `env`).
    const std::string out = work_.file("hook.out");
    const std::string body = "for a in \"$0\" \"$@\"; do printf '%s\\n' \"$a\"; done >> " + out +
                             "\n/usr/bin/wc -c < /proc/$$/environ >> " + out + "\n";
    const std::string on_grant = write_hook("on-grant", body);
    const std::string on_revoke = write_hook("on-revoke", body);
    start_daemon("on_grant = \"" + on_grant + "\"\non_revoke = \"" + on_revoke + "\"\n");
    const std::string id = grant_for(alice_);
    const auto grant_hook = wait_for("hook", 1, 5s);
    ASSERT_EQ(grant_hook.size(), 1u);
    EXPECT_EQ(grant_hook[0]["action"], "on_grant");
    EXPECT_EQ(grant_hook[0]["grant_id"], id);
    EXPECT_NE(grant_hook[0]["detail"].get<std::string>().find("exit status 0"), std::string::npos);
    const std::string expires_at = records_of("grant").at(0)["expires_at"];  // RFC 3339 UTC, as in the argv
    revoke(id);
    const auto hooks = wait_for("hook", 2, 5s);
    ASSERT_EQ(hooks.size(), 2u);
    EXPECT_EQ(hooks[1]["action"], "on_revoke");
    EXPECT_NE(hooks[1]["detail"].get<std::string>().find("exit status 0"), std::string::npos);

    const auto run_lines = [&](const std::string& path, const std::string& event) {
        return path + "\n" + event + "\n" + id + "\n" + alice_.name() + "\nrv\n" + expires_at + "\n0\n";
    };
    EXPECT_EQ(read_file(out), run_lines(on_grant, "grant") + run_lines(on_revoke, "revoke"));
}

TEST_F(RevocationTest, FailingOnRevokeIsRetriedThenGivenUp) {
    const std::string attempts = work_.file("attempts");
    const std::string failing = write_hook("on-revoke", "echo \"$2\" >> " + attempts + "\nexit 3\n");
    start_daemon("on_revoke = \"" + failing + "\"\n", {"--hook-retry-delays", "1,1"});
    const std::string first = grant_for(alice_);
    revoke(first);
    const auto failures = wait_for("hook_failed", 3, 10s);
    ASSERT_EQ(failures.size(), 3u);
    EXPECT_NE(failures[0]["detail"].get<std::string>().find("exit status 3 (attempt 1); retrying in 1s"),
              std::string::npos)
        << failures[0]["detail"];
    EXPECT_NE(failures[2]["detail"].get<std::string>().find("gave up after 3 attempts"), std::string::npos)
        << failures[2]["detail"];
    // No fourth attempt: a fourth would come 1 s after giving up. Another
    // grant's hook, revoked now, gives up only 2 s from now (attempts at 0,
    // 1 and 2 s): once it has, a fourth attempt of the first would be on record.
    const std::string second = grant_for(bob_);
    revoke(second);
    const auto all = wait_for("hook_failed", 6, 10s);
    ASSERT_EQ(all.size(), 6u);
    EXPECT_EQ(all[5]["grant_id"], second);
    EXPECT_NE(all[5]["detail"].get<std::string>().find("gave up after 3 attempts"), std::string::npos)
        << all[5]["detail"];
    std::size_t of_first = 0;
    for (const auto& f : records_of("hook_failed")) of_first += f["grant_id"] == first ? 1u : 0u;
    EXPECT_EQ(of_first, 3u);
    const auto ran = lines_of(read_file(attempts));
    EXPECT_EQ(ran, (std::vector<std::string>{first, first, first, second, second, second}));
    // sd-event reaps a child right after the callback that wrote its record.
    EXPECT_TRUE(eventually([&] { return zombie_children_of(daemon_->pid()) == 0; }, 2s)) << "the daemon reaps its hooks";
}

TEST_F(RevocationTest, MissingHookIsRecordedAsAFailureNotACrash) {
    // A policy naming a missing hook is refused at load (HookFilesAreCheckedLikeThePolicy):
    // this one goes missing after the policy was loaded.
    const std::string hook = write_hook("vanishing-hook", "exit 0\n");
    start_daemon("on_grant = \"" + hook + "\"\n");
    ASSERT_EQ(::unlink(hook.c_str()), 0);
    grant_for(alice_);
    const auto failures = wait_for("hook_failed", 1, 5s);
    ASSERT_EQ(failures.size(), 1u);
    const std::string detail = failures[0]["detail"];
    EXPECT_NE(detail.find("cannot start"), std::string::npos) << detail;
    EXPECT_NE(detail.find("the grant stays"), std::string::npos) << detail;
    // Still serving, and the grant is still active.
    EXPECT_TRUE(daemon_->running());
    EXPECT_TRUE(daemon_->active(alice_.name(), "rv"));
}

// A process that ignores SIGTERM and forks and exits every 20 ms, so that
// its pid keeps changing, is ended after the grace by the scans that follow
// it (it fails when they are removed). Attacking issue 10's first fix found a
// faster one (a new pid every 0.2 ms) that the first scan missed, after which
// nothing scanned again; now the scan after the grace always runs and repeats
// until several in a row find nothing new, which catches such a process often
// but not surely (only the grant's scope, with systemd, does). Whether it
// still runs is told by a heartbeat file it touches, not by a scan.
TEST_F(RevocationTest, AProcessThatKeepsChangingItsPidIsEndedAfterTheGrace) {
    start_daemon();
    const std::string id = grant_for(alice_);
    ASSERT_FALSE(id.empty());
    const std::string beat = work_.file("heartbeat");
    write_file(beat, "", 0666);
    SpawnOptions options;
    options.as = credentials_of(alice_.name(), {gate_.gid()});
    options.ignore_sigterm = true;
    ChildProcess hopper({"/usr/bin/perl", "-e",
                         "$SIG{TERM} = $SIG{HUP} = 'IGNORE'; my $f = shift; "
                         "while (1) { my $p = fork(); exit 0 if $p; utime(undef, undef, $f); "
                         "select(undef, undef, undef, 0.1); }",
                         beat},
                        options);
    const auto last_beat = [&] { return std::filesystem::last_write_time(beat); };
    const auto beating = [&] {
        const auto before = last_beat();
        std::this_thread::sleep_for(200ms);
        return last_beat() != before;
    };
    ASSERT_TRUE(eventually(beating, 5s)) << "the hopping process never ran";
    ASSERT_TRUE(eventually([&] { return !running_with_group(alice_.uid(), gate_.gid()).empty(); }, 5s))
        << "the hopping process does not hold the gate's group";
    revoke(id);
    // The grace is 1 s; the hopper must be gone soon after it.
    EXPECT_TRUE(eventually([&] { return !beating(); }, 8s)) << "still running 8 s after the revoke (grace 1 s)";
    const auto terminates = wait_for("terminate", 2, 5s);
    ASSERT_GE(terminates.size(), 2u) << "no terminate record after the grace: " << ::testing::PrintToString(terminates.empty() ? std::string() : terminates.back().dump());
    EXPECT_NE(terminates.back()["detail"].get<std::string>().find("SIGKILL"), std::string::npos)
        << terminates.back().dump();
}

// The actor's answer to revocation: more processes under the grant than the
// daemon has file descriptors (one pidfd each), all ignoring SIGTERM. The
// daemon runs with 128 descriptors here (a default service has 1024 soft,
// and the actor's process limit is far above either); every process must
// still end, and the daemon must keep answering meanwhile.
TEST_F(RevocationTest, MoreProcessesThanTheDaemonHasDescriptorsAllEnd) {
    constexpr int kFlood = 400;
    start_daemon();
    const rlimit small{128, 128};
    ASSERT_EQ(::prlimit(daemon_->pid(), RLIMIT_NOFILE, &small, nullptr), 0) << std::strerror(errno);
    const std::string id = grant_for(alice_);
    ASSERT_FALSE(id.empty());
    SpawnOptions options;
    options.as = credentials_of(alice_.name(), {gate_.gid()});
    options.ignore_sigterm = true;
    ChildProcess flood({"/bin/sh", "-c",
                        "i=0; while [ $i -lt " + std::to_string(kFlood) +
                            " ]; do /bin/sleep 1000 & i=$((i+1)); done; exec /bin/sleep 1000"},
                       options);
    ASSERT_TRUE(eventually([&] { return running_with_group(alice_.uid(), gate_.gid()).size() >= kFlood + 1u; }, 30s))
        << running_with_group(alice_.uid(), gate_.gid()).size() << " of " << kFlood + 1 << " started";
    revoke(id);
    const auto left = [&] { return running_with_group(alice_.uid(), gate_.gid()).size(); };
    EXPECT_TRUE(eventually([&] { return left() == 0; }, 20s))
        << left() << " of " << kFlood + 1 << " processes still run 20 s after the revoke (grace 1 s)";
    const auto status = run(daemon_->ctl({"status"}));
    EXPECT_EQ(status.exit_code, 0) << status.err;
    const auto terminates = wait_for("terminate", 2, 10s);
    ASSERT_GE(terminates.size(), 2u);
    const std::string first = terminates.front()["detail"];
    EXPECT_NE(first.find(" and " + std::to_string(kFlood + 1 - 32) + " more ("), std::string::npos)
        << "32 pids listed, the rest counted: " << first;
    EXPECT_NE(first.find("without a pidfd (the daemon's pidfd budget of 32 was in use): each signalled by pid"),
              std::string::npos)
        << first;
    EXPECT_NE(terminates.back()["detail"].get<std::string>().find("SIGKILL"), std::string::npos)
        << terminates.back().dump();
}

}  // namespace
}  // namespace bg::test
