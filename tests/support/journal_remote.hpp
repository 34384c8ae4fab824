// SPDX-License-Identifier: ISC
// A real systemd-journal-remote for the tests of the journal-remote sink
// (issue 11): started on 127.0.0.1 and a free port with the test's server
// certificate, writing every entry it receives (POST /upload, export format)
// into one journal file; stopped and started again on the same port and the
// same file, for outages; and read back with sd-journal.
//
// Debian 12's journal-remote is built without GnuTLS certificate checking:
// it serves HTTPS but never checks a client certificate (its log says
// "Certificate checking disabled."), and has no --trust, so none is passed.
// The process dies with the test (PR_SET_PDEATHSIG, process.hpp).
// No gtest in here: failures throw std::runtime_error.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/test_certificates.hpp"

namespace bg::test {

inline constexpr const char* kJournalRemotePath = "/lib/systemd/systemd-journal-remote";

// One journal entry: each field's values in the order the entry holds them
// (a field may repeat), plus "__REALTIME_TIMESTAMP" (decimal microseconds).
using JournalEntry = std::map<std::string, std::vector<std::string>>;

// The first value of `field` in `entry`; "" when it has none.
std::string field_of(const JournalEntry& entry, const std::string& field);

class JournalRemote {
public:
    enum class Transport { https, http };

    // Starts it (start()) with output in `dir` (which must exist): the
    // journal DIR/remote.journal (rotated files DIR/remote@*.journal), its
    // standard output and error appended to DIR/journal-remote.log.
    // https: --listen-https with certificates.server; http: --listen-http.
    JournalRemote(const std::string& dir, const TestCertificates& certificates, Transport transport = Transport::https);
    ~JournalRemote();
    JournalRemote(const JournalRemote&) = delete;
    JournalRemote& operator=(const JournalRemote&) = delete;

    // Starts the process and returns once it accepts connections (https: a
    // TLS handshake verified with certificates.ca for "localhost"). The first
    // start picks a free port (and another if that one was taken meanwhile);
    // every later start uses the same port and the same output file. Throws,
    // with the log, when it exits or is not ready within 10 s. No-op when running.
    void start();
    // SIGTERM, then waits for it to exit (SIGKILL after 10 s). No-op when stopped.
    void stop();
    // SIGKILL, no chance to close the journal file cleanly.
    void kill();
    bool running();

    std::uint16_t port() const { return port_; }
    // "https://localhost:PORT" (http: "http://127.0.0.1:PORT"): the sink's url.
    std::string url() const;
    // url() + "/upload"
    std::string upload_url() const { return url() + "/upload"; }
    const std::string& journal_file() const { return journal_file_; }
    const std::string& log_file() const { return log_file_; }
    pid_t pid() const;

    // Every entry received so far, in the order the journal holds them
    // (DIR/remote*.journal read with sd-journal, fields never truncated).
    // Works while it runs and after it stopped.
    std::vector<JournalEntry> entries() const;
    // How many entries the journal holds (cheaper than entries(): no field is read).
    std::size_t entry_count() const;
    // True once entry_count() >= n; false after `timeout` (polls every 50 ms).
    bool wait_for_entries(std::size_t n, std::chrono::milliseconds timeout) const;
    // The BREAKGLASS_RECORD value of each entry that has one, in order:
    // the canonical record lines the sink received.
    std::vector<std::string> records() const;
    // What an SRE pulls: `journalctl --file DIR/remote*.journal -o export`.
    std::string export_text() const;

private:
    bool start_on(std::uint16_t port);

    std::string dir_;
    TestCertificates certificates_;
    Transport transport_;
    std::string journal_file_;
    std::string log_file_;
    std::uint16_t port_ = 0;
    std::unique_ptr<ChildProcess> process_;
};

// Reads a `journalctl -o export` stream: entries separated by an empty line,
// fields "NAME=value\n" or, for values with control bytes, "NAME\n" then a
// 64-bit little-endian length, the bytes and "\n". Throws on a malformed stream.
std::vector<JournalEntry> parse_journal_export(const std::string& text);

}  // namespace bg::test
