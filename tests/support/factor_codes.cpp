// SPDX-License-Identifier: ISC
#include "tests/support/factor_codes.hpp"

#include <cstdio>
#include <openssl/rand.h>
#include <stdexcept>

#include "helper/mfa/totp.hpp"
#include "tests/support/polling.hpp"

namespace bg::test {

std::vector<unsigned char> random_totp_secret() {
    std::vector<unsigned char> secret(20);
    if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) throw std::runtime_error("RAND_bytes failed");
    return secret;
}

std::uint64_t totp_step_now() { return totp::step_at(unix_now()); }

std::string totp_code(const std::vector<unsigned char>& secret, std::uint64_t step) { return totp::hotp(secret, step); }

std::string totp_code_now(const std::vector<unsigned char>& secret, std::int64_t steps_ahead) {
    return totp::hotp(secret, static_cast<std::uint64_t>(static_cast<std::int64_t>(totp_step_now()) + steps_ahead));
}

std::string wrong_totp_code(const std::vector<unsigned char>& secret) {
    const std::uint64_t step = totp_step_now();
    for (int candidate = 0;; ++candidate) {
        char text[8];
        std::snprintf(text, sizeof text, "%06d", candidate * 111111 % 1000000);
        bool accepted = false;
        // A step boundary may pass before the daemon checks: exclude one more step.
        for (std::uint64_t s = step - 1; s <= step + 2; ++s) accepted = accepted || totp::hotp(secret, s) == text;
        if (!accepted) return text;
    }
}

}  // namespace bg::test
