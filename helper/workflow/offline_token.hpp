// SPDX-License-Identifier: ISC
// Offline approvals (issue 13): the request code a waiting requester reads
// out, and the approval token an approver signs for it with their own
// Ed25519 key (helper/audit/ed25519.hpp) on a machine that need not reach
// this host. Pure: no clock, no files, no name service; the parsers take
// hostile text (tests/fuzz/fuzz_approval_token.cpp).
//
// Request code: "ACTOR@HOST/GATE/XXXX-XXXX-XXXX-XXXX-XXXX". The names are in
// clear so the approver sees what they sign; the last part is base32 (RFC 4648
// alphabet) of 12 bytes: the request digest (10 bytes: SHA-256 over host,
// actor, gate, reason, incident, the request's id and a random nonce the
// request record keeps), then a 2-byte check over everything before it (so
// a mistyped code is refused by the approver's tool, not signed). Case and
// the dashes are free on input.
//
// Approval token: base32 of 81 bytes, printed in groups of five:
//   0      version (1)
//   1..2   key tag: SHA-256 of the signer's public key, first 2 bytes
//   3..6   not_after, unix seconds, big endian
//   7..14  binding tags, 2 bytes each: SHA-256 of the host, actor, gate and
//          request digest (only to say *why* a token does not fit; the
//          signature is what binds)
//   15..78 Ed25519 signature of token_message(code, not_after)
//   79..80 check: SHA-256 of bytes 0..78, first 2 bytes (typing mistakes)
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "helper/audit/ed25519.hpp"

namespace bg::workflow {

inline constexpr std::size_t kRequestDigestBytes = 10;
using RequestDigest = std::array<unsigned char, kRequestDigestBytes>;
inline constexpr std::size_t kRequestNonceHexChars = 32;  // 16 random bytes, hex

struct RequestCode {
    std::string actor;
    std::string host;
    std::string gate;
    RequestDigest digest{};
};

// SHA-256 over the length-prefixed fields, first kRequestDigestBytes.
RequestDigest request_digest(std::string_view host, std::string_view actor, std::string_view gate,
                             std::string_view reason, std::string_view incident, std::string_view request_id,
                             std::string_view nonce);
std::string format_request_code(const RequestCode& code);
// Strict about the names (is_valid_name, at most 64 bytes each) and the
// check; lenient about case, dashes and spaces in the base32 part.
Result<RequestCode> parse_request_code(std::string_view text);
// The digest's own text, as records and the approver's tool show it ("ABCD-EFGH-JKLM-NPQR").
std::string format_request_digest(const RequestDigest& digest);

inline constexpr std::uint8_t kTokenVersion = 1;
inline constexpr std::size_t kTokenBytes = 81;
// An approver's tool signs for at most this long; the daemon refuses tokens
// whose not_after is further ahead (so the records of the last 24 h, which
// the daemon replays at start, show every token that could still be used).
inline constexpr std::int64_t kMaxTokenValiditySeconds = 24 * 3600;

using Tag = std::array<unsigned char, 2>;
struct ApprovalToken {
    Tag key_tag{};
    std::int64_t not_after = 0;  // 0..2^32-1
    Tag host_tag{}, actor_tag{}, gate_tag{}, request_tag{};
    audit::Ed25519Signature signature{};
};

// What the approver signs: a fixed text naming every bound field.
std::string token_message(const RequestCode& code, std::int64_t not_after);
Tag key_tag(const audit::Ed25519PublicKey& key);
// A token for `code` and `not_after` with this signature (tags filled in).
ApprovalToken make_token(const RequestCode& code, std::int64_t not_after, const audit::Ed25519PublicKey& signer,
                         const audit::Ed25519Signature& signature);
std::string format_approval_token(const ApprovalToken& token);
// Lenient about case, dashes, spaces and tabs, and reads 0 as O and 1 as I;
// strict about the rest: exactly kTokenBytes, zero pad bits, the version and
// the check. The message says what is wrong (truncated, too long, mistyped).
Result<ApprovalToken> parse_approval_token(std::string_view text);
// 32 hex characters (SHA-256 of the token's bytes, first 16): what records name.
std::string token_digest(const ApprovalToken& token);

// Whether `token` approves the request `expected`, signed by one of `keys`
// (name, key). Time is not judged here. On success, `approver` is the
// signer's name; else `why` says what does not fit, first the key, then
// host, actor, gate, request, then the signature.
struct TokenCheck {
    bool ok = false;
    std::string approver;  // set when the signer's key is known, even if the token is refused
    std::string why;
};
TokenCheck check_approval_token(const ApprovalToken& token, const RequestCode& expected,
                                const std::vector<std::pair<std::string, audit::Ed25519PublicKey>>& keys);

}  // namespace bg::workflow
