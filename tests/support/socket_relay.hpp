// SPDX-License-Identifier: ISC
// A relay between front-ends and a daemon, for tests that count or break what
// passes between them: an AF_UNIX SOCK_SEQPACKET listener in a scratch
// directory of the run; each connection it accepts gets a connection of its
// own to `upstream` (the daemon's socket), and datagrams are forwarded both
// ways, one for one, on a thread of its own. It counts the connections and
// notes each request's type; it can close a connection after a given answer
// (as the daemon does with an idle one) or answer a request type itself with
// an ErrorAnswer instead of forwarding it (a daemon that cannot record).
// The daemon sees the relay (this test process, root) as its peer.
// No gtest in here: failures throw std::runtime_error.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/protocol.hpp"
#include "tests/support/run_directory.hpp"

namespace bg::test {

class SocketRelay {
public:
    explicit SocketRelay(std::string upstream);
    ~SocketRelay();  // stops the thread and closes every connection
    SocketRelay(const SocketRelay&) = delete;
    SocketRelay& operator=(const SocketRelay&) = delete;

    const std::string& path() const;

    // Connections accepted so far.
    int connections() const;
    // The type of each request received, in order (forwarded or answered here).
    std::vector<proto::MessageType> requests() const;

    // From now on: after forwarding an answer of this type, close that
    // connection on both sides, as the daemon closes one that stayed idle.
    void close_after(proto::MessageType answer);
    // From now on: answer every request of this type with `answer` instead of
    // forwarding it.
    void answer_instead(proto::MessageType request, proto::ErrorAnswer answer);

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace bg::test
