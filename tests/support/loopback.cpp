// SPDX-License-Identifier: ISC
#include "tests/support/loopback.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/time.h>

#include "common/file_io.hpp"

namespace bg::test {
namespace {

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

// A connected blocking socket whose reads and writes give up after `timeout`; invalid when it did not connect.
UniqueFd connect_loopback(std::uint16_t port, std::chrono::milliseconds timeout) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    const sockaddr_in a = loopback(port);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        if (errno != EINPROGRESS) return {};
        pollfd p{fd.get(), POLLOUT, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return {};
        int error = 0;
        socklen_t length = sizeof error;
        if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) return {};
    }
    const int flags = ::fcntl(fd.get(), F_GETFL);
    ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

struct SslCtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
};

}  // namespace

std::uint16_t unused_loopback_port() {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in a = loopback(0);
    socklen_t length = sizeof a;
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &length) != 0)
        throw std::runtime_error(std::string("finding a free port: ") + std::strerror(errno));
    return ntohs(a.sin_port);
}

bool tcp_connects(std::uint16_t port, std::chrono::milliseconds timeout) {
    return connect_loopback(port, timeout).valid();
}

bool tls_handshake_verifies(std::uint16_t port, const std::string& ca_file, const std::string& host,
                            std::chrono::milliseconds timeout) {
    const UniqueFd fd = connect_loopback(port, timeout);
    if (!fd.valid()) return false;
    std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx || SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1)
        throw std::runtime_error("cannot load the CA " + ca_file);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
    if (!ssl || SSL_set1_host(ssl.get(), host.c_str()) != 1 || SSL_set_fd(ssl.get(), fd.get()) != 1)
        throw std::runtime_error("cannot set up a TLS client");
    const bool ok = SSL_connect(ssl.get()) == 1 && SSL_get_verify_result(ssl.get()) == X509_V_OK;
    if (ok) SSL_shutdown(ssl.get());
    return ok;
}

}  // namespace bg::test
