// SPDX-License-Identifier: ISC
#include "helper/mfa/totp.hpp"

#include <gtest/gtest.h>
#include <openssl/rand.h>

#include <array>
#include <ostream>
#include <string>
#include <vector>

namespace {

using bg::totp::Algorithm;
using bg::totp::Failure;

std::vector<unsigned char> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

std::vector<unsigned char> random_key(std::size_t n = 20) {
    std::vector<unsigned char> key(n);
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) throw std::runtime_error("RAND_bytes");
    return key;
}

// RFC 6238 Appendix B: the published ASCII seeds.
const std::string kSeedSha1 = "12345678901234567890";
const std::string kSeedSha256 = "12345678901234567890123456789012";
const std::string kSeedSha512 = "1234567890123456789012345678901234567890123456789012345678901234";

struct Rfc6238Vector {
    std::int64_t time;
    Algorithm algorithm;
    const char* expected;
};

const Rfc6238Vector kRfc6238Vectors[] = {
    {59, Algorithm::Sha1, "94287082"},          {59, Algorithm::Sha256, "46119246"},
    {59, Algorithm::Sha512, "90693936"},        {1111111109, Algorithm::Sha1, "07081804"},
    {1111111109, Algorithm::Sha256, "68084774"}, {1111111109, Algorithm::Sha512, "25091201"},
    {1111111111, Algorithm::Sha1, "14050471"},  {1111111111, Algorithm::Sha256, "67062674"},
    {1111111111, Algorithm::Sha512, "99943326"}, {1234567890, Algorithm::Sha1, "89005924"},
    {1234567890, Algorithm::Sha256, "91819424"}, {1234567890, Algorithm::Sha512, "93441116"},
    {2000000000, Algorithm::Sha1, "69279037"},  {2000000000, Algorithm::Sha256, "90698825"},
    {2000000000, Algorithm::Sha512, "38618901"}, {20000000000, Algorithm::Sha1, "65353130"},
    {20000000000, Algorithm::Sha256, "77737706"}, {20000000000, Algorithm::Sha512, "47863826"},
};

class Rfc6238 : public ::testing::TestWithParam<Rfc6238Vector> {};

TEST_P(Rfc6238, AppendixBVector) {
    const auto& v = GetParam();
    const std::string& seed = v.algorithm == Algorithm::Sha1     ? kSeedSha1
                              : v.algorithm == Algorithm::Sha256 ? kSeedSha256
                                                                 : kSeedSha512;
    const auto key = bytes_of(seed);
    EXPECT_EQ(bg::totp::hotp(key, bg::totp::step_at(v.time), 8, v.algorithm), v.expected);
}

const char* algorithm_name(Algorithm a) {
    return a == Algorithm::Sha1 ? "Sha1" : a == Algorithm::Sha256 ? "Sha256" : "Sha512";
}

void PrintTo(const Rfc6238Vector& v, std::ostream* os) {
    *os << algorithm_name(v.algorithm) << " at " << v.time << " -> " << v.expected;
}

INSTANTIATE_TEST_SUITE_P(AppendixB, Rfc6238, ::testing::ValuesIn(kRfc6238Vectors),
                         [](const ::testing::TestParamInfo<Rfc6238Vector>& param_info) {
                             return std::string(algorithm_name(param_info.param.algorithm)) + "_t" +
                                    std::to_string(param_info.param.time);
                         });

TEST(Hotp, Rfc4226AppendixD) {
    const auto key = bytes_of(kSeedSha1);
    const std::array<const char*, 10> expected = {"755224", "287082", "359152", "969429", "338314",
                                                  "254676", "287922", "162583", "399871", "520489"};
    for (std::uint64_t counter = 0; counter < expected.size(); ++counter) {
        EXPECT_EQ(bg::totp::hotp(key, counter), expected[counter]) << "counter " << counter;
    }
}

TEST(Hotp, SevenDigitsIsZeroPaddedTruncation) {
    // RFC 4226 Appendix D counter 0: HOTP decimal 1284755224.
    EXPECT_EQ(bg::totp::hotp(bytes_of(kSeedSha1), 0, 7), "4755224");
    EXPECT_EQ(bg::totp::hotp(bytes_of(kSeedSha1), 0, 8), "84755224");
}

TEST(Hotp, RejectsBadArguments) {
    const auto key = random_key();
    EXPECT_THROW(bg::totp::hotp(key, 0, 5), std::invalid_argument);
    EXPECT_THROW(bg::totp::hotp(key, 0, 9), std::invalid_argument);
    EXPECT_THROW(bg::totp::hotp(std::span<const unsigned char>{}, 0), std::invalid_argument);
}

TEST(StepAt, FloorsToThirtySeconds) {
    EXPECT_EQ(bg::totp::step_at(0), 0u);
    EXPECT_EQ(bg::totp::step_at(29), 0u);
    EXPECT_EQ(bg::totp::step_at(30), 1u);
    EXPECT_EQ(bg::totp::step_at(59), 1u);
    EXPECT_EQ(bg::totp::step_at(1111111109), 37037036u);
    EXPECT_EQ(bg::totp::step_at(-1), 0u);
}

// --- verify -----------------------------------------------------------------

constexpr std::int64_t kNow = 1700000015;  // step 56666667, mid-step

std::string code_at_step(const std::vector<unsigned char>& key, std::uint64_t step) {
    return bg::totp::hotp(key, step);
}

TEST(Verify, AcceptsCurrentStep) {
    const auto key = random_key();
    const auto step = bg::totp::step_at(kNow);
    const auto outcome = bg::totp::verify(key, code_at_step(key, step), kNow, 0);
    ASSERT_TRUE(outcome.step.has_value());
    EXPECT_EQ(*outcome.step, step);
}

TEST(Verify, AcceptsOneStepEitherSide) {
    const auto key = random_key();
    const auto step = bg::totp::step_at(kNow);
    for (const std::uint64_t s : {step - 1, step + 1}) {
        const auto outcome = bg::totp::verify(key, code_at_step(key, s), kNow, 0);
        ASSERT_TRUE(outcome.step.has_value()) << s;
        EXPECT_EQ(*outcome.step, s);
    }
}

TEST(Verify, RejectsTwoStepsEitherSide) {
    const auto key = random_key();
    const auto step = bg::totp::step_at(kNow);
    for (const std::uint64_t s : {step - 2, step + 2}) {
        const std::string code = code_at_step(key, s);
        // A random key can make the far code collide with a near one; skip that 3-in-10^6 case.
        bool collides = false;
        for (std::uint64_t near = step - 1; near <= step + 1; ++near) collides |= code == code_at_step(key, near);
        if (collides) continue;
        const auto outcome = bg::totp::verify(key, code, kNow, 0);
        EXPECT_FALSE(outcome.step.has_value()) << s;
        EXPECT_EQ(outcome.failure, Failure::Mismatch);
    }
}

TEST(Verify, WrongCodeIsMismatch) {
    const auto key = bytes_of(kSeedSha1);
    // Seed key at t=59 (step 1): steps 0..2 give 755224 (never a candidate), 287082, 359152.
    const auto outcome = bg::totp::verify(key, "969429", 59, 0);
    EXPECT_FALSE(outcome.step.has_value());
    EXPECT_EQ(outcome.failure, Failure::Mismatch);
    EXPECT_TRUE(bg::totp::verify(key, "287082", 59, 0).step.has_value());
    EXPECT_TRUE(bg::totp::verify(key, "359152", 59, 0).step.has_value());
}

TEST(Verify, StepZeroIsNeverAccepted) {
    const auto key = bytes_of(kSeedSha1);
    const auto outcome = bg::totp::verify(key, "755224", 10, 0);  // the step-0 code
    EXPECT_FALSE(outcome.step.has_value());
}

TEST(Verify, SameStepTwiceIsReplayed) {
    const auto key = random_key();
    const auto step = bg::totp::step_at(kNow);
    const std::string code = code_at_step(key, step);
    const auto first = bg::totp::verify(key, code, kNow, 0);
    ASSERT_TRUE(first.step.has_value());
    const auto second = bg::totp::verify(key, code, kNow, *first.step);
    EXPECT_FALSE(second.step.has_value());
    EXPECT_EQ(second.failure, Failure::Replayed);
}

TEST(Verify, OlderStepAfterNewerIsReplayed) {
    const auto key = random_key();
    const auto step = bg::totp::step_at(kNow);
    const std::string newer = code_at_step(key, step + 1);
    const std::string older = code_at_step(key, step);
    if (newer == older) GTEST_SKIP() << "codes collide for this random key";
    const auto first = bg::totp::verify(key, newer, kNow, 0);
    ASSERT_TRUE(first.step.has_value());
    EXPECT_EQ(*first.step, step + 1);
    const auto second = bg::totp::verify(key, older, kNow, *first.step);
    EXPECT_FALSE(second.step.has_value());
    EXPECT_EQ(second.failure, Failure::Replayed);
}

TEST(Verify, NewerStepAfterOlderIsAccepted) {
    const auto key = random_key();
    const auto step = bg::totp::step_at(kNow);
    const auto outcome = bg::totp::verify(key, code_at_step(key, step + 1), kNow, step);
    ASSERT_TRUE(outcome.step.has_value());
    EXPECT_EQ(*outcome.step, step + 1);
}

TEST(Verify, MalformedCodes) {
    const auto key = random_key();
    const std::string valid = code_at_step(key, bg::totp::step_at(kNow));
    const std::vector<std::string> malformed = {
        "",
        valid.substr(0, 5),
        valid + "0",
        "12345a",
        "abcdef",
        "123 456",
        " 12345",
        "12345 ",
        "+12345",
        "-12345",
        std::string("123\0" "56", 6),
        std::string(valid.substr(0, 5)) + std::string(1, '\0'),
        "\xD9\xA1\xD9\xA2\xD9\xA3",  // Arabic-Indic digits one two three
        "１２３４５６",               // full-width digits
    };
    for (const auto& code : malformed) {
        const auto outcome = bg::totp::verify(key, code, kNow, 0);
        EXPECT_FALSE(outcome.step.has_value()) << code;
        EXPECT_EQ(outcome.failure, Failure::Malformed) << code;
    }
}

TEST(Verify, EmptyKeyNeverVerifies) {
    const auto outcome = bg::totp::verify(std::span<const unsigned char>{}, "123456", kNow, 0);
    EXPECT_FALSE(outcome.step.has_value());
    EXPECT_EQ(outcome.failure, Failure::Mismatch);
}

// --- base32 -----------------------------------------------------------------

TEST(Base32, Rfc4648Vectors) {
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""},
        {"f", "MY======"},
        {"fo", "MZXQ===="},
        {"foo", "MZXW6==="},
        {"foob", "MZXW6YQ="},
        {"fooba", "MZXW6YTB"},
        {"foobar", "MZXW6YTBOI======"},
    };
    for (const auto& [plain, encoded] : vectors) {
        const std::string padded = encoded;
        const std::string unpadded = padded.substr(0, padded.find('='));
        EXPECT_EQ(bg::totp::base32_encode(bytes_of(plain)), unpadded);
        const auto from_padded = bg::totp::base32_decode(padded);
        ASSERT_TRUE(from_padded.has_value()) << padded;
        EXPECT_EQ(*from_padded, bytes_of(plain));
        const auto from_unpadded = bg::totp::base32_decode(unpadded);
        ASSERT_TRUE(from_unpadded.has_value()) << unpadded;
        EXPECT_EQ(*from_unpadded, bytes_of(plain));
    }
}

TEST(Base32, DecodeIsCaseInsensitive) {
    const auto lower = bg::totp::base32_decode("mzxw6ytboi");
    ASSERT_TRUE(lower.has_value());
    EXPECT_EQ(*lower, bytes_of("foobar"));
    const auto mixed = bg::totp::base32_decode("MzXw6YtBoI======");
    ASSERT_TRUE(mixed.has_value());
    EXPECT_EQ(*mixed, bytes_of("foobar"));
}

TEST(Base32, RoundTripsRandomBytes) {
    for (std::size_t n = 1; n <= 70; ++n) {
        const auto bytes = random_key(n);
        const auto decoded = bg::totp::base32_decode(bg::totp::base32_encode(bytes));
        ASSERT_TRUE(decoded.has_value()) << n;
        EXPECT_EQ(*decoded, bytes);
    }
}

TEST(Base32, RejectsInvalidInput) {
    const std::vector<std::string> invalid = {
        "MZXW6YTB1",         // '1' is not in the alphabet
        "MZXW6YT8",          // nor is '8'
        "MZXW 6YTB",         // spaces are not allowed
        "MZXW6YTB\n",        // nor newlines
        "MZXW-6YTB",         // nor separators
        "M",                 // 1 char cannot end a block
        "MZX",               // 3 chars neither
        "MZXW6Y",            // 6 chars neither
        "MY=",               // padding that does not complete the block
        "MY=======",         // too much padding
        "MY====",            // too little
        "MY==A===",          // data after padding
        "=MY=====",          // leading padding
        "========",          // padding only
        "MZXW6YTB========",  // a whole block of padding
        "MZ======",          // non-zero trailing bits (canonical is MY)
        "MZXR",              // non-zero trailing bits (canonical is MZXQ)
        std::string("MZXW6Y\0B", 8),
        "MZXW6YT\xC3\xA9",
    };
    for (const auto& s : invalid) EXPECT_FALSE(bg::totp::base32_decode(s).has_value()) << s;
}

// --- otpauth ----------------------------------------------------------------

TEST(OtpauthUri, ExactStringWithEscapedUser) {
    EXPECT_EQ(bg::totp::otpauth_uri("j.doe smith@ops/α", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
              "otpauth://totp/breakglass:j.doe%20smith%40ops%2F%CE%B1"
              "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=breakglass&algorithm=SHA1&digits=6&period=30");
}

TEST(OtpauthUri, PlainUser) {
    EXPECT_EQ(bg::totp::otpauth_uri("alice", "MZXW6YTBOI"),
              "otpauth://totp/breakglass:alice?secret=MZXW6YTBOI&issuer=breakglass&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
