// SPDX-License-Identifier: ISC
// Demo helper: reads a base32 TOTP secret on stdin (never argv) and prints the
// current 6-digit code, as an authenticator app would. Not installed.
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>

#include <openssl/crypto.h>

#include "helper/mfa/totp.hpp"

int main() {
    std::string secret_text;
    if (!std::getline(std::cin, secret_text)) return 2;
    auto secret = bg::totp::base32_decode(secret_text);
    OPENSSL_cleanse(secret_text.data(), secret_text.size());
    if (!secret) {
        std::fprintf(stderr, "totp_now: the secret is not base32\n");
        return 2;
    }
    const auto step = bg::totp::step_at(static_cast<std::int64_t>(std::time(nullptr)));
    std::printf("%s\n", bg::totp::hotp(*secret, step).c_str());
    OPENSSL_cleanse(secret->data(), secret->size());
    return 0;
}
