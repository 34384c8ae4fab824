// SPDX-License-Identifier: ISC
#include "tests/support/journal_remote.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <glob.h>
#include <stdexcept>
#include <systemd/sd-journal.h>

#include "tests/support/files.hpp"
#include "tests/support/loopback.hpp"
#include "tests/support/polling.hpp"

namespace bg::test {
namespace {

constexpr auto kReadyTimeout = std::chrono::milliseconds(10000);

// DIR/remote.journal and the files journal-remote rotated it into.
std::vector<std::string> journal_files(const std::string& dir) {
    const std::string pattern = dir + "/remote*.journal";
    glob_t g{};
    std::vector<std::string> out;
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
        for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    ::globfree(&g);
    return out;
}

struct JournalClose {
    void operator()(sd_journal* j) const { sd_journal_close(j); }
};

// DIR/remote*.journal opened with sd-journal; null when there is no file yet.
std::unique_ptr<sd_journal, JournalClose> open_journal(const std::string& dir) {
    const std::vector<std::string> files = journal_files(dir);
    if (files.empty()) return nullptr;
    std::vector<const char*> paths;
    for (const auto& f : files) paths.push_back(f.c_str());
    paths.push_back(nullptr);
    sd_journal* raw = nullptr;
    if (const int r = sd_journal_open_files(&raw, paths.data(), 0); r < 0)
        throw std::runtime_error("sd_journal_open_files " + dir + "/remote*.journal: " + std::strerror(-r));
    return std::unique_ptr<sd_journal, JournalClose>(raw);
}

}  // namespace

std::string field_of(const JournalEntry& entry, const std::string& field) {
    const auto it = entry.find(field);
    return it == entry.end() || it->second.empty() ? std::string() : it->second.front();
}

JournalRemote::JournalRemote(const std::string& dir, const TestCertificates& certificates, Transport transport)
    : dir_(dir),
      certificates_(certificates),
      transport_(transport),
      journal_file_(dir + "/remote.journal"),
      log_file_(dir + "/journal-remote.log") {
    start();
}

JournalRemote::~JournalRemote() {
    try {
        stop();
    } catch (...) {
        // the ChildProcess destructor SIGKILLs what is left
    }
}

std::string JournalRemote::url() const {
    return transport_ == Transport::https ? "https://localhost:" + std::to_string(port_)
                                          : "http://127.0.0.1:" + std::to_string(port_);
}

pid_t JournalRemote::pid() const { return process_ ? process_->pid() : -1; }

bool JournalRemote::running() { return process_ && process_->running(); }

bool JournalRemote::start_on(std::uint16_t port) {
    const std::string listen = (transport_ == Transport::https ? "--listen-https=127.0.0.1:" : "--listen-http=127.0.0.1:") +
                               std::to_string(port);
    std::vector<std::string> argv{kJournalRemotePath, listen};
    if (transport_ == Transport::https) {
        argv.push_back("--key=" + certificates_.server.key);
        argv.push_back("--cert=" + certificates_.server.cert);
    }
    argv.push_back("--split-mode=none");
    argv.push_back("--output=" + journal_file_);
    SpawnOptions options;
    options.log_path = log_file_;
    process_ = std::make_unique<ChildProcess>(argv, options);
    const bool ready = eventually(
        [&] {
            if (!process_->running()) return true;  // decided below
            return transport_ == Transport::https
                       ? tls_handshake_verifies(port, certificates_.ca.cert, "localhost", std::chrono::milliseconds(1000))
                       : tcp_connects(port, std::chrono::milliseconds(1000));
        },
        kReadyTimeout);
    if (ready && process_->running()) return true;
    process_->stop(SIGKILL);
    if (!ready) throw std::runtime_error("systemd-journal-remote not ready on port " + std::to_string(port) +
                                         " within 10 s; its log:\n" + read_file(log_file_));
    return false;  // it exited: the port may be taken
}

void JournalRemote::start() {
    if (running()) return;
    if (port_ == 0) {
        for (int attempt = 0; attempt < 5; ++attempt) {
            const std::uint16_t port = unused_loopback_port();
            if (start_on(port)) {
                port_ = port;
                return;
            }
        }
    } else {
        // The same port again: it may linger for a moment after the last stop.
        for (int attempt = 0; attempt < 25; ++attempt) {
            if (start_on(port_)) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    }
    throw std::runtime_error("systemd-journal-remote did not start; its log:\n" + read_file(log_file_));
}

void JournalRemote::stop() {
    if (process_ && process_->running()) process_->stop(SIGTERM);
    process_.reset();
}

void JournalRemote::kill() {
    if (process_ && process_->running()) process_->stop(SIGKILL);
    process_.reset();
}

std::size_t JournalRemote::entry_count() const {
    const auto j = open_journal(dir_);
    if (!j) return 0;
    std::size_t n = 0;
    for (;;) {
        const int next = sd_journal_next(j.get());
        if (next < 0) throw std::runtime_error(std::string("sd_journal_next: ") + std::strerror(-next));
        if (next == 0) return n;
        ++n;
    }
}

bool JournalRemote::wait_for_entries(std::size_t n, std::chrono::milliseconds timeout) const {
    return eventually([&] { return entry_count() >= n; }, timeout, std::chrono::milliseconds(50));
}

std::vector<JournalEntry> JournalRemote::entries() const {
    std::vector<JournalEntry> out;
    const auto j = open_journal(dir_);
    if (!j) return out;
    if (const int r = sd_journal_set_data_threshold(j.get(), 0); r < 0)
        throw std::runtime_error(std::string("sd_journal_set_data_threshold: ") + std::strerror(-r));
    for (;;) {
        const int next = sd_journal_next(j.get());
        if (next < 0) throw std::runtime_error(std::string("sd_journal_next: ") + std::strerror(-next));
        if (next == 0) break;
        JournalEntry entry;
        std::uint64_t realtime = 0;
        if (sd_journal_get_realtime_usec(j.get(), &realtime) >= 0)
            entry["__REALTIME_TIMESTAMP"].push_back(std::to_string(realtime));
        const void* data = nullptr;
        std::size_t length = 0;
        sd_journal_restart_data(j.get());
        for (;;) {
            const int r = sd_journal_enumerate_data(j.get(), &data, &length);
            if (r < 0) throw std::runtime_error(std::string("sd_journal_enumerate_data: ") + std::strerror(-r));
            if (r == 0) break;
            const std::string_view field(static_cast<const char*>(data), length);
            const std::size_t eq = field.find('=');
            if (eq == std::string_view::npos) continue;
            entry[std::string(field.substr(0, eq))].emplace_back(field.substr(eq + 1));
        }
        out.push_back(std::move(entry));
    }
    return out;
}

std::vector<std::string> JournalRemote::records() const {
    std::vector<std::string> out;
    for (const auto& entry : entries()) {
        const auto it = entry.find("BREAKGLASS_RECORD");
        if (it != entry.end())
            for (const auto& value : it->second) out.push_back(value);
    }
    return out;
}

std::string JournalRemote::export_text() const {
    RunOptions options;
    options.timeout = std::chrono::milliseconds(120000);
    const ProcessResult r = run({"/usr/bin/journalctl", "--file=" + dir_ + "/remote*.journal", "-o", "export"}, options);
    if (r.exit_code != 0) throw std::runtime_error("journalctl --file " + dir_ + "/remote*.journal failed: " + r.err);
    return r.out;
}

std::vector<JournalEntry> parse_journal_export(const std::string& text) {
    std::vector<JournalEntry> out;
    JournalEntry entry;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t end = text.find('\n', at);
        if (end == std::string::npos) throw std::runtime_error("journal export: a field without its newline");
        const std::string_view line(text.data() + at, end - at);
        at = end + 1;
        if (line.empty()) {
            if (!entry.empty()) out.push_back(std::move(entry));
            entry.clear();
            continue;
        }
        const std::size_t eq = line.find('=');
        if (eq != std::string_view::npos) {
            entry[std::string(line.substr(0, eq))].emplace_back(line.substr(eq + 1));
            continue;
        }
        // Binary-safe form: NAME\n, 64-bit little-endian size, the bytes, \n.
        if (text.size() - at < 8) throw std::runtime_error("journal export: a truncated binary field");
        std::uint64_t size = 0;
        for (int i = 7; i >= 0; --i) size = (size << 8) | static_cast<unsigned char>(text[at + static_cast<std::size_t>(i)]);
        at += 8;
        if (size > text.size() - at || text.size() - at - size < 1 || text[at + size] != '\n')
            throw std::runtime_error("journal export: a binary field longer than the stream");
        entry[std::string(line)].emplace_back(text.substr(at, size));
        at += size + 1;
    }
    if (!entry.empty()) out.push_back(std::move(entry));
    return out;
}

}  // namespace bg::test
