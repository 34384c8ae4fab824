// SPDX-License-Identifier: ISC
// Remote copies: the journal export parser (goldens, text and binary fields,
// refusals), the JSON-lines reader, verify_remote() over a real AuditLog with
// signed checkpoints and its tamper cases, and compare_with_remote().
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "helper/audit/audit_log.hpp"
#include "helper/audit/journal.hpp"
#include "helper/audit/remote_copy.hpp"
#include "helper/audit/remote_verify.hpp"
#include "helper/audit/signed_checkpoint.hpp"

namespace bg::audit {
namespace {

constexpr std::int64_t kStart = 1796133600;  // 2026-12-01T14:00:00Z

// The same record with other text in its detail: still canonical, but not what was hashed.
std::string tampered(std::string line) {
    const std::string from = "\"detail\":\"record ";
    const auto at = line.find(from);
    EXPECT_NE(at, std::string::npos) << line;
    if (at != std::string::npos) line.replace(at, from.size(), "\"detail\":\"RECORD ");
    return line;
}

std::string bin(std::string_view name, std::string_view value) {
    std::string out(name);
    out += '\n';
    std::uint64_t n = value.size();
    for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
    out += value;
    out += '\n';
    return out;
}

TEST(JournalExport, ParsesTextAndBinaryFields) {
    const std::string stream = "__REALTIME_TIMESTAMP=1\nMESSAGE=a=b\n" + bin("DETAIL", "two\nlines") +
                               "EMPTY=\n\n" + bin("B", std::string("\0x\n", 3)) + "C=3\n";
    auto entries = parse_journal_export(stream);
    ASSERT_TRUE(entries) << entries.error().message;
    ASSERT_EQ(entries->size(), 2u);
    const auto& e = (*entries)[0];
    ASSERT_EQ(e.size(), 4u);
    EXPECT_EQ(e[0].name, "__REALTIME_TIMESTAMP");
    EXPECT_EQ(e[0].value, "1");
    EXPECT_EQ(e[1].value, "a=b");
    EXPECT_EQ(e[2].name, "DETAIL");
    EXPECT_EQ(e[2].value, "two\nlines");
    EXPECT_EQ(e[3].name, "EMPTY");
    EXPECT_EQ(e[3].value, "");
    ASSERT_EQ((*entries)[1].size(), 2u);
    EXPECT_EQ((*entries)[1][0].value, std::string("\0x\n", 3));
    EXPECT_EQ((*entries)[1][1].value, "3");
    // Several empty lines between entries are no entries.
    auto blank = parse_journal_export("\n\nA=1\n\n\n\nB=2\n\n");
    ASSERT_TRUE(blank);
    EXPECT_EQ(blank->size(), 2u);
}

TEST(JournalExport, RefusesMalformedStreams) {
    struct Case {
        std::string stream, why;
    };
    std::string oversized = "MESSAGE\n";
    const std::uint64_t big = kMaxExportValueBytes + 1;
    for (int i = 0; i < 8; ++i) oversized += static_cast<char>((big >> (8 * i)) & 0xff);
    const std::vector<Case> cases = {
        {"MESSAGE=no newline", "field without its newline"},
        {"message=lower\n\n", "lower-case name"},
        {"1ABC=x\n\n", "name starts with a digit"},
        {"=x\n\n", "empty name"},
        {std::string(65, 'A') + "=x\n\n", "name too long"},
        {"A B=x\n\n", "space in name"},
        {"MESSAGE\n\x05\x00\x00", "truncated size"},
        {std::string("MESSAGE\n\x05\x00\x00\x00\x00\x00\x00\x00" "abc", 19), "truncated value"},
        {std::string("MESSAGE\n\x03\x00\x00\x00\x00\x00\x00\x00" "abcd\n", 20), "value not followed by newline"},
        {oversized + "x\n", "declared size over the bound"},
        {std::string("A=") + std::string(kMaxExportValueBytes + 1, 'x') + "\n", "text value over the bound"},
    };
    for (const Case& c : cases) EXPECT_FALSE(parse_journal_export(c.stream)) << c.why;
    std::string many;
    for (std::size_t i = 0; i <= kMaxExportFieldsPerEntry; ++i) many += "A=1\n";
    EXPECT_FALSE(parse_journal_export(many + "\n"));
}

TEST(JournalExport, RecordLinesComeFromBreakglassRecordOnly) {
    const std::string stream = "MESSAGE=other service\n\nBREAKGLASS_RECORD={\"x\":1}\nMESSAGE=m\n\n" +
                               bin("BREAKGLASS_RECORD", "{\"y\":2}");
    auto lines = record_lines_from_export(stream, "s");
    ASSERT_TRUE(lines) << lines.error().message;
    ASSERT_EQ(lines->size(), 2u);
    EXPECT_EQ((*lines)[0].line, "{\"x\":1}");
    EXPECT_EQ((*lines)[0].where, "entry 2 of s");
    EXPECT_EQ((*lines)[1].line, "{\"y\":2}");
    EXPECT_FALSE(record_lines_from_export("BREAKGLASS_RECORD=a\nBREAKGLASS_RECORD=b\n\n", "s"));
}

TEST(JsonLines, RecordLinesOrObjectsWithRecordLine) {
    auto lines = record_lines_from_json_lines("{\"seq\":1}\n\n{\"record_line\":\"{\\\"seq\\\":2}\",\"host\":\"h\"}\n", "f");
    ASSERT_TRUE(lines) << lines.error().message;
    ASSERT_EQ(lines->size(), 2u);
    EXPECT_EQ((*lines)[0].line, "{\"seq\":1}");
    EXPECT_EQ((*lines)[1].line, "{\"seq\":2}");
    EXPECT_EQ((*lines)[1].where, "line 3 of f");
    EXPECT_FALSE(record_lines_from_json_lines("not json\n", "f"));
    EXPECT_FALSE(record_lines_from_json_lines("[1]\n", "f"));
    EXPECT_FALSE(record_lines_from_json_lines("{\"record_line\":5}\n", "f"));
}

// A real log: records, with a signed checkpoint after every third.
class RemoteVerify : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = "/var/tmp/bg-remote-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        auto key = Ed25519PrivateKey::generate();
        ASSERT_TRUE(key);
        key_.emplace(std::move(key).value());
        auto log = AuditLog::open(dir_, "db-1");
        ASSERT_TRUE(log) << log.error().message;
        std::int64_t now = kStart;
        for (int i = 1; i <= 9; ++i) {
            RecordFields f;
            f.event = i % 2 ? "grant" : "revoke";
            f.actor = "alice";
            f.detail = "record " + std::to_string(i);
            ASSERT_TRUE((*log)->append(f, now++));
            if (i % 3 == 0) append_checkpoint(**log, now++);
        }
        log->reset();
        std::ifstream in(dir_ + "/audit.log");
        for (std::string line; std::getline(in, line);) lines_.push_back(line);
        ASSERT_EQ(lines_.size(), 12u);
        auto initial = read_hex_key_file(dir_ + "/audit.key.initial");
        ASSERT_TRUE(initial);
        initial_ = *initial;
        options_.public_key = key_->public_key();
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    void append_checkpoint(AuditLog& log, std::int64_t now) {
        auto c = sign_checkpoint(*key_, "db-1", log.last_seq(), log.last_hash(), now);
        ASSERT_TRUE(c);
        RecordFields f;
        f.event = "checkpoint";
        f.actor = "breakglassd";
        f.detail = render_checkpoint_detail(*c);
        ASSERT_TRUE(log.append(f, now));
    }

    std::vector<RemoteLine> copy_of(const std::vector<std::string>& lines) const {
        std::vector<RemoteLine> out;
        for (std::size_t i = 0; i < lines.size(); ++i) out.push_back({lines[i], "entry " + std::to_string(i + 1)});
        return out;
    }
    RemoteVerifyResult verify(const std::vector<std::string>& lines) const { return verify_remote(copy_of(lines), options_); }

    std::string dir_;
    std::optional<Ed25519PrivateKey> key_;
    std::vector<std::string> lines_;  // seq 1..12; checkpoints at 4, 8, 12
    KeyBytes initial_{};
    RemoteVerifyOptions options_;
};

TEST_F(RemoteVerify, TheWholeCopyVerifiesWithSealsAndNamesTheLastCheckpoint) {
    auto with_seals = options_;
    with_seals.initial_key = initial_;
    const auto r = verify_remote(copy_of(lines_), with_seals);
    EXPECT_TRUE(r.ok) << format_remote_verify(r);
    EXPECT_TRUE(r.seals_checked);
    EXPECT_EQ(r.records, 12u);
    ASSERT_TRUE(r.last_checkpoint);
    EXPECT_EQ(r.last_checkpoint_record_seq, 12u);
    EXPECT_EQ(r.last_checkpoint->seq, 11u);
    EXPECT_EQ(r.uncovered, 1u);
    EXPECT_NE(format_remote_verify(r).find("last signed checkpoint: seq 12 covers seq 11"), std::string::npos);
}

TEST_F(RemoteVerify, ExportOfTheRecordsReadsBackToTheSameLines) {
    std::string stream;
    for (const auto& line : lines_) {
        auto rec = parse_record(line);
        ASSERT_TRUE(rec);
        stream += journal_export_entry(*rec, line);
    }
    auto copy = record_lines_from_export(stream, "x");
    ASSERT_TRUE(copy) << copy.error().message;
    ASSERT_EQ(copy->size(), lines_.size());
    for (std::size_t i = 0; i < lines_.size(); ++i) EXPECT_EQ((*copy)[i].line, lines_[i]);
    EXPECT_TRUE(verify_remote(*copy, options_).ok);
}

TEST_F(RemoteVerify, ResentSuffixIsFineAndAPrefixlessCopyGetsANote) {
    auto lines = lines_;
    lines.insert(lines.end(), lines_.begin() + 6, lines_.end());  // seq 7..12 again
    const auto r = verify(lines);
    EXPECT_TRUE(r.ok) << format_remote_verify(r);
    EXPECT_EQ(r.duplicates, 6u);
    const auto later = verify(std::vector<std::string>(lines_.begin() + 4, lines_.end()));  // from seq 5
    EXPECT_TRUE(later.ok) << format_remote_verify(later);
    ASSERT_FALSE(later.notes.empty());
    EXPECT_NE(later.notes[0].find("starts at seq 5"), std::string::npos);
}

TEST_F(RemoteVerify, DeletedEntryIsAGap) {
    auto lines = lines_;
    lines.erase(lines.begin() + 5);  // seq 6
    const auto r = verify(lines);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.first_bad_seq, 6u) << format_remote_verify(r);
}

TEST_F(RemoteVerify, ChangedEntryIsNamed) {
    auto lines = lines_;
    lines[6] = tampered(lines[6]);  // seq 7, canonical but its hash no longer matches
    const auto r = verify(lines);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.first_bad_seq, 7u) << format_remote_verify(r);
}

TEST_F(RemoteVerify, ReorderedEntriesAreNamed) {
    auto lines = lines_;
    std::swap(lines[2], lines[3]);  // seq 4 before seq 3
    const auto r = verify(lines);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.first_bad_seq, 3u) << format_remote_verify(r);
    EXPECT_NE(format_remote_verify(r).find("reordered"), std::string::npos);
}

TEST_F(RemoteVerify, TruncatedEntryIsNamed) {
    auto lines = lines_;
    lines[9].resize(lines[9].size() / 2);  // seq 10 cut short
    const auto r = verify(lines);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.first_bad_seq, 10u) << format_remote_verify(r);
}

TEST_F(RemoteVerify, DuplicateThatDiffersIsNamed) {
    auto lines = lines_;
    lines.push_back(tampered(lines_[4]));
    const auto r = verify(lines);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.first_bad_seq, 5u) << format_remote_verify(r);
}

TEST_F(RemoteVerify, WrongPublicKeyOrForgedSignatureFails) {
    auto other = Ed25519PrivateKey::generate();
    ASSERT_TRUE(other);
    auto wrong = options_;
    wrong.public_key = other->public_key();
    const auto r = verify_remote(copy_of(lines_), wrong);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.first_bad_seq, 4u) << format_remote_verify(r);
    EXPECT_FALSE(r.last_checkpoint);
}

TEST_F(RemoteVerify, RewriteWithTheChainRecomputedIsCaughtByTheCheckpoint) {
    // Rewrite seq 2 and recompute every hash after it (no seal key: the
    // seals are not checked here, as an attacker without the initial key
    // would hope).
    std::vector<Record> recs;
    for (const auto& l : lines_) recs.push_back(*parse_record(l));
    recs[1].detail = "nothing happened";
    std::vector<std::string> lines;
    std::string prev(kGenesisPrevHash);
    for (auto& r : recs) {
        r.prev_hash = prev;
        r.hash = compute_hash(r);
        prev = r.hash;
        lines.push_back(canonical_json(r));
    }
    const auto r = verify(lines);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.first_bad_seq, 3u) << format_remote_verify(r);  // the head the checkpoint at 4 signed
    auto with_seals = options_;
    with_seals.initial_key = initial_;
    EXPECT_EQ(verify_remote(copy_of(lines), with_seals).first_bad_seq, 2u);
}

TEST_F(RemoteVerify, CopyWithoutACheckpointFails) {
    const auto r = verify(std::vector<std::string>(lines_.begin(), lines_.begin() + 3));
    EXPECT_FALSE(r.ok);
    EXPECT_NE(format_remote_verify(r).find("no valid signed checkpoint"), std::string::npos);
}

TEST_F(RemoteVerify, ComparisonNamesDivergenceAndLag) {
    const auto behind = verify(std::vector<std::string>(lines_.begin(), lines_.begin() + 8));
    ASSERT_TRUE(behind.ok);
    const auto lag = compare_with_remote(lines_, behind);
    EXPECT_FALSE(lag.diverged);
    EXPECT_EQ(lag.not_yet_shipped, 4u);

    const auto full = verify(lines_);
    ASSERT_TRUE(full.ok);
    const auto truncated = compare_with_remote(std::vector<std::string>(lines_.begin(), lines_.begin() + 10), full);
    EXPECT_TRUE(truncated.diverged);
    EXPECT_EQ(truncated.first_divergent_seq, 11u);

    auto rewritten = lines_;
    rewritten[6] = tampered(rewritten[6]);
    const auto changed = compare_with_remote(rewritten, full);
    EXPECT_TRUE(changed.diverged);
    EXPECT_EQ(changed.first_divergent_seq, 7u);
}

}  // namespace
}  // namespace bg::audit
