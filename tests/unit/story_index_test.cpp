// SPDX-License-Identifier: ISC
// The story index (helper/audit/story_index.hpp) over a real audit log:
// the cold build, one slot per appended record through the Recorder (the
// same bytes as a cold build), resuming from the last good slot, and a
// rebuild when a slot is unwritten, points at the wrong line, or the index
// belongs to another log.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "helper/audit/audit_log.hpp"
#include "helper/audit/recorder.hpp"
#include "helper/audit/story_index.hpp"
#include "tests/support/scratch_files.hpp"

namespace bg::audit {
namespace {

using test::file_bytes;
using test::overwrite_at;
using test::TempDir;

constexpr std::int64_t kNow = 1781498047;

// A grant every 10 records (seq 1, 11, 21, …), the records between naming it.
RecordFields fields_for(std::uint64_t seq) {
    RecordFields f;
    f.actor = "alice";
    f.peer_uid = 0;
    if (seq % 10 == 1) {
        f.event = "grant";
        f.gate_bypassed = "db";
        f.reason = "disk full";
        f.incident_ref = "INC-1";
        f.expires_at = kNow + 1800;
        f.review_status = "pending";
        return f;
    }
    f.event = "command";
    f.target = "id -u";
    f.grant_id = format_event_id(kNow, seq - (seq - 1) % 10);
    return f;
}

void append_records(AuditLog& log, Recorder* recorder, std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
        const RecordFields f = fields_for(log.last_seq() + 1);
        auto r = recorder != nullptr ? recorder->append(f, kNow, Durability::Deferred) : log.append(f, kNow, Durability::Deferred);
        ASSERT_TRUE(r) << r.error().message;
    }
    ASSERT_TRUE(log.flush());
}

std::unique_ptr<AuditLog> open_log(const TempDir& dir) {
    auto log = AuditLog::open(dir.path(), "bastion-1");
    EXPECT_TRUE(log.ok()) << (log.ok() ? "" : log.error().message);
    return log.ok() ? std::move(*log) : nullptr;
}

std::string first_hash(const TempDir& dir) {
    const std::string log = file_bytes(dir.file(kLogFileName));
    const std::size_t at = log.find(",\"hash\":\"");
    return at == std::string::npos ? std::string() : log.substr(at + 9, 16);
}

// Every slot points at the line of its seq and names what the line names.
void expect_index_matches_log(const TempDir& dir, std::uint64_t records) {
    auto reader = StoryIndexReader::open(dir.file(kStoryIndexFileName), first_hash(dir));
    ASSERT_TRUE(reader) << reader.error().message;
    ASSERT_EQ(reader->last_seq(), records);
    const std::string log = file_bytes(dir.file(kLogFileName));
    for (std::uint64_t seq = 1; seq <= records; ++seq) {
        const auto slot = reader->slot(seq);
        ASSERT_TRUE(slot) << seq;
        const std::size_t at = slot->offset_plus_one - 1;
        const std::string line = log.substr(at, log.find('\n', at) - at);
        EXPECT_EQ(seq_of_line(line), seq);
        EXPECT_EQ(slot->named_seq, named_seq_of_line(line)) << seq;
        EXPECT_EQ(slot->named_seq, seq % 10 == 1 ? 0 : seq - (seq - 1) % 10) << seq;
    }
}

TEST(StoryIndex, EventIdsAndLinesAreReadAsTheLogWritesThem) {
    EXPECT_EQ(seq_of_event_id("bg-2026-000042"), 42u);
    EXPECT_EQ(seq_of_event_id("bg-2026-1234567"), 1234567u);
    EXPECT_FALSE(seq_of_event_id("bg-2026-42"));
    EXPECT_FALSE(seq_of_event_id("bg-20x6-000042"));
    EXPECT_FALSE(seq_of_event_id("bg-2026-000000"));
    EXPECT_FALSE(seq_of_event_id(""));
    // A value holding the key's text is escaped, so it is never taken for the member.
    EXPECT_EQ(named_seq_of_line(R"({"detail":"x\",\"grant_id\":\"bg-2026-000009","grant_id":"bg-2026-000007","seq":12})"),
              7u);
    EXPECT_EQ(named_seq_of_line(R"({"grant_id":"","seq":3})"), 0u);
    EXPECT_EQ(seq_of_line(R"({"a":1,"seq":12345,"z":2})"), 12345u);
}

TEST(StoryIndex, ColdBuildWritesASlotForEveryRecord) {
    TempDir dir{"story-index-test"};
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    append_records(*log, nullptr, 95);
    StoryIndexCatchUp caught;
    auto w = StoryIndexWriter::open(dir.path(), &caught);
    ASSERT_TRUE(w) << w.error().message;
    EXPECT_TRUE(caught.rebuilt);
    EXPECT_EQ(caught.why_rebuilt, "missing");
    EXPECT_EQ(caught.records, 95u);
    expect_index_matches_log(dir, 95);
    struct stat st {};
    ASSERT_EQ(::stat(dir.file(kStoryIndexFileName).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // What names grant 21: records 22..30.
    auto reader = StoryIndexReader::open(dir.file(kStoryIndexFileName), first_hash(dir));
    ASSERT_TRUE(reader);
    std::uint64_t hole = 1;
    EXPECT_EQ(reader->naming(21, 21, &hole), (std::vector<std::uint64_t>{22, 23, 24, 25, 26, 27, 28, 29, 30}));
    EXPECT_EQ(hole, 0u);
    // A grant and its request in one pass: each only after itself.
    EXPECT_EQ(reader->naming_either(21, 11, &hole),
              (std::vector<std::uint64_t>{12, 13, 14, 15, 16, 17, 18, 19, 20, 22, 23, 24, 25, 26, 27, 28, 29, 30}));
    EXPECT_EQ(reader->naming_either(91, 0, &hole), (std::vector<std::uint64_t>{92, 93, 94, 95}));
    EXPECT_EQ(hole, 0u);
}

TEST(StoryIndex, AppendsThroughTheRecorderWriteWhatAColdBuildWrites) {
    TempDir dir{"story-index-test"};
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    append_records(*log, nullptr, 7);
    {
        auto w = StoryIndexWriter::open(dir.path(), nullptr);
        ASSERT_TRUE(w) << w.error().message;
        Recorder recorder(*log);
        recorder.subscribe(**w);
        append_records(*log, &recorder, 60);
        EXPECT_EQ((*w)->stopped(), "");
    }
    const std::string incremental = file_bytes(dir.file(kStoryIndexFileName));
    expect_index_matches_log(dir, 67);
    std::filesystem::remove(dir.file(kStoryIndexFileName));
    ASSERT_TRUE(StoryIndexWriter::open(dir.path(), nullptr));
    EXPECT_EQ(file_bytes(dir.file(kStoryIndexFileName)), incremental);
}

TEST(StoryIndex, AnIndexStartedOnAnEmptyLogNamesTheLogAtItsFirstRecord) {
    TempDir dir{"story-index-test"};
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    auto w = StoryIndexWriter::open(dir.path(), nullptr);
    ASSERT_TRUE(w) << w.error().message;
    Recorder recorder(*log);
    recorder.subscribe(**w);
    append_records(*log, &recorder, 12);
    expect_index_matches_log(dir, 12);
}

TEST(StoryIndex, ReopeningResumesAfterTheLastGoodSlot) {
    TempDir dir{"story-index-test"};
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    append_records(*log, nullptr, 30);
    ASSERT_TRUE(StoryIndexWriter::open(dir.path(), nullptr));
    append_records(*log, nullptr, 25);  // written while no daemon kept the index
    StoryIndexCatchUp caught;
    ASSERT_TRUE(StoryIndexWriter::open(dir.path(), &caught));
    EXPECT_FALSE(caught.rebuilt);
    EXPECT_EQ(caught.from_seq, 31u);
    EXPECT_EQ(caught.records, 25u);
    expect_index_matches_log(dir, 55);
}

TEST(StoryIndex, AnUnwrittenSlotIsRewrittenFromThere) {
    TempDir dir{"story-index-test"};
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    append_records(*log, nullptr, 40);
    ASSERT_TRUE(StoryIndexWriter::open(dir.path(), nullptr));
    // What a crash can leave: a slot never written back.
    overwrite_at(dir.file(kStoryIndexFileName), kStoryIndexHeaderBytes + 19 * kStoryIndexSlotBytes,
                 std::string(kStoryIndexSlotBytes, '\0'));
    auto reader = StoryIndexReader::open(dir.file(kStoryIndexFileName), first_hash(dir));
    ASSERT_TRUE(reader);
    std::uint64_t hole = 0;
    (void)reader->naming(11, 11, &hole);
    EXPECT_EQ(hole, 20u);  // readers see it too
    StoryIndexCatchUp caught;
    ASSERT_TRUE(StoryIndexWriter::open(dir.path(), &caught));
    EXPECT_FALSE(caught.rebuilt);
    EXPECT_EQ(caught.from_seq, 20u);
    expect_index_matches_log(dir, 40);
}

TEST(StoryIndex, ALastSlotPointingAtTheWrongLineRebuildsTheIndex) {
    TempDir dir{"story-index-test"};
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    append_records(*log, nullptr, 40);
    ASSERT_TRUE(StoryIndexWriter::open(dir.path(), nullptr));
    const std::string index = file_bytes(dir.file(kStoryIndexFileName));
    // Slot 40 takes slot 39's offset.
    overwrite_at(dir.file(kStoryIndexFileName), kStoryIndexHeaderBytes + 39 * kStoryIndexSlotBytes,
                 index.substr(kStoryIndexHeaderBytes + 38 * kStoryIndexSlotBytes, 8));
    StoryIndexCatchUp caught;
    ASSERT_TRUE(StoryIndexWriter::open(dir.path(), &caught));
    EXPECT_TRUE(caught.rebuilt);
    EXPECT_NE(caught.why_rebuilt.find("does not point at that record"), std::string::npos) << caught.why_rebuilt;
    expect_index_matches_log(dir, 40);
}

TEST(StoryIndex, AnotherLogsIndexIsRefusedByReadersAndRebuilt) {
    TempDir dir{"story-index-test"};
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    append_records(*log, nullptr, 20);
    ASSERT_TRUE(StoryIndexWriter::open(dir.path(), nullptr));
    overwrite_at(dir.file(kStoryIndexFileName), 32, "0123456789abcdef");
    EXPECT_FALSE(StoryIndexReader::open(dir.file(kStoryIndexFileName), first_hash(dir)));
    StoryIndexCatchUp caught;
    ASSERT_TRUE(StoryIndexWriter::open(dir.path(), &caught));
    EXPECT_TRUE(caught.rebuilt);
    EXPECT_NE(caught.why_rebuilt.find("another log"), std::string::npos);
    expect_index_matches_log(dir, 20);
}

TEST(StoryIndex, AnIndexThroughALinkIsRefused) {
    TempDir dir{"story-index-test"};
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    append_records(*log, nullptr, 5);
    ASSERT_EQ(::symlink("/etc/passwd", dir.file(kStoryIndexFileName).c_str()), 0);
    EXPECT_FALSE(StoryIndexWriter::open(dir.path(), nullptr));
    EXPECT_FALSE(StoryIndexReader::open(dir.file(kStoryIndexFileName), first_hash(dir)));
}

}  // namespace
}  // namespace bg::audit
