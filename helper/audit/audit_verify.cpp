// SPDX-License-Identifier: ISC
#include "helper/audit/audit_verify.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <memory>
#include <optional>
#include <thread>

#include "helper/audit/audit_record.hpp"
#include "helper/audit/seal_key.hpp"

namespace bg::audit {
namespace {

enum class Kind : unsigned char { String, Int64, Uint64 };

struct Member {
    std::string_view prefix;  // "\"action\":"
    Kind kind;
};

// The canonical layout: sorted keys, as nlohmann::json (std::map) emits them.
constexpr std::array<Member, 25> kLayout = {{
    {"\"action\":", Kind::String},        {"\"actor\":", Kind::String},
    {"\"actor_loginuid\":", Kind::Int64}, {"\"actor_role\":", Kind::String},
    {"\"approver\":", Kind::String},      {"\"detail\":", Kind::String},
    {"\"event\":", Kind::String},         {"\"event_id\":", Kind::String},
    {"\"expires_at\":", Kind::String},    {"\"factor\":", Kind::String},
    {"\"factor_counter\":", Kind::Uint64}, {"\"gate_bypassed\":", Kind::String},
    {"\"grant_id\":", Kind::String},      {"\"hash\":", Kind::String},
    {"\"host\":", Kind::String},          {"\"incident_ref\":", Kind::String},
    {"\"peer_uid\":", Kind::Int64},       {"\"prev_hash\":", Kind::String},
    {"\"reason\":", Kind::String},        {"\"review_status\":", Kind::String},
    {"\"seal\":", Kind::String},          {"\"seq\":", Kind::Uint64},
    {"\"source\":", Kind::String},        {"\"target\":", Kind::String},
    {"\"timestamp\":", Kind::String},
}};
constexpr std::size_t kEvent = 6, kEventId = 7, kExpiresAt = 8, kHash = 13, kPrevHash = 17, kSeal = 20,
                      kSeq = 21, kTimestamp = 24;

// Byte classes for the scanner's inner loops.
constexpr unsigned char kPlain = 1;     // copied verbatim inside a canonical string
constexpr unsigned char kLowerHex = 2;  // [0-9a-f]
constexpr std::array<unsigned char, 256> kClass = [] {
    std::array<unsigned char, 256> t{};
    for (unsigned c = 0x20; c < 0x80; ++c) {
        if (c != '"' && c != '\\') t[c] |= kPlain;
    }
    for (unsigned c = '0'; c <= '9'; ++c) t[c] |= kLowerHex;
    for (unsigned c = 'a'; c <= 'f'; ++c) t[c] |= kLowerHex;
    return t;
}();

bool is_lower_hex(unsigned char c) { return (kClass[c] & kLowerHex) != 0; }

bool is_hex64(std::string_view s) {
    if (s.size() != 64) return false;
    unsigned char all = kLowerHex;
    for (const char c : s) all &= kClass[static_cast<unsigned char>(c)];
    return all != 0;
}

bool same_bytes(const unsigned char* a, std::string_view b) {
    for (std::size_t k = 0; k < b.size(); ++k) {
        if (a[k] != static_cast<unsigned char>(b[k])) return false;
    }
    return true;
}

// Length of the well-formed UTF-8 sequence at p[i] (lead byte >= 0x80), 0 if
// ill-formed (Unicode Table 3-7: no overlongs, surrogates or > U+10FFFF).
std::size_t utf8_length(const unsigned char* p, std::size_t i, std::size_t n) {
    const unsigned char c = p[i];
    const auto cont = [&](std::size_t k, unsigned char lo, unsigned char hi) {
        return i + k < n && p[i + k] >= lo && p[i + k] <= hi;
    };
    if (c >= 0xC2 && c <= 0xDF) return cont(1, 0x80, 0xBF) ? 2 : 0;
    if (c == 0xE0) return cont(1, 0xA0, 0xBF) && cont(2, 0x80, 0xBF) ? 3 : 0;
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1, 0x80, 0xBF) && cont(2, 0x80, 0xBF) ? 3 : 0;
    if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2, 0x80, 0xBF) ? 3 : 0;
    if (c == 0xF0) return cont(1, 0x90, 0xBF) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
    if (c >= 0xF1 && c <= 0xF3) return cont(1, 0x80, 0xBF) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
    if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
    return 0;
}

// Scans a canonical JSON string starting at the opening quote p[i]. Returns
// the index after the closing quote, or 0 with *why set.
std::size_t scan_string(const unsigned char* p, std::size_t i, std::size_t n, std::size_t* decoded,
                        const char** why) {
    if (i >= n || p[i] != '"') {
        *why = "a string value was expected";
        return 0;
    }
    ++i;
    std::size_t len = 0;
    while (i < n) {
        const std::size_t run_start = i;
        while (i < n && (kClass[p[i]] & kPlain) != 0) ++i;
        len += i - run_start;
        if (i >= n) break;
        const unsigned char c = p[i];
        if (c == '"') {
            *decoded = len;
            return i + 1;
        }
        if (c < 0x20) {
            *why = "raw control character in a string";
            return 0;
        }
        if (c == '\\') {
            if (i + 1 >= n) break;
            switch (p[i + 1]) {
                case '"': case '\\': case 'b': case 'f': case 'n': case 'r': case 't':
                    i += 2;
                    ++len;
                    continue;
                case 'u': {
                    // nlohmann writes \u%04x only for C0 controls without a short form.
                    if (i + 5 >= n || p[i + 2] != '0' || p[i + 3] != '0' || (p[i + 4] != '0' && p[i + 4] != '1') ||
                        !is_lower_hex(p[i + 5])) {
                        *why = "non-canonical \\u escape";
                        return 0;
                    }
                    const unsigned lo = p[i + 5] <= '9' ? static_cast<unsigned>(p[i + 5] - '0')
                                                        : static_cast<unsigned>(p[i + 5] - 'a' + 10);
                    const unsigned v = (p[i + 4] == '1' ? 16u : 0u) + lo;
                    if (v == 0x08 || v == 0x09 || v == 0x0A || v == 0x0C || v == 0x0D) {
                        *why = "non-canonical \\u escape";
                        return 0;
                    }
                    i += 6;
                    ++len;
                    continue;
                }
                default:
                    *why = "non-canonical escape";
                    return 0;
            }
        }
        const std::size_t k = utf8_length(p, i, n);
        if (k == 0) {
            *why = "ill-formed UTF-8";
            return 0;
        }
        i += k;
        len += k;
    }
    *why = "unterminated string";
    return 0;
}

// Canonical integer at p[i]; returns the index after it or 0.
std::size_t scan_integer(const unsigned char* p, std::size_t i, std::size_t n, bool allow_negative,
                         std::uint64_t* magnitude, bool* negative, const char** why) {
    *negative = false;
    if (i < n && p[i] == '-' && allow_negative) {
        *negative = true;
        ++i;
    }
    if (i >= n || p[i] < '0' || p[i] > '9') {
        *why = "an integer was expected";
        return 0;
    }
    if (p[i] == '0') {
        if (*negative || (i + 1 < n && p[i + 1] >= '0' && p[i + 1] <= '9')) {
            *why = "non-canonical integer";
            return 0;
        }
        *magnitude = 0;
        return i + 1;
    }
    std::uint64_t v = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9') {
        const auto d = static_cast<std::uint64_t>(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            *why = "integer out of range";
            return 0;
        }
        v = v * 10 + d;
        ++i;
    }
    const std::uint64_t limit = allow_negative ? (*negative ? (1ULL << 63) : (1ULL << 63) - 1) : UINT64_MAX;
    if (v > limit) {
        *why = "integer out of range";
        return 0;
    }
    *magnitude = v;
    return i;
}

// "bg-" + timestamp year + "-" + seq zero-padded to >= 6 digits.
bool event_id_matches(std::string_view id, std::string_view timestamp, std::uint64_t seq) {
    char digits[24];
    std::size_t nd = 0;
    do {
        digits[nd++] = static_cast<char>('0' + seq % 10);
        seq /= 10;
    } while (seq != 0);
    const std::size_t width = nd < 6 ? 6 : nd;
    if (id.size() != 8 + width || id.substr(0, 3) != "bg-" || id.substr(3, 4) != timestamp.substr(0, 4) ||
        id[7] != '-') {
        return false;
    }
    for (std::size_t k = 0; k < width; ++k) {
        const char want = k < width - nd ? '0' : digits[width - 1 - k];
        if (id[8 + k] != want) return false;
    }
    return true;
}

template <typename T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
using MdPtr = std::unique_ptr<EVP_MD, Deleter<EVP_MD, EVP_MD_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;

void hex32(const unsigned char* in, char* out) {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < 32; ++i) {
        out[2 * i] = kDigits[in[i] >> 4];
        out[2 * i + 1] = kDigits[in[i] & 0x0F];
    }
}

// A prefetched SHA-256 and one reusable context (one-shot HMAC()/EVP_Q_mac
// would refetch the implementation for every record).
class Crypto {
public:
    bool init() {
        md_.reset(EVP_MD_fetch(nullptr, "SHA256", nullptr));
        if (!md_) return false;
        md_ctx_.reset(EVP_MD_CTX_new());
        return md_ctx_ != nullptr;
    }

    // SHA-256 over up to three pieces.
    bool digest(std::string_view a, std::string_view b, std::string_view c, unsigned char out[32]) {
        unsigned int len = 0;
        return EVP_DigestInit_ex2(md_ctx_.get(), md_.get(), nullptr) == 1 &&
               EVP_DigestUpdate(md_ctx_.get(), a.data(), a.size()) == 1 &&
               EVP_DigestUpdate(md_ctx_.get(), b.data(), b.size()) == 1 &&
               EVP_DigestUpdate(md_ctx_.get(), c.data(), c.size()) == 1 &&
               EVP_DigestFinal_ex(md_ctx_.get(), out, &len) == 1 && len == 32;
    }

    // HMAC-SHA256 (RFC 2104) on the reused digest context: cheaper per call
    // than re-keying an EVP_MAC_CTX, which matters at one key per record.
    bool hmac(const KeyBytes& key, std::string_view msg, unsigned char out[32]) {
        unsigned char pad[64];
        unsigned char inner[32];
        for (std::size_t i = 0; i < 64; ++i) pad[i] = static_cast<unsigned char>((i < 32 ? key[i] : 0) ^ 0x36);
        const std::string_view ipad(reinterpret_cast<const char*>(pad), sizeof pad);
        bool ok = digest(ipad, msg, {}, inner);
        for (std::size_t i = 0; i < 64; ++i) pad[i] = static_cast<unsigned char>(pad[i] ^ (0x36 ^ 0x5c));
        ok = ok && digest(ipad, std::string_view(reinterpret_cast<const char*>(inner), sizeof inner), {}, out);
        OPENSSL_cleanse(pad, sizeof pad);
        return ok;
    }

    bool evolve(KeyBytes& key) {
        unsigned char next[32];
        const bool ok = digest(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), {}, {}, next);
        if (ok) std::memcpy(key.data(), next, 32);
        OPENSSL_cleanse(next, sizeof next);
        return ok;
    }

private:
    MdPtr md_;
    MdCtxPtr md_ctx_;
};

VerifyResult bad(std::uint64_t records, std::uint64_t seq, std::string message, bool seals) {
    VerifyResult r;
    r.ok = false;
    r.records = records;
    r.first_bad_seq = seq;
    r.message = std::move(message);
    r.seals_checked = seals;
    return r;
}

}  // namespace

const char* scan_line(std::string_view line, LineScan* out) {
    if (line.size() > kMaxLineBytes) return "record is longer than 16 KiB";
    const auto* p = reinterpret_cast<const unsigned char*>(line.data());
    const std::size_t n = line.size();
    if (n == 0 || p[0] != '{') return "record does not start with '{'";
    std::size_t i = 1;
    const char* why = "malformed record";
    std::string_view strings[kLayout.size()];
    std::uint64_t seq = 0;
    for (std::size_t k = 0; k < kLayout.size(); ++k) {
        const std::size_t member_begin = i;
        if (k > 0) {
            if (i >= n || p[i] != ',') return "record is not in canonical form (expected ',')";
            ++i;
        }
        const std::string_view prefix = kLayout[k].prefix;
        if (n - i < prefix.size() || !same_bytes(p + i, prefix)) {
            return "record is not in canonical form (keys missing, extra, duplicated or out of order)";
        }
        i += prefix.size();
        if (kLayout[k].kind == Kind::String) {
            std::size_t decoded = 0;
            const std::size_t end = scan_string(p, i, n, &decoded, &why);
            if (end == 0) return why;
            if (decoded > kMaxFieldBytes) return "a string field is longer than 4096 bytes";
            strings[k] = line.substr(i + 1, end - i - 2);
            i = end;
        } else {
            std::uint64_t magnitude = 0;
            bool negative = false;
            const std::size_t end = scan_integer(p, i, n, kLayout[k].kind == Kind::Int64, &magnitude, &negative, &why);
            if (end == 0) return why;
            if (k == kSeq) seq = magnitude;
            i = end;
        }
        if (k == kHash) {
            out->hash_member_begin = member_begin;
            out->hash_member_end = i;
        } else if (k == kSeal) {
            out->seal_member_begin = member_begin;
            out->seal_member_end = i;
        }
    }
    if (i != n - 1 || p[i] != '}') return "record is not in canonical form (expected '}' at the end)";

    if (!is_valid_event_name(strings[kEvent])) return "record: \"event\" is not [a-z_]{1,32}";
    if (seq == 0) return "record: \"seq\" is 0";
    if (!parse_utc(strings[kTimestamp])) return "record: \"timestamp\" is not a UTC time YYYY-MM-DDTHH:MM:SSZ";
    if (!strings[kExpiresAt].empty()) {
        const auto ex = parse_utc(strings[kExpiresAt]);
        if (!ex || *ex == 0) return "record: \"expires_at\" is neither \"\" nor a UTC time";
    }
    if (!event_id_matches(strings[kEventId], strings[kTimestamp], seq)) {
        return "record: \"event_id\" does not match timestamp and seq";
    }
    if (!is_hex64(strings[kPrevHash])) return "record: \"prev_hash\" is not 64 lowercase hex digits";
    if (!is_hex64(strings[kHash])) return "record: \"hash\" is not 64 lowercase hex digits";
    if (!is_hex64(strings[kSeal])) return "record: \"seal\" is not 64 lowercase hex digits";
    out->seq = seq;
    out->event = strings[kEvent];
    out->event_id = strings[kEventId];
    out->timestamp = strings[kTimestamp];
    out->prev_hash = strings[kPrevHash];
    out->hash = strings[kHash];
    out->seal = strings[kSeal];
    return nullptr;
}

namespace {

// One contiguous run of lines, checked from `first_seq` with `prev_hash` as
// the hash the first line must link to and `key` as the key sealing it.
struct Segment {
    std::string_view log;
    std::size_t begin = 0, end = 0;
    std::uint64_t first_seq = 1;
    std::string_view prev_hash;
    bool seals = false;
    KeyBytes key{};
    // With seals: keep a copy of the key for this seq (audit.key's index)
    // when the scan passes it, so it can be compared with the key file's.
    std::uint64_t capture_seq = 0;
    // Results.
    bool ok = false;
    std::uint64_t records = 0, first_bad = 0;
    std::string message;
    std::string_view last_hash;
    bool captured = false;
    KeyBytes captured_key{};

    ~Segment() {
        OPENSSL_cleanse(key.data(), key.size());
        OPENSSL_cleanse(captured_key.data(), captured_key.size());
    }

    // `key` is the key for seq `seq` here.
    void capture_if_due(std::uint64_t seq) {
        if (seals && seq == capture_seq) {
            captured_key = key;
            captured = true;
        }
    }

    void fail(std::uint64_t seq, std::string why) {
        ok = false;
        first_bad = seq;
        message = std::move(why);
    }
};

void verify_segment(Segment& g) {
    Crypto crypto;
    if (!crypto.init()) return g.fail(g.first_seq, "OpenSSL could not provide SHA-256");
    std::string_view prev_hash = g.prev_hash;
    std::uint64_t expected = g.first_seq;
    std::size_t pos = g.begin;
    unsigned char digest[32];
    char hex[64];
    const std::string_view log = g.log;
    while (pos < g.end) {
        g.records = expected - g.first_seq;
        g.capture_if_due(expected);
        const auto rec = [expected] { return "record " + std::to_string(expected); };
        const void* nl = std::memchr(log.data() + pos, '\n', g.end - pos);
        if (nl == nullptr) return g.fail(expected, rec() + ": torn last line (no trailing newline)");
        const auto end = static_cast<std::size_t>(static_cast<const char*>(nl) - log.data());
        const std::string_view line = log.substr(pos, end - pos);
        const bool last = end + 1 == log.size();
        LineScan s;
        if (const char* why = scan_line(line, &s)) return g.fail(expected, rec() + ": " + why);
        if (s.seq != expected) {
            return g.fail(expected, rec() + ": seq " + std::to_string(s.seq) + " found where " +
                                        std::to_string(expected) +
                                        " was expected (record deleted, duplicated or reordered)");
        }
        if (s.prev_hash != prev_hash) {
            return g.fail(expected, rec() + ": prev_hash does not match the previous record's hash (chain broken)");
        }
        if (!crypto.digest(line.substr(0, s.hash_member_begin),
                           line.substr(s.hash_member_end, s.seal_member_begin - s.hash_member_end),
                           line.substr(s.seal_member_end), digest)) {
            return g.fail(expected, "OpenSSL SHA-256 failed");
        }
        hex32(digest, hex);
        if (std::memcmp(hex, s.hash.data(), 64) != 0) return g.fail(expected, rec() + ": hash mismatch (record modified)");
        if (expected == g.first_seq || expected % kFullCheckEvery == 0 || last) {
            if (auto full = parse_record(line); !full) return g.fail(expected, rec() + ": " + full.error().message);
        }
        if (g.seals) {
            if (!crypto.hmac(g.key, s.hash, digest) || !crypto.evolve(g.key)) {
                return g.fail(expected, "OpenSSL HMAC failed");
            }
            hex32(digest, hex);
            if (std::memcmp(hex, s.seal.data(), 64) != 0) {
                return g.fail(expected,
                              rec() + ": seal mismatch (record modified or resealed without the key for this seq)");
            }
        }
        prev_hash = s.hash;
        ++expected;
        pos = end + 1;
    }
    g.records = expected - g.first_seq;
    g.capture_if_due(expected);  // the key after the last record (a key file level with the log)
    g.last_hash = prev_hash;
    g.ok = true;
}

// Splits a large log in two at a line boundary and verifies the halves on two
// threads. The second half starts from the seq and prev_hash its first line
// claims (and the key hashed forward to that seq); the claim is then checked
// against the first half's end, so the result — including first_bad_seq —
// is exactly what a single pass reports. nullopt: use a single pass.
std::optional<Segment> verify_in_two(std::string_view log, const VerifyOptions& o) {
    if (log.size() < kParallelVerifyMinBytes) return std::nullopt;
    const void* nl = std::memchr(log.data() + log.size() / 2, '\n', log.size() - log.size() / 2);
    if (nl == nullptr) return std::nullopt;
    const auto mid = static_cast<std::size_t>(static_cast<const char*>(nl) - log.data()) + 1;
    if (mid >= log.size()) return std::nullopt;
    const void* nl2 = std::memchr(log.data() + mid, '\n', log.size() - mid);
    if (nl2 == nullptr) return std::nullopt;
    LineScan first;
    const std::string_view first_line =
        log.substr(mid, static_cast<std::size_t>(static_cast<const char*>(nl2) - log.data()) - mid);
    if (scan_line(first_line, &first) != nullptr) return std::nullopt;
    // A canonical line is over 256 bytes, so a plausible seq is bounded by
    // the offset; this also bounds the key derivation below.
    if (first.seq < 2 || first.seq - 1 > mid / 256) return std::nullopt;

    Segment a, b;
    a.log = b.log = log;
    a.begin = 0;
    a.end = mid;
    a.first_seq = 1;
    a.prev_hash = kGenesisPrevHash;
    b.begin = mid;
    b.end = log.size();
    b.first_seq = first.seq;
    b.prev_hash = first.prev_hash;
    a.seals = b.seals = o.initial_key.has_value();
    a.capture_seq = b.capture_seq = o.key_file ? o.key_file->index : 0;
    if (a.seals) {
        a.key = b.key = *o.initial_key;
        for (std::uint64_t i = 1; i < first.seq; ++i) {
            if (!evolve_key(b.key)) return std::nullopt;
        }
    }
    try {
        std::thread worker([&b] { verify_segment(b); });
        verify_segment(a);
        worker.join();
    } catch (...) {  // no thread available: single pass instead
        return std::nullopt;
    }
    if (!a.ok) return a;
    Segment out;
    out.records = a.records;
    if (b.first_seq != a.records + 1) {
        out.fail(a.records + 1, "record " + std::to_string(a.records + 1) + ": seq " + std::to_string(b.first_seq) +
                                    " found where " + std::to_string(a.records + 1) +
                                    " was expected (record deleted, duplicated or reordered)");
        return out;
    }
    if (b.prev_hash != a.last_hash) {
        out.fail(b.first_seq, "record " + std::to_string(b.first_seq) +
                                  ": prev_hash does not match the previous record's hash (chain broken)");
        return out;
    }
    out.records = a.records + b.records;
    if (!b.ok) {
        out.fail(b.first_bad, b.message);
        return out;
    }
    out.ok = true;
    out.last_hash = b.last_hash;
    out.seals = a.seals;
    // Both halves pass the seq where they meet; their keys there are equal.
    const Segment& holder = a.captured ? a : b;
    out.captured = holder.captured;
    out.captured_key = holder.captured_key;
    return out;
}

}  // namespace

VerifyResult verify_log(std::string_view log, const VerifyOptions& o) {
    const bool seals = o.initial_key.has_value();
    std::optional<Segment> split = verify_in_two(log, o);
    Segment whole;
    if (!split) {
        whole.log = log;
        whole.begin = 0;
        whole.end = log.size();
        whole.first_seq = 1;
        whole.prev_hash = kGenesisPrevHash;
        whole.seals = seals;
        if (seals) whole.key = *o.initial_key;
        whole.capture_seq = o.key_file ? o.key_file->index : 0;
        verify_segment(whole);
    }
    const Segment& g = split ? *split : whole;
    if (!g.ok) return bad(g.records, g.first_bad, g.message, seals);
    const std::uint64_t records = g.records;
    const std::string_view prev_hash = g.last_hash;
    const std::string_view head = records == 0 ? std::string_view() : prev_hash;

    if (o.expect_last_seq) {
        const std::uint64_t want = *o.expect_last_seq;
        if (records < want) {
            return bad(records, records + 1,
                       "log truncated: it ends at seq " + std::to_string(records) + " but seq " +
                           std::to_string(want) + " was expected",
                       seals);
        }
        if (records > want) {
            return bad(records, want + 1,
                       "log continues past the expected last seq " + std::to_string(want), seals);
        }
    }
    if (o.expect_head_hash && head != *o.expect_head_hash) {
        // With expect_last_seq (then == records) the head record itself is
        // wrong; without it we cannot tell a replaced head from a cut tail
        // and report the cut (last_seq + 1).
        return bad(records, records == 0 ? 1 : (o.expect_last_seq ? records : records + 1),
                   "head hash does not match the expected one (tail truncated or replaced)", seals);
    }
    if (o.key_file) {
        const std::uint64_t index = o.key_file->index;
        if (index > records + 1) {
            return bad(records, records + 1,
                       "log truncated: audit.key has evolved to seal seq " + std::to_string(index) +
                           " but the log ends at seq " + std::to_string(records),
                       seals);
        }
        if (index == 0) return bad(records, records + 1, "audit.key has index 0, which no key has", seals);
        // The index says where the log ends only if the key is the one the
        // initial key evolves to there: whoever cuts the log can write any
        // index into the file, but cannot derive key_index without key_1.
        if (seals && (!g.captured || CRYPTO_memcmp(g.captured_key.data(), o.key_file->key.data(),
                                                   g.captured_key.size()) != 0)) {
            return bad(records, records + 1,
                       "audit.key does not hold the key the initial key evolves to at its index " +
                           std::to_string(index) +
                           " (the key file was rewritten: the log may have been truncated after seq " +
                           std::to_string(records) + ")",
                       seals);
        }
    }
    VerifyResult r;
    r.ok = true;
    r.records = records;
    r.seals_checked = seals;
    r.message = std::to_string(records) + " records verified, hash chain intact, " +
                (seals ? std::string("seals checked") : std::string("seals NOT checked (no initial key given)"));
    // A key file behind the log is normal for a running daemon: the key that
    // follows deferred (closing) records is written when they are synced, at
    // most a second later, and after a crash the daemon hashes it forward.
    if (o.key_file && o.key_file->index < records + 1)
        r.message += "; audit.key is " + std::to_string(records + 1 - o.key_file->index) +
                     " record(s) behind the log (written since its last update; breakglassd catches it up)";
    // Nothing said where the log should end: a cut tail would have passed.
    if (!o.key_file && !o.expect_last_seq && !o.expect_head_hash)
        r.message += "; the end of the log was not checked (no audit.key, no expected head): a truncated tail "
                     "is not detected";
    return r;
}

Result<std::array<unsigned char, 32>> read_key_file(const std::string& path) { return read_hex_key_file(path); }

}  // namespace bg::audit
