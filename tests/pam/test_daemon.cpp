// SPDX-License-Identifier: ISC
#include "tests/pam/test_daemon.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <openssl/rand.h>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "common/transport.hpp"
#include "helper/mfa/totp.hpp"
#include "tests/integration/process.hpp"

namespace bg::test {

const char* const kTestPolicy = R"(# pam_breakglass test policy
[defaults]
max_ttl = "1h"
incident_pattern = '^INC-[0-9]+$'
factors = ["totp"]

[gate.pam-test]
description = "gate guarded by pam_breakglass in the tests"
pam_service = "bg-pam-test"
requesters = ["daemon"]
ttl = "10m"
)";

namespace {

// BG_TEST_DAEMON runs the module's tests against another breakglassd build.
std::string daemon_path() {
    const char* over = std::getenv("BG_TEST_DAEMON");
    return over != nullptr && *over != '\0' ? over : BG_DAEMON_PATH;
}

proto::Message call_or_throw(const std::string& socket, const proto::Message& m, proto::MessageType expected) {
    auto r = proto::call(socket, m, expected);
    if (!r.answer) throw std::runtime_error("breakglassd: " + r.error);
    return std::move(*r.answer);
}

}  // namespace

TestDaemon::TestDaemon(const std::string& policy) {
    char tmpl[] = "/tmp/bg-pam-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);  // unprivileged test clients must reach the socket
    state_ = dir_ + "/state";
    socket_ = dir_ + "/socket";
    policy_ = dir_ + "/policy.toml";
    write_file(policy_, policy, 0644);
    start();
}

TestDaemon::~TestDaemon() {
    stop();
    (void)run({"/bin/rm", "-rf", dir_});
}

void TestDaemon::start() {
    pid_ = spawn({daemon_path(), "--socket", socket_, "--state-dir", state_, "--policy", policy_, "--no-journal"},
                 dir_ + "/daemon.log");
    for (int i = 0; i < 400; ++i) {
        if (proto::connect_socket(socket_).ok()) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    throw std::runtime_error("breakglassd did not start:\n" + daemon_log());
}

void TestDaemon::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

bool TestDaemon::alive() { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

std::string TestDaemon::daemon_log() const { return read_file(dir_ + "/daemon.log"); }

std::vector<unsigned char> TestDaemon::enroll(const std::string& user) {
    std::vector<unsigned char> secret(20);
    if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) throw std::runtime_error("RAND_bytes");
    const auto answer = call_or_throw(socket_, proto::EnrollTotpRequest{user, totp::base32_encode(secret)},
                                      proto::MessageType::Enrolled);
    if (!std::holds_alternative<proto::Enrolled>(answer)) throw std::runtime_error("enrolment refused for " + user);
    return secret;
}

proto::Message TestDaemon::grant(const std::string& user, const std::string& code, std::int64_t ttl_seconds,
                                 const std::string& gate) {
    return call_or_throw(socket_,
                         proto::GrantRequest{user, gate, "test setup", "INC-1", "", ttl_seconds, code, "", "test"},
                         proto::MessageType::Granted);
}

void TestDaemon::revoke(const std::string& event_id) {
    const auto answer = call_or_throw(socket_, proto::RevokeRequest{event_id, "test setup"}, proto::MessageType::Revoked);
    if (!std::holds_alternative<proto::Revoked>(answer)) throw std::runtime_error("revoke refused");
}

bool TestDaemon::active(const std::string& user, const std::string& gate) {
    const auto answer = call_or_throw(socket_, proto::CheckRequest{user, gate}, proto::MessageType::CheckAnswer);
    const auto* a = std::get_if<proto::CheckAnswer>(&answer);
    return a != nullptr && a->active;
}

std::vector<nlohmann::json> TestDaemon::records() const {
    std::vector<nlohmann::json> out;
    const std::string text = read_file(state_ + "/audit.log");
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t nl = text.find('\n', start);
        if (nl == std::string::npos) nl = text.size();
        out.push_back(nlohmann::json::parse(text.substr(start, nl - start)));
        start = nl + 1;
    }
    return out;
}

std::vector<nlohmann::json> TestDaemon::records_of(const std::string& event) const {
    std::vector<nlohmann::json> out;
    for (auto& r : records())
        if (r["event"] == event) out.push_back(r);
    return out;
}

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }
std::uint64_t totp_step_now() { return totp::step_at(unix_now()); }
std::string totp_code(const std::vector<unsigned char>& secret, std::uint64_t step) { return totp::hotp(secret, step); }

std::string wrong_code(const std::vector<unsigned char>& secret) {
    const std::uint64_t step = totp_step_now();
    for (int candidate = 0;; ++candidate) {
        char text[8];
        std::snprintf(text, sizeof text, "%06d", candidate * 111111 % 1000000);
        bool accepted = false;
        for (std::uint64_t s = step - 1; s <= step + 2; ++s) accepted = accepted || totp::hotp(secret, s) == text;
        if (!accepted) return text;
    }
}

}  // namespace bg::test
