// SPDX-License-Identifier: ISC
// Closing never waits; opening always does (issue 10, item 3), on a real full
// disk: breakglassd from the test fixture with its state directory on a small
// tmpfs (in this test process's private mount namespace, which the daemon
// inherits), filled by the test. A grant holder's processes are terminated
// at revoke and at expiry while nothing can be written, root's revoke is
// answered, a restart does not revive a revoked grant, and the records
// appear, with the time things happened, once there is room again. Needs root.
//
// A tmpfs is full when no page is left, but the last page of the audit log
// may still hold a small record. drain_slack() has the daemon refuse tiny
// requests until one cannot be recorded: after that, any record larger than
// those tiny refusals cannot be written either, and the revoke and expire
// records here are made larger (a long gate name and incident, a long
// revocation reason).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "common/protocol.hpp"
#include "common/transport.hpp"
#include "common/utc_time.hpp"
#include "helper/mfa/totp.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/files.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/private_mounts.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_accounts.hpp"
#include "tests/support/test_daemon.hpp"

namespace bg::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr std::size_t kDiskBytes = 3 * 1024 * 1024;
// 60 characters: the expire record outgrows the tiny refusals of drain_slack().
const std::string kGate = "full-disk-gate-whose-long-name-makes-its-records-large-000001";
const std::string kIncident = "INC-" + std::string(120, '7');

class FullDiskTest : public ::testing::Test {
protected:
    void SetUp() override {
        DaemonOptions options;
        options.start = false;
        daemon_ = std::make_unique<TestDaemon>(
            "[defaults]\nmax_ttl = \"1h\"\nincident_pattern = '^INC-[0-9]+$'\nfactors = [\"totp\"]\n\n"
            "[gate." + kGate + "]\nsudo_runas_group = \"" + gate_.name() + "\"\nrequesters = [\"%" +
                oncall_.name() + "\"]\nttl = \"30m\"\ntermination_grace = \"1s\"\n",
            options);
        ASSERT_EQ(::mkdir(daemon_->state_dir().c_str(), 0700), 0);
        disk_ = std::make_unique<TmpfsMount>(daemon_->state_dir(), kDiskBytes);
        daemon_->start();
    }
    void TearDown() override {
        if (HasFailure()) std::fprintf(stderr, "daemon log:\n%s\n", daemon_->log().c_str());
        daemon_->stop();
        disk_.reset();
        daemon_.reset();
    }

    std::string state(const std::string& name) const { return daemon_->state_dir() + "/" + name; }

    std::vector<unsigned char> enroll(const TestUser& user) {
        const auto secret = random_totp_secret();
        const auto enrolled = run(daemon_->ctl({"enroll", "totp", user.name(), "--secret-stdin"}),
                                  totp::base32_encode(secret) + "\n");
        EXPECT_EQ(enrolled.exit_code, 0) << enrolled.err;
        return secret;
    }
    ProcessResult request(const TestUser& user, const std::string& code, const std::string& ttl = "30m") {
        return run_as(user.name(),
                      daemon_->ctl({"request", "--gate", kGate, "--reason", "disk test", "--incident", kIncident,
                                    "--ttl", ttl}),
                      code + "\n");
    }
    // Enrols `user` and grants it the gate through the CLI, as the user; returns the grant id.
    std::string grant_for(const TestUser& user, const std::string& ttl = "30m") {
        const auto r = request(user, totp_code_now(enroll(user)), ttl);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        for (const auto& g : daemon_->status(false).grants)
            if (g.user == user.name()) return g.event_id;
        return {};
    }

    std::unique_ptr<ChildProcess> start_sleep(const TestUser& user) {
        SpawnOptions options;
        options.as = credentials_of(user.name(), {gate_.gid()});
        auto child = std::make_unique<ChildProcess>(std::vector<std::string>{"/bin/sleep", "1000"}, options);
        EXPECT_TRUE(child->wait_for_comm("sleep", 5s));
        return child;
    }

    // Fills the tmpfs, then the last page of the audit log (see the top).
    void fill_disk() {
        disk_->fill(state("filler-" + std::to_string(fillers_++)));
        drain_slack();
    }
    void drain_slack() {
        for (int i = 0; i < 64; ++i) {
            // Root may name any user; a user who does not exist is refused
            // with a small record, each under a name of its own.
            const auto answer =
                daemon_->grant(proto::GrantRequest{"z" + std::to_string(i), "g", "r", "INC-1", "", 0, "0", "", ""});
            const auto* e = std::get_if<proto::ErrorAnswer>(&answer);
            ASSERT_NE(e, nullptr);
            if (e->message.find("could not be recorded") != std::string::npos) return;
        }
        FAIL() << "the audit log still took records on a full disk";
    }
    // The reserve, too, is gone: nothing at all can be written.
    void fill_disk_and_reserve() {
        fill_disk();
        ASSERT_EQ(::truncate(state("audit.reserve").c_str(), 0), 0);
        fill_disk();
    }
    void free_disk() {
        for (int i = 0; i < fillers_; ++i) ::unlink(state("filler-" + std::to_string(i)).c_str());
    }

    std::vector<json> records_of(const std::string& event) const { return daemon_->audit().records_of(event); }
    json record_of_grant(const std::string& event, const std::string& grant_id) const {
        for (const json& r : records_of(event))
            if (r["grant_id"] == grant_id) return r;
        return nullptr;
    }

    TestGroup oncall_{"oncall"};
    TestGroup gate_{"gate"};
    TestUser alice_{"alice", {.groups = {oncall_.name()}}};
    TestUser bob_{"bob", {.groups = {oncall_.name()}}};
    TestUser mallory_{"mallory"};
    std::unique_ptr<TestDaemon> daemon_;
    std::unique_ptr<TmpfsMount> disk_;
    int fillers_ = 0;
};

TEST_F(FullDiskTest, RevokeOnAFullDiskTerminatesAndIsRecordedFromTheReserve) {
    const std::string id = grant_for(alice_);
    ASSERT_FALSE(id.empty());
    const auto bobs_secret = enroll(bob_);
    auto holder = start_sleep(alice_);
    fill_disk();

    const auto revoked = run(daemon_->ctl({"revoke", id, "--reason", std::string(1000, 'R')}));
    ASSERT_EQ(revoked.exit_code, 0) << revoked.out << revoked.err;
    EXPECT_TRUE(holder->ended_within(5s));
    EXPECT_TRUE(holder->killed_by(SIGTERM));
    EXPECT_FALSE(daemon_->active(alice_.name(), kGate));
    // The revoke record is written at once, into space the reserve gave up,
    // and so is the terminate record after it.
    const json revoke = record_of_grant("revoke", id);
    ASSERT_FALSE(revoke.is_null());
    EXPECT_EQ(revoke["detail"], "revoked: " + std::string(1000, 'R'));
    EXPECT_NE(revoked.out.find(revoke["event_id"].get<std::string>()), std::string::npos) << revoked.out;
    EXPECT_TRUE(eventually([&] { return !record_of_grant("terminate", id).is_null(); }, 5s));

    // Opening waits: the space the reserve gave up is not for grants.
    const auto refused = request(bob_, totp_code_now(bobs_secret));
    EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
    EXPECT_NE(refused.err.find("keeps its reserve"), std::string::npos) << refused.err;
    EXPECT_TRUE(records_of("grant").size() == 1u);
    free_disk();
    // Once there is room the reserve is grown back, and grants are given again.
    ASSERT_TRUE(eventually(
        [&] {
            struct stat st {};
            return ::stat(state("audit.reserve").c_str(), &st) == 0 && st.st_size == 1024 * 1024;
        },
        10s));
    const auto granted = request(bob_, totp_code_now(bobs_secret, 1));
    EXPECT_EQ(granted.exit_code, 0) << granted.out << granted.err;
    EXPECT_EQ(records_of("grant").size(), 2u);
}

// An unprivileged user's flood of refused requests adds a bounded number of
// records (RefusalBudget), so it cannot fill the disk under the log; and once
// the disk is full all the same, root's revoke still ends the grant, its
// processes are terminated and its record is written from the reserve.
TEST_F(FullDiskTest, AnUnprivilegedFloodIsBoundedAndRevokeStillWorksOnTheFullDiskAfterIt) {
    const std::string id = grant_for(alice_);
    ASSERT_FALSE(id.empty());
    auto holder = start_sleep(alice_);
    const std::size_t before = daemon_->audit().size();
    constexpr int kFlood = 300;
    const int flooded = run_function_as(mallory_.name(), [&] {
        int refused = 0;
        for (int i = 0; i < kFlood; ++i) {
            const proto::GrantRequest g{"", kGate, std::string(1000, '"'), kIncident, "", 0, "000000", "", ""};
            const auto r = proto::call(daemon_->socket(), g, proto::MessageType::Granted);
            if (r.answer && std::holds_alternative<proto::ErrorAnswer>(*r.answer)) ++refused;
        }
        return refused == kFlood ? 0 : 1;
    });
    EXPECT_EQ(flooded, 0) << "every request of the flood is answered, and refused";
    EXPECT_EQ(daemon_->audit().size() - before, 5u) << "five refusal records a minute, the rest counted";

    fill_disk();
    const auto revoked = run(daemon_->ctl({"revoke", id, "--reason", std::string(1000, 'R')}));
    ASSERT_EQ(revoked.exit_code, 0) << revoked.out << revoked.err;
    EXPECT_TRUE(holder->ended_within(5s));
    EXPECT_TRUE(holder->killed_by(SIGTERM));
    EXPECT_FALSE(daemon_->active(alice_.name(), kGate));
    const json revoke = record_of_grant("revoke", id);
    ASSERT_FALSE(revoke.is_null());
    EXPECT_EQ(revoke["detail"], "revoked: " + std::string(1000, 'R'));
    EXPECT_TRUE(eventually([&] { return !record_of_grant("terminate", id).is_null(); }, 5s));
}

TEST_F(FullDiskTest, RevokeAndExpiryWithNothingWritableStillEndTheGrantsAndAreRecordedLate) {
    const std::string alices = grant_for(alice_);
    auto alice_holder = start_sleep(alice_);
    auto bob_holder = start_sleep(bob_);
    const std::string bobs = grant_for(bob_, "4s");
    ASSERT_FALSE(alices.empty());
    ASSERT_FALSE(bobs.empty());
    std::int64_t bob_expires_at = 0;
    for (const auto& g : daemon_->status(false).grants)
        if (g.event_id == bobs) bob_expires_at = g.expires_at;
    fill_disk_and_reserve();
    const std::size_t before = daemon_->audit().size();

    const std::int64_t revoked_from = unix_now();
    const auto revoked = run(daemon_->ctl({"revoke", alices, "--reason", std::string(1000, 'R')}));
    const std::int64_t revoked_until = unix_now();
    ASSERT_EQ(revoked.exit_code, 0) << revoked.out << revoked.err;
    EXPECT_NE(revoked.out.find("not written yet"), std::string::npos) << revoked.out;
    EXPECT_TRUE(alice_holder->ended_within(5s));
    EXPECT_TRUE(alice_holder->killed_by(SIGTERM));
    EXPECT_FALSE(daemon_->active(alice_.name(), kGate));

    // Expiry, with nothing writable either.
    EXPECT_TRUE(bob_holder->ended_within(15s));
    EXPECT_TRUE(bob_holder->killed_by(SIGTERM));
    EXPECT_FALSE(daemon_->active(bob_.name(), kGate));
    EXPECT_EQ(daemon_->audit().size(), before) << "nothing could be written";
    EXPECT_NE(daemon_->log().find("<1>breakglassd: the revoke record of " + alices + " could not be written"),
              std::string::npos);

    free_disk();
    const auto revokes = daemon_->audit().wait_for("revoke", 1, 10s);
    ASSERT_EQ(revokes.size(), 1u);
    const std::string revoke_detail = revokes[0]["detail"];
    // "revoked at <when it happened>; recorded late: <why>; revoked: <reason>"
    bool at_the_revocation = false;
    for (std::int64_t t = revoked_from; t <= revoked_until; ++t)
        at_the_revocation |= revoke_detail.rfind("revoked at " + format_utc(t) + "; recorded late: ", 0) == 0;
    EXPECT_TRUE(at_the_revocation) << revoke_detail;
    EXPECT_NE(revoke_detail.find("No space left on device"), std::string::npos) << revoke_detail;
    EXPECT_NE(revoke_detail.find("; revoked: " + std::string(1000, 'R')), std::string::npos) << revoke_detail;
    EXPECT_EQ(revokes[0]["grant_id"], alices);
    const auto expires = daemon_->audit().wait_for("expire", 1, 10s);
    ASSERT_EQ(expires.size(), 1u);
    EXPECT_EQ(expires[0]["grant_id"], bobs);
    const std::string expire_detail = expires[0]["detail"];
    const std::int64_t expired_at = *parse_utc(expire_detail.substr(11, 20), UtcSyntax::Canonical);
    EXPECT_EQ(expire_detail.rfind("expired at ", 0), 0u) << expire_detail;
    EXPECT_GE(expired_at, bob_expires_at) << expire_detail;
    EXPECT_LE(expired_at, bob_expires_at + 2) << expire_detail;
    // The terminations are on record too, and the ended grants stay ended.
    EXPECT_TRUE(eventually([&] { return !record_of_grant("terminate", alices).is_null(); }, 5s));
    EXPECT_TRUE(eventually([&] { return !record_of_grant("terminate", bobs).is_null(); }, 5s));
    EXPECT_NE(daemon_->log().find("closing record(s) late"), std::string::npos);
    const auto verified = run(daemon_->ctl({"verify", "--state-dir", daemon_->state_dir()}));
    EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

TEST_F(FullDiskTest, ARestartBeforeTheRecordIsWrittenDoesNotReviveTheGrant) {
    const std::string id = grant_for(alice_);
    ASSERT_FALSE(id.empty());
    fill_disk_and_reserve();
    const auto revoked = run(daemon_->ctl({"revoke", id, "--reason", std::string(1000, 'R')}));
    ASSERT_EQ(revoked.exit_code, 0) << revoked.out << revoked.err;
    // Killed before anything could be written, started again on the full disk.
    daemon_->kill();
    daemon_->start();
    EXPECT_FALSE(daemon_->active(alice_.name(), kGate));
    const auto all = daemon_->status(true);
    ASSERT_EQ(all.grants.size(), 1u);
    EXPECT_EQ(all.grants[0].state, "revoked");
    EXPECT_TRUE(records_of("revoke").empty());

    free_disk();
    const auto revokes = daemon_->audit().wait_for("revoke", 1, 10s);
    ASSERT_EQ(revokes.size(), 1u);
    EXPECT_EQ(revokes[0]["grant_id"], id);
    EXPECT_NE(revokes[0]["detail"].get<std::string>().find("(and breakglassd was restarted before it could be written; the end was kept in ends.pending)"),
              std::string::npos)
        << revokes[0]["detail"];
    // The list of unrecorded ends is empty again: another restart changes nothing.
    ASSERT_TRUE(eventually([&] { return daemon_->log().find("closing record(s) late") != std::string::npos; }, 5s));
    daemon_->restart();
    EXPECT_EQ(records_of("revoke").size(), 1u);
    EXPECT_FALSE(daemon_->active(alice_.name(), kGate));
}

}  // namespace
}  // namespace bg::test
