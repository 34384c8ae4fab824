// SPDX-License-Identifier: ISC
// Ed25519 keys and signatures over OpenSSL EVP, small and reusable: the
// checkpoint host key (docs/ARCHITECTURE.md, "Signed checkpoints") and any
// other signed artefact (offline approval tokens).
//
// Files:
//   private key  PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), mode 0600, owned
//                by the writer; written to "<path>.tmp" (O_CREAT|O_EXCL|
//                O_NOFOLLOW), fsync'd, renamed into place without replacing an
//                existing key (RENAME_NOREPLACE), directory fsync'd. Loading
//                refuses a file that is not regular, not owned by the
//                effective uid, or accessible by group or others.
//   public key   one line of text, "ed25519:" + base64 (standard alphabet,
//                padded) of the raw 32-byte key, optionally followed by "\n".
//                Parsing is strict: exactly that form, canonical base64.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace bg::audit {

inline constexpr std::size_t kEd25519PublicKeyBytes = 32;
inline constexpr std::size_t kEd25519SignatureBytes = 64;
using Ed25519PublicKey = std::array<unsigned char, kEd25519PublicKeyBytes>;
using Ed25519Signature = std::array<unsigned char, kEd25519SignatureBytes>;
inline constexpr std::string_view kEd25519PublicKeyPrefix = "ed25519:";
// Upper bound on a private key PEM file (a PKCS#8 Ed25519 PEM is 119 bytes).
inline constexpr std::size_t kMaxEd25519PrivateKeyFileBytes = 4096;
// Upper bound on a public key file: the line is 8 + 44 + 1 bytes.
inline constexpr std::size_t kMaxEd25519PublicKeyFileBytes = 256;

// An Ed25519 private key; the OpenSSL object frees (and wipes) it.
class Ed25519PrivateKey {
public:
    static Result<Ed25519PrivateKey> generate();
    // Loads a PKCS#8 PEM file with the ownership/mode checks above.
    static Result<Ed25519PrivateKey> load(const std::string& path);
    // Parses a PKCS#8 PEM held in memory (no file checks).
    static Result<Ed25519PrivateKey> from_pem(std::string_view pem);

    // Writes the PKCS#8 PEM to `path` as described above; fails if `path`
    // already exists.
    Status write(const std::string& path) const;
    Ed25519PublicKey public_key() const;
    Result<Ed25519Signature> sign(std::string_view message) const;

private:
    struct Free {
        void operator()(EVP_PKEY* key) const;
    };
    explicit Ed25519PrivateKey(EVP_PKEY* key) : key_(key) {}
    std::unique_ptr<EVP_PKEY, Free> key_;
    Ed25519PublicKey public_{};
};

// True only when `signature` is a valid Ed25519 signature of `message` by `key`.
bool ed25519_verify(const Ed25519PublicKey& key, std::string_view message, const Ed25519Signature& signature);
// The same over raw signature bytes of any length (false unless exactly 64).
bool ed25519_verify(const Ed25519PublicKey& key, std::string_view message, std::string_view signature);

// "ed25519:<base64>" (no newline).
std::string format_ed25519_public_key(const Ed25519PublicKey& key);
// Strict inverse of format_ed25519_public_key; one trailing "\n" is allowed.
Result<Ed25519PublicKey> parse_ed25519_public_key(std::string_view text);
// Reads a public key file (regular, O_NOFOLLOW, size-capped) and parses it.
Result<Ed25519PublicKey> read_ed25519_public_key_file(const std::string& path);

// Standard base64 with padding (EVP_EncodeBlock).
std::string base64_encode(const unsigned char* bytes, std::size_t size);
// Strict: exactly the canonical encoding of exactly `expected_bytes` bytes
// (no whitespace, right padding, zero pad bits); "" is never valid.
Result<std::string> base64_decode_exact(std::string_view text, std::size_t expected_bytes);
// Signature from its base64 text (strict, 64 bytes).
Result<Ed25519Signature> parse_ed25519_signature(std::string_view base64);

}  // namespace bg::audit
