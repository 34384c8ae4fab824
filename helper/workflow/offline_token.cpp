// SPDX-License-Identifier: ISC
#include "helper/workflow/offline_token.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include "common/hex.hpp"
#include "common/text.hpp"

namespace bg::workflow {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::size_t kMaxNameBytes = 64;
constexpr std::size_t kCodeBytes = kRequestDigestBytes + 2;
// Longest input looked at: the formatted token is 130 + 25 characters.
constexpr std::size_t kMaxTokenText = 1024;
constexpr std::size_t kMaxCodeText = 3 * kMaxNameBytes + 64;

using Digest = std::array<unsigned char, 32>;

Digest sha256(std::string_view data) {
    Digest out{};
    unsigned int n = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha256(), nullptr) != 1) out.fill(0);
    return out;
}

// Each field with its length first, so no two field lists hash alike.
void add_field(std::string& out, std::string_view field) {
    out += std::to_string(field.size());
    out += ':';
    out.append(field);
    out += '\n';
}

std::string base32_encode(const unsigned char* bytes, std::size_t size) {
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (std::size_t i = 0; i < size; ++i) {
        buffer = (buffer << 8) | bytes[i];
        bits += 8;
        while (bits >= 5) {
            out += kAlphabet[(buffer >> (bits - 5)) & 31];
            bits -= 5;
        }
        buffer &= (1u << bits) - 1;
    }
    if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
    return out;
}

// Exactly `size` bytes from base32 text; dashes, spaces and tabs skipped, any
// case, 0 read as O and 1 as I. nullopt with `why` set otherwise.
std::optional<std::vector<unsigned char>> base32_decode(std::string_view text, std::size_t size, std::string& why) {
    std::vector<unsigned char> out;
    unsigned buffer = 0;
    int bits = 0;
    std::size_t chars = 0;
    const std::size_t want_chars = (size * 8 + 4) / 5;
    for (char c : text) {
        if (c == '-' || c == ' ' || c == '\t') continue;
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c == '0') c = 'O';
        if (c == '1') c = 'I';
        const auto at = kAlphabet.find(c);
        if (at == std::string_view::npos) {
            why = "has a character that is not base32 (" + escape_for_display(std::string_view(&c, 1)) + ")";
            return std::nullopt;
        }
        if (++chars > want_chars) {
            why = "is too long (" + std::to_string(want_chars) + " base32 characters expected)";
            return std::nullopt;
        }
        buffer = (buffer << 5) | static_cast<unsigned>(at);
        bits += 5;
        if (bits >= 8) {
            out.push_back(static_cast<unsigned char>((buffer >> (bits - 8)) & 0xff));
            bits -= 8;
            buffer &= (1u << bits) - 1;
        }
    }
    if (chars < want_chars) {
        why = "is truncated (" + std::to_string(chars) + " of " + std::to_string(want_chars) + " base32 characters)";
        return std::nullopt;
    }
    if (buffer != 0) {
        why = "is mistyped (its last character has bits that must be zero)";
        return std::nullopt;
    }
    return out;
}

std::string grouped(const std::string& s, std::size_t group) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); i += group) {
        if (!out.empty()) out += '-';
        out += s.substr(i, group);
    }
    return out;
}

Tag tag_of(std::string_view what, std::string_view value) {
    std::string in = "breakglass tag v1\n";
    add_field(in, what);
    add_field(in, value);
    const Digest d = sha256(in);
    return {d[0], d[1]};
}

std::string code_prefix(const RequestCode& c) { return c.actor + "@" + c.host + "/" + c.gate + "/"; }

std::array<unsigned char, 2> code_check(const RequestCode& c) {
    std::string in = "breakglass request code check v1\n" + code_prefix(c);
    in.append(reinterpret_cast<const char*>(c.digest.data()), c.digest.size());
    const Digest d = sha256(in);
    return {d[0], d[1]};
}

std::string digest_text(const RequestDigest& d) {
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

}  // namespace

RequestDigest request_digest(std::string_view host, std::string_view actor, std::string_view gate,
                             std::string_view reason, std::string_view incident, std::string_view request_id,
                             std::string_view nonce) {
    std::string in = "breakglass request digest v1\n";
    for (std::string_view f : {host, actor, gate, reason, incident, request_id, nonce}) add_field(in, f);
    const Digest d = sha256(in);
    RequestDigest out{};
    std::copy_n(d.begin(), out.size(), out.begin());
    return out;
}

std::string format_request_digest(const RequestDigest& digest) {
    return grouped(base32_encode(digest.data(), digest.size()), 4);
}

std::string format_request_code(const RequestCode& code) {
    std::array<unsigned char, kCodeBytes> bytes{};
    std::copy(code.digest.begin(), code.digest.end(), bytes.begin());
    const auto check = code_check(code);
    bytes[kRequestDigestBytes] = check[0];
    bytes[kRequestDigestBytes + 1] = check[1];
    return code_prefix(code) + grouped(base32_encode(bytes.data(), bytes.size()), 4);
}

Result<RequestCode> parse_request_code(std::string_view text) {
    if (text.size() > kMaxCodeText) return make_error("the request code is too long");
    const auto at = text.find('@');
    if (at == std::string_view::npos) return make_error("the request code has no '@' (it reads USER@HOST/GATE/CODE)");
    const auto slash1 = text.find('/', at + 1);
    if (slash1 == std::string_view::npos)
        return make_error("the request code has no '/' after the host (it reads USER@HOST/GATE/CODE)");
    const auto slash2 = text.find('/', slash1 + 1);
    if (slash2 == std::string_view::npos)
        return make_error("the request code has no '/' after the gate (it reads USER@HOST/GATE/CODE)");
    RequestCode c;
    c.actor = std::string(text.substr(0, at));
    c.host = std::string(text.substr(at + 1, slash1 - at - 1));
    c.gate = std::string(text.substr(slash1 + 1, slash2 - slash1 - 1));
    for (const auto& [what, name] : {std::pair<const char*, const std::string*>{"user", &c.actor},
                                     {"host", &c.host},
                                     {"gate", &c.gate}})
        if (!is_valid_name(*name, kMaxNameBytes))
            return make_error(std::string("the request code's ") + what + " " + escape_for_display(*name) +
                              " is not a valid name");
    std::string why;
    const auto bytes = base32_decode(text.substr(slash2 + 1), kCodeBytes, why);
    if (!bytes) return make_error("the request code " + why);
    std::copy_n(bytes->begin(), kRequestDigestBytes, c.digest.begin());
    const auto check = code_check(c);
    if ((*bytes)[kRequestDigestBytes] != check[0] || (*bytes)[kRequestDigestBytes + 1] != check[1])
        return make_error("the request code is mistyped (its check does not match; read it again)");
    return c;
}

std::string token_message(const RequestCode& code, std::int64_t not_after) {
    std::string m = "breakglass offline approval v1\n";
    add_field(m, "request " + format_request_digest(code.digest));
    add_field(m, "host " + code.host);
    add_field(m, "actor " + code.actor);
    add_field(m, "gate " + code.gate);
    add_field(m, "not_after " + std::to_string(not_after));
    return m;
}

Tag key_tag(const audit::Ed25519PublicKey& key) {
    return tag_of("key", std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

ApprovalToken make_token(const RequestCode& code, std::int64_t not_after, const audit::Ed25519PublicKey& signer,
                         const audit::Ed25519Signature& signature) {
    ApprovalToken t;
    t.key_tag = key_tag(signer);
    t.not_after = not_after;
    t.host_tag = tag_of("host", code.host);
    t.actor_tag = tag_of("actor", code.actor);
    t.gate_tag = tag_of("gate", code.gate);
    t.request_tag = tag_of("request", digest_text(code.digest));
    t.signature = signature;
    return t;
}

namespace {

std::array<unsigned char, kTokenBytes> token_bytes(const ApprovalToken& t) {
    std::array<unsigned char, kTokenBytes> b{};
    std::size_t i = 0;
    b[i++] = kTokenVersion;
    for (unsigned char c : t.key_tag) b[i++] = c;
    const auto na = static_cast<std::uint32_t>(t.not_after);
    for (int shift = 24; shift >= 0; shift -= 8) b[i++] = static_cast<unsigned char>((na >> shift) & 0xff);
    for (const Tag* tag : {&t.host_tag, &t.actor_tag, &t.gate_tag, &t.request_tag})
        for (unsigned char c : *tag) b[i++] = c;
    for (unsigned char c : t.signature) b[i++] = c;
    const Digest d = sha256(std::string_view(reinterpret_cast<const char*>(b.data()), i));
    b[i++] = d[0];
    b[i++] = d[1];
    return b;
}

}  // namespace

std::string format_approval_token(const ApprovalToken& token) {
    const auto b = token_bytes(token);
    return grouped(base32_encode(b.data(), b.size()), 5);
}

Result<ApprovalToken> parse_approval_token(std::string_view text) {
    if (text.size() > kMaxTokenText) return make_error("the approval token is too long");
    std::string why;
    const auto bytes = base32_decode(text, kTokenBytes, why);
    if (!bytes) return make_error("the approval token " + why);
    const auto& b = *bytes;
    const Digest d = sha256(std::string_view(reinterpret_cast<const char*>(b.data()), kTokenBytes - 2));
    if (b[kTokenBytes - 2] != d[0] || b[kTokenBytes - 1] != d[1])
        return make_error("the approval token is mistyped (its check does not match)");
    if (b[0] != kTokenVersion)
        return make_error("the approval token has version " + std::to_string(b[0]) + "; this daemon reads version " +
                          std::to_string(kTokenVersion));
    ApprovalToken t;
    std::size_t i = 1;
    for (unsigned char& c : t.key_tag) c = b[i++];
    std::uint32_t na = 0;
    for (int k = 0; k < 4; ++k) na = (na << 8) | b[i++];
    t.not_after = na;
    for (Tag* tag : {&t.host_tag, &t.actor_tag, &t.gate_tag, &t.request_tag})
        for (unsigned char& c : *tag) c = b[i++];
    for (unsigned char& c : t.signature) c = b[i++];
    return t;
}

std::string token_digest(const ApprovalToken& token) {
    const auto b = token_bytes(token);
    const Digest d = sha256(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
    return hex_encode(std::span<const unsigned char>(d.data(), 16));
}

TokenCheck check_approval_token(const ApprovalToken& token, const RequestCode& expected,
                                const std::vector<std::pair<std::string, audit::Ed25519PublicKey>>& keys) {
    TokenCheck out;
    std::vector<const std::pair<std::string, audit::Ed25519PublicKey>*> candidates;
    for (const auto& entry : keys)
        if (key_tag(entry.second) == token.key_tag) candidates.push_back(&entry);
    if (candidates.empty()) {
        out.why = "it is signed by a key that is not in the policy's [approver_keys]";
        return out;
    }
    if (candidates.size() == 1) out.approver = candidates.front()->first;
    if (token.host_tag != tag_of("host", expected.host)) {
        out.why = "it was made for another host, not " + expected.host;
        return out;
    }
    if (token.actor_tag != tag_of("actor", expected.actor)) {
        out.why = "it was made for another user's request, not " + expected.actor + "'s";
        return out;
    }
    if (token.gate_tag != tag_of("gate", expected.gate)) {
        out.why = "it was made for another gate, not '" + expected.gate + "'";
        return out;
    }
    if (token.request_tag != tag_of("request", digest_text(expected.digest))) {
        out.why = "it was made for another request (not request code " + format_request_digest(expected.digest) + ")";
        return out;
    }
    const std::string message = token_message(expected, token.not_after);
    for (const auto* candidate : candidates) {
        if (audit::ed25519_verify(candidate->second, message, token.signature)) {
            out.ok = true;
            out.approver = candidate->first;
            return out;
        }
    }
    out.why = "its signature does not verify with " +
              (out.approver.empty() ? std::string("the key its tag names") : out.approver + "'s key") +
              " (altered, or not signed for this request)";
    return out;
}

}  // namespace bg::workflow
