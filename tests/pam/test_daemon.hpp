// SPDX-License-Identifier: ISC
// A real breakglassd for the PAM tests and benchmark: its own temporary
// directory, socket, state directory and policy, started from the build tree.
// Every test gets a fresh one, so TOTP replay state and the failure limiter
// start empty and nothing is shared between tests (they may run in parallel).
//
// Users: accounts every Debian system has, so no test creates users —
// kRequester ("daemon") is a requester of kGate, kOutsider ("nobody") is not.
// No gtest in here: failures throw std::runtime_error.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/types.h>
#include <vector>

#include "common/protocol.hpp"

namespace bg::test {

inline constexpr const char* kGate = "pam-test";
inline constexpr const char* kRequester = "daemon";
inline constexpr const char* kOutsider = "nobody";

// kGate: requesters = [kRequester], incident '^INC-[0-9]+$', ttl 10m, TOTP.
extern const char* const kTestPolicy;

class TestDaemon {
public:
    explicit TestDaemon(const std::string& policy = kTestPolicy);
    ~TestDaemon();
    TestDaemon(const TestDaemon&) = delete;
    TestDaemon& operator=(const TestDaemon&) = delete;

    void start();
    void stop();  // SIGTERM and wait; the socket file stays behind, as after a crash
    bool alive();

    const std::string& dir() const { return dir_; }
    const std::string& socket() const { return socket_; }
    std::string daemon_log() const;

    // A fresh random TOTP secret for `user`, enrolled through the protocol (root peer).
    std::vector<unsigned char> enroll(const std::string& user);
    // GrantRequest as root for `user`; the answer (Granted or ErrorAnswer).
    proto::Message grant(const std::string& user, const std::string& code, std::int64_t ttl_seconds = 0,
                         const std::string& gate = kGate);
    void revoke(const std::string& event_id);
    bool active(const std::string& user, const std::string& gate = kGate);

    // The audit log, one parsed record per line.
    std::vector<nlohmann::json> records() const;
    std::vector<nlohmann::json> records_of(const std::string& event) const;

private:
    std::string dir_, state_, socket_, policy_;
    pid_t pid_ = -1;
};

std::int64_t unix_now();
std::uint64_t totp_step_now();
std::string totp_code(const std::vector<unsigned char>& secret, std::uint64_t step);
// A 6-digit code that is none of the accepted ones (steps now-1 .. now+1).
std::string wrong_code(const std::vector<unsigned char>& secret);

}  // namespace bg::test
