// SPDX-License-Identifier: ISC
#include "helper/mfa/totp.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace bg::totp {
namespace {

constexpr std::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// Value of one base32 character, or -1.
int base32_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= '2' && c <= '7') return c - '2' + 26;
    return -1;
}

// A final partial block of 8 characters carries 2, 4, 5 or 7 characters of
// data; 1, 3 and 6 cannot come from any byte count.
bool is_possible_tail_length(std::size_t n) { return n == 0 || n == 2 || n == 4 || n == 5 || n == 7; }

struct MacDeleter {
    void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
};
struct MacCtxDeleter {
    void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter>;

// Fetched once: EVP_MAC_fetch walks the provider tables and is not free.
// Function-local static initialisation is thread safe.
EVP_MAC* hmac_method() {
    static const std::unique_ptr<EVP_MAC, MacDeleter> mac{EVP_MAC_fetch(nullptr, "HMAC", nullptr)};
    if (!mac) throw std::runtime_error("OpenSSL: HMAC is not available");
    return mac.get();
}

const char* digest_name(Algorithm a) {
    switch (a) {
        case Algorithm::Sha1: return "SHA1";
        case Algorithm::Sha256: return "SHA256";
        case Algorithm::Sha512: return "SHA512";
    }
    throw std::invalid_argument("totp: unknown algorithm");
}

constexpr std::uint32_t kPowersOfTen[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

bool is_six_ascii_digits(std::string_view code) {
    if (code.size() != 6) return false;
    for (char c : code) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

std::string percent_encode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c)) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0x0F]);
        }
    }
    return out;
}

}  // namespace

std::optional<std::vector<unsigned char>> base32_decode(std::string_view s) {
    // Split off the padding, which may only be a run at the very end.
    const std::size_t data_end = s.find('=');
    const std::string_view data = s.substr(0, data_end);
    if (data_end != std::string_view::npos) {
        const std::string_view padding = s.substr(data_end);
        if (padding.find_first_not_of('=') != std::string_view::npos) return std::nullopt;
        // Padding, when present, completes the last block exactly.
        if (s.size() % 8 != 0 || data.size() % 8 == 0) return std::nullopt;
        if (padding.size() != 8 - data.size() % 8) return std::nullopt;
    }
    if (!is_possible_tail_length(data.size() % 8)) return std::nullopt;

    std::vector<unsigned char> out;
    out.reserve(data.size() * 5 / 8);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (char c : data) {
        const int v = base32_value(c);
        if (v < 0) return std::nullopt;
        buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<unsigned char>((buffer >> bits) & 0xFFu));
        }
        buffer &= (1u << bits) - 1u;
    }
    if (buffer != 0) return std::nullopt;  // non-canonical: stray bits after the last byte
    return out;
}

std::string base32_encode(std::span<const unsigned char> bytes) {
    std::string out;
    out.reserve((bytes.size() * 8 + 4) / 5);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out.push_back(kBase32Alphabet[(buffer >> bits) & 0x1Fu]);
        }
        buffer &= (1u << bits) - 1u;
    }
    if (bits > 0) out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 0x1Fu]);
    return out;
}

std::string hotp(std::span<const unsigned char> key, std::uint64_t counter, int digits, Algorithm a) {
    if (digits < 6 || digits > 8) throw std::invalid_argument("hotp: digits must be 6..8");
    if (key.empty()) throw std::invalid_argument("hotp: empty key");

    std::array<unsigned char, 8> message{};
    for (std::size_t i = 0; i < message.size(); ++i) {
        message[message.size() - 1 - i] = static_cast<unsigned char>(counter >> (8 * i));
    }

    MacCtxPtr ctx{EVP_MAC_CTX_new(hmac_method())};
    if (!ctx) throw std::runtime_error("OpenSSL: EVP_MAC_CTX_new failed");
    // OSSL_PARAM wants a mutable char*; OpenSSL only reads it.
    std::string digest = digest_name(a);
    const std::array<OSSL_PARAM, 2> params{
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest.data(), 0), OSSL_PARAM_construct_end()};
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    std::size_t mac_len = 0;
    if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params.data()) != 1 ||
        EVP_MAC_update(ctx.get(), message.data(), message.size()) != 1 ||
        EVP_MAC_final(ctx.get(), mac.data(), &mac_len, mac.size()) != 1 || mac_len < 20) {
        OPENSSL_cleanse(mac.data(), mac.size());
        throw std::runtime_error("OpenSSL: HMAC computation failed");
    }

    // Dynamic truncation (RFC 4226 section 5.3).
    const std::size_t offset = mac[mac_len - 1] & 0x0Fu;
    const std::uint32_t binary = (static_cast<std::uint32_t>(mac[offset] & 0x7Fu) << 24) |
                                 (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                                 (static_cast<std::uint32_t>(mac[offset + 2]) << 8) |
                                 static_cast<std::uint32_t>(mac[offset + 3]);
    OPENSSL_cleanse(mac.data(), mac.size());
    std::uint32_t value = binary % kPowersOfTen[digits];

    std::string out(static_cast<std::size_t>(digits), '0');
    for (std::size_t i = out.size(); i-- > 0;) {
        out[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    return out;
}

std::uint64_t step_at(std::int64_t unix_seconds) {
    if (unix_seconds < 0) return 0;
    return static_cast<std::uint64_t>(unix_seconds / kStepSeconds);
}

VerifyOutcome verify(std::span<const unsigned char> key, std::string_view code, std::int64_t now_unix,
                     std::uint64_t last_accepted_step) {
    if (!is_six_ascii_digits(code)) return {std::nullopt, Failure::Malformed};
    if (key.empty()) return {std::nullopt, Failure::Mismatch};

    const std::uint64_t current = step_at(now_unix);
    std::optional<std::uint64_t> accepted;
    bool matched_used_step = false;
    // Step 0 is the "nothing accepted yet" marker, so it is never a candidate.
    // Ascending order, so a (rare) double match settles on the newest step.
    for (std::uint64_t step = current <= 1 ? 1 : current - 1; step <= current + 1; ++step) {
        std::string expected = hotp(key, step, 6, Algorithm::Sha1);
        const bool match = CRYPTO_memcmp(expected.data(), code.data(), expected.size()) == 0;
        OPENSSL_cleanse(expected.data(), expected.size());
        if (!match) continue;
        if (step > last_accepted_step) {
            accepted = step;
        } else {
            matched_used_step = true;
        }
    }
    if (accepted) return {accepted, Failure::Mismatch};
    return {std::nullopt, matched_used_step ? Failure::Replayed : Failure::Mismatch};
}

std::string otpauth_uri(std::string_view user, std::string_view secret_base32) {
    std::string uri = "otpauth://totp/breakglass:";
    uri += percent_encode(user);
    uri += "?secret=";
    uri += percent_encode(secret_base32);
    uri += "&issuer=breakglass&algorithm=SHA1&digits=6&period=30";
    return uri;
}

}  // namespace bg::totp
