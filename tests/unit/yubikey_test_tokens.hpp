// SPDX-License-Identifier: ISC
// Test-only YubiKey emulation: a random AES key and private uid made at run
// time, and OTPs built from them with libyubikey's own yubikey_generate, so
// the tests check our verifier against the library's encoder rather than
// against our own.
#pragma once

#include <openssl/rand.h>
#include <yubikey.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace bg::yubikey::test {

struct TestYubikey {
    std::array<unsigned char, 16> aes_key{};
    std::array<unsigned char, 6> private_uid{};
    std::string public_id;  // 12 modhex characters

    static TestYubikey random() {
        TestYubikey key;
        std::array<unsigned char, 6> public_bytes{};
        if (RAND_bytes(key.aes_key.data(), static_cast<int>(key.aes_key.size())) != 1 ||
            RAND_bytes(key.private_uid.data(), static_cast<int>(key.private_uid.size())) != 1 ||
            RAND_bytes(public_bytes.data(), static_cast<int>(public_bytes.size())) != 1) {
            throw std::runtime_error("RAND_bytes failed");
        }
        key.public_id = modhex(public_bytes.data(), public_bytes.size());
        return key;
    }

    static std::string modhex(const unsigned char* bytes, std::size_t size) {
        std::string out(size * 2 + 1, '\0');  // the encoder writes a terminating NUL
        yubikey_modhex_encode(out.data(), reinterpret_cast<const char*>(bytes), size);
        out.pop_back();
        return out;
    }

    // The 16-byte plaintext block for (session, use). `session` may carry the
    // caps-lock flag (0x8000). With crc_ok false the CRC is deliberately wrong.
    yubikey_token_st plaintext(std::uint16_t session, std::uint8_t use, bool crc_ok = true) const {
        // Built byte by byte: the block is little-endian whatever the host.
        std::array<std::uint8_t, 16> block{};
        std::copy(private_uid.begin(), private_uid.end(), block.begin());
        const auto put16 = [&block](std::size_t at, unsigned value) {
            block[at] = static_cast<std::uint8_t>(value & 0xff);
            block[at + 1] = static_cast<std::uint8_t>((value >> 8) & 0xff);
        };
        put16(6, session);  // ctr
        put16(8, 0x1234);   // tstpl
        block[10] = 0x56;   // tstph
        block[11] = use;
        put16(12, 0xbeef);  // rnd
        unsigned crc = static_cast<std::uint16_t>(~yubikey_crc16(block.data(), 14));
        if (!crc_ok) crc ^= 0x0101;
        put16(14, crc);
        yubikey_token_st tok{};
        static_assert(sizeof tok == 16);
        std::memcpy(&tok, block.data(), block.size());
        return tok;
    }

    // The 32-character modhex token (no public id).
    std::string token(std::uint16_t session, std::uint8_t use, bool crc_ok = true) const {
        yubikey_token_st tok = plaintext(session, use, crc_ok);
        std::array<char, 33> out{};  // yubikey_generate's encoder also writes a NUL after 32 characters
        yubikey_generate(&tok, aes_key.data(), out.data());
        return std::string(out.data(), 32);
    }

    // The full 44-character OTP a key would type.
    std::string otp(std::uint16_t session, std::uint8_t use, bool crc_ok = true) const {
        return public_id + token(session, use, crc_ok);
    }
};

}  // namespace bg::yubikey::test
