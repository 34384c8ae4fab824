// SPDX-License-Identifier: ISC
// A daemon that hangs, for timeout tests: an AF_UNIX SOCK_SEQPACKET listener
// in a temporary directory that never accepts and never answers. With
// backlog 0 and fill_queue(), connect() finds the queue full; with room in
// the queue, connect and send succeed and no answer ever comes.
#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

#include "common/file_io.hpp"

namespace bg::test {

// A listener that never calls accept(): connections queue up to `backlog`.
class SilentListener {
public:
    explicit SilentListener(int backlog) {
        char tmpl[] = "/tmp/bg-transport-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
        dir_ = tmpl;
        ::chmod(dir_.c_str(), 0755);  // unprivileged clients must reach the socket
        path_ = dir_ + "/socket";
        fd_ = UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
        if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(fd_.get(), backlog) != 0)
            throw std::runtime_error("bind/listen");
        ::chmod(path_.c_str(), 0666);
    }
    ~SilentListener() {
        ::unlink(path_.c_str());
        ::rmdir(dir_.c_str());
    }

    // Connects non-blocking clients until the kernel says the queue is full.
    void fill_queue() {
        for (int i = 0; i < 1000; ++i) {
            UniqueFd c(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
            if (::connect(c.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
                if (errno == EAGAIN) return;
                throw std::runtime_error(std::string("filling the queue: ") + std::strerror(errno));
            }
            queued_.push_back(std::move(c));
        }
        throw std::runtime_error("the listen queue never filled");
    }
    // Takes one queued connection off the queue (and closes it), making room for one more.
    void accept_one() { UniqueFd(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC)); }

    const std::string& dir() const { return dir_; }
    const std::string& path() const { return path_; }

private:
    std::string dir_, path_;
    UniqueFd fd_;
    std::vector<UniqueFd> queued_;
};

}  // namespace bg::test
