// SPDX-License-Identifier: ISC
// StateWriter: jobs run in order on its thread, a checkpoint waiting to be
// written is replaced by a newer one, failures come back to the loop, and
// nothing queued is lost at destruction.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unistd.h>

#include "helper/daemon/state_writer.hpp"

namespace bg {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class StateWriterTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = "/var/tmp/bg-writer-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string dir_;
};

TEST_F(StateWriterTest, ANewerCheckpointReplacesOneStillWaitingAndOnlyTheLatestIsWritten) {
    StateWriter writer;
    // Hold the thread in a job so the checkpoints queue behind it.
    std::mutex m;
    std::condition_variable cv;
    bool release = false;
    std::atomic<int> ran{0};
    writer.post("hold", [&] {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return release; });
        return Status{Ok{}};
    });
    const std::string path = dir_ + "/state.json";
    // The first one could not even be written (no such directory): had it
    // been tried, a failure would be on record.
    writer.checkpoint(dir_ + "/no-such-dir/state.json", "first\n");
    writer.checkpoint(path, "second\n");
    writer.post("count", [&] {
        ++ran;
        // The latest checkpoint was written before this job, the first never.
        return read_file(path) == "second\n" ? Status{Ok{}} : Status{make_error("checkpoint missing: " + read_file(path))};
    });
    {
        std::lock_guard lock(m);
        release = true;
    }
    cv.notify_all();
    writer.drain();
    EXPECT_EQ(ran.load(), 1);
    EXPECT_EQ(read_file(path), "second\n");
    EXPECT_TRUE(writer.take_failures().empty());
}

TEST_F(StateWriterTest, FailuresAreReportedOnceWithWhatFailed) {
    StateWriter writer;
    writer.checkpoint(dir_ + "/no-such-dir/state.json", "x\n");
    writer.post("seal key sync", [] { return Status{make_error("fdatasync: Input/output error")}; });
    writer.drain();
    const auto failures = writer.take_failures();
    ASSERT_EQ(failures.size(), 2u);
    EXPECT_EQ(failures[0].rfind("checkpoint: cannot write " + dir_ + "/no-such-dir/state.json.tmp", 0), 0u) << failures[0];
    EXPECT_EQ(failures[1], "seal key sync: fdatasync: Input/output error");
    EXPECT_TRUE(writer.take_failures().empty());
}

TEST_F(StateWriterTest, WhatIsQueuedAtDestructionIsStillWritten) {
    const std::string path = dir_ + "/state.json";
    {
        StateWriter writer;
        writer.post("slow", [] {
            ::usleep(50'000);
            return Status{Ok{}};
        });
        writer.checkpoint(path, "last\n");
    }
    EXPECT_EQ(read_file(path), "last\n");
}

}  // namespace
}  // namespace bg
