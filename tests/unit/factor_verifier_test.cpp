// SPDX-License-Identifier: ISC
// FactorVerifier: the code's kind by its shape, replay protection through the
// caller's last accepted counter, the failure limit checked first, and which
// failures count against it.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <unistd.h>

#include "helper/mfa/factor_verifier.hpp"
#include "helper/mfa/totp.hpp"
#include "tests/unit/yubikey_test_tokens.hpp"

namespace bg::mfa {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

class FactorVerifierTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = "/var/tmp/bg-factor-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        auto t = TotpStore::open(dir_);
        ASSERT_TRUE(t.ok()) << t.error().message;
        totp_ = std::make_unique<TotpStore>(std::move(t).value());
        auto y = YubikeyStore::open(dir_);
        ASSERT_TRUE(y.ok()) << y.error().message;
        yubikeys_ = std::make_unique<YubikeyStore>(std::move(y).value());
        secret_.assign(20, 0x42);
        ASSERT_TRUE(totp_->enroll("alice", secret_).ok());
        ASSERT_TRUE(yubikeys_->enroll("alice", key_.public_id, key_.aes_key, key_.private_uid).ok());
        verifier_ = std::make_unique<FactorVerifier>(*totp_, *yubikeys_, limiter_,
                                                     [this](const std::string& user, const std::string& label) {
                                                         const auto it = last_.find(user + "/" + label);
                                                         return it == last_.end() ? std::uint64_t{0} : it->second;
                                                     });
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    // What the daemon does with an accepted code: the counter goes into the record.
    FactorResult verify_and_keep(const std::string& user, const std::string& code, std::int64_t now = kNow) {
        FactorResult r = verifier_->verify(user, code, now);
        if (r.status == FactorResult::Status::Accepted) last_[user + "/" + r.label] = r.counter;
        return r;
    }
    std::string totp_now(std::int64_t now = kNow) const { return totp::hotp(secret_, totp::step_at(now)); }

    std::string dir_;
    std::vector<unsigned char> secret_;
    yubikey::test::TestYubikey key_ = yubikey::test::TestYubikey::random();
    std::unique_ptr<TotpStore> totp_;
    std::unique_ptr<YubikeyStore> yubikeys_;
    FailureLimiter limiter_;
    std::map<std::string, std::uint64_t> last_;
    std::unique_ptr<FactorVerifier> verifier_;
};

TEST(FactorKind, ByShape) {
    EXPECT_EQ(factor_kind("123456"), "totp");
    EXPECT_EQ(factor_kind(std::string(44, 'c')), "yubikey");
    EXPECT_EQ(factor_kind("12345"), "");
    EXPECT_EQ(factor_kind("12345a"), "");
    EXPECT_EQ(factor_kind(""), "");
}

TEST_F(FactorVerifierTest, ATotpCodeIsAcceptedOnceAndItsReplayIsRefused) {
    const FactorResult first = verify_and_keep("alice", totp_now());
    ASSERT_EQ(first.status, FactorResult::Status::Accepted) << first.failure;
    EXPECT_EQ(first.label, "totp");
    EXPECT_EQ(first.counter, totp::step_at(kNow));
    const FactorResult again = verify_and_keep("alice", totp_now(), kNow + 5);
    EXPECT_EQ(again.status, FactorResult::Status::Failed);
    EXPECT_NE(again.failure.find("already used"), std::string::npos) << again.failure;
}

TEST_F(FactorVerifierTest, AYubikeyOtpIsAcceptedOnceAndAnOlderCounterIsRefused) {
    const FactorResult newer = verify_and_keep("alice", key_.otp(5, 3));
    ASSERT_EQ(newer.status, FactorResult::Status::Accepted) << newer.failure;
    EXPECT_EQ(newer.label, "yubikey:" + key_.public_id);
    EXPECT_EQ(verify_and_keep("alice", key_.otp(5, 3)).status, FactorResult::Status::Failed);
    EXPECT_EQ(verify_and_keep("alice", key_.otp(5, 2)).status, FactorResult::Status::Failed);
    EXPECT_EQ(verify_and_keep("alice", key_.otp(5, 4)).status, FactorResult::Status::Accepted);
}

TEST_F(FactorVerifierTest, ThreeFailuresLimitTheUserBeforeAnyCodeIsChecked) {
    std::string wrong = totp_now();
    wrong[0] = wrong[0] == '9' ? '0' : static_cast<char>(wrong[0] + 1);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(verifier_->verify("alice", wrong, kNow).status, FactorResult::Status::Failed);
    const FactorResult limited = verifier_->verify("alice", totp_now(), kNow);
    EXPECT_EQ(limited.status, FactorResult::Status::RateLimited);
    EXPECT_GT(limited.retry_after, 0);
    EXPECT_NE(limited.failure.find("try again in"), std::string::npos);
    // Another user is not limited by alice's failures.
    EXPECT_NE(verifier_->verify("bob", "000000", kNow).status, FactorResult::Status::RateLimited);
    // After the window, the right code passes and resets the count.
    EXPECT_EQ(verify_and_keep("alice", totp_now(kNow + 60), kNow + 60).status, FactorResult::Status::Accepted);
}

TEST_F(FactorVerifierTest, NothingEnrolledDoesNotCountAsAGuessButAMalformedCodeDoes) {
    for (int i = 0; i < 5; ++i) {
        const FactorResult r = verifier_->verify("bob", "123456", kNow);
        EXPECT_EQ(r.status, FactorResult::Status::Failed);
        EXPECT_NE(r.failure.find("no TOTP secret is enrolled for bob"), std::string::npos) << r.failure;
    }
    EXPECT_FALSE(limiter_.is_limited("bob", kNow));
    for (int i = 0; i < 3; ++i) {
        const FactorResult r = verifier_->verify("bob", "12-456", kNow);
        EXPECT_EQ(r.label, "");
        EXPECT_NE(r.failure.find("6 digits (TOTP) or a 44-character YubiKey OTP"), std::string::npos) << r.failure;
    }
    EXPECT_TRUE(limiter_.is_limited("bob", kNow));
}

}  // namespace
}  // namespace bg::mfa
