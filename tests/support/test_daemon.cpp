// SPDX-License-Identifier: ISC
#include "tests/support/test_daemon.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "common/transport.hpp"
#include "helper/mfa/totp.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/files.hpp"

namespace bg::test {

std::string daemon_program() {
    const char* over = std::getenv("BG_TEST_DAEMON");
    return over != nullptr && *over != '\0' ? over : BG_DAEMON_PATH;
}
namespace {

// Every directory on the way and the file itself searchable/executable by others.
bool reachable_by_everyone(const std::filesystem::path& file) {
    for (std::filesystem::path p = file; !p.empty(); p = p.parent_path()) {
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) return false;
        if (p == p.root_path()) break;
    }
    return true;
}

}  // namespace

// Tests run the CLI as their users. A build tree they cannot reach (a clone
// under /root, or in a 0700 directory) would fail every such test for a
// reason that is not theirs, so then the CLI is run from the run directory.
std::string ctl_program() {
    static const std::string path = [] {
        const std::filesystem::path built = BG_CTL_PATH;
        if (reachable_by_everyone(built)) return built.string();
        const std::filesystem::path copy = std::filesystem::path(run_directory()) / "breakglassctl";
        if (::link(built.c_str(), copy.c_str()) != 0)
            std::filesystem::copy_file(built, copy, std::filesystem::copy_options::overwrite_existing);
        ::chmod(copy.c_str(), 0755);
        return copy.string();
    }();
    return path;
}

TestDaemon::TestDaemon(const std::string& policy_text, DaemonOptions options)
    : dir_("daemon"),
      socket_(dir_.file("socket")),
      state_(dir_.file("state")),
      policy_(dir_.file("policy.toml")),
      log_(dir_.file("daemon.log")),
      options_(std::move(options)),
      audit_(state_ + "/audit.log") {
    write_policy(policy_text);
    if (options_.start) start();
}

TestDaemon::~TestDaemon() {
    if (process_) process_->stop(SIGTERM);
}

void TestDaemon::start() {
    if (process_ && process_->running()) throw std::runtime_error("breakglassd is already running");
    std::vector<std::string> argv = {daemon_program(), "--socket",  socket_, "--state-dir", state_,
                                     "--policy",       policy_,     "--systemd-timers=" + options_.systemd_timers};
    if (!options_.journal) argv.push_back("--no-journal");
    argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
    SpawnOptions spawn;
    spawn.log_path = log_;
    process_ = std::make_unique<ChildProcess>(argv, spawn);
    // Ready = answered: the socket is bound before the startup sweep has run,
    // and only an answer says the daemon is serving.
    const auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
    for (;;) {
        const auto r = proto::call(socket_, proto::StatusRequest{false}, proto::MessageType::StatusAnswer, 1000);
        if (r.answer) return;
        if (!process_->running())
            throw std::runtime_error("breakglassd exited (status " + std::to_string(exit_code_of(*process_->wait_status())) +
                                     ") before answering:\n" + log());
        if (std::chrono::steady_clock::now() >= deadline) {
            process_->stop(SIGKILL);
            throw std::runtime_error("breakglassd did not answer within " +
                                     std::to_string(options_.ready_timeout.count()) + " ms:\n" + log());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

void TestDaemon::stop() {
    if (!process_) return;
    const bool was_running = process_->running();
    process_->stop(SIGTERM);
    // A clean stop is part of the contract (exit 0, with the deferred
    // records synced and the last checkpoint written): anything else fails.
    if (was_running && !process_->exited_with(0))
        throw std::runtime_error("breakglassd did not stop cleanly on SIGTERM (wait status " +
                                 std::to_string(process_->wait_status().value_or(-1)) + "); its log:\n" + log());
}

void TestDaemon::kill() {
    if (process_) process_->stop(SIGKILL);
}

void TestDaemon::restart() {
    stop();
    start();
}

bool TestDaemon::running() { return process_ && process_->running(); }
pid_t TestDaemon::pid() const { return process_ ? process_->pid() : -1; }
std::optional<int> TestDaemon::wait_status() const {
    return process_ ? process_->wait_status() : std::nullopt;
}

std::string TestDaemon::log() const { return read_file(log_); }
void TestDaemon::write_policy(const std::string& text, mode_t mode) const { write_file(policy_, text, mode); }

std::vector<std::string> TestDaemon::ctl(std::vector<std::string> args) const {
    args.insert(args.begin(), ctl_program());
    args.push_back("--socket");
    args.push_back(socket_);
    return args;
}

proto::Message TestDaemon::call(const proto::Message& request, proto::MessageType expected) {
    auto r = proto::call(socket_, request, expected);
    if (!r.answer) throw std::runtime_error("breakglassd did not answer: " + r.error + "\n" + log());
    return std::move(*r.answer);
}

std::vector<unsigned char> TestDaemon::enroll_totp(const std::string& user) {
    auto secret = random_totp_secret();
    const auto answer = call(proto::EnrollTotpRequest{user, totp::base32_encode(secret)}, proto::MessageType::Enrolled);
    if (!std::holds_alternative<proto::Enrolled>(answer)) throw std::runtime_error("TOTP enrolment refused for " + user);
    return secret;
}

proto::Message TestDaemon::grant(const proto::GrantRequest& request) {
    return call(request, proto::MessageType::Granted);
}

proto::Message TestDaemon::grant(const std::string& user, const std::string& gate, const std::string& code,
                                 std::int64_t ttl_seconds) {
    return grant(proto::GrantRequest{user, gate, "test setup", "INC-1", "", ttl_seconds, code, "", "test"});
}

void TestDaemon::revoke(const std::string& event_id) {
    const auto answer = call(proto::RevokeRequest{event_id, "test setup"}, proto::MessageType::Revoked);
    if (!std::holds_alternative<proto::Revoked>(answer)) throw std::runtime_error("revoke of " + event_id + " refused");
}

bool TestDaemon::active(const std::string& user, const std::string& gate) {
    const auto answer = call(proto::CheckRequest{user, gate}, proto::MessageType::CheckAnswer);
    const auto* a = std::get_if<proto::CheckAnswer>(&answer);
    if (a == nullptr) throw std::runtime_error("Check refused for " + user);
    return a->active;
}

proto::StatusAnswer TestDaemon::status(bool all) {
    proto::StatusAnswer listed;
    proto::StatusRequest request{all};
    for (;;) {  // a page at a time
        const auto answer = call(request, proto::MessageType::StatusAnswer);
        const auto* a = std::get_if<proto::StatusAnswer>(&answer);
        if (a == nullptr) throw std::runtime_error("Status refused");
        listed.grants.insert(listed.grants.end(), a->grants.begin(), a->grants.end());
        if (request.after.empty()) {  // the first page says how the sinks and alert channels are
            listed.sinks = a->sinks;
            listed.channels = a->channels;
        }
        if (!a->truncated || a->grants.empty()) return listed;
        request.after = a->grants.back().event_id;
    }
}

}  // namespace bg::test
