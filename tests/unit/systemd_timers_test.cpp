// SPDX-License-Identifier: ISC
// The pure halves of the per-grant systemd timers: unit names and the
// OnCalendar= text. The timers themselves run under a booted systemd in
// tests/system.
#include <gtest/gtest.h>

#include "helper/revocation/systemd_timers.hpp"

namespace {

using bg::timers::on_calendar_utc;
using bg::timers::unit_base_name;

TEST(SystemdTimers, UnitNameCarriesTheGrantId) {
    EXPECT_EQ(unit_base_name("bg-2026-000123"), "breakglass-expire-bg-2026-000123");
}

TEST(SystemdTimers, UnitNameRefusesWhatAUnitNameMayNotHold) {
    EXPECT_FALSE(unit_base_name(""));
    EXPECT_FALSE(unit_base_name("bg 1"));
    EXPECT_FALSE(unit_base_name("bg/1"));
    EXPECT_FALSE(unit_base_name("bg-1\n"));
    EXPECT_FALSE(unit_base_name("bg-\xc3\xa9"));
    EXPECT_FALSE(unit_base_name(std::string(65, 'a')));
    EXPECT_TRUE(unit_base_name(std::string(64, 'a')));
}

TEST(SystemdTimers, OnCalendarIsUtcToTheSecond) {
    EXPECT_EQ(on_calendar_utc(0), "1970-01-01 00:00:00 UTC");
    EXPECT_EQ(on_calendar_utc(1796053207), "2026-11-30 15:40:07 UTC");
    EXPECT_EQ(on_calendar_utc(1782098047), "2026-06-22 03:14:07 UTC");
}

}  // namespace
