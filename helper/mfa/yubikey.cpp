// SPDX-License-Identifier: ISC
#include "helper/mfa/yubikey.hpp"

#include <openssl/crypto.h>
#include <yubikey.h>

#include <array>
#include <cstring>

namespace bg::yubikey {
namespace {

constexpr std::string_view kModhexAlphabet = "cbdefghijklnrtuv";
static_assert(sizeof(yubikey_token_st) == YUBIKEY_BLOCK_SIZE);
static_assert(kAesKeyBytes == YUBIKEY_KEY_SIZE && kPrivateUidBytes == YUBIKEY_UID_SIZE &&
              kTokenChars == YUBIKEY_OTP_SIZE);

char to_lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_modhex_char(char c) { return kModhexAlphabet.find(to_lower_ascii(c)) != std::string_view::npos; }

std::string lower_copy(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = to_lower_ascii(c);
    return out;
}

// Decrypted token fields. The block is little-endian on the wire whatever the
// host, so they are read from bytes rather than through yubikey_token_st.
struct Plain {
    std::array<unsigned char, YUBIKEY_BLOCK_SIZE> bytes{};
    ~Plain() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
    Plain() = default;
    Plain(const Plain&) = delete;
    Plain& operator=(const Plain&) = delete;

    std::uint16_t session() const {
        const auto ctr = static_cast<unsigned>(bytes[6] | (bytes[7] << 8));
        return static_cast<std::uint16_t>(yubikey_counter(ctr));
    }
    std::uint8_t use() const { return bytes[11]; }
};

}  // namespace

bool is_modhex(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (!is_modhex_char(c)) return false;
    }
    return true;
}

bool is_public_id(std::string_view s) {
    if (s.size() != kPublicIdChars) return false;
    for (char c : s) {
        if (kModhexAlphabet.find(c) == std::string_view::npos) return false;
    }
    return true;
}

bool looks_like_otp(std::string_view s) { return s.size() == kOtpChars && is_modhex(s); }

std::optional<OtpParts> split_otp(std::string_view otp) {
    if (!looks_like_otp(otp)) return std::nullopt;
    return OtpParts{lower_copy(otp.substr(0, kPublicIdChars)), lower_copy(otp.substr(kPublicIdChars))};
}

std::uint64_t combined_counter(std::uint16_t session, std::uint8_t use) {
    return (std::uint64_t{session} << 8) | std::uint64_t{use};
}

VerifyOutcome verify(std::span<const unsigned char, 16> aes_key, std::span<const unsigned char, 6> private_uid,
                     const OtpParts& otp, std::uint64_t last_counter) {
    VerifyOutcome outcome;
    if (otp.token_modhex.size() != kTokenChars || !is_modhex(otp.token_modhex)) {
        outcome.failure = Failure::Malformed;
        return outcome;
    }
    // yubikey_parse reads a NUL-terminated lower-case modhex string.
    std::array<char, kTokenChars + 1> token{};
    for (std::size_t i = 0; i < kTokenChars; ++i) token[i] = to_lower_ascii(otp.token_modhex[i]);

    Plain plain;
    {
        yubikey_token_st parsed{};
        yubikey_parse(reinterpret_cast<const std::uint8_t*>(token.data()), aes_key.data(), &parsed);
        std::memcpy(plain.bytes.data(), &parsed, plain.bytes.size());
        OPENSSL_cleanse(&parsed, sizeof parsed);
    }
    if (!yubikey_crc_ok_p(plain.bytes.data())) {
        outcome.failure = Failure::BadCrc;
        return outcome;
    }
    if (CRYPTO_memcmp(plain.bytes.data(), private_uid.data(), private_uid.size()) != 0) {
        outcome.failure = Failure::WrongUid;
        return outcome;
    }
    const std::uint64_t counter = combined_counter(plain.session(), plain.use());
    if (counter <= last_counter) {
        outcome.failure = Failure::Replayed;
        return outcome;
    }
    outcome.counter = counter;
    return outcome;
}

std::string failure_text(Failure f) {
    switch (f) {
        case Failure::Malformed: return "malformed OTP";
        case Failure::BadCrc: return "bad CRC (wrong key or corrupted OTP)";
        case Failure::WrongUid: return "private id does not match";
        case Failure::Replayed: return "OTP replayed (counter not greater than the last accepted)";
    }
    return "unknown YubiKey failure";
}

}  // namespace bg::yubikey
