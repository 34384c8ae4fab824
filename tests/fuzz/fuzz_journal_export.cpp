// SPDX-License-Identifier: ISC
// libFuzzer target for parse_journal_export (helper/audit/remote_copy): a
// `journalctl -o export` stream from a remote copy the verifier does not trust.
// Invariants: no crash, no unbounded allocation (sizes are checked before
// copying); every parsed field has a valid name and a bounded value; an entry
// rendered again with append_export_field parses back to the same fields.
// Seed corpus: tests/fuzz/corpus/journal_export.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "helper/audit/journal.hpp"
#include "helper/audit/remote_copy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    auto entries = bg::audit::parse_journal_export(input);
    (void)bg::audit::record_lines_from_export(input, "fuzz");
    if (!entries) return 0;
    for (const auto& entry : *entries) {
        if (entry.empty() || entry.size() > bg::audit::kMaxExportFieldsPerEntry) std::abort();
        std::string rendered;
        for (const auto& f : entry) {
            if (f.name.empty() || f.name.size() > bg::audit::kMaxExportFieldNameBytes) std::abort();
            if (f.value.size() > bg::audit::kMaxExportValueBytes) std::abort();
            bg::audit::append_export_field(rendered, f.name + "=" + f.value);
        }
        rendered += '\n';
        auto again = bg::audit::parse_journal_export(rendered);
        if (!again || again->size() != 1 || again->front().size() != entry.size()) std::abort();
        for (std::size_t i = 0; i < entry.size(); ++i)
            if (again->front()[i].name != entry[i].name || again->front()[i].value != entry[i].value) std::abort();
    }
    return 0;
}
