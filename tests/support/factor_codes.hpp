// SPDX-License-Identifier: ISC
// Second factors made at run time: a random TOTP secret and the codes an
// authenticator app would show for it. Secrets go to the daemon on stdin or
// in a protocol message, never in argv.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bg::test {

// 20 random bytes (throws if the RNG fails).
std::vector<unsigned char> random_totp_secret();
std::uint64_t totp_step_now();
std::string totp_code(const std::vector<unsigned char>& secret, std::uint64_t step);
// The code for the current step plus `steps_ahead` (negative: an older one).
std::string totp_code_now(const std::vector<unsigned char>& secret, std::int64_t steps_ahead = 0);
// A well-formed 6-digit code the daemon accepts at no step near now.
std::string wrong_totp_code(const std::vector<unsigned char>& secret);

}  // namespace bg::test
