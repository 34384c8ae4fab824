// SPDX-License-Identifier: ISC
// A daemon that hangs, for the deadline tests of front-ends and transport: an
// AF_UNIX SOCK_SEQPACKET listener in a scratch directory of the run
// (run_directory.hpp) that never accepts and never answers. With backlog 0
// and fill_queue(), connect() finds the queue full; with room in the queue,
// connect and send succeed and no answer ever comes.
// No gtest in here: failures throw std::runtime_error.
#pragma once

#include <string>
#include <vector>

#include "common/file_io.hpp"
#include "tests/support/run_directory.hpp"

namespace bg::test {

// A listener that never calls accept(): connections queue up to `backlog`.
// The socket is mode 0666 in a 0755 directory, so unprivileged clients reach it.
class SilentListener {
public:
    explicit SilentListener(int backlog);
    SilentListener(const SilentListener&) = delete;
    SilentListener& operator=(const SilentListener&) = delete;

    // Connects non-blocking clients until the kernel says the queue is full.
    void fill_queue();
    // Takes one queued connection off the queue (and closes it), making room for one more.
    void accept_one();

    // The scratch directory holding the socket (a test may put its own files
    // there, a PAM service file say; all go with the listener).
    const std::string& dir() const { return dir_.path(); }
    const std::string& path() const { return path_; }

private:
    ScratchDir dir_;
    std::string path_;
    UniqueFd fd_;
    std::vector<UniqueFd> queued_;
};

}  // namespace bg::test
