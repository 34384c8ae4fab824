// SPDX-License-Identifier: ISC
// breakglassctl's subcommands: each runs one exchange with breakglassd (or,
// for verify and a local policy check, reads files), prints the result and
// returns the exit code (ctl_exit_code.hpp). This is the top layer: it is
// the only part of the CLI that prints.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "helper/audit/audit_verify.hpp"
#include "helper/ctl/arguments.hpp"
#include "helper/ctl/output.hpp"

namespace bg::ctl {

// The global options (command_line.hpp), resolved: each subcommand uses those
// that apply to it.
struct CommonOptions {
    std::string socket;     // --socket: breakglassd's socket
    bool json = false;      // --json: machine-readable output
    std::string state_dir;  // --state-dir: verify reads DIR/audit.log
    bool state_dir_given = false;  // --state-dir was given (show reads files only then)
};

// Reviews (issue 14; review_commands.cpp).
int run_review(const CommonOptions& o, const std::string& grant_id, const std::string& verdict, const std::string& note);
int run_reviews(const CommonOptions& o, bool overdue);
// Through breakglassd (root, auditors), or with --state-dir from the files.
int run_show(const CommonOptions& o, const std::string& grant_id);

int run_request(const CommonOptions& o, const RequestArguments& a);
// `request`'s flow for a PostgreSQL gate, then the role's credentials (once)
// and exec psql with them in its environment; returns only on failure.
int run_psql(const CommonOptions& o, const RequestArguments& a, const std::vector<std::string>& psql_args);
int run_status(const CommonOptions& o, bool all);
int run_revoke(const CommonOptions& o, const std::string& event_id, const std::string& reason);
int run_expire(const CommonOptions& o, const std::string& event_id);
int run_log(const CommonOptions& o, const std::string& since);

struct VerifyArguments {
    std::string key_file;     // empty: seals are not checked
    std::string expect_head;  // empty: none
    // A remote copy (at most one form): journal files written by
    // systemd-journal-remote, a `journalctl -o export` stream ("-": stdin),
    // or JSON lines. It is verified with the checkpoint public key
    // (pubkey_file, required with a copy); against_remote also compares it
    // with the local log in o.state_dir.
    std::vector<std::string> journal_files;
    std::string journal_export;
    std::string json_lines;
    std::string pubkey_file;
    bool against_remote = false;
};
// Offline: reads o.state_dir; never asks the daemon.
int run_verify(const CommonOptions& o, const VerifyArguments& a);
// verify's check of o.state_dir's audit.log (its bytes in `log`), with the
// key file when present. nullopt when it could not run (printed; *exit_code set).
std::optional<VerifyOutcome> verify_state_log(const CommonOptions& o, const std::string& log,
                                              audit::VerifyOptions options, int* exit_code);
// o.state_dir/audit.log, whole (with a hint when permissions stop us).
Result<std::string> read_state_log(const CommonOptions& o);

// Prints <state_dir>/checkpoint.key's public key line (what verify --pubkey reads).
int run_checkpoint_key(const CommonOptions& o);

// file empty: ask the daemon about its policy file.
int run_policy_check(const CommonOptions& o, const std::string& file, bool verbose);
int run_policy_reload(const CommonOptions& o);
// `alert test NAME` (root): one test alert on [alert.NAME], sent by the
// daemon now; prints what the channel answered. 0 when the channel took it
// (HTTP 2xx, sendmail exited 0), 1 when it did not or the daemon refused
// (no such channel, not root), 3 when the daemon did not answer.
int run_alert_test(const CommonOptions& o, const std::string& channel);
int run_enroll_totp(const CommonOptions& o, const std::string& user, bool secret_from_stdin);
// Reads "AESKEYHEX PRIVATEIDHEX" (one line) from the terminal or stdin, never argv.
int run_enroll_yubikey(const CommonOptions& o, const std::string& user, const std::string& public_id);

// "breakglassctl: <message>" on stderr.
void print_error(const std::string& message);

}  // namespace bg::ctl
