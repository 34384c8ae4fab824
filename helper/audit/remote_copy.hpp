// SPDX-License-Identifier: ISC
// Readers of a remote copy of the audit log (docs/ARCHITECTURE.md, "Signed
// checkpoints"): what a sink kept, handed to verify_remote() as the canonical
// record lines in the order the copy holds them. Three forms:
//   - the journal export format (`journalctl -o export`, what
//     systemd-journal-remote's /upload reads): entries of fields, each
//     "NAME=value\n" or, in the binary form, "NAME\n" <le64 size> <bytes>
//     "\n"; an empty line ends an entry. parse_journal_export() is pure and
//     bounded; the record line is each entry's BREAKGLASS_RECORD field
//     (entries without one are someone else's and skipped);
//   - journal files (what systemd-journal-remote writes), read with sd-journal;
//   - JSON lines: each line a canonical record line, or a JSON object with a
//     string member "record_line" (the http-json sinks' bodies).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace bg::audit {

// One record line of the copy and where it was found ("entry 12 of FILE").
struct RemoteLine {
    std::string line;
    std::string where;
};

// Bounds of the export parser.
inline constexpr std::size_t kMaxExportFieldNameBytes = 64;
inline constexpr std::size_t kMaxExportValueBytes = 1 << 20;
inline constexpr std::size_t kMaxExportFieldsPerEntry = 1024;
// Bound on a stream or file read whole (journal export, JSON lines).
inline constexpr std::size_t kMaxRemoteCopyBytes = std::size_t{1} << 31;

struct ExportField {
    std::string name, value;
};
using ExportEntry = std::vector<ExportField>;

// Calls `entry` for each entry in order (stop early by returning false).
// Errors name the byte offset. Field names: [A-Z0-9_], not starting with a
// digit, at most kMaxExportFieldNameBytes. Pure.
Status for_each_export_entry(std::string_view stream, const std::function<bool(const ExportEntry&)>& entry);
// All entries (for tests and the fuzz target).
Result<std::vector<ExportEntry>> parse_journal_export(std::string_view stream);
// The BREAKGLASS_RECORD of each entry that has one; an entry with two is an error.
Result<std::vector<RemoteLine>> record_lines_from_export(std::string_view stream, std::string_view source_name);

// BREAKGLASS_RECORD of every entry of the journal files, in the journal's order.
Result<std::vector<RemoteLine>> record_lines_from_journal_files(const std::vector<std::string>& paths);

// Each non-empty line: the canonical record line itself, or {"record_line": "..."}.
Result<std::vector<RemoteLine>> record_lines_from_json_lines(std::string_view text, std::string_view source_name);

}  // namespace bg::audit
