// SPDX-License-Identifier: ISC
// The list of grant ends whose records are not in the audit log yet
// (helper/daemon/unrecorded_ends.hpp): it survives reopening, a write torn by
// a crash leaves the previous list in force, damage to both copies is
// refused, and a list too long for a slot keeps every grant id and time.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "helper/daemon/unrecorded_ends.hpp"

namespace bg {
namespace {

class UnrecordedEndsTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = "/var/tmp/bg-ends-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string file() const { return dir_ + "/" + std::string(UnrecordedEnds::kFileName); }
    static UnrecordedEnd end_of(const std::string& id, std::int64_t at = 1'800'000'000) {
        return {id, "revoke", at, "root", 0, -1, "revoked: done", "No space left on device"};
    }
    // Overwrites `n` bytes at `offset` of the file with `byte`.
    void scribble(off_t offset, std::size_t n, char byte) const {
        const int fd = ::open(file().c_str(), O_WRONLY | O_CLOEXEC);
        ASSERT_GE(fd, 0);
        const std::string bytes(n, byte);
        ASSERT_EQ(::pwrite(fd, bytes.data(), n, offset), static_cast<ssize_t>(n));
        ::close(fd);
    }
    std::string dir_;
};

TEST_F(UnrecordedEndsTest, AFreshFileIsPreallocatedEmptyAndPrivate) {
    auto ends = UnrecordedEnds::open(dir_);
    ASSERT_TRUE(ends.ok()) << ends.error().message;
    EXPECT_TRUE(ends->empty());
    EXPECT_TRUE(ends->has_file());
    struct stat st {};
    ASSERT_EQ(::stat(file().c_str(), &st), 0);
    EXPECT_EQ(static_cast<std::size_t>(st.st_size), 2 * UnrecordedEnds::kSlotBytes);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(UnrecordedEndsTest, EndsSurviveReopeningUntilRemoved) {
    {
        auto ends = UnrecordedEnds::open(dir_);
        ASSERT_TRUE(ends.ok());
        ASSERT_TRUE(ends->add(end_of("bg-2027-000001")).ok());
        ASSERT_TRUE(ends->add(end_of("bg-2027-000002", 1'800'000'005)).ok());
        ASSERT_TRUE(ends->remove("bg-2027-000001").ok());
    }
    auto again = UnrecordedEnds::open(dir_);
    ASSERT_TRUE(again.ok()) << again.error().message;
    ASSERT_EQ(again->ends().size(), 1u);
    EXPECT_EQ(again->ends()[0].grant_id, "bg-2027-000002");
    EXPECT_EQ(again->ends()[0].at, 1'800'000'005);
    EXPECT_EQ(again->ends()[0].why, "No space left on device");
}

TEST_F(UnrecordedEndsTest, AWriteTornByACrashLeavesThePreviousListInForce) {
    {
        auto ends = UnrecordedEnds::open(dir_);
        ASSERT_TRUE(ends.ok());
        ASSERT_TRUE(ends->add(end_of("bg-2027-000001")).ok());  // generation 1: second slot
        ASSERT_TRUE(ends->add(end_of("bg-2027-000002")).ok());  // generation 2: first slot
    }
    // The write of generation 2 torn half-way: its slot no longer checks out.
    scribble(100, 50, 'x');
    auto again = UnrecordedEnds::open(dir_);
    ASSERT_TRUE(again.ok()) << again.error().message;
    ASSERT_EQ(again->ends().size(), 1u);
    EXPECT_EQ(again->ends()[0].grant_id, "bg-2027-000001");
}

TEST_F(UnrecordedEndsTest, BothCopiesDamagedIsRefused) {
    {
        auto ends = UnrecordedEnds::open(dir_);
        ASSERT_TRUE(ends.ok());
        ASSERT_TRUE(ends->add(end_of("bg-2027-000001")).ok());
        ASSERT_TRUE(ends->add(end_of("bg-2027-000002")).ok());
    }
    scribble(100, 50, 'x');
    scribble(static_cast<off_t>(UnrecordedEnds::kSlotBytes) + 100, 50, 'x');
    auto again = UnrecordedEnds::open(dir_);
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.error().message.find("is damaged"), std::string::npos) << again.error().message;
}

TEST_F(UnrecordedEndsTest, AListTooLongForASlotKeepsEveryGrantAndTime) {
    auto ends = UnrecordedEnds::open(dir_);
    ASSERT_TRUE(ends.ok());
    for (int i = 0; i < 100; ++i) {
        UnrecordedEnd e = end_of("bg-2027-" + std::to_string(100000 + i), 1'800'000'000 + i);
        e.detail = "revoked: " + std::string(1000, 'r');
        ASSERT_TRUE(ends->add(e).ok()) << i;
    }
    auto again = UnrecordedEnds::open(dir_);
    ASSERT_TRUE(again.ok()) << again.error().message;
    ASSERT_EQ(again->ends().size(), 100u);
    EXPECT_EQ(again->ends()[0].detail, "(detail not kept: too many ends were waiting)");
    EXPECT_EQ(again->ends()[99].at, 1'800'000'099);
    EXPECT_EQ(again->ends()[99].detail, "revoked: " + std::string(1000, 'r'));
}

TEST_F(UnrecordedEndsTest, AFileOthersMayReadIsRefused) {
    { ASSERT_TRUE(UnrecordedEnds::open(dir_).ok()); }
    ASSERT_EQ(::chmod(file().c_str(), 0644), 0);
    auto again = UnrecordedEnds::open(dir_);
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.error().message.find("group or others"), std::string::npos) << again.error().message;
}

TEST(UnrecordedEndsSlot, ParsesWhatItRendersAndToldApartWhatItDidNot) {
    UnrecordedEnd e;
    e.grant_id = "bg-2026-000004";
    e.event = "revoke";
    e.at = 1764590000;
    e.actor = "root";
    e.peer_uid = 0;
    e.detail = "revoked: done \\ \"quoted\"";
    e.why = "No space left on device";
    const std::string line = render_ends_slot(7, {e});
    const EndsSlot slot = parse_ends_slot(line + std::string(100, '\0'));
    ASSERT_TRUE(slot.valid);
    EXPECT_EQ(slot.generation, 7u);
    ASSERT_EQ(slot.ends.size(), 1u);
    EXPECT_EQ(slot.ends[0].detail, e.detail);
    EXPECT_EQ(slot.ends[0].at, e.at);
    // Never written: all zero bytes.
    const EndsSlot zeros = parse_ends_slot(std::string(64, '\0'));
    EXPECT_TRUE(zeros.never_written);
    EXPECT_FALSE(zeros.valid);
    // Torn: cut before its newline; a changed byte fails the check.
    const EndsSlot torn = parse_ends_slot(line.substr(0, line.size() / 2));
    EXPECT_FALSE(torn.valid);
    EXPECT_FALSE(torn.never_written);
    std::string changed = line;
    changed[changed.find("1764590000")] = '2';
    EXPECT_FALSE(parse_ends_slot(changed).valid);
}

}  // namespace
}  // namespace bg
