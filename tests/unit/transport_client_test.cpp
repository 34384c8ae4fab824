// SPDX-License-Identifier: ISC
// proto::Client, the kept connection the sudo plugin uses for a whole sudo run:
// one connection for requests in turn, close-on-exec, a new connection once the
// kept one is too old to trust or has failed, a request resent only when it
// provably never reached the daemon. Against a scripted daemon in this
// process: a real AF_UNIX SOCK_SEQPACKET listener (in a scratch directory of
// the run) on a thread, answering each CheckRequest with a CheckAnswer whose
// event_id is the request's number.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <poll.h>
#include <stdexcept>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include "common/file_io.hpp"
#include "common/protocol.hpp"
#include "common/transport.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/run_directory.hpp"

namespace bg::proto {
namespace {

using namespace std::chrono_literals;

struct Script {
    int close_after_answers = 0;   // > 0: close a connection after this many answers (an idle close)
    int drop_request = 0;          // > 0: close, unanswered, on receiving the request with this number
    int late_request = 0;          // > 0: answer the request with this number only after late_by
    std::chrono::milliseconds late_by{0};
};

class ScriptedDaemon {
public:
    explicit ScriptedDaemon(Script script) : script_(script) {
        listener_ = UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
        wake_ = UniqueFd(::eventfd(0, EFD_CLOEXEC));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
        if (!listener_.valid() || !wake_.valid() ||
            ::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listener_.get(), 8) != 0)
            throw std::runtime_error(std::string("scripted daemon: ") + std::strerror(errno));
        thread_ = std::thread([this] { serve(); });
    }
    ~ScriptedDaemon() {
        const std::uint64_t one = 1;
        (void)!::write(wake_.get(), &one, sizeof one);
        thread_.join();
    }

    const std::string& path() const { return path_; }
    int accepted() const { return accepted_; }
    int requests() const { return requests_; }
    int closed() const { return closed_; }

private:
    // One connection at a time, as a front-end makes them.
    void serve() {
        for (;;) {
            pollfd p[2] = {{wake_.get(), POLLIN, 0}, {listener_.get(), POLLIN, 0}};
            if (::poll(p, 2, -1) < 0 || p[0].revents != 0) return;
            UniqueFd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
            if (!c.valid()) continue;
            ++accepted_;
            if (!converse(c.get())) return;
            c.reset();
            ++closed_;
        }
    }
    // False: asked to stop.
    bool converse(int fd) {
        for (int answers = 0;;) {
            pollfd p[2] = {{wake_.get(), POLLIN, 0}, {fd, POLLIN, 0}};
            if (::poll(p, 2, -1) < 0 || p[0].revents != 0) return false;
            Received r = receive_message(fd, 0);
            if (!r.message) return true;  // the client closed
            const int number = ++requests_;
            if (number == script_.drop_request) return true;
            if (number == script_.late_request) std::this_thread::sleep_for(script_.late_by);
            CheckAnswer a;
            a.active = true;
            a.event_id = std::to_string(number);
            if (!send_message(fd, a)) return true;
            if (script_.close_after_answers > 0 && ++answers == script_.close_after_answers) return true;
        }
    }

    Script script_;
    test::ScratchDir dir_{"scripted-daemon"};
    std::string path_ = dir_.path() + "/socket";
    UniqueFd listener_, wake_;
    std::atomic<int> accepted_{0}, requests_{0}, closed_{0};
    std::thread thread_;
};

// The event_id of the CheckAnswer, "" when the call got none.
std::string answer_of(const CallResult& r) {
    if (!r.answer) return "";
    const auto* a = std::get_if<CheckAnswer>(&*r.answer);
    return a != nullptr ? a->event_id : "";
}

CallResult check(Client& client, int timeout_ms = kDefaultTimeoutMs) {
    return client.call(CheckRequest{"", "g"}, MessageType::CheckAnswer, timeout_ms);
}

TEST(TransportClient, KeepsOneConnectionForRequestsInTurn) {
    ScriptedDaemon daemon({});
    Client client(daemon.path());
    for (const char* expected : {"1", "2", "3"}) EXPECT_EQ(answer_of(check(client)), expected);
    EXPECT_EQ(client.connections_made(), 1);
    EXPECT_EQ(daemon.accepted(), 1);
}

// A command the front-end's host runs (sudo's) must not inherit the connection.
TEST(TransportClient, TheKeptConnectionIsCloseOnExec) {
    ScriptedDaemon daemon({});
    Client client(daemon.path());
    ASSERT_EQ(answer_of(check(client)), "1");
    ASSERT_GE(client.descriptor(), 0);
    const int flags = ::fcntl(client.descriptor(), F_GETFD);
    ASSERT_GE(flags, 0);
    EXPECT_NE(flags & FD_CLOEXEC, 0);
}

TEST(TransportClient, ConnectsAnewOnceTheKeptConnectionIsOlderThanTheReuseLimit) {
    ScriptedDaemon daemon({});
    Client client(daemon.path(), kConnectTimeoutMs, /*reuse_idle_ms=*/100);
    EXPECT_EQ(answer_of(check(client)), "1");
    EXPECT_EQ(answer_of(check(client)), "2");
    EXPECT_EQ(client.connections_made(), 1);
    std::this_thread::sleep_for(150ms);
    EXPECT_EQ(answer_of(check(client)), "3");
    EXPECT_EQ(client.connections_made(), 2);
    EXPECT_EQ(daemon.accepted(), 2);
    static_assert(kReuseIdleMs < kIdleCloseMs, "a kept connection is reused only well before the daemon closes it");
}

// The daemon closed the kept connection (idle, restarted) before the next
// request: the send fails, nothing was delivered, and the request goes once
// more on a new connection.
TEST(TransportClient, ResendsOnANewConnectionWhenTheDaemonHadClosedTheKeptOne) {
    ScriptedDaemon daemon({.close_after_answers = 1});
    Client client(daemon.path());
    EXPECT_EQ(answer_of(check(client)), "1");
    ASSERT_TRUE(test::eventually([&] { return daemon.closed() == 1; }, 5s));
    const CallResult second = check(client);
    EXPECT_EQ(answer_of(second), "2") << second.error;
    EXPECT_EQ(client.connections_made(), 2);
    EXPECT_EQ(daemon.requests(), 2) << "each request reached the daemon exactly once";
}

// The daemon received the request and closed without answering: it may have
// acted on it, so it is not sent again; the failure is the caller's.
TEST(TransportClient, NeverResendsARequestTheDaemonReceived) {
    ScriptedDaemon daemon({.drop_request = 2});
    Client client(daemon.path());
    EXPECT_EQ(answer_of(check(client)), "1");
    const CallResult dropped = check(client);
    EXPECT_FALSE(dropped.answer);
    EXPECT_EQ(daemon.requests(), 2);
    EXPECT_EQ(client.connections_made(), 1);
    EXPECT_EQ(answer_of(check(client)), "3");
    EXPECT_EQ(client.connections_made(), 2);
}

// A call that failed leaves no connection behind: an answer that comes late
// must never be taken for the next request's.
TEST(TransportClient, AnAnswerThatCameTooLateIsNeverTakenForTheNextOne) {
    ScriptedDaemon daemon({.late_request = 1, .late_by = 300ms});
    Client client(daemon.path());
    const CallResult late = check(client, 100);
    EXPECT_FALSE(late.answer);
    EXPECT_TRUE(late.timed_out) << late.error;
    std::this_thread::sleep_for(300ms);  // the late answer is sent meanwhile
    EXPECT_EQ(answer_of(check(client)), "2");
}

}  // namespace
}  // namespace bg::proto
