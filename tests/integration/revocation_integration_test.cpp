// SPDX-License-Identifier: ISC
// Revocation that does something, with real processes: breakglassd on a
// temporary socket terminates what runs under a grant when it is revoked or
// expires, and runs the gate's on_grant/on_revoke hooks. Needs root: creates
// and removes bgrv-* users and groups, and starts processes as them.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <ctime>
#include <functional>
#include <grp.h>
#include <nlohmann/json.hpp>
#include <openssl/rand.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "common/protocol.hpp"
#include "common/transport.hpp"
#include "helper/mfa/totp.hpp"
#include "tests/integration/daemon_harness.hpp"
#include "tests/integration/process.hpp"

namespace bg::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

const std::string kDaemon = BG_DAEMON_PATH;
const std::string kCtl = BG_CTL_PATH;
constexpr const char* kAlice = "bgrv-alice";    // the requester
constexpr const char* kBob = "bgrv-bob";        // another user
constexpr const char* kOncall = "bgrv-oncall";  // requesters of the gate
constexpr const char* kGateGroup = "bgrv-gate"; // the gate's sudo_runas_group

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// A process started as `user` with exactly `groups` as supplementary groups.
// Dies with the test (SIGKILL in the destructor) if still running.
struct Child {
    pid_t pid = -1;
    int status = 0;
    bool reaped = false;

    Child(const std::string& user, const std::vector<gid_t>& groups, bool ignore_term) {
        const passwd* pw = ::getpwnam(user.c_str());
        const uid_t uid = pw->pw_uid;
        const gid_t gid = pw->pw_gid;
        pid = ::fork();
        if (pid == 0) {
            if (ignore_term) ::signal(SIGTERM, SIG_IGN);  // stays ignored across exec
            if (::setgroups(groups.size(), groups.data()) != 0 || ::setresgid(gid, gid, gid) != 0 ||
                ::setresuid(uid, uid, uid) != 0)
                ::_exit(90);
            ::execl("/bin/sleep", "sleep", "1000", static_cast<char*>(nullptr));
            ::_exit(91);
        }
    }
    ~Child() {
        if (!reaped && pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    // Reaps the child if it ends within `limit`.
    bool ended_within(std::chrono::milliseconds limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (!reaped && std::chrono::steady_clock::now() < until) {
            if (::waitpid(pid, &status, WNOHANG) == pid) reaped = true;
            else std::this_thread::sleep_for(20ms);
        }
        return reaped;
    }
    bool killed_by(int sig) const { return reaped && WIFSIGNALED(status) && WTERMSIG(status) == sig; }
};

gid_t gid_named(const char* name) { return ::getgrnam(name)->gr_gid; }

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

class RevocationTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        ASSERT_TRUE(add_users_and_groups({kAlice, kBob}, {kOncall, kGateGroup}));
        ASSERT_EQ(run({"/usr/sbin/usermod", "-aG", kOncall, kAlice}).exit_code, 0);
    }
    static void TearDownTestSuite() { remove_users_and_groups({kAlice, kBob}, {kOncall, kGateGroup}); }

    void SetUp() override {
        dir_ = make_test_dir("bg-rv");
        ASSERT_FALSE(dir_.empty());
        state_ = dir_ + "/state";
        socket_ = dir_ + "/socket";
        policy_ = dir_ + "/policy.toml";
    }
    void TearDown() override {
        stop_daemon();
        if (HasFailure()) std::fprintf(stderr, "daemon log:\n%s\n", read_file(dir_ + "/daemon.log").c_str());
        (void)run({"/bin/rm", "-rf", dir_});
    }

    // The gate "rv" maps group bgrv-gate, with a 1 s grace; `extra` adds keys to it.
    void start_daemon(const std::string& extra = "", std::vector<std::string> args = {}) {
        write_file(policy_,
                   "[defaults]\nmax_ttl = \"1h\"\nincident_pattern = '^INC-[0-9]+$'\nfactors = [\"totp\"]\n\n"
                   "[gate.rv]\nsudo_runas_group = \"" + std::string(kGateGroup) +
                       "\"\nrequesters = [\"%" + kOncall + "\"]\nttl = \"30m\"\ntermination_grace = \"1s\"\n" + extra,
                   0644);
        std::vector<std::string> argv = {kDaemon, "--socket", socket_, "--state-dir", state_, "--policy", policy_,
                                         "--no-journal"};
        argv.insert(argv.end(), args.begin(), args.end());
        daemon_ = spawn(argv, dir_ + "/daemon.log");
        if (!wait_until_serving(socket_, "rv")) FAIL() << "breakglassd did not start:\n" << read_file(dir_ + "/daemon.log");
    }
    void stop_daemon() {
        if (daemon_ <= 0) return;
        ::kill(daemon_, SIGTERM);
        ::waitpid(daemon_, nullptr, 0);
        daemon_ = -1;
    }

    std::vector<std::string> ctl(std::vector<std::string> args) const { return ctl_argv(kCtl, socket_, std::move(args)); }

    // Enrols alice and grants her the gate; returns the grant id.
    std::string grant_alice(const std::string& ttl = "30m") {
        std::vector<unsigned char> secret(20);
        EXPECT_EQ(RAND_bytes(secret.data(), static_cast<int>(secret.size())), 1);
        const auto enrolled = run(ctl({"enroll", "totp", kAlice, "--secret-stdin"}), totp::base32_encode(secret) + "\n");
        EXPECT_EQ(enrolled.exit_code, 0) << enrolled.err;
        const std::string code = totp::hotp(secret, totp::step_at(now()));
        const auto r = run(as_user(kAlice, ctl({"request", "--gate", "rv", "--reason", "revocation test", "--incident",
                                                 "INC-77", "--ttl", ttl})),
                           code + "\n");
        EXPECT_EQ(r.exit_code, 0) << r.err;
        const auto grants = records_of("grant");
        return grants.empty() ? std::string() : grants.back()["event_id"].get<std::string>();
    }
    void revoke(const std::string& id) {
        const auto r = run(ctl({"revoke", id, "--reason", "done"}));
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }

    std::vector<json> records_of(const std::string& event) const { return audit_records(state_, event); }
    // Waits until at least `n` records of `event` exist.
    std::vector<json> wait_for(const std::string& event, std::size_t n, std::chrono::milliseconds limit) const {
        const auto until = std::chrono::steady_clock::now() + limit;
        auto found = records_of(event);
        while (found.size() < n && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(50ms);
            found = records_of(event);
        }
        return found;
    }
    // A hook script in the temp dir; the body runs under /bin/sh.
    std::string write_hook(const std::string& name, const std::string& body) const {
        const std::string path = dir_ + "/" + name;
        write_file(path, "#!/bin/sh\n" + body, 0755);
        return path;
    }

    std::string dir_, state_, socket_, policy_;
    pid_t daemon_ = -1;
};

TEST_F(RevocationTest, RevokeTerminatesTheProcessHoldingTheGroupAndListsItsPid) {
    start_daemon();
    Child under_grant(kAlice, {gid_named(kGateGroup)}, false);
    std::this_thread::sleep_for(200ms);  // exec'd: its name is "sleep"
    const std::string id = grant_alice();
    revoke(id);
    EXPECT_TRUE(under_grant.ended_within(3s));
    EXPECT_TRUE(under_grant.killed_by(SIGTERM));
    const auto revokes = records_of("revoke");
    ASSERT_EQ(revokes.size(), 1u);
    const std::string detail = revokes[0]["detail"];
    EXPECT_NE(detail.find("terminating pids " + std::to_string(under_grant.pid) + " (sleep)"), std::string::npos)
        << detail;
    std::this_thread::sleep_for(2500ms);  // past the grace: nothing needed SIGKILL, so no terminate record
    EXPECT_TRUE(records_of("terminate").empty());
}

TEST_F(RevocationTest, ProcessIgnoringSigtermIsKilledAfterTheGrace) {
    start_daemon();
    Child stubborn(kAlice, {gid_named(kGateGroup)}, true);
    std::this_thread::sleep_for(200ms);
    revoke(grant_alice());
    EXPECT_FALSE(stubborn.ended_within(500ms));  // SIGTERM is ignored
    EXPECT_TRUE(stubborn.ended_within(4s));
    EXPECT_TRUE(stubborn.killed_by(SIGKILL));
    const auto terminates = wait_for("terminate", 1, 2s);
    ASSERT_EQ(terminates.size(), 1u);
    const std::string detail = terminates[0]["detail"];
    EXPECT_NE(detail.find("SIGKILL to pids " + std::to_string(stubborn.pid) + " (sleep) that survived SIGTERM"),
              std::string::npos)
        << detail;
}

TEST_F(RevocationTest, TerminationCutShortByADaemonKillIsFinishedAtStartup) {
    start_daemon();
    Child stubborn(kAlice, {gid_named(kGateGroup)}, true);
    std::this_thread::sleep_for(200ms);
    revoke(grant_alice());
    // Killed within the grace: its pending SIGKILL dies with it.
    ::kill(daemon_, SIGKILL);
    ::waitpid(daemon_, nullptr, 0);
    daemon_ = -1;
    EXPECT_FALSE(stubborn.ended_within(2500ms));
    start_daemon();
    EXPECT_TRUE(stubborn.ended_within(4s));
    EXPECT_TRUE(stubborn.killed_by(SIGKILL));
    const auto terminates = wait_for("terminate", 2, 2s);
    ASSERT_EQ(terminates.size(), 2u);
    const std::string found = terminates[0]["detail"];
    EXPECT_EQ(found.rfind("found at startup, still running after the grant ended; terminating pids " +
                              std::to_string(stubborn.pid) + " (sleep)",
                          0),
              0u)
        << found;
    const std::string killed = terminates[1]["detail"];
    EXPECT_NE(killed.find("SIGKILL to pids " + std::to_string(stubborn.pid) + " (sleep) that survived SIGTERM"),
              std::string::npos)
        << killed;
    // A second restart finds nothing left to do.
    stop_daemon();
    start_daemon();
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(records_of("terminate").size(), 2u);
}

TEST_F(RevocationTest, OnlyTheActorsProcessesWithTheGroupAreTerminated) {
    start_daemon();
    const gid_t gate = gid_named(kGateGroup);
    Child without_group(kAlice, {}, false);
    Child other_user(kBob, {gate}, false);
    Child under_grant(kAlice, {gate}, false);
    std::this_thread::sleep_for(200ms);
    revoke(grant_alice());
    EXPECT_TRUE(under_grant.ended_within(3s));
    std::this_thread::sleep_for(2500ms);  // past the grace (1 s, counted in whole seconds) and its re-scan
    EXPECT_FALSE(without_group.ended_within(0ms));
    EXPECT_FALSE(other_user.ended_within(0ms));
    const std::string detail = records_of("revoke").at(0)["detail"];
    EXPECT_EQ(detail.find(std::to_string(without_group.pid) + " "), std::string::npos) << detail;
    EXPECT_EQ(detail.find(std::to_string(other_user.pid) + " "), std::string::npos) << detail;
}

TEST_F(RevocationTest, ExpiryByTheDaemonTimerTerminatesToo) {
    start_daemon();
    Child under_grant(kAlice, {gid_named(kGateGroup)}, false);
    const std::string id = grant_alice("2s");
    EXPECT_TRUE(under_grant.ended_within(5s));
    EXPECT_TRUE(under_grant.killed_by(SIGTERM));
    const auto expires = records_of("expire");
    ASSERT_EQ(expires.size(), 1u);
    EXPECT_EQ(expires[0]["grant_id"], id);
    EXPECT_NE(expires[0]["detail"].get<std::string>().find(std::to_string(under_grant.pid)), std::string::npos);
}

TEST_F(RevocationTest, NoProcessIsSaidSo) {
    start_daemon();
    revoke(grant_alice());
    const std::string detail = records_of("revoke").at(0)["detail"];
    EXPECT_NE(detail.find(std::string("no process ran under group ") + kGateGroup), std::string::npos) << detail;
}

TEST_F(RevocationTest, HooksGetAFixedArgvAndAnEmptyEnvironment) {
    // /proc/$$/environ is what execve gave the shell (sh itself adds PWD to `env`).
    const std::string body = "for a in \"$0\" \"$@\"; do printf '%s\\n' \"$a\"; done >> " + dir_ +
                             "/hook.out\n/usr/bin/wc -c < /proc/$$/environ >> " + dir_ + "/hook.out\n";
    const std::string on_grant = write_hook("on-grant", body);
    const std::string on_revoke = write_hook("on-revoke", body);
    start_daemon("on_grant = \"" + on_grant + "\"\non_revoke = \"" + on_revoke + "\"\n");
    const std::string id = grant_alice();
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
        return path + "\n" + event + "\n" + id + "\n" + kAlice + "\nrv\n" + expires_at + "\n0\n";
    };
    EXPECT_EQ(read_file(dir_ + "/hook.out"), run_lines(on_grant, "grant") + run_lines(on_revoke, "revoke"));
}

TEST_F(RevocationTest, FailingOnRevokeIsRetriedThenGivenUp) {
    const std::string failing = write_hook("on-revoke", "echo x >> " + dir_ + "/attempts\nexit 3\n");
    start_daemon("on_revoke = \"" + failing + "\"\n", {"--hook-retry-delays", "1,1"});
    revoke(grant_alice());
    const auto failures = wait_for("hook_failed", 3, 10s);
    ASSERT_EQ(failures.size(), 3u);
    EXPECT_NE(failures[0]["detail"].get<std::string>().find("exit status 3 (attempt 1); retrying in 1s"),
              std::string::npos)
        << failures[0]["detail"];
    EXPECT_NE(failures[2]["detail"].get<std::string>().find("gave up after 3 attempts"), std::string::npos)
        << failures[2]["detail"];
    std::this_thread::sleep_for(1500ms);
    EXPECT_EQ(records_of("hook_failed").size(), 3u);  // no fourth attempt
    EXPECT_EQ(read_file(dir_ + "/attempts"), "x\nx\nx\n");
    EXPECT_EQ(zombie_children_of(daemon_), 0) << "the daemon reaps its hooks";
}

TEST_F(RevocationTest, MissingHookIsRecordedAsAFailureNotACrash) {
    start_daemon("on_grant = \"" + dir_ + "/no-such-hook\"\n");
    const std::string id = grant_alice();
    const auto failures = wait_for("hook_failed", 1, 5s);
    ASSERT_EQ(failures.size(), 1u);
    const std::string detail = failures[0]["detail"];
    EXPECT_NE(detail.find("cannot start"), std::string::npos) << detail;
    EXPECT_NE(detail.find("the grant stays"), std::string::npos) << detail;
    // Still serving, and the grant is still active.
    const auto r = proto::call(socket_, proto::CheckRequest{kAlice, "rv"}, proto::MessageType::CheckAnswer);
    ASSERT_TRUE(r.answer);
    EXPECT_TRUE(std::get<proto::CheckAnswer>(*r.answer).active);
}

}  // namespace
}  // namespace bg::test
