// SPDX-License-Identifier: ISC
#include "tests/support/silent_listener.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace bg::test {
namespace {

sockaddr_un address_of(const std::string& path) {
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long: " + path);
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

}  // namespace

SilentListener::SilentListener(int backlog) : dir_("silent-listener"), path_(dir_.path() + "/socket") {
    fd_ = UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!fd_.valid()) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    const sockaddr_un addr = address_of(path_);
    if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_.get(), backlog) != 0)
        throw std::runtime_error("bind/listen " + path_ + ": " + std::strerror(errno));
    if (::chmod(path_.c_str(), 0666) != 0) throw std::runtime_error("chmod " + path_ + ": " + std::strerror(errno));
}

void SilentListener::fill_queue() {
    const sockaddr_un addr = address_of(path_);
    for (int i = 0; i < 1000; ++i) {
        UniqueFd c(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (!c.valid()) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
        if (::connect(c.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
            if (errno == EAGAIN) return;
            throw std::runtime_error(std::string("filling the queue: ") + std::strerror(errno));
        }
        queued_.push_back(std::move(c));
    }
    throw std::runtime_error("the listen queue never filled");
}

void SilentListener::accept_one() { UniqueFd(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC)); }

}  // namespace bg::test
