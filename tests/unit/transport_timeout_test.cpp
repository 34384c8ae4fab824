// SPDX-License-Identifier: ISC
// A front-end's call to a daemon that hangs ends in bounded time, with a
// message that says which wait ran out. Real AF_UNIX SOCK_SEQPACKET listeners
// from the test fixture (tests/support/silent_listener.hpp): one whose listen
// queue is full and that never accepts, one that never answers. Each call runs in a forked child with an
// alarm, so a call that hangs fails the test instead of hanging it.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "common/file_io.hpp"
#include "common/protocol.hpp"
#include "common/transport.hpp"
#include "tests/support/silent_listener.hpp"

namespace bg::proto {
namespace {

using test::SilentListener;

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct TimedCall {
    bool finished = false;  // false: the call did not return within the alarm
    bool answered = false;
    bool unreachable = false;
    bool timed_out = false;
    std::string error;
    std::chrono::milliseconds took{0};
};

// call() in a forked child under alarm(limit_s); the child reports through a pipe.
TimedCall call_in_child(const std::string& socket, int answer_ms, int connect_ms, unsigned limit_s = 8,
                        const std::function<void()>& in_parent_meanwhile = {}) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    const auto start = Clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        ::alarm(limit_s);
        const CallResult r = call(socket, CheckRequest{"", "g"}, MessageType::CheckAnswer, answer_ms, connect_ms);
        const std::string report = std::string(r.answer ? "1" : "0") + (r.unreachable ? "1" : "0") +
                                   (r.timed_out ? "1" : "0") + r.error;
        (void)!::write(fds[1], report.data(), report.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    if (in_parent_meanwhile) in_parent_meanwhile();
    std::string report;
    char buf[1024];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) report.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    TimedCall out;
    out.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    out.finished = WIFEXITED(status) && report.size() >= 3;
    if (!out.finished) return out;
    out.answered = report[0] == '1';
    out.unreachable = report[1] == '1';
    out.timed_out = report[2] == '1';
    out.error = report.substr(3);
    return out;
}

TEST(TransportTimeout, AListenerThatAcceptsNothingFailsTheConnectAtItsDeadline) {
    SilentListener listener(0);
    listener.fill_queue();
    const TimedCall r = call_in_child(listener.path(), 10'000, 400);
    ASSERT_TRUE(r.finished) << "the call hung (killed by the alarm after 8 s)";
    EXPECT_FALSE(r.answered);
    EXPECT_TRUE(r.unreachable);
    EXPECT_TRUE(r.timed_out);
    EXPECT_NE(r.error.find("did not accept the connection within 400 ms"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("running but not accepting"), std::string::npos) << r.error;
    EXPECT_GE(r.took, 390ms);
    EXPECT_LT(r.took, 3000ms);
}

TEST(TransportTimeout, AListenerThatNeverAnswersFailsAtTheAnswerDeadline) {
    SilentListener listener(8);  // room in the queue: connect and send succeed, nothing reads
    const TimedCall r = call_in_child(listener.path(), 300, 5'000);
    ASSERT_TRUE(r.finished) << "the call hung (killed by the alarm after 8 s)";
    EXPECT_FALSE(r.answered);
    EXPECT_FALSE(r.unreachable);
    EXPECT_TRUE(r.timed_out);
    EXPECT_NE(r.error.find("no answer from breakglassd: no answer within 300 ms"), std::string::npos) << r.error;
    EXPECT_GE(r.took, 290ms);
    EXPECT_LT(r.took, 3000ms);
}

// A full queue that frees up: the waiting connect goes through at once, not
// at its deadline (the answer then times out: nothing reads the request).
TEST(TransportTimeout, AConnectWaitingOnAFullQueueGoesThroughWhenRoomAppears) {
    SilentListener listener(0);
    listener.fill_queue();
    const TimedCall r = call_in_child(listener.path(), 200, 6'000, 8, [&] {
        std::this_thread::sleep_for(300ms);
        listener.accept_one();
    });
    ASSERT_TRUE(r.finished) << "the call hung (killed by the alarm after 8 s)";
    EXPECT_FALSE(r.unreachable) << r.error;
    EXPECT_NE(r.error.find("no answer within 200 ms"), std::string::npos) << r.error;
    EXPECT_LT(r.took, 3000ms) << "the connect waited for its deadline instead of the free slot";
}

TEST(TransportTimeout, DescribesWaits) {
    EXPECT_EQ(describe_wait(10'000), "10 s");
    EXPECT_EQ(describe_wait(3'000), "3 s");
    EXPECT_EQ(describe_wait(300), "300 ms");
    EXPECT_EQ(describe_wait(1'500), "1500 ms");
}

}  // namespace
}  // namespace bg::proto
