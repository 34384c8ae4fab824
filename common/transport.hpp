// SPDX-License-Identifier: ISC
// AF_UNIX SOCK_SEQPACKET transport for protocol frames: one datagram, one
// message. Receiving checks the datagram's size before allocating.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "common/file_io.hpp"
#include "common/protocol.hpp"
#include "common/result.hpp"

namespace bg {

namespace proto {

inline constexpr int kDefaultTimeoutMs = 10'000;

Status send_message(int fd, const Message& m);

enum class ReceiveFailure { None, Closed, Timeout, TooLarge, Malformed, SystemError };
struct Received {
    std::optional<Message> message;
    ReceiveFailure failure = ReceiveFailure::None;
    std::string error;  // when !message
};
// Waits up to timeout_ms (-1 = forever) for one datagram.
Received receive_message(int fd, int timeout_ms);

// Client side: connect, send one request, accept exactly `expected` or
// ErrorAnswer; anything else is a protocol error.
struct CallResult {
    std::optional<Message> answer;  // the expected answer or an ErrorAnswer
    bool unreachable = false;       // could not connect: daemon down or socket missing
    std::string error;              // when !answer
};
Result<UniqueFd> connect_socket(const std::string& path);
// Why `path` cannot be the daemon's socket as configured by a front-end
// (not absolute, too long for sun_path, control characters or invalid UTF-8:
// it appears in messages and logs), or nullopt when it can.
std::optional<std::string> socket_path_problem(std::string_view path);
CallResult call(const std::string& socket_path, const Message& request, MessageType expected,
                int timeout_ms = kDefaultTimeoutMs);

}  // namespace proto
}  // namespace bg
