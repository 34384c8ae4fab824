// SPDX-License-Identifier: ISC
#include "tests/support/socket_relay.hpp"

#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <poll.h>
#include <stdexcept>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include "common/file_io.hpp"
#include "common/transport.hpp"

namespace bg::test {
namespace {

sockaddr_un address_of(const std::string& path) {
    sockaddr_un addr{};
    if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long: " + path);
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

// The type in a frame's header, when it has one.
std::optional<proto::MessageType> type_of_frame(const std::vector<std::uint8_t>& frame) {
    if (frame.size() < proto::kHeaderBytes) return std::nullopt;
    return static_cast<proto::MessageType>(frame[4] | (frame[5] << 8));
}

// One datagram, whole; empty optional when the peer closed or failed.
std::optional<std::vector<std::uint8_t>> receive_frame(int fd) {
    std::vector<std::uint8_t> buf(proto::kMaxFrameBytes + 1);
    ssize_t n;
    do {
        n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return std::nullopt;
    buf.resize(static_cast<std::size_t>(n));
    return buf;
}

bool send_frame(int fd, const std::vector<std::uint8_t>& frame) {
    return ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(frame.size());
}

}  // namespace

struct SocketRelay::State {
    ScratchDir dir{"socket-relay"};
    std::string path = dir.path() + "/socket";
    std::string upstream;
    UniqueFd listener;
    UniqueFd wake;  // eventfd: the destructor asks the thread to stop

    struct Pair {
        UniqueFd client, daemon;
    };
    std::list<Pair> pairs;  // the thread's only

    mutable std::mutex mutex;  // guards what follows
    int connections = 0;
    std::vector<proto::MessageType> requests;
    std::optional<proto::MessageType> close_after;
    std::optional<std::pair<proto::MessageType, proto::ErrorAnswer>> answer_instead;

    std::thread thread;

    void accept_one() {
        UniqueFd client(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
        if (!client.valid()) return;
        UniqueFd daemon(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
        const sockaddr_un addr = address_of(upstream);
        if (!daemon.valid() || ::connect(daemon.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
            return;  // the client sees its connection closed, as with a daemon that is down
        {
            const std::lock_guard lock(mutex);
            ++connections;
        }
        pairs.push_back(Pair{std::move(client), std::move(daemon)});
    }

    // A request from the client: forwarded, or answered here. False: close the pair.
    bool from_client(Pair& p) {
        auto frame = receive_frame(p.client.get());
        if (!frame) return false;
        const auto type = type_of_frame(*frame);
        std::optional<proto::ErrorAnswer> instead;
        {
            const std::lock_guard lock(mutex);
            if (type) requests.push_back(*type);
            if (answer_instead && type == answer_instead->first) instead = answer_instead->second;
        }
        if (instead) return proto::send_message(p.client.get(), *instead).ok();
        return send_frame(p.daemon.get(), *frame);
    }

    // An answer from the daemon: forwarded, then perhaps the pair closed. False: close the pair.
    bool from_daemon(Pair& p) {
        auto frame = receive_frame(p.daemon.get());
        if (!frame || !send_frame(p.client.get(), *frame)) return false;
        const std::lock_guard lock(mutex);
        return !(close_after && type_of_frame(*frame) == close_after);
    }

    void run() {
        for (;;) {
            std::vector<pollfd> fds = {{wake.get(), POLLIN, 0}, {listener.get(), POLLIN, 0}};
            for (const Pair& p : pairs) {
                fds.push_back({p.client.get(), POLLIN, 0});
                fds.push_back({p.daemon.get(), POLLIN, 0});
            }
            if (::poll(fds.data(), fds.size(), -1) < 0) {
                if (errno == EINTR) continue;
                return;
            }
            if (fds[0].revents != 0) return;
            if (fds[1].revents & POLLIN) accept_one();
            std::size_t i = 2;
            for (auto it = pairs.begin(); it != pairs.end() && i + 1 < fds.size(); i += 2) {
                bool keep = true;
                if (fds[i].revents != 0) keep = from_client(*it);
                if (keep && fds[i + 1].revents != 0) keep = from_daemon(*it);
                it = keep ? std::next(it) : pairs.erase(it);
            }
        }
    }
};

SocketRelay::SocketRelay(std::string upstream) : state_(std::make_unique<State>()) {
    State& s = *state_;
    s.upstream = std::move(upstream);
    s.listener = UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    s.wake = UniqueFd(::eventfd(0, EFD_CLOEXEC));
    if (!s.listener.valid() || !s.wake.valid()) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    const sockaddr_un addr = address_of(s.path);
    if (::bind(s.listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(s.listener.get(), 16) != 0)
        throw std::runtime_error("bind/listen " + s.path + ": " + std::strerror(errno));
    if (::chmod(s.path.c_str(), 0666) != 0) throw std::runtime_error("chmod " + s.path + ": " + std::strerror(errno));
    s.thread = std::thread([&s] { s.run(); });
}

SocketRelay::~SocketRelay() {
    const std::uint64_t one = 1;
    (void)!::write(state_->wake.get(), &one, sizeof one);
    state_->thread.join();
}

const std::string& SocketRelay::path() const { return state_->path; }

int SocketRelay::connections() const {
    const std::lock_guard lock(state_->mutex);
    return state_->connections;
}

std::vector<proto::MessageType> SocketRelay::requests() const {
    const std::lock_guard lock(state_->mutex);
    return state_->requests;
}

void SocketRelay::close_after(proto::MessageType answer) {
    const std::lock_guard lock(state_->mutex);
    state_->close_after = answer;
}

void SocketRelay::answer_instead(proto::MessageType request, proto::ErrorAnswer answer) {
    const std::lock_guard lock(state_->mutex);
    state_->answer_instead = std::make_pair(request, std::move(answer));
}

}  // namespace bg::test
