// SPDX-License-Identifier: ISC
#include "common/transport.hpp"

#include "common/text.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

namespace bg {

namespace proto {

namespace {

struct SendOutcome {
    bool sent = false;
    bool timed_out = false;    // SO_SNDTIMEO ran out: the peer did not take the datagram
    bool peer_closed = false;  // the peer had closed the connection: nothing was delivered
    std::string error;
};

SendOutcome send_frame(int fd, const Message& m) {
    auto frame = encode(m);
    if (!frame) return {false, false, false, frame.error().message};
    // Frames may carry a one-time code: wipe the buffer whatever happens.
    struct Wipe {
        std::vector<std::uint8_t>& bytes;
        ~Wipe() { ::explicit_bzero(bytes.data(), bytes.size()); }
    } wipe{*frame};
    for (;;) {
        const ssize_t n = ::send(fd, frame->data(), frame->size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return {false, true, false, "send: the peer did not take the request in time"};
        if (n < 0) {
            const bool closed = errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN;
            return {false, false, closed, std::string("send: ") + std::strerror(errno)};
        }
        if (static_cast<std::size_t>(n) != frame->size()) return {false, false, false, "send: short write"};
        return {true, false, false, ""};
    }
}

}  // namespace

Status send_message(int fd, const Message& m) {
    SendOutcome out = send_frame(fd, m);
    if (!out.sent) return make_error(std::move(out.error));
    return Ok{};
}

Received receive_message(int fd, int timeout_ms) {
    Received out;
    pollfd p{fd, POLLIN, 0};
    // timeout 0 (an event loop that saw the socket readable): no poll, the
    // non-blocking recv below says whether anything is there.
    for (; timeout_ms != 0;) {
        const int r = ::poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            out.failure = ReceiveFailure::SystemError;
            out.error = std::string("poll: ") + std::strerror(errno);
            return out;
        }
        if (r == 0) {
            out.failure = ReceiveFailure::Timeout;
            out.error = "no answer within " + describe_wait(timeout_ms);
            return out;
        }
        break;
    }
    // MSG_TRUNC with MSG_PEEK reports the datagram's real length without
    // copying it, so the cap is enforced before anything is allocated.
    std::uint8_t probe = 0;
    ssize_t size;
    do {
        size = ::recv(fd, &probe, 1, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    } while (size < 0 && errno == EINTR);
    // An empty read, or a reset because the peer closed with our data unread, both mean closed.
    if (size == 0 || (size < 0 && (errno == ECONNRESET || errno == EPIPE))) {
        out.failure = ReceiveFailure::Closed;
        out.error = "connection closed by peer";
        return out;
    }
    if (size < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        out.failure = ReceiveFailure::Timeout;
        out.error = "no answer within " + describe_wait(timeout_ms);
        return out;
    }
    if (size < 0) {
        out.failure = ReceiveFailure::SystemError;
        out.error = std::string("recv: ") + std::strerror(errno);
        return out;
    }
    if (static_cast<std::size_t>(size) > kMaxFrameBytes) {
        out.failure = ReceiveFailure::TooLarge;
        out.error = "frame of " + std::to_string(size) + " bytes exceeds the " + std::to_string(kMaxFrameBytes) +
                    "-byte limit";
        return out;
    }
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(size));
    ssize_t n;
    do {
        n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n != size) {
        out.failure = ReceiveFailure::SystemError;
        out.error = "recv: datagram changed size";
        return out;
    }
    auto decoded = decode(buf);
    ::explicit_bzero(buf.data(), buf.size());
    if (!decoded) {
        out.failure = ReceiveFailure::Malformed;
        out.error = decoded.error().message;
        return out;
    }
    out.message = std::move(decoded).value();
    return out;
}

std::string describe_wait(int timeout_ms) {
    if (timeout_ms >= 1000 && timeout_ms % 1000 == 0) return std::to_string(timeout_ms / 1000) + " s";
    return std::to_string(timeout_ms) + " ms";
}

namespace {

using Clock = std::chrono::steady_clock;

// Milliseconds left until `deadline`, at least 1 while any time is left, 0 after.
int left_ms(Clock::time_point deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(left);
}

bool set_send_timeout(int fd, int timeout_ms) {
    const timeval tv{timeout_ms / 1000, static_cast<suseconds_t>((timeout_ms % 1000) * 1000)};
    return ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0;
}

struct ConnectOutcome {
    UniqueFd fd;             // valid when connected
    bool timed_out = false;  // the listener accepted nothing before the deadline
    std::string error;
};

ConnectOutcome connect_within(const std::string& path, int timeout_ms) {
    ConnectOutcome out;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path) {
        out.error = "socket path is empty or too long";
        return out;
    }
    if (timeout_ms <= 0) {
        out.error = "connect timeout must be positive";
        return out;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
        out.error = std::string("socket: ") + std::strerror(errno);
        return out;
    }
    // A blocking AF_UNIX connect to a listener whose queue is full sleeps until
    // the listener accepts: forever, if it hangs. The send timeout bounds that
    // sleep (the kernel then fails the connect with EAGAIN) and wakes us as soon
    // as there is room, which a non-blocking connect polled in a loop would not.
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        const int left = left_ms(deadline);
        if (left == 0) {
            out.timed_out = true;
            out.error = path + " did not accept the connection within " + describe_wait(timeout_ms) +
                        ": breakglassd is running but not accepting (hung or overloaded)";
            return out;
        }
        if (!set_send_timeout(fd.get(), left)) {
            out.error = std::string("setsockopt(SO_SNDTIMEO): ") + std::strerror(errno);
            return out;
        }
        if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) break;
        if (errno == EINTR || errno == EAGAIN) continue;  // until the deadline
        out.error = "cannot connect to " + path + ": " + std::strerror(errno);
        return out;
    }
    // From now on each send() waits at most timeout_ms.
    if (!set_send_timeout(fd.get(), timeout_ms)) {
        out.error = std::string("setsockopt(SO_SNDTIMEO): ") + std::strerror(errno);
        return out;
    }
    out.fd = std::move(fd);
    return out;
}

}  // namespace

Result<UniqueFd> connect_socket(const std::string& path, int timeout_ms) {
    ConnectOutcome c = connect_within(path, timeout_ms);
    if (!c.fd.valid()) return make_error(std::move(c.error));
    return std::move(c.fd);
}

std::optional<std::string> socket_path_problem(std::string_view path) {
    const std::string shown = "'" + escape_for_display(path) + "'";
    if (path.empty() || path.front() != '/') return "socket path " + shown + " is not an absolute path";
    if (path.size() >= sizeof(sockaddr_un{}.sun_path)) return "socket path " + shown + " is too long for a unix socket";
    if (validate_text(path, path.size())) return "socket path " + shown + " is not valid text";
    return std::nullopt;
}

namespace {

// One request and its answer on a connected socket.
struct Exchange {
    CallResult result;
    bool not_delivered = false;  // the send found the connection closed by the daemon
};

Exchange exchange(int fd, const Message& request, MessageType expected, int timeout_ms, int connect_timeout_ms) {
    Exchange x;
    CallResult& out = x.result;
    if (SendOutcome sent = send_frame(fd, request); !sent.sent) {
        x.not_delivered = sent.peer_closed;
        out.timed_out = sent.timed_out;
        out.error = "sending the request failed: " + sent.error +
                    (sent.timed_out ? " (" + describe_wait(connect_timeout_ms) + ")" : "");
        return x;
    }
    Received r = receive_message(fd, timeout_ms);
    if (!r.message) {
        out.unreachable = r.failure == ReceiveFailure::Closed;
        out.timed_out = r.failure == ReceiveFailure::Timeout;
        out.error = "no answer from breakglassd: " + r.error;
        return x;
    }
    const MessageType got = type_of(*r.message);
    // A GrantRequest to a gate that needs approvals is answered RequestState
    // (pending) instead of Granted; the caller looks at which it got.
    const bool pending = expected == MessageType::Granted && got == MessageType::RequestState;
    if (got != expected && got != MessageType::ErrorAnswer && !pending) {
        out.error = "protocol error: expected " + std::string(type_name(expected)) + ", got " +
                    std::string(type_name(got));
        return x;
    }
    out.answer = std::move(r.message);
    return x;
}

}  // namespace

CallResult call(const std::string& socket_path, const Message& request, MessageType expected, int timeout_ms,
                int connect_timeout_ms) {
    Client client(socket_path, connect_timeout_ms);
    return client.call(request, expected, timeout_ms);
}

Client::Client(std::string socket_path, int connect_timeout_ms, int reuse_idle_ms)
    : socket_path_(std::move(socket_path)), connect_timeout_ms_(connect_timeout_ms), reuse_idle_ms_(reuse_idle_ms) {}

CallResult Client::call(const Message& request, MessageType expected, int timeout_ms) {
    bool kept = fd_.valid() && Clock::now() - last_used_ < std::chrono::milliseconds(reuse_idle_ms_);
    if (!kept) fd_.reset();
    for (;;) {
        if (!fd_.valid()) {
            ConnectOutcome connected = connect_within(socket_path_, connect_timeout_ms_);
            if (!connected.fd.valid()) {
                CallResult out;
                out.unreachable = true;
                out.timed_out = connected.timed_out;
                out.error = "breakglassd is not reachable (" + connected.error + ")";
                return out;
            }
            fd_ = std::move(connected.fd);
            ++connections_;
        }
        Exchange x = exchange(fd_.get(), request, expected, timeout_ms, connect_timeout_ms_);
        if (x.result.answer) {
            last_used_ = Clock::now();
            return std::move(x.result);
        }
        fd_.reset();
        // The daemon had closed the kept connection (idle, restarted): the
        // request never reached it, so it goes once more on a new connection.
        if (kept && x.not_delivered) {
            kept = false;
            continue;
        }
        return std::move(x.result);
    }
}

}  // namespace proto
}  // namespace bg
