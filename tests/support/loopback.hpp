// SPDX-License-Identifier: ISC
// Small network helpers for the remote-sink fixtures (journal_remote.hpp,
// https_receiver.hpp): a loopback port nothing listens on, and whether a
// server on a loopback port completes a verified TLS handshake.
// No gtest in here: failures throw std::runtime_error.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace bg::test {

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice
// for port 0). Nothing listens on it, so connecting is refused: the address
// of a sink that is down. Another process may take it later, so a server
// started on it must be ready to try again.
std::uint16_t unused_loopback_port();

// Whether a TCP connection to 127.0.0.1:`port` opens within `timeout`.
bool tcp_connects(std::uint16_t port, std::chrono::milliseconds timeout);

// Whether a TLS handshake with 127.0.0.1:`port` succeeds within `timeout`,
// the server's certificate verified against `ca_file` for host name `host`.
bool tls_handshake_verifies(std::uint16_t port, const std::string& ca_file, const std::string& host,
                            std::chrono::milliseconds timeout);

}  // namespace bg::test
