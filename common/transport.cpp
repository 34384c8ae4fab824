// SPDX-License-Identifier: ISC
#include "common/transport.hpp"

#include "common/text.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace bg {

namespace proto {

Status send_message(int fd, const Message& m) {
    auto frame = encode(m);
    if (!frame) return frame.error();
    // Frames may carry a one-time code: wipe the buffer whatever happens.
    struct Wipe {
        std::vector<std::uint8_t>& bytes;
        ~Wipe() { ::explicit_bzero(bytes.data(), bytes.size()); }
    } wipe{*frame};
    for (;;) {
        const ssize_t n = ::send(fd, frame->data(), frame->size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return make_error(std::string("send: ") + std::strerror(errno));
        if (static_cast<std::size_t>(n) != frame->size()) return make_error("send: short write");
        return Ok{};
    }
}

Received receive_message(int fd, int timeout_ms) {
    Received out;
    pollfd p{fd, POLLIN, 0};
    for (;;) {
        const int r = ::poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            out.failure = ReceiveFailure::SystemError;
            out.error = std::string("poll: ") + std::strerror(errno);
            return out;
        }
        if (r == 0) {
            out.failure = ReceiveFailure::Timeout;
            out.error = "timed out waiting for an answer";
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

Result<UniqueFd> connect_socket(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path) return make_error("socket path is empty or too long");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return make_error(std::string("socket: ") + std::strerror(errno));
    int r;
    do {
        r = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return make_error("cannot connect to " + path + ": " + std::strerror(errno));
    return fd;
}

std::optional<std::string> socket_path_problem(std::string_view path) {
    const std::string shown = "'" + escape_for_display(path) + "'";
    if (path.empty() || path.front() != '/') return "socket path " + shown + " is not an absolute path";
    if (path.size() >= sizeof(sockaddr_un{}.sun_path)) return "socket path " + shown + " is too long for a unix socket";
    if (validate_text(path, path.size())) return "socket path " + shown + " is not valid text";
    return std::nullopt;
}

CallResult call(const std::string& socket_path, const Message& request, MessageType expected, int timeout_ms) {
    CallResult out;
    auto fd = connect_socket(socket_path);
    if (!fd) {
        out.unreachable = true;
        out.error = "breakglassd is not reachable (" + fd.error().message + ")";
        return out;
    }
    if (auto sent = send_message(fd->get(), request); !sent) {
        out.error = "sending the request failed: " + sent.error().message;
        return out;
    }
    Received r = receive_message(fd->get(), timeout_ms);
    if (!r.message) {
        out.unreachable = r.failure == ReceiveFailure::Closed;
        out.error = "no answer from breakglassd: " + r.error;
        return out;
    }
    const MessageType got = type_of(*r.message);
    if (got != expected && got != MessageType::ErrorAnswer) {
        out.error = "protocol error: expected " + std::string(type_name(expected)) + ", got " +
                    std::string(type_name(got));
        return out;
    }
    out.answer = std::move(r.message);
    return out;
}

}  // namespace proto
}  // namespace bg
