// SPDX-License-Identifier: ISC
// The audit reserve (helper/audit/disk_reserve.hpp): allocated whole, given
// up a step at a time, grown back, and an insecure file refused.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "helper/audit/disk_reserve.hpp"

namespace bg::audit {
namespace {

class DiskReserveTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = "/var/tmp/bg-reserve-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    off_t size_on_disk() const {
        struct stat st {};
        return ::stat((dir_ + "/audit.reserve").c_str(), &st) == 0 ? st.st_size : -1;
    }
    std::string dir_;
};

TEST_F(DiskReserveTest, IsAllocatedWholeGivenUpStepByStepAndGrownBack) {
    auto reserve = DiskReserve::open(dir_);
    ASSERT_TRUE(reserve.ok()) << reserve.error().message;
    EXPECT_FALSE(reserve->whole());
    ASSERT_TRUE(reserve->refill().ok());
    EXPECT_TRUE(reserve->whole());
    EXPECT_EQ(size_on_disk(), DiskReserve::kReserveBytes);
    ASSERT_TRUE(reserve->release());
    EXPECT_FALSE(reserve->whole());
    EXPECT_EQ(reserve->held(), DiskReserve::kReserveBytes - DiskReserve::kReleaseStep);
    EXPECT_EQ(size_on_disk(), DiskReserve::kReserveBytes - DiskReserve::kReleaseStep);
    ASSERT_TRUE(reserve->refill().ok());
    EXPECT_TRUE(reserve->whole());
}

TEST_F(DiskReserveTest, AReserveSomeoneEmptiedHasNothingToRelease) {
    auto reserve = DiskReserve::open(dir_);
    ASSERT_TRUE(reserve.ok());
    ASSERT_TRUE(reserve->refill().ok());
    ASSERT_EQ(::truncate((dir_ + "/audit.reserve").c_str(), 0), 0);
    EXPECT_FALSE(reserve->release());
    EXPECT_EQ(reserve->held(), 0);
}

TEST_F(DiskReserveTest, AFileOthersMayReadIsRefused) {
    { ASSERT_TRUE(DiskReserve::open(dir_).ok()); }
    ASSERT_EQ(::chmod((dir_ + "/audit.reserve").c_str(), 0640), 0);
    auto again = DiskReserve::open(dir_);
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.error().message.find("group or others"), std::string::npos) << again.error().message;
}

TEST(OutOfSpace, IsAFullDiskOrAnExhaustedQuota) {
    EXPECT_TRUE(is_out_of_space(ENOSPC));
    EXPECT_TRUE(is_out_of_space(EDQUOT));
    EXPECT_FALSE(is_out_of_space(EIO));
    EXPECT_FALSE(is_out_of_space(0));
}

}  // namespace
}  // namespace bg::audit
