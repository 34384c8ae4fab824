// SPDX-License-Identifier: ISC
// common/callback_guard.hpp: nothing thrown crosses it, the recovery runs
// exactly when the body threw, and a throwing thread body is run again.
#include <gtest/gtest.h>

#include <new>
#include <stdexcept>

#include "common/callback_guard.hpp"

namespace bg {
namespace {

TEST(CallbackGuard, ReturnsWhatTheBodyReturnsAndSkipsTheRecovery) {
    int recovered = 0;
    EXPECT_EQ(guarded("test", [] { return 7; }, [&] { ++recovered; }), 7);
    EXPECT_EQ(recovered, 0);
}

TEST(CallbackGuard, AnAllocationFailureRunsTheRecoveryAndReturnsFailed) {
    int recovered = 0;
    testing::internal::CaptureStderr();
    const int r = guarded(
        "the test callback", []() -> int { throw std::bad_alloc(); }, [&] { ++recovered; }, -5);
    const std::string said = testing::internal::GetCapturedStderr();
    EXPECT_EQ(r, -5);
    EXPECT_EQ(recovered, 1);
    EXPECT_NE(said.find("<2>breakglassd: the test callback failed (out of memory); the daemon goes on"),
              std::string::npos)
        << said;
}

TEST(CallbackGuard, AnyExceptionAndAThrowingRecoveryStayInside) {
    testing::internal::CaptureStderr();
    EXPECT_EQ(guarded(
                  "x", []() -> int { throw std::runtime_error("boom"); }, [] { throw 1; }, 3),
              3);
    guarded("void body", [] { throw 42; }, [] {});
    const std::string said = testing::internal::GetCapturedStderr();
    EXPECT_NE(said.find("x failed (boom)"), std::string::npos) << said;
    EXPECT_NE(said.find("x failed (its recovery threw as well)"), std::string::npos) << said;
    EXPECT_NE(said.find("void body failed (an unknown exception)"), std::string::npos) << said;
}

TEST(CallbackGuard, AThreadBodyThatThrowsIsRunAgainUntilItReturns) {
    int runs = 0;
    testing::internal::CaptureStderr();
    run_guarded("the test thread", [&] {
        if (++runs < 2) throw std::bad_alloc();
    });
    testing::internal::GetCapturedStderr();
    EXPECT_EQ(runs, 2);
}

}  // namespace
}  // namespace bg
