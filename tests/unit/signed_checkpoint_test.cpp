// SPDX-License-Identifier: ISC
// Signed checkpoints: the signed message, the detail's render and strict
// parse (a table of goldens and refusals), signatures bound to the host, the
// key files in the state directory.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "helper/audit/signed_checkpoint.hpp"

namespace bg::audit {
namespace {

const std::string kHead(64, 'a');
constexpr std::int64_t kTime = 1796133600;  // 2026-12-01T14:00:00Z

SignedCheckpoint golden() {
    SignedCheckpoint c;
    c.seq = 41;
    c.head = kHead;
    c.time = kTime;
    for (std::size_t i = 0; i < c.signature.size(); ++i) c.signature[i] = static_cast<unsigned char>(i);
    return c;
}
const std::string kGoldenSig =
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==";
const std::string kGoldenDetail = "seq=41 head=" + kHead + " time=2026-12-01T14:00:00Z sig=" + kGoldenSig;

TEST(SignedCheckpoint, MessageIsFixedAndBindsTheHost) {
    EXPECT_EQ(checkpoint_message("db1", 41, kHead, kTime),
              "breakglass-checkpoint-v1\nhost=db1\nseq=41\nhead=" + kHead + "\ntime=2026-12-01T14:00:00Z\n");
}

TEST(SignedCheckpoint, DetailRendersAndParsesTheGolden) {
    EXPECT_EQ(render_checkpoint_detail(golden()), kGoldenDetail);
    auto parsed = parse_checkpoint_detail(kGoldenDetail);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->seq, 41u);
    EXPECT_EQ(parsed->head, kHead);
    EXPECT_EQ(parsed->time, kTime);
    EXPECT_EQ(parsed->signature, golden().signature);
    auto max = golden();
    max.seq = UINT64_MAX;
    auto again = parse_checkpoint_detail(render_checkpoint_detail(max));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->seq, UINT64_MAX);
}

TEST(SignedCheckpoint, DetailParseIsStrict) {
    const std::string tail = " head=" + kHead + " time=2026-12-01T14:00:00Z sig=" + kGoldenSig;
    const std::string head_to_time = "seq=41 head=" + kHead + " time=";
    struct Case {
        std::string detail, why;
    };
    const std::vector<Case> cases = {
        {"", "empty"},
        {"seq=0" + tail, "seq 0"},
        {"seq=041" + tail, "leading zero"},
        {"seq=+41" + tail, "sign"},
        {"seq=18446744073709551616" + tail, "seq overflow"},
        {"seq=" + tail, "empty seq"},
        {"seq=4a" + tail, "seq not decimal"},
        {"seq=41 head=" + std::string(64, 'A') + " time=2026-12-01T14:00:00Z sig=" + kGoldenSig, "upper-case head"},
        {"seq=41 head=" + std::string(63, 'a') + " time=2026-12-01T14:00:00Z sig=" + kGoldenSig, "short head"},
        {"seq=41 head=" + std::string(65, 'a') + " time=2026-12-01T14:00:00Z sig=" + kGoldenSig, "long head"},
        {head_to_time + "2026-12-01 14:00:00Z sig=" + kGoldenSig, "space in time"},
        {head_to_time + "2026-12-01T14:00:00+00:00 sig=" + kGoldenSig, "offset time"},
        {head_to_time + "2026-12-01T14:00:00.5Z sig=" + kGoldenSig, "fraction"},
        {head_to_time + "2026-13-01T14:00:00Z sig=" + kGoldenSig, "month 13"},
        {head_to_time + "2026-12-01T14:00:00Z sig=" + kGoldenSig.substr(0, 86), "short sig"},
        {head_to_time + "2026-12-01T14:00:00Z sig=" + kGoldenSig + "AAAA", "long sig"},
        {head_to_time + "2026-12-01T14:00:00Z sig=" + kGoldenSig.substr(0, 85) + "x==", "sig pad bits"},
        {head_to_time + "2026-12-01T14:00:00Z sig=" + kGoldenSig.substr(0, 84) + "P*==", "sig bad char"},
        {kGoldenDetail + " ", "trailing space"},
        {kGoldenDetail + "\n", "trailing newline"},
        {" " + kGoldenDetail, "leading space"},
        {"seq=41  head=" + kHead + " time=2026-12-01T14:00:00Z sig=" + kGoldenSig, "two spaces"},
        {"head=" + kHead + " seq=41 time=2026-12-01T14:00:00Z sig=" + kGoldenSig, "reordered"},
        {"seq=41 head=" + kHead + " time=2026-12-01T14:00:00Z", "no sig"},
        {kGoldenDetail + " extra=1", "extra field"},
        {"SEQ=41" + tail, "upper-case name"},
        {kGoldenDetail + std::string(300, 'A'), "too long"},
    };
    for (const Case& c : cases) EXPECT_FALSE(parse_checkpoint_detail(c.detail)) << c.why << ": " << c.detail;
}

TEST(SignedCheckpoint, SignatureCoversHostSeqHeadAndTime) {
    auto key = Ed25519PrivateKey::generate();
    auto other = Ed25519PrivateKey::generate();
    ASSERT_TRUE(key && other);
    auto c = sign_checkpoint(*key, "db1", 41, kHead, kTime);
    ASSERT_TRUE(c) << c.error().message;
    auto parsed = parse_checkpoint_detail(render_checkpoint_detail(*c));
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(checkpoint_signature_valid(key->public_key(), "db1", *parsed));
    EXPECT_FALSE(checkpoint_signature_valid(other->public_key(), "db1", *parsed));
    EXPECT_FALSE(checkpoint_signature_valid(key->public_key(), "db2", *parsed));
    auto changed = *parsed;
    changed.seq = 40;
    EXPECT_FALSE(checkpoint_signature_valid(key->public_key(), "db1", changed));
    changed = *parsed;
    changed.head[0] = 'b';
    EXPECT_FALSE(checkpoint_signature_valid(key->public_key(), "db1", changed));
    changed = *parsed;
    changed.time += 1;
    EXPECT_FALSE(checkpoint_signature_valid(key->public_key(), "db1", changed));
    EXPECT_FALSE(sign_checkpoint(*key, "db1", 0, kHead, kTime));
    EXPECT_FALSE(sign_checkpoint(*key, "db1", 1, "xyz", kTime));
}

TEST(SignedCheckpoint, KeyIsCreatedOnceWithItsPublicCopy) {
    char tmpl[] = "/tmp/bg-checkpoint-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = tmpl;
    bool created = false;
    auto first = open_checkpoint_key(dir, &created);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_TRUE(created);
    struct stat st {};
    ASSERT_EQ(::stat((dir + "/checkpoint.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((dir + "/checkpoint.pub").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
    auto pub = read_ed25519_public_key_file(dir + "/checkpoint.pub");
    ASSERT_TRUE(pub);
    EXPECT_EQ(*pub, first->public_key());

    ASSERT_EQ(::unlink((dir + "/checkpoint.pub").c_str()), 0);
    auto second = open_checkpoint_key(dir, &created);
    ASSERT_TRUE(second);
    EXPECT_FALSE(created);
    EXPECT_EQ(second->public_key(), first->public_key());
    EXPECT_TRUE(read_ed25519_public_key_file(dir + "/checkpoint.pub"));

    ASSERT_EQ(::chmod((dir + "/checkpoint.key").c_str(), 0640), 0);
    EXPECT_FALSE(open_checkpoint_key(dir, &created));
    ASSERT_EQ(::chmod((dir + "/checkpoint.key").c_str(), 0600), 0);
    auto third = open_checkpoint_key(dir, &created);
    ASSERT_TRUE(third);
    EXPECT_EQ(third->public_key(), first->public_key());
    EXPECT_EQ(std::system(("rm -rf '" + dir + "'").c_str()), 0);
}

}  // namespace
}  // namespace bg::audit
