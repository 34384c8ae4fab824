// SPDX-License-Identifier: ISC
// YubiKey OTP (Yubico OTP mode) as a second factor, validated locally against
// the token's AES-128 key, without a validation server. Everything here is
// pure: no I/O, no logging, no clock. The replay state (the last accepted
// counter per token) belongs to the daemon, which passes it in and persists
// the returned counter before reporting success.
//
// An OTP is 44 modhex characters: a 12-character public id (which token)
// followed by 32 characters encoding one AES-128 block, which decrypts to the
// private uid (6 bytes), session counter, timestamp, use counter, random bits
// and a CRC-16 over all of it.
//
// Case: a YubiKey types through the keyboard, so with Caps Lock on (or through
// some terminals) the OTP can arrive upper case; Yubico's own validation
// server lower-cases it too. The functions here therefore accept upper and
// lower case (mixed too), and split_otp() returns the canonical lower-case
// form, which is what the store is keyed by.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bg::yubikey {

inline constexpr std::size_t kPublicIdChars = 12;  // modhex
inline constexpr std::size_t kTokenChars = 32;     // modhex of one 16-byte AES block
inline constexpr std::size_t kOtpChars = 44;       // 12 public id + 32 token, modhex
inline constexpr std::size_t kAesKeyBytes = 16;
inline constexpr std::size_t kPrivateUidBytes = 6;

// Non-empty and only modhex characters "cbdefghijklnrtuv", either case.
bool is_modhex(std::string_view s);
// A public id as the store keys it: exactly 12 lower-case modhex characters.
bool is_public_id(std::string_view s);
// Exactly 44 modhex characters (either case).
bool looks_like_otp(std::string_view s);

struct OtpParts {
    std::string public_id;     // 12 lower-case modhex characters
    std::string token_modhex;  // 32 lower-case modhex characters
};
// Splits a 44-character OTP into its public id and token, both lower-cased.
// nullopt unless looks_like_otp(otp). Pure: no key is needed or used.
std::optional<OtpParts> split_otp(std::string_view otp);

// (session counter << 8) | use counter: the token's position in its life, so
// "strictly increasing" is the same as (session, use) lexicographically
// greater. `session` is the 15-bit counter without the caps-lock flag (what
// verify() extracts); larger values are kept as given.
std::uint64_t combined_counter(std::uint16_t session, std::uint8_t use);

enum class Failure { Malformed, BadCrc, WrongUid, Replayed };
struct VerifyOutcome {
    std::optional<std::uint64_t> counter;  // set on success: combined_counter of the OTP
    Failure failure = Failure::Malformed;  // meaningful only when counter is empty
};

// Checks, in order: otp.token_modhex is 32 modhex characters (else Malformed;
// nothing is decrypted), the decrypted block's CRC (BadCrc: wrong key or a
// corrupted OTP), the private uid (WrongUid, compared in constant time), and
// combined counter > last_counter (Replayed; 0 = nothing accepted yet, and a
// real token never produces counter 0). otp.public_id is not examined: the
// caller used it to pick the key. The decrypted block is wiped before return.
VerifyOutcome verify(std::span<const unsigned char, 16> aes_key, std::span<const unsigned char, 6> private_uid,
                     const OtpParts& otp, std::uint64_t last_counter);

// "malformed OTP", "bad CRC (wrong key or corrupted OTP)", "private id does
// not match", "OTP replayed (counter not greater than the last accepted)".
std::string failure_text(Failure f);

}  // namespace bg::yubikey
