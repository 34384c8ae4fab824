// SPDX-License-Identifier: ISC
// TOTP second factor (RFC 6238 over RFC 4226 HOTP) and the base32 text form
// of its secrets (RFC 4648). Everything here is pure: no I/O, no logging, no
// clock; the daemon passes the time in.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bg::totp {

// RFC 4648 base32 (A-Z2-7). Decoding is case-insensitive; '=' padding is
// optional but, when present, must complete the last 8-character block. No
// spaces or other separators. Unused trailing bits must be zero (the canonical
// form every encoder produces), so one secret has exactly one spelling.
// nullopt on anything invalid.
std::optional<std::vector<unsigned char>> base32_decode(std::string_view s);
// Upper case, no padding (what authenticator apps expect in otpauth URIs).
std::string base32_encode(std::span<const unsigned char> bytes);

enum class Algorithm { Sha1, Sha256, Sha512 };

// HOTP (RFC 4226) value for `counter`, zero-padded to `digits`.
// `digits` must be 6..8 and `key` non-empty: anything else is a programming
// error and throws std::invalid_argument. An OpenSSL failure (out of memory,
// provider missing) throws std::runtime_error.
std::string hotp(std::span<const unsigned char> key, std::uint64_t counter, int digits = 6,
                 Algorithm a = Algorithm::Sha1);

inline constexpr std::int64_t kStepSeconds = 30;
// floor(t / 30). A negative time (clock before 1970) maps to step 0, which
// verify() never accepts.
std::uint64_t step_at(std::int64_t unix_seconds);

enum class Failure { Malformed, Mismatch, Replayed };
struct VerifyOutcome {
    std::optional<std::uint64_t> step;     // set on success: the step the code matched
    Failure failure = Failure::Mismatch;   // meaningful only when step is empty
};

// Verifies a 6-digit SHA1 code at `now_unix` against steps now-1, now, now+1.
// The accepted step must be greater than `last_accepted_step` (0 = none
// accepted yet), so a code can be used once and never after a newer one; the
// caller persists the returned step before reporting success. A code that is
// not exactly six ASCII digits is Malformed and nothing is computed. An empty
// key never verifies (Mismatch). Comparison is constant time and all three
// candidate steps are always computed, so timing does not say which matched.
// Throws std::runtime_error only if OpenSSL itself fails (as hotp()).
VerifyOutcome verify(std::span<const unsigned char> key, std::string_view code,
                     std::int64_t now_unix, std::uint64_t last_accepted_step);

// otpauth://totp/breakglass:USER?secret=B32&issuer=breakglass&algorithm=SHA1&digits=6&period=30
// with USER (and the secret, should it contain anything unreserved) percent-encoded.
std::string otpauth_uri(std::string_view user, std::string_view secret_base32);

}  // namespace bg::totp
