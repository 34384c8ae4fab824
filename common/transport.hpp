// AF_UNIX SOCK_SEQPACKET transport for protocol frames: one datagram, one
// message. Receiving checks the datagram's size before allocating.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "common/protocol.hpp"
#include "common/result.hpp"

namespace bg {

// An owned file descriptor, closed exactly once.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        if (this != &o) reset(std::exchange(o.fd_, -1));
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

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
CallResult call(const std::string& socket_path, const Message& request, MessageType expected,
                int timeout_ms = kDefaultTimeoutMs);

}  // namespace proto
}  // namespace bg
