// SPDX-License-Identifier: ISC
// The shipper's reader of the audit log (helper/ship/log_tail): in order from
// any cursor, bounded batches, never past the durable seq, never a torn line.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "helper/audit/audit_log.hpp"
#include "helper/ship/log_tail.hpp"
#include "tests/support/run_directory.hpp"

namespace bg::ship {
namespace {

constexpr std::int64_t kNow = 1781498047;

void fill(audit::AuditLog& log, int n) {
    for (int i = 0; i < n; ++i) {
        audit::RecordFields f;
        f.event = "command";
        f.actor = "alice";
        f.reason = "r" + std::to_string(i);
        ASSERT_TRUE(log.append(f, kNow + i, audit::Durability::Deferred));
    }
    ASSERT_TRUE(log.flush());
}

TEST(ShipLogTail, ReadsInOrderFromAnyCursorInBoundedBatches) {
    test::ScratchDir dir("tail");
    ::chmod(dir.path().c_str(), 0700);
    auto log = audit::AuditLog::open(dir.path(), "bastion-1");
    ASSERT_TRUE(log) << log.error().message;
    fill(**log, 500);
    auto tail = LogTail::open((*log)->path());
    ASSERT_TRUE(tail);
    std::uint64_t after = 0;
    int batches = 0;
    while (after < 500) {
        auto b = tail->read(after, 500, 64, 1 << 20);
        ASSERT_TRUE(b) << b.error().message;
        ASSERT_FALSE(b->empty());
        EXPECT_LE(b->size(), 64u);
        for (const Entry& e : *b) {
            EXPECT_EQ(e.record.seq, ++after);
            EXPECT_EQ(audit::canonical_json(e.record), e.line);
        }
        ++batches;
    }
    EXPECT_EQ(batches, 8);
    // Another cursor: found by search, not by reading from the start.
    auto mid = tail->read(321, 500, 3, 1 << 20);
    ASSERT_TRUE(mid);
    ASSERT_EQ(mid->size(), 3u);
    EXPECT_EQ(mid->front().record.seq, 322u);
    // Never past what is durable, and nothing when nothing is new.
    auto capped = tail->read(10, 12, 100, 1 << 20);
    ASSERT_TRUE(capped);
    EXPECT_EQ(capped->size(), 2u);
    auto none = tail->read(500, 500, 100, 1 << 20);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
    // The byte bound: at least one record, then stop once it is reached.
    auto small = tail->read(0, 500, 100, 10);
    ASSERT_TRUE(small);
    EXPECT_EQ(small->size(), 1u);
}

TEST(ShipLogTail, AHalfWrittenLineWaitsAndADamagedOneIsAnError) {
    test::ScratchDir dir("tail");
    ::chmod(dir.path().c_str(), 0700);
    std::string path;
    {
        auto log = audit::AuditLog::open(dir.path(), "bastion-1");
        ASSERT_TRUE(log);
        fill(**log, 3);
        path = (*log)->path();
    }
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "{\"action\"", 9), 9);
    auto tail = LogTail::open(path);
    ASSERT_TRUE(tail);
    auto b = tail->read(0, 10, 100, 1 << 20);
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_EQ(b->size(), 3u) << "the torn tail is not a record yet";
    ASSERT_EQ(::write(fd, "garbage\n", 8), 8);
    ::close(fd);
    auto damaged = tail->read(3, 10, 100, 1 << 20);
    ASSERT_FALSE(damaged);
    EXPECT_NE(damaged.error().message.find("after seq 3"), std::string::npos) << damaged.error().message;
}

}  // namespace
}  // namespace bg::ship
