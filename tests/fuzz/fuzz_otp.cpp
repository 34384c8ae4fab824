// SPDX-License-Identifier: ISC
// libFuzzer target for the YubiKey OTP path a front-end feeds from user
// input: split_otp() and verify() with a fixed, fuzz-only key on arbitrary
// strings. Invariants checked: split_otp succeeds exactly on 44 modhex
// characters and returns their lower-case halves; verify() is Malformed on
// anything but a 32-character modhex token; a success has a counter above
// last_counter and within 15-bit session << 8 | use.
// Input: when the first byte is odd and there are more than 9 bytes, bytes
// 1..8 are last_counter (so replay paths are reached) and the rest is the OTP.
// The seed corpus holds OTPs generated with this key (tests/fuzz/corpus/otp).
#include "helper/mfa/yubikey.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

// Fuzz-only, not secret: ASCII "breakglass-fuzz!" and "fuzzid".
constexpr std::array<unsigned char, 16> kKey = {'b', 'r', 'e', 'a', 'k', 'g', 'l', 'a',
                                                's', 's', '-', 'f', 'u', 'z', 'z', '!'};
constexpr std::array<unsigned char, 6> kUid = {'f', 'u', 'z', 'z', 'i', 'd'};
constexpr std::uint64_t kMaxCounter = (std::uint64_t{0x7fff} << 8) | 0xff;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::uint64_t last = 0;
    if (size > 9 && (data[0] & 1u) != 0) {
        for (std::size_t i = 1; i < 9; ++i) last = (last << 8) | data[i];
        last %= kMaxCounter + 2;  // every outcome, including "nothing is newer", stays reachable
        input = input.substr(9);
    }

    const bool looks = bg::yubikey::looks_like_otp(input);
    const auto parts = bg::yubikey::split_otp(input);
    if (looks != parts.has_value()) std::abort();
    if (parts) {
        if (parts->public_id.size() != bg::yubikey::kPublicIdChars || parts->token_modhex.size() != 32) std::abort();
        if (!bg::yubikey::is_public_id(parts->public_id)) std::abort();
        const std::string joined = parts->public_id + parts->token_modhex;
        for (std::size_t i = 0; i < joined.size(); ++i) {
            if (joined[i] != lower(input[i])) std::abort();
        }
        const auto outcome = bg::yubikey::verify(kKey, kUid, *parts, last);
        if (outcome.counter) {
            if (*outcome.counter <= last || *outcome.counter > kMaxCounter) std::abort();
        } else if (outcome.failure == bg::yubikey::Failure::Malformed) {
            std::abort();  // a well-formed token always decrypts to something
        }
    }

    // The token half on its own, as a caller building OtpParts by hand would.
    const bg::yubikey::OtpParts raw{std::string(), std::string(input)};
    const auto outcome = bg::yubikey::verify(kKey, kUid, raw, last);
    const bool token_shape = input.size() == 32 && bg::yubikey::is_modhex(input);
    if (!token_shape && (outcome.counter || outcome.failure != bg::yubikey::Failure::Malformed)) std::abort();
    if (outcome.counter && (*outcome.counter <= last || *outcome.counter > kMaxCounter)) std::abort();
    return 0;
}
