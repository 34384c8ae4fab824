// SPDX-License-Identifier: ISC
// The Recorder hands each durable record to its subscribers in order, and
// none a record that failed; the JournalMirror sends what it is given on its
// own thread, in order, bounded: a full queue drops (and counts) instead of
// growing, and a stuck journald never blocks the caller.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include <unistd.h>

#include "helper/audit/journal_mirror.hpp"
#include "helper/audit/recorder.hpp"
#include "tests/support/scratch_files.hpp"

namespace bg::audit {
namespace {

using test::TempDir;

using namespace std::chrono_literals;

struct Collect final : RecordSubscriber {
    std::vector<std::string> seen;
    std::string name;
    std::vector<std::string>* order = nullptr;
    void recorded(const Record& r) override {
        seen.push_back(r.event_id);
        if (order) order->push_back(name);
    }
};

RecordFields fields(const std::string& event) {
    RecordFields f;
    f.event = event;
    f.actor = "alice";
    return f;
}

TEST(Recorder, SubscribersSeeEachRecordInSubscriptionOrderAndNoFailedOne) {
    TempDir dir{"recorder-test"};
    auto log = AuditLog::open(dir.path(), "host");
    ASSERT_TRUE(log.ok()) << log.error().message;
    Recorder recorder(**log);
    std::vector<std::string> order;
    Collect first, second;
    first.name = "first";
    second.name = "second";
    first.order = second.order = &order;
    recorder.subscribe(first);
    recorder.subscribe(second);
    auto a = recorder.append(fields("grant"), 1'800'000'000);
    ASSERT_TRUE(a.ok());
    auto b = recorder.append(fields("session_close"), 1'800'000'001, Durability::Deferred);
    ASSERT_TRUE(b.ok());
    EXPECT_FALSE(recorder.append(fields("Not-An-Event"), 1'800'000'002).ok());
    EXPECT_EQ(first.seen, (std::vector<std::string>{a->event_id, b->event_id}));
    EXPECT_EQ(second.seen, first.seen);
    EXPECT_EQ(order, (std::vector<std::string>{"first", "second", "first", "second"}));
    EXPECT_EQ((*log)->last_seq(), 2u);
}

// A subscriber that runs out of memory on chosen records, as the system
// test's allocation faults make the grant store do.
struct Failing final : RecordSubscriber {
    std::vector<std::uint64_t> seen;
    int failures_left = 0;
    void recorded(const Record& r) override {
        if (failures_left > 0) {
            --failures_left;
            throw std::bad_alloc();
        }
        seen.push_back(r.seq);
    }
};

TEST(Recorder, ASubscriberThatThrowsFallsBehindAndCatchesUpFromTheLogInOrder) {
    TempDir dir{"recorder-behind-test"};
    auto log = AuditLog::open(dir.path(), "host");
    ASSERT_TRUE(log.ok()) << log.error().message;
    Recorder recorder(**log);
    Collect before;
    Failing failing;
    Collect after;
    recorder.subscribe(before);
    recorder.subscribe(failing);
    recorder.subscribe(after);

    // Record 1 fails, and so does append()'s own try to catch up at once.
    failing.failures_left = 2;
    auto a = recorder.append(fields("grant"), 1'800'000'000);
    ASSERT_TRUE(a.ok()) << "the record is in the log whatever a subscriber does";
    EXPECT_TRUE(recorder.behind());
    EXPECT_TRUE(recorder.behind(failing));
    EXPECT_FALSE(recorder.behind(before));
    EXPECT_TRUE(failing.seen.empty());
    // The others were told, the one after the failing one too.
    EXPECT_EQ(before.seen.size(), 1u);
    EXPECT_EQ(after.seen.size(), 1u);

    // Record 2: the behind one is not told it ahead of record 1; the
    // catch-up append() tries tells it both, in order.
    auto b = recorder.append(fields("revoke"), 1'800'000'001);
    ASSERT_TRUE(b.ok());
    EXPECT_FALSE(recorder.behind());
    EXPECT_EQ(failing.seen, (std::vector<std::uint64_t>{1, 2}));
    EXPECT_EQ(before.seen.size(), 2u);
    EXPECT_EQ(after.seen.size(), 2u);

    // A failure during catch_up() leaves it behind at the record it missed.
    failing.failures_left = 2;
    auto c = recorder.append(fields("grant"), 1'800'000'002);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(recorder.behind(failing));
    const Status caught = recorder.catch_up();
    ASSERT_TRUE(caught.ok()) << caught.error().message;
    EXPECT_FALSE(recorder.behind());
    EXPECT_EQ(failing.seen, (std::vector<std::uint64_t>{1, 2, 3}));
    EXPECT_EQ(before.seen.size(), 3u);
}

// A send that blocks until released, like a stuck journald.
struct Gate {
    std::mutex m;
    std::condition_variable cv;
    bool open = false;
    std::vector<std::uint64_t> sent;
    void send(const Record& r) {
        std::unique_lock lock(m);
        cv.wait(lock, [this] { return open; });
        sent.push_back(r.seq);
    }
    void release() {
        {
            std::lock_guard lock(m);
            open = true;
        }
        cv.notify_all();
    }
    std::size_t count() {
        std::lock_guard lock(m);
        return sent.size();
    }
};

Record record(std::uint64_t seq) {
    Record r;
    r.seq = seq;
    r.event = "grant";
    return r;
}

TEST(JournalMirror, AStuckJournalNeverBlocksTheCallerAndAFullQueueCountsWhatItDrops) {
    Gate gate;
    JournalMirror mirror([&](const Record& r) { gate.send(r); }, /*queue_limit=*/4);
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t seq = 1; seq <= 10; ++seq) {
        mirror.recorded(record(seq));
        mirror.wake();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s) << "recorded() waited for journald";
    // One is being sent (stuck), four wait, the rest were dropped and counted.
    EXPECT_GE(mirror.dropped(), 5u);
    EXPECT_LE(mirror.queued(), 4u);
    gate.release();
    mirror.stop(5000);
    EXPECT_EQ(gate.count() + mirror.dropped(), 10u);
    // What was sent went in order.
    std::lock_guard lock(gate.m);
    for (std::size_t i = 1; i < gate.sent.size(); ++i) EXPECT_LT(gate.sent[i - 1], gate.sent[i]);
}

TEST(JournalMirror, SendsWhatItIsGivenOnceWokenAndDrainsAtStop) {
    std::mutex m;
    std::vector<std::uint64_t> sent;
    JournalMirror mirror([&](const Record& r) {
        std::lock_guard lock(m);
        sent.push_back(r.seq);
    });
    for (std::uint64_t seq = 1; seq <= 3; ++seq) mirror.recorded(record(seq));
    mirror.wake();
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    for (;;) {
        {
            std::lock_guard lock(m);
            if (sent.size() == 3) break;
        }
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "woken, but nothing was sent";
        std::this_thread::sleep_for(1ms);
    }
    for (std::uint64_t seq = 4; seq <= 6; ++seq) mirror.recorded(record(seq));  // no wake: stop() drains them
    mirror.stop(5000);
    EXPECT_EQ(sent, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(mirror.dropped(), 0u);
}

}  // namespace
}  // namespace bg::audit
