// SPDX-License-Identifier: ISC
// breakglassctl's read-only views of the audit log (issue 14): `report`, the
// per-gate bypass report, and `export`, the auditor's evidence pack. Both read
// the records offline: the host's own log (--state-dir DIR, root: DIR/audit.log,
// verified first) or the remote copies of many hosts (--journal-file,
// --journal-dir: journal files written by systemd-journal-remote). The views
// themselves are helper/report's pure functions.
#pragma once

#include <string>
#include <vector>

#include "helper/ctl/commands.hpp"

namespace bg::ctl {

struct ReportArguments {
    std::string since = "90d";  // a duration ago, or an RFC 3339 UTC time
    std::string until;          // empty: now
    std::string html_file, prometheus_file;  // "-": stdout
    std::vector<std::string> journal_files;
    std::vector<std::string> journal_dirs;
    // Checkpoint public keys (breakglassctl checkpoint-key) of the hosts whose
    // copies are read: each host's copy is verified with the key that holds.
    std::vector<std::string> pubkey_files;
    std::string format = "json";  // export only: json | csv
    std::string policy_file;      // report: each gate's review_within from it (else 72 h)
};

int run_report(const CommonOptions& o, const ReportArguments& a);
int run_export(const CommonOptions& o, const ReportArguments& a);

}  // namespace bg::ctl
