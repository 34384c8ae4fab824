// SPDX-License-Identifier: ISC
#include "helper/audit/remote_copy.hpp"

#include <systemd/sd-journal.h>

#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "helper/audit/audit_record.hpp"

namespace bg::audit {
namespace {

constexpr std::string_view kRecordField = "BREAKGLASS_RECORD";

bool valid_field_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxExportFieldNameBytes) return false;
    if (name[0] >= '0' && name[0] <= '9') return false;
    for (const char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

Error at(std::size_t offset, const std::string& what) {
    return Error{"journal export stream, byte " + std::to_string(offset) + ": " + what};
}

}  // namespace

Status for_each_export_entry(std::string_view s, const std::function<bool(const ExportEntry&)>& entry) {
    ExportEntry current;
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t nl = s.find('\n', i);
        if (nl == std::string_view::npos) return at(i, "a field does not end in a newline (a truncated stream?)");
        const std::string_view line = s.substr(i, nl - i);
        if (line.empty()) {  // the end of an entry
            if (!current.empty() && !entry(current)) return Ok{};
            current.clear();
            i = nl + 1;
            continue;
        }
        if (current.size() >= kMaxExportFieldsPerEntry) return at(i, "too many fields in one entry");
        const std::size_t eq = line.find('=');
        ExportField f;
        if (eq != std::string_view::npos) {
            if (!valid_field_name(line.substr(0, eq))) return at(i, "bad field name");
            if (line.size() - eq - 1 > kMaxExportValueBytes) return at(i, "field value too large");
            f.name = std::string(line.substr(0, eq));
            f.value = std::string(line.substr(eq + 1));
            i = nl + 1;
        } else {
            // The binary form: NAME\n, a little-endian 64-bit size, the bytes, \n.
            if (!valid_field_name(line)) return at(i, "bad field name");
            std::size_t p = nl + 1;
            if (s.size() - p < 8) return at(p, "truncated binary field size");
            std::uint64_t size = 0;
            for (int b = 7; b >= 0; --b) size = (size << 8) | static_cast<unsigned char>(s[p + static_cast<std::size_t>(b)]);
            p += 8;
            if (size > kMaxExportValueBytes) return at(p, "binary field value too large");
            if (s.size() - p < size + 1) return at(p, "truncated binary field value");
            if (s[p + size] != '\n') return at(p + size, "binary field value not followed by a newline");
            f.name = std::string(line);
            f.value = std::string(s.substr(p, size));
            i = p + size + 1;
        }
        current.push_back(std::move(f));
    }
    // journalctl ends each entry with an empty line; a stream cut after a
    // field's newline still holds whole fields.
    if (!current.empty()) entry(current);
    return Ok{};
}

Result<std::vector<ExportEntry>> parse_journal_export(std::string_view stream) {
    std::vector<ExportEntry> out;
    auto st = for_each_export_entry(stream, [&](const ExportEntry& e) {
        out.push_back(e);
        return true;
    });
    if (!st) return st.error();
    return out;
}

Result<std::vector<RemoteLine>> record_lines_from_export(std::string_view stream, std::string_view source_name) {
    std::vector<RemoteLine> out;
    std::size_t index = 0;
    std::string problem;
    auto st = for_each_export_entry(stream, [&](const ExportEntry& e) {
        ++index;
        const ExportField* found = nullptr;
        for (const ExportField& f : e) {
            if (f.name != kRecordField) continue;
            if (found) {
                problem = "entry " + std::to_string(index) + " has two " + std::string(kRecordField) + " fields";
                return false;
            }
            found = &f;
        }
        if (found) out.push_back({found->value, "entry " + std::to_string(index) + " of " + std::string(source_name)});
        return true;
    });
    if (!st) return st.error();
    if (!problem.empty()) return Error{std::string(source_name) + ": " + problem};
    return out;
}

Result<std::vector<RemoteLine>> record_lines_from_journal_files(const std::vector<std::string>& paths) {
    if (paths.empty()) return Error{"no journal files given"};
    std::vector<const char*> argv;
    for (const auto& p : paths) argv.push_back(p.c_str());
    argv.push_back(nullptr);
    sd_journal* raw = nullptr;
    if (const int r = sd_journal_open_files(&raw, argv.data(), 0); r < 0) {
        return Error{"cannot open the journal files: " + std::string(std::strerror(-r))};
    }
    std::unique_ptr<sd_journal, decltype(&sd_journal_close)> j(raw, &sd_journal_close);
    // Whole values (a record line is at most kMaxLineBytes).
    (void)sd_journal_set_data_threshold(j.get(), 0);
    std::vector<RemoteLine> out;
    std::size_t index = 0;
    for (;;) {
        const int r = sd_journal_next(j.get());
        if (r < 0) return Error{"cannot read the journal files: " + std::string(std::strerror(-r))};
        if (r == 0) break;
        ++index;
        const void* data = nullptr;
        std::size_t length = 0;
        const int g = sd_journal_get_data(j.get(), std::string(kRecordField).c_str(), &data, &length);
        if (g == -ENOENT) continue;
        if (g < 0) return Error{"cannot read entry " + std::to_string(index) + ": " + std::strerror(-g)};
        const std::string_view field(static_cast<const char*>(data), length);
        if (field.size() <= kRecordField.size() || field[kRecordField.size()] != '=') continue;
        const std::string_view value = field.substr(kRecordField.size() + 1);
        if (value.size() > kMaxExportValueBytes) return Error{"entry " + std::to_string(index) + ": record too large"};
        out.push_back({std::string(value), "journal entry " + std::to_string(index)});
    }
    return out;
}

Result<std::vector<RemoteLine>> record_lines_from_json_lines(std::string_view text, std::string_view source_name) {
    std::vector<RemoteLine> out;
    std::size_t line_no = 0, i = 0;
    while (i < text.size()) {
        std::size_t nl = text.find('\n', i);
        if (nl == std::string_view::npos) nl = text.size();
        const std::string_view line = text.substr(i, nl - i);
        i = nl + 1;
        ++line_no;
        if (line.empty()) continue;
        const std::string where = "line " + std::to_string(line_no) + " of " + std::string(source_name);
        if (line.size() > kMaxExportValueBytes) return Error{where + ": too long"};
        const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded() || !j.is_object()) return Error{where + ": not a JSON object"};
        const auto member = j.find("record_line");
        if (member == j.end()) {
            out.push_back({std::string(line), where});
        } else {
            if (!member->is_string()) return Error{where + ": \"record_line\" is not a string"};
            out.push_back({member->get<std::string>(), where});
        }
    }
    return out;
}

}  // namespace bg::audit
