// SPDX-License-Identifier: ISC
// The tamper matrix: a 200-record log written by AuditLog with a key generated
// at run time; every kind of tampering is detected at exactly the right seq.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "helper/audit/audit_log.hpp"
#include "helper/audit/audit_verify.hpp"
#include "helper/audit/seal_key.hpp"

namespace bg::audit {
namespace {

constexpr std::uint64_t kRecords = 200;
constexpr std::int64_t kNow = 1781498047;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct Fixture {
    std::string log;                 // the untouched log bytes
    std::vector<std::string> lines;  // without '\n'
    KeyBytes initial{};
    std::uint64_t key_index = 0;
    KeyBytes current{};  // audit.key's key: key_{key_index}
};

// Built once: 200 records with varied content, including text that imitates
// structure (quotes, escaped quotes, fake members), controls and UTF-8.
const Fixture& fixture() {
    static const Fixture f = [] {
        std::string tmpl = "/var/tmp/bg-audit-verify.XXXXXX";
        EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
        Fixture out;
        {
            auto log = AuditLog::open(tmpl, "bastion-1");
            EXPECT_TRUE(log.ok());
            const char* events[] = {"request", "approve", "grant", "session_open", "command", "session_close",
                                    "revoke", "expire", "review", "deny"};
            for (std::uint64_t i = 1; i <= kRecords; ++i) {
                RecordFields r;
                r.event = events[i % 10];
                r.actor = "user" + std::to_string(i % 7);
                r.actor_loginuid = (i % 5 == 0) ? -1 : static_cast<std::int64_t>(1000 + i);
                r.actor_role = "oncall";
                r.action = "sudo -g breakglass";
                r.target = "root";
                r.gate_bypassed = "breakglass";
                r.incident_ref = "INC-" + std::to_string(i);
                r.source = "pts/" + std::to_string(i % 4);
                r.peer_uid = 0;
                switch (i % 4) {
                    case 0: r.reason = "plain reason " + std::string(150, 'r'); break;
                    case 1: r.reason = "\",\"hash\":\"" + std::string(64, 'f') + "\",\"seal\":\"x"; break;
                    case 2: r.reason = "tab\there \x01 ctrl \\\",\"seq\":1, caf\xc3\xa9 \xe2\x9c\x93"; break;
                    default: r.reason = "quote \" backslash \\ newline \n end"; break;
                }
                r.detail = std::string(120, 'd');
                r.expires_at = (i % 3 == 0) ? kNow + 1800 : 0;
                r.factor = "totp";
                r.factor_counter = 59383333 + i;
                auto rec = (*log)->append(r, kNow + static_cast<std::int64_t>(i));
                EXPECT_TRUE(rec.ok());
            }
        }
        out.log = read_file(tmpl + "/audit.log");
        auto key = read_key_file(tmpl + "/audit.key.initial");
        EXPECT_TRUE(key.ok());
        out.initial = *key;
        auto kf = KeyFile::open(tmpl + "/audit.key");
        EXPECT_TRUE(kf.ok());
        out.key_index = kf->read()->index;
        out.current = kf->read()->key;
        std::filesystem::remove_all(tmpl);
        std::size_t pos = 0;
        while (pos < out.log.size()) {
            const std::size_t nl = out.log.find('\n', pos);
            out.lines.push_back(out.log.substr(pos, nl - pos));
            pos = nl + 1;
        }
        return out;
    }();
    return f;
}

std::string join(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
}

VerifyOptions with_key() {
    VerifyOptions o;
    o.initial_key = fixture().initial;
    return o;
}

KeyBytes key_for(std::uint64_t seq) {
    KeyBytes k = fixture().initial;
    for (std::uint64_t i = 1; i < seq; ++i) EXPECT_TRUE(evolve_key(k));
    return k;
}

// audit.key as the daemon left it after the fixture's last record.
KeyState key_file() { return KeyState(fixture().current, fixture().key_index); }

std::size_t line_offset(std::uint64_t seq) {
    std::size_t off = 0;
    for (std::uint64_t i = 1; i < seq; ++i) off += fixture().lines[i - 1].size() + 1;
    return off;
}

// The fast path's hash: the line with the hash and seal members cut out.
std::string rehash(const std::string& line) {
    const std::size_t hb = line.find(",\"hash\":\"");
    const std::size_t sb = line.find(",\"seal\":\"");
    std::string cut = line;
    cut.erase(sb, 9 + 64 + 1);
    cut.erase(hb, 9 + 64 + 1);
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(cut.data(), cut.size(), md, &len, EVP_sha256(), nullptr);
    return to_hex(md, 32);
}

std::string set_member(std::string line, const std::string& name, const std::string& value) {
    const std::string key = "\"" + name + "\":\"";
    const std::size_t p = line.find(key);
    EXPECT_NE(p, std::string::npos);
    line.replace(p + key.size(), 64, value);
    return line;
}

std::string get_member(const std::string& line, const std::string& name) {
    const std::string key = "\"" + name + "\":\"";
    return line.substr(line.find(key) + key.size(), 64);
}

void expect_bad(const std::string& log, const VerifyOptions& o, std::uint64_t seq, const std::string& what) {
    const VerifyResult r = verify_log(log, o);
    EXPECT_FALSE(r.ok) << what;
    EXPECT_EQ(r.first_bad_seq, seq) << what << ": " << r.message;
}

TEST(AuditVerify, UntouchedLogVerifies) {
    const auto& f = fixture();
    ASSERT_EQ(f.lines.size(), kRecords);
    VerifyOptions o = with_key();
    o.expect_last_seq = kRecords;
    o.expect_head_hash = get_member(f.lines.back(), "hash");
    o.key_file = key_file();
    ASSERT_EQ(f.key_index, kRecords + 1);
    ASSERT_EQ(f.current, key_for(kRecords + 1));
    const VerifyResult r = verify_log(f.log, o);
    EXPECT_TRUE(r.ok) << r.message;
    EXPECT_EQ(r.records, kRecords);
    EXPECT_TRUE(r.seals_checked);
    EXPECT_EQ(r.message.find("; "), std::string::npos) << "nothing left unchecked: " << r.message;
    const VerifyResult nokey = verify_log(f.log, VerifyOptions{});
    EXPECT_TRUE(nokey.ok) << nokey.message;
    EXPECT_FALSE(nokey.seals_checked);
    EXPECT_NE(nokey.message.find("NOT checked"), std::string::npos);
    EXPECT_TRUE(verify_log("", VerifyOptions{}).ok);
}

// Offsets of each byte class within a line.
std::vector<std::pair<std::string, std::size_t>> byte_classes(const std::string& line) {
    std::vector<std::pair<std::string, std::size_t>> c;
    c.emplace_back("open brace", 0);
    c.emplace_back("close brace", line.size() - 1);
    c.emplace_back("key char", line.find("\"actor\"") + 2);
    c.emplace_back("key quote", line.find("\"target\""));
    c.emplace_back("colon", line.find("\"event\":") + 7);
    c.emplace_back("comma", line.find(",\"host\""));
    c.emplace_back("value char", line.find("\"actor\":\"") + 10);
    c.emplace_back("value quote", line.find("\"actor\":\"") + 8);
    c.emplace_back("reason char", line.find("\"reason\":\"") + 12);
    const std::size_t esc = line.find('\\');
    c.emplace_back("escape", esc == std::string::npos ? line.find("\"reason\":\"") + 9 : esc);
    c.emplace_back("seq digit", line.find("\"seq\":") + 6);
    c.emplace_back("int value", line.find("\"factor_counter\":") + 17);
    c.emplace_back("timestamp", line.find("\"timestamp\":\"") + 20);
    c.emplace_back("event_id", line.find("\"event_id\":\"") + 20);
    c.emplace_back("prev_hash", line.find("\"prev_hash\":\"") + 13 + 10);
    c.emplace_back("hash first", line.find("\"hash\":\"") + 8);
    c.emplace_back("hash last", line.find("\"hash\":\"") + 8 + 63);
    c.emplace_back("hash key", line.find("\"hash\":\"") + 1);
    c.emplace_back("seal first", line.find("\"seal\":\"") + 8);
    c.emplace_back("seal last", line.find("\"seal\":\"") + 8 + 63);
    c.emplace_back("seal key", line.find("\"seal\":\"") + 2);
    c.emplace_back("newline", line.size());
    return c;
}

// Every record, every byte class, three masks: over 10,000 cases, each
// verifying the log up to the flipped record (74 s in one piece under ASan).
// Four shards, so that ctest -j runs them side by side; a case costs about
// its record's seq, so shard k ends at kRecords * sqrt((k + 1) / 4) (records
// 1-100, 101-141, 142-173, 174-200: equal work). Each record's random
// offsets come from its own seed.
constexpr int kByteClassShards = 4;
std::uint64_t shard_last(int shard) {
    return static_cast<std::uint64_t>(
        std::lround(static_cast<double>(kRecords) * std::sqrt(static_cast<double>(shard + 1) / kByteClassShards)));
}
class EveryRecordEveryByteClassFlipped : public ::testing::TestWithParam<int> {};

TEST_P(EveryRecordEveryByteClassFlipped, RecordsOfThisShard) {
    const auto& f = fixture();
    std::size_t cases = 0;
    const std::uint64_t first = GetParam() == 0 ? 1 : shard_last(GetParam() - 1) + 1;
    const std::uint64_t last = shard_last(GetParam());
    ASSERT_LT(first, last);
    if (GetParam() == kByteClassShards - 1) {
        ASSERT_EQ(last, kRecords);  // together they cover every record
    }
    for (std::uint64_t seq = first; seq <= last; ++seq) {
        std::mt19937 rng(static_cast<std::mt19937::result_type>(12345 + seq));
        const std::string& line = f.lines[seq - 1];
        auto classes = byte_classes(line);
        for (int extra = 0; extra < 4; ++extra) {  // plus random offsets
            classes.emplace_back("random", std::uniform_int_distribution<std::size_t>(0, line.size())(rng));
        }
        for (const auto& [what, offset] : classes) {
            ASSERT_NE(offset, std::string::npos) << what;
            for (const int mask : {0x01, 0x20, 0x80}) {
                std::string log = f.log;
                log[line_offset(seq) + offset] = static_cast<char>(log[line_offset(seq) + offset] ^ mask);
                expect_bad(log, with_key(), seq,
                           "seq " + std::to_string(seq) + " " + what + " mask " + std::to_string(mask));
                // Without the key everything but the seal is still caught.
                const std::size_t seal_at = line.find("\"seal\":\"") + 8;
                const bool in_seal_value = offset >= seal_at && offset < seal_at + 64;
                if (!in_seal_value) {
                    VerifyOptions nokey;
                    nokey.expect_last_seq = kRecords;
                    expect_bad(log, nokey, seq, "no key: seq " + std::to_string(seq) + " " + what);
                }
                ++cases;
            }
        }
    }
    EXPECT_EQ(cases, (last - first + 1) * (22 + 4) * 3);  // 22 byte classes and 4 random offsets, 3 masks each
    EXPECT_GT(cases, 2000u);
}
INSTANTIATE_TEST_SUITE_P(AuditVerify, EveryRecordEveryByteClassFlipped, ::testing::Range(0, kByteClassShards));

TEST(AuditVerify, EveryByteOfSomeRecordsFlipped) {
    const auto& f = fixture();
    for (const std::uint64_t seq : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{100}, kRecords}) {
        const std::size_t base = line_offset(seq);
        for (std::size_t i = 0; i <= f.lines[seq - 1].size(); ++i) {
            std::string log = f.log;
            log[base + i] = static_cast<char>(log[base + i] ^ 0x04);
            expect_bad(log, with_key(), seq, "seq " + std::to_string(seq) + " offset " + std::to_string(i));
        }
    }
}

TEST(AuditVerify, DeletedRecord) {
    const auto& f = fixture();
    VerifyOptions o = with_key();
    o.expect_last_seq = kRecords;
    for (std::uint64_t seq = 1; seq <= kRecords; ++seq) {
        auto lines = f.lines;
        lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(seq - 1));
        expect_bad(join(lines), o, seq, "delete " + std::to_string(seq));
        VerifyOptions nokey;
        nokey.key_file = key_file();
        expect_bad(join(lines), nokey, seq, "delete (no key) " + std::to_string(seq));
    }
}

TEST(AuditVerify, SwappedAdjacentRecords) {
    const auto& f = fixture();
    for (std::uint64_t seq = 1; seq < kRecords; ++seq) {
        auto lines = f.lines;
        std::swap(lines[seq - 1], lines[seq]);
        expect_bad(join(lines), with_key(), seq, "swap " + std::to_string(seq));
        expect_bad(join(lines), VerifyOptions{}, seq, "swap (no key) " + std::to_string(seq));
    }
}

TEST(AuditVerify, DuplicatedRecord) {
    const auto& f = fixture();
    for (std::uint64_t seq = 1; seq <= kRecords; ++seq) {
        auto lines = f.lines;
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(seq), lines[seq - 1]);
        expect_bad(join(lines), with_key(), seq + 1, "duplicate " + std::to_string(seq));
        expect_bad(join(lines), VerifyOptions{}, seq + 1, "duplicate (no key) " + std::to_string(seq));
    }
}

TEST(AuditVerify, TruncatedTail) {
    const auto& f = fixture();
    for (std::uint64_t keep = 0; keep < kRecords; ++keep) {
        const std::vector<std::string> lines(f.lines.begin(), f.lines.begin() + static_cast<std::ptrdiff_t>(keep));
        const std::string log = join(lines);
        const VerifyResult prefix = verify_log(log, with_key());
        EXPECT_TRUE(prefix.ok) << "a prefix alone is consistent";
        EXPECT_NE(prefix.message.find("the end of the log was not checked"), std::string::npos) << prefix.message;
        VerifyOptions by_seq = with_key();
        by_seq.expect_last_seq = kRecords;
        expect_bad(log, by_seq, keep + 1, "truncate to " + std::to_string(keep) + " vs expect_last_seq");
        VerifyOptions by_key;
        by_key.key_file = key_file();
        expect_bad(log, by_key, keep + 1, "truncate to " + std::to_string(keep) + " vs key_index");
        VerifyOptions by_head;
        by_head.expect_head_hash = get_member(f.lines.back(), "hash");
        expect_bad(log, by_head, keep + 1, "truncate to " + std::to_string(keep) + " vs head hash");
    }
    // Cut inside the last line: a torn record.
    const std::string torn = f.log.substr(0, f.log.size() - 10);
    expect_bad(torn, VerifyOptions{}, kRecords, "torn last line");
    expect_bad(f.log.substr(0, f.log.size() - 1), VerifyOptions{}, kRecords, "missing final newline");
}

TEST(AuditVerify, KeyIndexAndExpectations) {
    const auto& f = fixture();
    VerifyOptions lag;
    lag.key_file = KeyState(key_for(kRecords), kRecords);
    // A key file behind the log (deferred records, a crash) is not tampering:
    // it verifies, and says so.
    const VerifyResult r = verify_log(f.log, lag);
    EXPECT_TRUE(r.ok) << r.message;
    EXPECT_NE(r.message.find("audit.key is 1 record(s) behind the log"), std::string::npos) << r.message;
    VerifyOptions lag_sealed = with_key();
    lag_sealed.key_file = KeyState(key_for(kRecords - 63), kRecords - 63);
    const VerifyResult r64 = verify_log(f.log, lag_sealed);
    EXPECT_TRUE(r64.ok) << r64.message;
    EXPECT_NE(r64.message.find("audit.key is 64 record(s) behind the log"), std::string::npos) << r64.message;
    VerifyOptions beyond;
    beyond.expect_last_seq = kRecords - 5;
    expect_bad(f.log, beyond, kRecords - 4, "records past expected end");
    VerifyOptions head;
    head.expect_last_seq = kRecords;
    head.expect_head_hash = std::string(64, '1');
    expect_bad(f.log, head, kRecords, "head hash mismatch");
}

// Issue 10, item 7: cut the log at seq N and rewrite audit.key with index
// N + 1 and a key of the intruder's choosing (the file's checksum is no
// secret). With the initial key, verify must find that the key is not key_1
// evolved to that index; a key file behind the log (index <= N) must then
// equal key_1 evolved to *its* index. The intruder's best keys: random bytes,
// the current key (the one a root intruder holds) and a key of a nearby seq.
TEST(AuditVerify, Issue10TruncatedLogWithRewrittenKeyFileFails) {
    const auto& f = fixture();
    auto random = generate_key();
    ASSERT_TRUE(random.ok());
    for (const std::uint64_t keep : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{100}, kRecords - 1}) {
        const std::string log =
            join(std::vector<std::string>(f.lines.begin(), f.lines.begin() + static_cast<std::ptrdiff_t>(keep)));
        const std::string what = "cut to " + std::to_string(keep);
        std::vector<std::pair<std::string, KeyState>> forged = {
            {"random key", KeyState(*random, keep + 1)},
            {"current key", KeyState(f.current, keep + 1)},
            {"key of the next seq", KeyState(key_for(keep + 2), keep + 1)},
            {"all zero", KeyState(KeyBytes{}, keep + 1)},
        };
        if (keep >= 1) {
            forged.emplace_back("behind, random key", KeyState(*random, keep));
            forged.emplace_back("behind, current key", KeyState(f.current, keep));
            forged.emplace_back("behind, key of the next seq", KeyState(key_for(keep + 1), keep));
            forged.emplace_back("far behind, key of the last seq", KeyState(key_for(keep + 1), 1));
        }
        for (const auto& [name, state] : forged) {
            VerifyOptions o = with_key();
            o.key_file = state;
            const VerifyResult r = verify_log(log, o);
            EXPECT_FALSE(r.ok) << what << ", " << name;
            EXPECT_EQ(r.first_bad_seq, keep + 1) << what << ", " << name << ": " << r.message;
            EXPECT_NE(r.message.find("audit.key does not hold the key the initial key evolves to"), std::string::npos)
                << r.message;
            // Without the initial key, the index is all there is to check.
            VerifyOptions index_only;
            index_only.key_file = state;
            EXPECT_TRUE(verify_log(log, index_only).ok) << what << ", " << name;
        }
        // What an honest daemon leaves: key_{N+1} at N + 1, or a key file behind.
        VerifyOptions level = with_key();
        level.key_file = KeyState(key_for(keep + 1), keep + 1);
        const VerifyResult ok = verify_log(log, level);
        EXPECT_TRUE(ok.ok) << what << ": " << ok.message;
        if (keep >= 1) {
            for (const std::uint64_t index : {std::uint64_t{1}, keep}) {
                VerifyOptions behind = with_key();
                behind.key_file = KeyState(key_for(index), index);
                const VerifyResult lag = verify_log(log, behind);
                EXPECT_TRUE(lag.ok) << what << ", behind at " << index << ": " << lag.message;
                EXPECT_NE(lag.message.find("behind the log"), std::string::npos) << lag.message;
            }
        }
    }
    // Index 0 names no key.
    VerifyOptions zero = with_key();
    zero.key_file = KeyState(f.initial, 0);
    expect_bad(f.log, zero, kRecords + 1, "index 0");
}

// Modify record k, recompute its hash and the whole chain after it, and
// reseal: with the current key (what an intruder holds now), with the key of
// the next seq (an intruder who was in right after record k), and with no
// reseal at all. Without the initial key this is undetectable by the chain
// alone; with it the first modified record is named.
TEST(AuditVerify, ModifiedRecordWithRecomputedChainAndLaterKey) {
    const auto& f = fixture();
    for (std::uint64_t seq = 1; seq <= kRecords; seq += 7) {
        for (int mode = 0; mode < 3; ++mode) {
            auto lines = f.lines;
            const std::size_t p = lines[seq - 1].find("\"actor\":\"user") + 13;
            lines[seq - 1][p] = 'X';
            std::string prev = seq == 1 ? std::string(64, '0') : get_member(lines[seq - 2], "hash");
            for (std::uint64_t i = seq; i <= kRecords; ++i) {
                std::string& l = lines[i - 1];
                l = set_member(l, "prev_hash", prev);
                const std::string h = rehash(l);
                l = set_member(l, "hash", h);
                if (mode == 0) l = set_member(l, "seal", seal_hex(key_for(f.key_index), h));
                if (mode == 1) l = set_member(l, "seal", seal_hex(key_for(i + 1), h));
                prev = h;
            }
            const std::string log = join(lines);
            const VerifyResult chain_only = verify_log(log, VerifyOptions{});
            EXPECT_TRUE(chain_only.ok) << "a consistent rewrite passes the chain check: " << chain_only.message;
            expect_bad(log, with_key(), seq, "rewrite from " + std::to_string(seq) + " mode " + std::to_string(mode));
        }
    }
}

// Lines that are not canonical but carry a hash that matches the fast path's
// reconstruction and a valid seal (the strongest attacker: one holding the
// key for that seq). The scanner must refuse them.
TEST(AuditVerify, NonCanonicalLinesWithValidHashAndSealAreRejected) {
    const auto& f = fixture();
    const std::uint64_t seq = 50;
    const std::string& line = f.lines[seq - 1];
    const std::string fake_hash(64, 'e');
    const std::vector<std::pair<std::string, std::string>> variants = {
        {"space after colon", [&] { std::string l = line; l.insert(l.find("\"actor\":") + 8, " "); return l; }()},
        {"space before brace", [&] { std::string l = line; l.insert(l.size() - 1, " "); return l; }()},
        {"duplicate hash key", [&] {
             std::string l = line;
             l.insert(l.find(",\"host\""), ",\"hash\":\"" + fake_hash + "\"");
             return l;
         }()},
        {"duplicate actor key", [&] {
             std::string l = line;
             l.insert(l.find(",\"actor_loginuid\""), ",\"actor\":\"root\"");
             return l;
         }()},
        {"escaped slash", [&] {
             std::string l = line;
             l.replace(l.find("pts/"), 4, "pts\\/");
             return l;
         }()},
        {"unicode escape", [&] {
             std::string l = line;
             l.replace(l.find("\"actor\":\"u") + 9, 1, "\\u0075");
             return l;
         }()},
    };
    for (const auto& [what, raw] : variants) {
        std::string l = raw;
        // hash over the cut form (first occurrences), sealed with key_seq.
        const std::string h = rehash(l);
        l = set_member(l, "hash", h);
        l = set_member(l, "seal", seal_hex(key_for(seq), h));
        auto lines = f.lines;
        lines[seq - 1] = l;
        expect_bad(join(lines), with_key(), seq, what);
        LineScan s;
        EXPECT_NE(scan_line(l, &s), nullptr) << what;
        EXPECT_FALSE(parse_record(l).ok()) << what;
    }
}

// Logs over kParallelVerifyMinBytes are verified in two halves; tampering
// around the split point must be reported exactly as a single pass would.
TEST(AuditVerify, TwoThreadPathMatchesSinglePass) {
    auto key0 = generate_key();
    ASSERT_TRUE(key0.ok());
    KeyBytes key = *key0;
    std::vector<std::string> lines;
    std::string prev(kGenesisPrevHash);
    std::size_t bytes = 0;
    for (std::uint64_t seq = 1; bytes < 2 * kParallelVerifyMinBytes + 100000; ++seq) {
        Record r;
        r.event = "command";
        r.actor = "alice";
        r.detail = std::string(200 + seq % 50, 'd');
        r.seq = seq;
        r.timestamp = kNow + static_cast<std::int64_t>(seq);
        r.event_id = format_event_id(r.timestamp, seq);
        r.host = "h";
        r.prev_hash = prev;
        r.hash = compute_hash(r);
        r.seal = seal_hex(key, r.hash);
        ASSERT_TRUE(evolve_key(key));
        lines.push_back(canonical_json(r));
        bytes += lines.back().size() + 1;
        prev = r.hash;
    }
    const auto n = static_cast<std::uint64_t>(lines.size());
    VerifyOptions o;
    o.initial_key = *key0;
    o.expect_last_seq = n;
    const VerifyResult good = verify_log(join(lines), o);
    ASSERT_TRUE(good.ok) << good.message;
    EXPECT_EQ(good.records, n);
    // Find the line the split lands on, then tamper all around it.
    const std::string all = join(lines);
    const std::size_t mid = all.find('\n', all.size() / 2) + 1;
    std::uint64_t split_seq = 1;
    for (std::size_t off = 0; off < mid; off += lines[split_seq - 1].size() + 1) ++split_seq;
    --split_seq;
    std::vector<std::uint64_t> targets = {1, 2, n / 4, n - 1, n};
    for (std::uint64_t d = 0; d < 6; ++d) targets.push_back(split_seq - 2 + d);
    for (const std::uint64_t t : targets) {
        auto flipped = lines;
        flipped[t - 1][10] = static_cast<char>(flipped[t - 1][10] ^ 1);
        expect_bad(join(flipped), o, t, "parallel flip " + std::to_string(t));
        auto deleted = lines;
        deleted.erase(deleted.begin() + static_cast<std::ptrdiff_t>(t - 1));
        expect_bad(join(deleted), o, t, "parallel delete " + std::to_string(t));
        auto dup = lines;
        dup.insert(dup.begin() + static_cast<std::ptrdiff_t>(t), dup[t - 1]);
        expect_bad(join(dup), o, t + 1, "parallel duplicate " + std::to_string(t));
        if (t < n) {
            auto swapped = lines;
            std::swap(swapped[t - 1], swapped[t]);
            expect_bad(join(swapped), o, t, "parallel swap " + std::to_string(t));
        }
        auto resealed = lines;
        resealed[t - 1] = set_member(resealed[t - 1], "seal", seal_hex(key, get_member(resealed[t - 1], "hash")));
        expect_bad(join(resealed), o, t, "parallel reseal with current key " + std::to_string(t));
    }
    // audit.key checked against the key the scan passes at its index, in
    // either half and at the split itself.
    const std::string whole = join(lines);
    VerifyOptions level = o;
    level.key_file = KeyState(key, n + 1);
    EXPECT_TRUE(verify_log(whole, level).ok);
    level.key_file = KeyState(key0.value(), n + 1);
    expect_bad(whole, level, n + 1, "parallel: initial key at the end's index");
    for (const std::uint64_t index : {std::uint64_t{1}, split_seq - 1, split_seq, split_seq + 1, n}) {
        KeyBytes k = *key0;
        for (std::uint64_t i = 1; i < index; ++i) ASSERT_TRUE(evolve_key(k));
        VerifyOptions behind = o;
        behind.key_file = KeyState(k, index);
        const VerifyResult r = verify_log(whole, behind);
        EXPECT_TRUE(r.ok) << "parallel: behind at " << index << ": " << r.message;
        ASSERT_TRUE(evolve_key(k));
        behind.key_file = KeyState(k, index);
        expect_bad(whole, behind, n + 1, "parallel: wrong key behind at " + std::to_string(index));
    }
}

TEST(AuditVerify, GarbageAndEdgeInputs) {
    expect_bad("\n", VerifyOptions{}, 1, "empty line");
    expect_bad("hello\n", VerifyOptions{}, 1, "not json");
    expect_bad("{}\n", with_key(), 1, "empty object");
    expect_bad(fixture().lines[1] + "\n", VerifyOptions{}, 1, "starts at seq 2");
    std::string huge(kMaxLineBytes + 10, 'x');
    expect_bad(huge + "\n", VerifyOptions{}, 1, "huge line");
}

TEST(AuditVerify, ReadKeyFile) {
    std::string tmpl = "/var/tmp/bg-audit-key.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    const std::string path = tmpl + "/k";
    {
        std::ofstream out(path);
        out << key_to_hex(fixture().initial) << "\n";
    }
    auto k = read_key_file(path);
    ASSERT_TRUE(k.ok()) << k.error().message;
    EXPECT_EQ(*k, fixture().initial);
    {
        std::ofstream out(path);
        out << "zz\n";
    }
    EXPECT_FALSE(read_key_file(path).ok());
    EXPECT_FALSE(read_key_file(tmpl + "/missing").ok());
    std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace bg::audit
