// SPDX-License-Identifier: ISC
// AF_UNIX SOCK_SEQPACKET transport for protocol frames: one datagram, one
// message. Receiving checks the datagram's size before allocating.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "common/file_io.hpp"
#include "common/protocol.hpp"
#include "common/result.hpp"

namespace bg {

namespace proto {

// How long a client waits. A front-end runs inside sudo, sshd or login: a
// daemon that hangs must cost the user seconds, not the session.
//   connect: until the daemon accepts (a full listen queue makes connect()
//            wait) and until it takes the request (send);
//   answer:  until the answer arrives, unless the caller says otherwise.
// Each ends in a refusal that says which wait ran out (fail closed).
inline constexpr int kConnectTimeoutMs = 3'000;
inline constexpr int kDefaultTimeoutMs = 10'000;
// A grant's answer may also wait for the remote audit log (a gate with
// remote_ack = "required", at most its remote_ack_timeout, which the policy
// bounds by this): the front-ends wait this much longer for a Granted.
inline constexpr int kRemoteAckAllowanceMs = 30'000;
// The daemon closes a connection that has carried no request for this long.
inline constexpr int kIdleCloseMs = 30'000;
// A Client sends on a kept connection only if it has been idle less than
// this, well inside kIdleCloseMs, so that the daemon does not close it just as
// a request arrives; older, it connects anew.
inline constexpr int kReuseIdleMs = 20'000;

Status send_message(int fd, const Message& m);

enum class ReceiveFailure { None, Closed, Timeout, TooLarge, Malformed, SystemError };
struct Received {
    std::optional<Message> message;
    ReceiveFailure failure = ReceiveFailure::None;
    std::string error;  // when !message
};
// Waits up to timeout_ms (-1 = forever) for one datagram.
Received receive_message(int fd, int timeout_ms);

// "10 s", "300 ms": a wait, for messages.
std::string describe_wait(int timeout_ms);

// Client side: connect, send one request, accept exactly `expected` or
// ErrorAnswer (and RequestState when Granted is expected: a grant that waits
// for approvals); anything else is a protocol error.
struct CallResult {
    std::optional<Message> answer;  // the expected answer or an ErrorAnswer
    bool unreachable = false;       // could not connect: daemon down, socket missing, or it accepted nothing in time
    bool timed_out = false;         // a wait ran out (connect, send or answer)
    std::string error;              // when !answer
};
// Connects within timeout_ms (> 0). The socket's send timeout bounds both the
// wait for a full listen queue and, later, each send(); it is left set to
// timeout_ms on the returned descriptor.
Result<UniqueFd> connect_socket(const std::string& path, int timeout_ms = kConnectTimeoutMs);
// Why `path` cannot be the daemon's socket as configured by a front-end
// (not absolute, too long for sun_path, control characters or invalid UTF-8:
// it appears in messages and logs), or nullopt when it can.
std::optional<std::string> socket_path_problem(std::string_view path);
// timeout_ms bounds the wait for the answer (-1 = forever: breakglassctl
// request, which the user can interrupt); connect_timeout_ms bounds connect
// and send.
CallResult call(const std::string& socket_path, const Message& request, MessageType expected,
                int timeout_ms = kDefaultTimeoutMs, int connect_timeout_ms = kConnectTimeoutMs);

// One connection to the daemon kept for several requests in turn (the sudo
// plugin: one per sudo run), with call()'s waits and answers. It connects at
// the first call, and again when the kept connection has been idle for
// reuse_idle_ms or more (the daemon may be closing it), or after a call that
// failed (a late answer must never be read as the next one's). When a send on
// a kept connection fails because the daemon had closed it, the request was
// not delivered and is sent once more on a new connection; a request that
// was delivered is never sent twice. The descriptor is close-on-exec, so a
// command the front-end's host runs does not inherit it.
class Client {
public:
    explicit Client(std::string socket_path, int connect_timeout_ms = kConnectTimeoutMs,
                    int reuse_idle_ms = kReuseIdleMs);

    CallResult call(const Message& request, MessageType expected, int timeout_ms = kDefaultTimeoutMs);
    void disconnect() { fd_.reset(); }

    const std::string& socket_path() const { return socket_path_; }
    int connect_timeout_ms() const { return connect_timeout_ms_; }
    // The kept connection's descriptor, -1 when there is none (for tests).
    int descriptor() const { return fd_.get(); }
    // How many connections this client has made (for tests and benchmarks).
    int connections_made() const { return connections_; }

private:
    std::string socket_path_;
    int connect_timeout_ms_;
    int reuse_idle_ms_;
    UniqueFd fd_;
    std::chrono::steady_clock::time_point last_used_{};
    int connections_ = 0;
};

}  // namespace proto
}  // namespace bg
