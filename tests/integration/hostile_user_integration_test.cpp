// SPDX-License-Identifier: ISC
// A hostile local user gets nothing (issue 10): what one unprivileged user
// can do to breakglassd is bounded (refusal records, connections), answers
// that grow with the log still reach root (log, status), trust and the
// loginuid come from the kernel and the policy in force, and the daemon's
// files are checked like the policy. breakglassd from the test fixture,
// real users unique to the run, real processes. Needs root.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <grp.h>

#include "common/protocol.hpp"
#include "common/transport.hpp"
#include "helper/mfa/totp.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/files.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/process.hpp"
#include "tests/support/run_directory.hpp"
#include "tests/support/test_accounts.hpp"
#include "tests/support/test_daemon.hpp"
#include "tests/unit/yubikey_test_tokens.hpp"

namespace bg::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr int kRootGates = 60;

std::string to_hex(const unsigned char* p, std::size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        out += kHex[p[i] >> 4];
        out += kHex[p[i] & 0xF];
    }
    return out;
}

// `defaults` goes into [defaults] (trusted_frontends), `extra` at the end (more gates).
std::string hostile_policy(const std::string& oncall, const std::string& defaults = "", const std::string& extra = "") {
    std::string p = "[defaults]\nmax_ttl = \"1h\"\nincident_pattern = '^INC-[0-9]+$'\n"
                    "factors = [\"totp\", \"yubikey\"]\n" + defaults + "\n[gate.hx]\nrequesters = [\"%" +
                    oncall + "\"]\nttl = \"30m\"\n";
    for (int i = 1; i <= kRootGates; ++i)
        p += "\n[gate.root-" + std::to_string(i) + "]\nrequesters = [\"root\"]\nfactors = [\"yubikey\"]\n";
    return p + extra;
}

class HostileUserTest : public ::testing::Test {
protected:
    void TearDown() override {
        if (HasFailure() && daemon_) std::fprintf(stderr, "daemon log:\n%s\n", daemon_->log().c_str());
    }
    void start(std::vector<std::string> args = {}, const std::string& defaults = "") {
        DaemonOptions options;
        options.extra_args = std::move(args);
        daemon_ = std::make_unique<TestDaemon>(hostile_policy(oncall_.name(), defaults), options);
        ASSERT_EQ(daemon_->log().find("no valid policy"), std::string::npos) << daemon_->log();
    }
    std::vector<unsigned char> enroll(const std::string& user) {
        const auto secret = random_totp_secret();
        const auto r = run(daemon_->ctl({"enroll", "totp", user, "--secret-stdin"}), totp::base32_encode(secret) + "\n");
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return secret;
    }
    ProcessResult request_as(const std::string& user, const std::string& code) {
        return run_as(user, daemon_->ctl({"request", "--gate", "hx", "--reason", "r", "--incident", "INC-1"}),
                      code + "\n");
    }
    std::string grant_id_of(const std::string& user) {
        for (const auto& g : daemon_->status(false).grants)
            if (g.user == user) return g.event_id;
        return {};
    }
    std::vector<json> records_of(const std::string& event) const { return daemon_->audit().records_of(event); }
    std::size_t log_bytes() const { return read_file(daemon_->state_dir() + "/audit.log").size(); }

    TestGroup oncall_{"oncall"};
    TestUser alice_{"alice", {.groups = {oncall_.name()}}};
    TestUser bob_{"bob", {.groups = {oncall_.name()}}};
    TestUser mallory_{"mallory"};
    std::unique_ptr<TestDaemon> daemon_;
};

// Reproduction 3: one unprivileged process added 22 MB in 10 s of refused
// requests. Now the first five of a minute are records, the rest a count.
TEST_F(HostileUserTest, RefusalFloodFromOneUserAddsBoundedBytes) {
    start({"--refusal-window", "3"});
    const std::size_t before = log_bytes();
    const std::size_t records_before = daemon_->audit().size();
    constexpr int kFlood = 200;
    const int answered = run_function_as(mallory_.name(), [&] {
        int denied = 0;
        for (int i = 0; i < kFlood; ++i) {
            proto::GrantRequest g{"", "hx", std::string(1000, '"'), "INC-1", "", 0, "000000", "", ""};
            const auto r = proto::call(daemon_->socket(), g, proto::MessageType::Granted);
            const auto* e = r.answer ? std::get_if<proto::ErrorAnswer>(&*r.answer) : nullptr;
            if (e && e->code == proto::ErrorCode::Denied) ++denied;
        }
        return denied == kFlood ? 0 : 1;
    });
    EXPECT_EQ(answered, 0) << "every request is still answered, and refused";
    const auto denies = records_of("deny");
    ASSERT_EQ(denies.size(), 5u);
    for (const json& d : denies) EXPECT_EQ(d["peer_uid"], static_cast<std::int64_t>(mallory_.uid()));
    EXPECT_EQ(daemon_->audit().size(), records_before + 5);
    // Five records of at most 16 KiB each, whatever the flood.
    EXPECT_LE(log_bytes() - before, 5u * 16 * 1024);
    // Another user's refusal in the same minute is a record of its own.
    const auto alice_refused = run_as(alice_.name(), daemon_->ctl({"request", "--gate", "hx", "--reason", "r",
                                                                   "--incident", "JIRA-1"}),
                                      "000000\n");
    EXPECT_EQ(alice_refused.exit_code, 1);
    EXPECT_EQ(records_of("deny").size(), 6u);
    // Once the window is over, one record counts the rest.
    const auto summaries = daemon_->audit().wait_for("refusals_suppressed", 1, 10s);
    ASSERT_EQ(summaries.size(), 1u);
    const std::string detail = summaries[0]["detail"];
    EXPECT_EQ(detail.rfind(std::to_string(kFlood - 5) + " refusal(s) from uid " + std::to_string(mallory_.uid()) +
                               " (" + mallory_.name() + ") suppressed between ",
                           0),
              0u)
        << detail;
    EXPECT_EQ(summaries[0]["peer_uid"], static_cast<std::int64_t>(mallory_.uid()));
    EXPECT_LE(log_bytes() - before, 7u * 16 * 1024);
}

// Reproduction 5: one user took every connection slot; root's revoke and
// another user's request then failed with "not reachable".
TEST_F(HostileUserTest, HoldingMoreConnectionsThanTheCapBlocksNeitherRootsRevokeNorAFrontEndNorAnotherUser) {
    TestUser frontend("frontend");
    start({}, "trusted_frontends = [\"" + frontend.name() + "\"]\n");
    const auto alices = enroll(alice_.name());
    ASSERT_EQ(request_as(alice_.name(), totp_code_now(alices)).exit_code, 0);
    const std::string grant = grant_id_of(alice_.name());
    const auto bobs = enroll(bob_.name());

    int ready[2], release[2];
    ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(release, O_CLOEXEC), 0);
    // More connections than the old global cap (256), each kept alive by a
    // Check as a hostile client would.
    FunctionChild holder(mallory_.name(), [&] {
        ::close(release[1]);  // this child's copy: the parent's close is the signal
        std::vector<UniqueFd> fds;
        int answered = 0;
        for (int i = 0; i < 300; ++i) {
            auto fd = proto::connect_socket(daemon_->socket(), 3000);
            if (!fd) continue;
            if (proto::send_message(fd->get(), proto::CheckRequest{"", "hx"})) {
                const proto::Received r = proto::receive_message(fd->get(), 3000);
                if (r.message) ++answered;
            }
            fds.push_back(std::move(fd).value());
        }
        (void)!::write(ready[1], &answered, sizeof answered);
        char c;
        (void)!::read(release[0], &c, 1);
        return 0;
    });
    int answered = 0;
    ASSERT_EQ(::read(ready[0], &answered, sizeof answered), static_cast<ssize_t>(sizeof answered));
    ::close(release[0]);
    // While mallory holds all it can: root's revoke, and bob's request.
    const auto revoked = run(daemon_->ctl({"revoke", grant, "--reason", "mallory holds connections"}));
    const auto granted = request_as(bob_.name(), totp_code_now(bobs));
    // A trusted front-end (a PostgreSQL-style service) checks for bob.
    const int checked = run_function_as(frontend.name(), [&] {
        const auto r = proto::call(daemon_->socket(), proto::CheckRequest{bob_.name(), "hx"},
                                   proto::MessageType::CheckAnswer);
        const auto* a = r.answer ? std::get_if<proto::CheckAnswer>(&*r.answer) : nullptr;
        return a && a->active ? 0 : 1;
    });
    ::close(release[1]);
    const int held = holder.wait(60s);
    ::close(ready[0]);
    ::close(ready[1]);
    EXPECT_EQ(revoked.exit_code, 0) << revoked.out << revoked.err;
    EXPECT_EQ(granted.exit_code, 0) << granted.out << granted.err;
    EXPECT_EQ(checked, 0) << "the front-end's Check is answered (bob's grant is active)";
    EXPECT_EQ(held, 0);
    EXPECT_LE(answered, 8) << "one user holds at most its share of connections";
    EXPECT_NE(daemon_->log().find("too many connections in the user pool"), std::string::npos);
}

// A connection that sends nothing holds its slot only a few seconds
// (ConnectionLimits::kFirstRequestSeconds), not the 30 s of the idle timeout.
TEST_F(HostileUserTest, AConnectionThatSendsNothingIsClosedWithinSeconds) {
    start();
    const int closed = run_function_as(mallory_.name(), [&] {
        auto fd = proto::connect_socket(daemon_->socket(), 3000);
        if (!fd) return 10;
        const auto started = std::chrono::steady_clock::now();
        pollfd p{fd->get(), POLLIN, 0};
        if (::poll(&p, 1, 10000) != 1) return 11;  // still open after 10 s
        char c;
        if (::recv(fd->get(), &c, 1, MSG_DONTWAIT) != 0) return 12;  // not an orderly close
        return std::chrono::steady_clock::now() - started < 8s ? 0 : 13;
    });
    EXPECT_EQ(closed, 0);
}

// Reproduction 4: long refusals made root's `breakglassctl log` exceed the
// frame ("message exceeds the frame size limit"), and it failed from then on.
// Every quote in a reason is escaped twice on the way (record, then answer).
TEST_F(HostileUserTest, LogPrintsEveryRecordAfterAFloodOfLongRefusals) {
    start();
    constexpr int kRefusals = 100;
    const std::string reason = [] {
        std::string r;
        while (r.size() < 1000) r += "\"\\";
        return r;
    }();
    for (int i = 0; i < kRefusals; ++i) {
        // Root may name anyone: a user who does not exist is refused, each
        // under a name of its own (so no refusal budget is reached).
        const auto answer = daemon_->grant(
            proto::GrantRequest{"nobody-" + std::to_string(i), "hx", reason, "INC-1", "", 0, "000000", "", ""});
        ASSERT_TRUE(std::holds_alternative<proto::ErrorAnswer>(answer));
    }
    const auto records = daemon_->audit().records();
    ASSERT_GE(records.size(), static_cast<std::size_t>(kRefusals));
    const auto logged = run(daemon_->ctl({"log", "--json"}));
    ASSERT_EQ(logged.exit_code, 0) << logged.err;
    std::istringstream lines(logged.out);
    std::size_t printed = 0, long_denies = 0;
    for (std::string line; std::getline(lines, line); ++printed) {
        const json r = json::parse(line);
        if (r["event"] == "deny" && r["actor"].get<std::string>().rfind("nobody-", 0) == 0 &&
            r["reason"].get<std::string>().size() >= 1000)
            ++long_denies;
    }
    EXPECT_EQ(printed, records.size());
    EXPECT_EQ(long_denies, static_cast<std::size_t>(kRefusals));
    // And it keeps answering.
    const auto status = run(daemon_->ctl({"list", "--all"}));
    EXPECT_EQ(status.exit_code, 0) << status.err;
    EXPECT_TRUE(daemon_->running());
}

// The same for grants: sixty grants with 1000-character reasons of quotes do
// not fit one frame, and `list --all` still shows every one.
TEST_F(HostileUserTest, StatusListsEveryGrantWhateverTheirReasons) {
    start();
    auto key = yubikey::test::TestYubikey::random();
    const std::string secrets = to_hex(key.aes_key.data(), key.aes_key.size()) + " " +
                                to_hex(key.private_uid.data(), key.private_uid.size()) + "\n";
    ASSERT_EQ(run(daemon_->ctl({"enroll", "yubikey", "root", "--public-id", key.public_id}), secrets).exit_code, 0);
    for (int i = 1; i <= kRootGates; ++i) {
        const auto answer = daemon_->grant(proto::GrantRequest{"root", "root-" + std::to_string(i),
                                                               std::string(1000, '"'), "INC-1", "", 600,
                                                               key.otp(1, static_cast<std::uint8_t>(i)), "", ""});
        ASSERT_TRUE(std::holds_alternative<proto::Granted>(answer)) << i;
    }
    const auto listed = run(daemon_->ctl({"list", "--all", "--json"}));
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    const json j = json::parse(listed.out);
    EXPECT_EQ(j["grants"].size(), static_cast<std::size_t>(kRootGates));
    EXPECT_EQ(j["truncated"], false);
    const auto table = run(daemon_->ctl({"list", "--all"}));
    ASSERT_EQ(table.exit_code, 0) << table.err;
    for (const json& g : records_of("grant"))
        EXPECT_NE(table.out.find(g["event_id"].get<std::string>()), std::string::npos) << g["event_id"];
    EXPECT_EQ(table.out.find("more grants exist"), std::string::npos) << table.out;

    // A page continues after its last grant even when that grant has ended
    // since (it is no longer among the active ones).
    const auto first = daemon_->call(proto::StatusRequest{false, ""}, proto::MessageType::StatusAnswer);
    const auto* page = std::get_if<proto::StatusAnswer>(&first);
    ASSERT_NE(page, nullptr);
    ASSERT_TRUE(page->truncated);
    ASSERT_LT(page->grants.size(), static_cast<std::size_t>(kRootGates));
    const std::string last = page->grants.back().event_id;
    ASSERT_EQ(run(daemon_->ctl({"revoke", last})).exit_code, 0);
    const auto second = daemon_->call(proto::StatusRequest{false, last}, proto::MessageType::StatusAnswer);
    const auto* next = std::get_if<proto::StatusAnswer>(&second);
    ASSERT_NE(next, nullptr) << "the page after a grant that ended since is refused";
    ASSERT_FALSE(next->grants.empty());
    for (const auto& g : next->grants)
        for (const auto& p : page->grants) EXPECT_NE(g.event_id, p.event_id) << "pages overlap";
    EXPECT_EQ(daemon_->status(false).grants.size(), static_cast<std::size_t>(kRootGates - 1));
}

// Reproduction 9: trust in trusted_frontends was decided once per connection
// and kept across a policy reload that removed it.
TEST_F(HostileUserTest, TrustIsCheckedOnEveryRequestNotCachedAcrossAPolicyReload) {
    TestUser frontend("frontend");
    start({}, "trusted_frontends = [\"" + frontend.name() + "\"]\n");
    int ready[2], go[2];
    ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
    int outcome = -1;
    std::thread client([&] {
        outcome = run_function_as(frontend.name(), [&] {
            auto fd = proto::connect_socket(daemon_->socket(), 3000);
            if (!fd) return 10;
            const proto::SessionRequest session{alice_.name(), "hx", "session_open", "postgresql", "", "", 1, "", ""};
            if (!proto::send_message(fd->get(), session)) return 11;
            proto::Received first = proto::receive_message(fd->get(), 5000);
            if (!first.message || !std::holds_alternative<proto::SessionRecorded>(*first.message)) return 12;
            char c = 'r';
            (void)!::write(ready[1], &c, 1);
            if (::read(go[0], &c, 1) != 1) return 13;
            // The same connection, after the policy stopped trusting this user.
            if (!proto::send_message(fd->get(), session)) return 0;
            proto::Received second = proto::receive_message(fd->get(), 5000);
            if (!second.message) return 0;
            const auto* e = std::get_if<proto::ErrorAnswer>(&*second.message);
            return e && e->code == proto::ErrorCode::NotPermitted ? 0 : 14;
        });
    });
    char c = 0;
    pollfd wait_ready{ready[0], POLLIN, 0};
    if (::poll(&wait_ready, 1, 20000) != 1 || ::read(ready[0], &c, 1) != 1) {
        (void)!::write(go[1], &c, 1);
        client.join();
        FAIL() << "the front-end's first request failed: " << outcome;
    }
    daemon_->write_policy(hostile_policy(oncall_.name()));
    const auto reloaded = run(daemon_->ctl({"policy", "reload"}));
    c = 'g';
    (void)!::write(go[1], &c, 1);
    client.join();
    for (int fd : {ready[0], ready[1], go[0], go[1]}) ::close(fd);
    EXPECT_EQ(reloaded.exit_code, 0) << reloaded.err;
    EXPECT_EQ(outcome, 0);
    EXPECT_EQ(records_of("session_open").size(), 1u);
}

// Reproduction 8: a process whose loginuid is unset may write its own
// (`echo 0 > /proc/self/loginuid` as a user), and the record said
// actor_loginuid 0 as if root had logged in.
TEST_F(HostileUserTest, ALoginuidTheProcessWroteItselfIsMarkedInTheRecord) {
    start();
    const Credentials as = credentials_of(mallory_.name());
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(125);
        // As root: an unset loginuid, as a process outside any login has.
        const auto write_loginuid = [](const char* value) {
            const int fd = ::open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
            const bool ok = fd >= 0 && ::write(fd, value, std::strlen(value)) == static_cast<ssize_t>(std::strlen(value));
            if (fd >= 0) ::close(fd);
            return ok;
        };
        if (!write_loginuid("4294967295")) ::_exit(77);
        if (::setgroups(as.groups.size(), as.groups.data()) != 0 || ::setresgid(as.gid, as.gid, as.gid) != 0 ||
            ::setresuid(as.uid, as.uid, as.uid) != 0)
            ::_exit(125);
        ::prctl(PR_SET_DUMPABLE, 1);  // as a user's own process is (setresuid cleared it)
        // As the user: write loginuid 0 into its own process.
        if (!write_loginuid("0")) ::_exit(78);
        const auto r = proto::call(daemon_->socket(),
                                   proto::GrantRequest{"", "hx", "r", "INC-1", "", 0, "000000", "", ""},
                                   proto::MessageType::Granted);
        ::_exit(r.answer ? 0 : 10);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) GTEST_SKIP() << "loginuid is immutable on this host";
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    const auto denies = records_of("deny");
    ASSERT_EQ(denies.size(), 1u);
    EXPECT_EQ(denies[0]["peer_uid"], static_cast<std::int64_t>(mallory_.uid()));
    EXPECT_EQ(denies[0]["actor_loginuid"], 0);
    const std::string detail = denies[0]["detail"];
    EXPECT_NE(detail.find("actor_loginuid 0 was not set by a login session"), std::string::npos) << detail;
}

// Reproduction 9: the state directory's and state.json's owner and mode were
// never checked.
TEST_F(HostileUserTest, AnInsecureStateDirectoryOrStateJsonStopsTheStart) {
    start();
    const std::string state = daemon_->state_dir();
    daemon_->stop();
    ASSERT_EQ(::chmod(state.c_str(), 0777), 0);
    EXPECT_THROW(daemon_->start(), std::runtime_error);
    EXPECT_NE(daemon_->log().find("state directory " + state + " is open to group or others (mode 0777)"),
              std::string::npos);
    ASSERT_EQ(::chmod(state.c_str(), 0700), 0);
    ASSERT_EQ(::chown((state + "/state.json").c_str(), mallory_.uid(), mallory_.gid()), 0);
    EXPECT_THROW(daemon_->start(), std::runtime_error);
    EXPECT_NE(daemon_->log().find(state + "/state.json is owned by uid " + std::to_string(mallory_.uid())),
              std::string::npos);
    ASSERT_EQ(::chown((state + "/state.json").c_str(), 0, 0), 0);
    ASSERT_EQ(::chmod((state + "/state.json").c_str(), 0666), 0);
    EXPECT_THROW(daemon_->start(), std::runtime_error);
    EXPECT_NE(daemon_->log().find(state + "/state.json is writable by group or others"), std::string::npos);
    ASSERT_EQ(::chmod((state + "/state.json").c_str(), 0600), 0);
    daemon_->start();
    EXPECT_TRUE(daemon_->running());
}

// Reproduction 9: hook executables were not checked like the policy file.
TEST_F(HostileUserTest, HookFilesAreCheckedLikeThePolicy) {
    start();
    ScratchDir hooks("hooks");
    const std::string hook = hooks.file("on-revoke");
    write_file(hook, "#!/bin/sh\nexit 0\n", 0755);
    const std::string link = hooks.file("link");
    ASSERT_EQ(::symlink(hook.c_str(), link.c_str()), 0);
    const auto with_hook = [&](const std::string& path) {
        return hostile_policy(oncall_.name(), "", "\n[gate.hooked]\nrequesters = [\"root\"]\non_revoke = \"" + path + "\"\n");
    };
    const auto reload_with = [&](const std::string& path) {
        daemon_->write_policy(with_hook(path));
        return run(daemon_->ctl({"policy", "reload"}));
    };
    ASSERT_EQ(::chmod(hook.c_str(), 0757), 0);
    auto r = reload_with(hook);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE((r.out + r.err).find("on_revoke " + hook + " is writable by others (mode 0757)"), std::string::npos)
        << r.out << r.err;
    ASSERT_EQ(::chmod(hook.c_str(), 0775), 0);
    r = reload_with(hook);
    EXPECT_NE((r.out + r.err).find("is writable by its group"), std::string::npos) << r.out << r.err;
    ASSERT_EQ(::chmod(hook.c_str(), 0755), 0);
    ASSERT_EQ(::chown(hook.c_str(), mallory_.uid(), 0), 0);
    r = reload_with(hook);
    EXPECT_NE((r.out + r.err).find("is owned by uid " + std::to_string(mallory_.uid()) + ", not root"),
              std::string::npos)
        << r.out << r.err;
    ASSERT_EQ(::chown(hook.c_str(), 0, 0), 0);
    r = reload_with(link);
    EXPECT_NE((r.out + r.err).find("is a symbolic link"), std::string::npos) << r.out << r.err;
    r = reload_with(hooks.file("missing"));
    EXPECT_NE((r.out + r.err).find("does not exist"), std::string::npos) << r.out << r.err;
    // Every directory above the hook, too: whoever may write one may swap the hook.
    ASSERT_EQ(::chmod(hooks.path().c_str(), 0777), 0);
    r = reload_with(hook);
    EXPECT_NE((r.out + r.err).find("on_revoke " + hook + " is under " + hooks.path() +
                                   ", which is writable by group or others (mode 0777)"),
              std::string::npos)
        << r.out << r.err;
    ASSERT_EQ(::chmod(hooks.path().c_str(), 0755), 0);
    ASSERT_EQ(::chown(hooks.path().c_str(), mallory_.uid(), 0), 0);
    r = reload_with(hook);
    EXPECT_NE((r.out + r.err).find("is under " + hooks.path() + ", which is owned by uid " +
                                   std::to_string(mallory_.uid()) + ", not root"),
              std::string::npos)
        << r.out << r.err;
    ASSERT_EQ(::chown(hooks.path().c_str(), 0, 0), 0);
    EXPECT_EQ(records_of("policy_error").size(), 7u);
    // A hook as the policy file would be: accepted.
    r = reload_with(hook);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace bg::test
