// SPDX-License-Identifier: ISC
#include "helper/mfa/yubikey.hpp"

#include "tests/unit/yubikey_test_tokens.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using bg::yubikey::combined_counter;
using bg::yubikey::Failure;
using bg::yubikey::OtpParts;
using bg::yubikey::split_otp;
using bg::yubikey::verify;
using bg::yubikey::test::TestYubikey;
using namespace std::string_literals;

OtpParts parts_of(const std::string& otp) {
    auto parts = split_otp(otp);
    if (!parts) throw std::runtime_error("test OTP does not split: " + otp);
    return *parts;
}

bg::yubikey::VerifyOutcome verify_with(const TestYubikey& key, const std::string& otp, std::uint64_t last) {
    return verify(key.aes_key, key.private_uid, parts_of(otp), last);
}

// ---- modhex and splitting ---------------------------------------------------

TEST(YubikeyModhex, AcceptsTheAlphabetInEitherCase) {
    EXPECT_TRUE(bg::yubikey::is_modhex("cbdefghijklnrtuv"));
    EXPECT_TRUE(bg::yubikey::is_modhex("CBDEFGHIJKLNRTUV"));
    EXPECT_TRUE(bg::yubikey::is_modhex("cBdEfG"));
}

TEST(YubikeyModhex, RejectsEverythingElse) {
    EXPECT_FALSE(bg::yubikey::is_modhex(""));
    for (char c : "aAmMoOpPqQsSwWxXyYzZ0123456789 -_+/=\t\n"s) {
        EXPECT_FALSE(bg::yubikey::is_modhex(std::string("cb") + c + "de")) << "character " << int(c);
    }
    EXPECT_FALSE(bg::yubikey::is_modhex("cb\0de"s));
    EXPECT_FALSE(bg::yubikey::is_modhex("cb\x7f" "de"));
    EXPECT_FALSE(bg::yubikey::is_modhex("cb\xc3\xa9"));  // é
}

TEST(YubikeyModhex, PublicIdIsTwelveLowerCaseCharacters) {
    EXPECT_TRUE(bg::yubikey::is_public_id("cccccccbcjdf"));
    EXPECT_FALSE(bg::yubikey::is_public_id("CCCCCCCBCJDF"));
    EXPECT_FALSE(bg::yubikey::is_public_id("cccccccbcjd"));
    EXPECT_FALSE(bg::yubikey::is_public_id("cccccccbcjdfc"));
    EXPECT_FALSE(bg::yubikey::is_public_id("cccccccbcjda"));
    EXPECT_FALSE(bg::yubikey::is_public_id(""));
}

TEST(YubikeyOtpShape, ExactlyFortyFourModhexCharacters) {
    const std::string good(44, 'c');
    EXPECT_TRUE(bg::yubikey::looks_like_otp(good));
    EXPECT_FALSE(bg::yubikey::looks_like_otp(std::string(43, 'c')));
    EXPECT_FALSE(bg::yubikey::looks_like_otp(std::string(45, 'c')));
    EXPECT_FALSE(bg::yubikey::looks_like_otp(""));
    EXPECT_FALSE(bg::yubikey::looks_like_otp(std::string(43, 'c') + "a"));
    EXPECT_FALSE(bg::yubikey::looks_like_otp(std::string(20, 'c') + '\0' + std::string(23, 'c')));
    EXPECT_FALSE(bg::yubikey::looks_like_otp(std::string(43, 'c') + '\n'));
    EXPECT_FALSE(bg::yubikey::looks_like_otp(std::string(43, 'c') + '\x1b'));
    EXPECT_FALSE(bg::yubikey::looks_like_otp(" " + std::string(43, 'c')));
    EXPECT_TRUE(bg::yubikey::looks_like_otp(std::string(44, 'V')));
}

TEST(YubikeySplit, SplitsPublicIdAndToken) {
    const std::string otp = "cccccccbcjdf" "hknhfjbrjnlnldnhcujvddbikngjrtgh";
    const auto parts = split_otp(otp);
    ASSERT_TRUE(parts);
    EXPECT_EQ(parts->public_id, "cccccccbcjdf");
    EXPECT_EQ(parts->token_modhex, "hknhfjbrjnlnldnhcujvddbikngjrtgh");
}

TEST(YubikeySplit, UpperCaseIsCanonicalizedToLowerCase) {
    const auto parts = split_otp("CCCCCCCBCJDF" "HKNHFJBRJNLNLDNHCUJVDDBIKNGJRTGH");
    ASSERT_TRUE(parts);
    EXPECT_EQ(parts->public_id, "cccccccbcjdf");
    EXPECT_EQ(parts->token_modhex, "hknhfjbrjnlnldnhcujvddbikngjrtgh");
}

TEST(YubikeySplit, RejectsMalformed) {
    EXPECT_FALSE(split_otp(""));
    EXPECT_FALSE(split_otp(std::string(43, 'c')));
    EXPECT_FALSE(split_otp(std::string(45, 'c')));
    EXPECT_FALSE(split_otp(std::string(43, 'c') + "x"));
    EXPECT_FALSE(split_otp(std::string(43, 'c') + '\0'));
    EXPECT_FALSE(split_otp(std::string(22, 'c') + "\r" + std::string(21, 'c')));
    // The published libyubikey sample has an 8-character identity: 40
    // characters, not the 12 + 32 a YubiKey in Yubico OTP mode types.
    EXPECT_FALSE(split_otp("dteffujehknhfjbrjnlnldnhcujvddbikngjrtgh"));
}

// ---- counters ---------------------------------------------------------------

TEST(YubikeyCounter, CombinedCounterOrdersSessionThenUse) {
    struct Row {
        std::uint16_t session;
        std::uint8_t use;
        std::uint64_t combined;
    };
    const Row rows[] = {
        {0, 0, 0},          {0, 1, 1},          {0, 255, 255},        {1, 0, 256},
        {1, 1, 257},        {2, 0, 512},        {19, 17, 4881},       {0x7fff, 0, 0x7fff00},
        {0x7fff, 255, 0x7fffff}, {0xffff, 255, 0xffffff},
    };
    for (const auto& r : rows) {
        EXPECT_EQ(combined_counter(r.session, r.use), r.combined) << r.session << "/" << int(r.use);
    }
    // Strictly increasing along the table <=> (session, use) lexicographically greater.
    for (std::size_t i = 1; i < std::size(rows); ++i) {
        EXPECT_GT(combined_counter(rows[i].session, rows[i].use), combined_counter(rows[i - 1].session, rows[i - 1].use));
    }
    EXPECT_GT(combined_counter(2, 0), combined_counter(1, 255));
    EXPECT_LT(combined_counter(5, 3), combined_counter(5, 4));
}

// ---- verify against OTPs generated by libyubikey --------------------------------

TEST(YubikeyVerify, ValidOtpIsAcceptedWithItsCounter) {
    const auto key = TestYubikey::random();
    const auto outcome = verify_with(key, key.otp(7, 3), 0);
    ASSERT_TRUE(outcome.counter) << bg::yubikey::failure_text(outcome.failure);
    EXPECT_EQ(*outcome.counter, combined_counter(7, 3));
}

TEST(YubikeyVerify, ReplayOfTheSameOtpIsRefused) {
    const auto key = TestYubikey::random();
    const std::string otp = key.otp(7, 3);
    const auto first = verify_with(key, otp, combined_counter(7, 2));
    ASSERT_TRUE(first.counter);
    const auto again = verify_with(key, otp, *first.counter);
    EXPECT_FALSE(again.counter);
    EXPECT_EQ(again.failure, Failure::Replayed);
}

TEST(YubikeyVerify, LowerSessionCounterIsReplayed) {
    const auto key = TestYubikey::random();
    const auto outcome = verify_with(key, key.otp(6, 200), combined_counter(7, 0));
    EXPECT_FALSE(outcome.counter);
    EXPECT_EQ(outcome.failure, Failure::Replayed);
}

TEST(YubikeyVerify, EqualSessionWithLowerUseIsReplayed) {
    const auto key = TestYubikey::random();
    const auto outcome = verify_with(key, key.otp(7, 2), combined_counter(7, 3));
    EXPECT_FALSE(outcome.counter);
    EXPECT_EQ(outcome.failure, Failure::Replayed);
}

TEST(YubikeyVerify, NewerOtpsAfterAnAcceptedOneAreAccepted) {
    const auto key = TestYubikey::random();
    const std::uint64_t last = combined_counter(7, 3);
    const auto next_use = verify_with(key, key.otp(7, 4), last);
    ASSERT_TRUE(next_use.counter);
    EXPECT_EQ(*next_use.counter, combined_counter(7, 4));
    // A new session resets the use counter, and still counts as newer.
    const auto next_session = verify_with(key, key.otp(8, 0), last);
    ASSERT_TRUE(next_session.counter);
    EXPECT_EQ(*next_session.counter, combined_counter(8, 0));
}

TEST(YubikeyVerify, CounterZeroIsNeverAccepted) {
    const auto key = TestYubikey::random();
    const auto outcome = verify_with(key, key.otp(0, 0), 0);
    EXPECT_FALSE(outcome.counter);
    EXPECT_EQ(outcome.failure, Failure::Replayed);
}

TEST(YubikeyVerify, CapsLockFlagIsNotPartOfTheCounter) {
    const auto key = TestYubikey::random();
    const auto outcome = verify_with(key, key.otp(0x8000 | 5, 9), 0);
    ASSERT_TRUE(outcome.counter);
    EXPECT_EQ(*outcome.counter, combined_counter(5, 9));
}

TEST(YubikeyVerify, UpperCaseOtpVerifies) {
    const auto key = TestYubikey::random();
    std::string otp = key.otp(3, 1);
    for (char& c : otp) c = static_cast<char>(c - 'a' + 'A');
    const auto outcome = verify_with(key, otp, 0);
    ASSERT_TRUE(outcome.counter);
    EXPECT_EQ(*outcome.counter, combined_counter(3, 1));
    // And so does a hand-made upper-case OtpParts.
    OtpParts parts{key.public_id, key.token(3, 2)};
    for (char& c : parts.token_modhex) c = static_cast<char>(c - 'a' + 'A');
    EXPECT_TRUE(verify(key.aes_key, key.private_uid, parts, 0).counter);
}

TEST(YubikeyVerify, WrongCrcIsBadCrc) {
    const auto key = TestYubikey::random();
    const auto outcome = verify_with(key, key.otp(7, 3, /*crc_ok=*/false), 0);
    EXPECT_FALSE(outcome.counter);
    EXPECT_EQ(outcome.failure, Failure::BadCrc);
}

TEST(YubikeyVerify, FlippedCiphertextNeverVerifies) {
    // Random key, so which check fails is left to chance only at 2^-16 (a
    // random block passing the CRC); the fixed-vector test below pins BadCrc.
    const auto key = TestYubikey::random();
    const std::string otp = key.otp(7, 3);
    for (std::size_t i = bg::yubikey::kPublicIdChars; i < otp.size(); ++i) {
        std::string flipped = otp;
        flipped[i] = flipped[i] == 'c' ? 'b' : 'c';
        const auto outcome = verify_with(key, flipped, 0);
        EXPECT_FALSE(outcome.counter) << "position " << i;
        EXPECT_NE(outcome.failure, Failure::Malformed);
    }
}

TEST(YubikeyVerify, WrongPrivateUidIsWrongUid) {
    const auto key = TestYubikey::random();
    auto other_uid = key.private_uid;
    other_uid[5] = static_cast<unsigned char>(other_uid[5] ^ 0x01);
    const auto outcome = verify(key.aes_key, other_uid, parts_of(key.otp(7, 3)), 0);
    EXPECT_FALSE(outcome.counter);
    EXPECT_EQ(outcome.failure, Failure::WrongUid);
}

TEST(YubikeyVerify, WrongKeyNeverVerifies) {
    const auto key = TestYubikey::random();
    const auto other = TestYubikey::random();
    const auto outcome = verify(other.aes_key, key.private_uid, parts_of(key.otp(7, 3)), 0);
    EXPECT_FALSE(outcome.counter);
    EXPECT_NE(outcome.failure, Failure::Malformed);
}

TEST(YubikeyVerify, MalformedTokenIsMalformed) {
    const auto key = TestYubikey::random();
    const std::string token = key.token(7, 3);
    const std::string bad_tokens[] = {
        "", token.substr(0, 31), token + "c", token.substr(0, 31) + "a", token.substr(0, 16) + '\0' + token.substr(17),
        token.substr(0, 31) + '\x01', std::string(32, ' '),
    };
    for (const auto& bad : bad_tokens) {
        const auto outcome = verify(key.aes_key, key.private_uid, OtpParts{key.public_id, bad}, 0);
        EXPECT_FALSE(outcome.counter);
        EXPECT_EQ(outcome.failure, Failure::Malformed) << "token of " << bad.size() << " bytes";
    }
}

TEST(YubikeyVerify, FailureTexts) {
    EXPECT_EQ(bg::yubikey::failure_text(Failure::Malformed), "malformed OTP");
    EXPECT_EQ(bg::yubikey::failure_text(Failure::BadCrc), "bad CRC (wrong key or corrupted OTP)");
    EXPECT_EQ(bg::yubikey::failure_text(Failure::WrongUid), "private id does not match");
    EXPECT_EQ(bg::yubikey::failure_text(Failure::Replayed),
              "OTP replayed (counter not greater than the last accepted)");
}

// ---- the published libyubikey test vector ---------------------------------------
// yubico-c test-vectors.txt: sample OTP "dteffujehknhfjbrjnlnldnhcujvddbikngjrtgh"
// (identity "dteffuje", token "hknhfjbrjnlnldnhcujvddbikngjrtgh"), AES key
// ecde18dbe76fbd0c33330f1c354871db; plaintext uid 87 92 eb fe 26 cc,
// counter 19 (0x0013), session use 17 (0x11), CRC residue ok.

constexpr std::array<unsigned char, 16> kVectorKey = {0xec, 0xde, 0x18, 0xdb, 0xe7, 0x6f, 0xbd, 0x0c,
                                                      0x33, 0x33, 0x0f, 0x1c, 0x35, 0x48, 0x71, 0xdb};
constexpr std::array<unsigned char, 6> kVectorUid = {0x87, 0x92, 0xeb, 0xfe, 0x26, 0xcc};
const OtpParts kVectorOtp{"dteffuje", "hknhfjbrjnlnldnhcujvddbikngjrtgh"};

TEST(YubikeyPublishedVector, DecryptsToTheDocumentedCounter) {
    const auto outcome = verify(kVectorKey, kVectorUid, kVectorOtp, 0);
    ASSERT_TRUE(outcome.counter) << bg::yubikey::failure_text(outcome.failure);
    EXPECT_EQ(*outcome.counter, combined_counter(19, 17));
    EXPECT_EQ(verify(kVectorKey, kVectorUid, kVectorOtp, combined_counter(19, 17)).failure, Failure::Replayed);
    EXPECT_TRUE(verify(kVectorKey, kVectorUid, kVectorOtp, combined_counter(19, 16)).counter);
}

TEST(YubikeyPublishedVector, WrongKeyIsBadCrc) {
    auto key = kVectorKey;
    key[0] = static_cast<unsigned char>(key[0] ^ 0x01);
    const auto outcome = verify(key, kVectorUid, kVectorOtp, 0);
    EXPECT_FALSE(outcome.counter);
    EXPECT_EQ(outcome.failure, Failure::BadCrc);
}

TEST(YubikeyPublishedVector, FlippedCiphertextIsBadCrc) {
    OtpParts flipped = kVectorOtp;
    flipped.token_modhex[0] = 'c';  // was 'h'
    const auto outcome = verify(kVectorKey, kVectorUid, flipped, 0);
    EXPECT_FALSE(outcome.counter);
    EXPECT_EQ(outcome.failure, Failure::BadCrc);
}

TEST(YubikeyPublishedVector, WrongUidIsWrongUid) {
    auto uid = kVectorUid;
    uid[0] = 0x00;
    const auto outcome = verify(kVectorKey, uid, kVectorOtp, 0);
    EXPECT_FALSE(outcome.counter);
    EXPECT_EQ(outcome.failure, Failure::WrongUid);
}

}  // namespace
