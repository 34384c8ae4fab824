// SPDX-License-Identifier: ISC
// libFuzzer target for the audit record parser, the fast line scanner and the
// verifier. Besides "never crash", it checks the property the fast verifier
// relies on: scan_line() accepts a line iff parse_record() does, and an
// accepted line is exactly canonical.
//
// The fixed key below is FUZZ-ONLY (bytes 0x00..0x1f), not a secret; the seed
// corpus in tests/fuzz/corpus/audit/ is sealed with it so inputs reach the
// seal check.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "helper/audit/audit_record.hpp"
#include "helper/audit/audit_verify.hpp"

namespace {

std::array<unsigned char, 32> fuzz_key() {
    std::array<unsigned char, 32> k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<unsigned char>(i);
    return k;
}

void check_line(std::string_view line) {
    const auto parsed = bg::audit::parse_record(line);
    bg::audit::LineScan scan;
    const bool scanned = bg::audit::scan_line(line, &scan) == nullptr;
    if (scanned != parsed.ok()) std::abort();
    if (parsed.ok()) {
        if (bg::audit::canonical_json(*parsed) != line) std::abort();
        if (scan.seq != parsed->seq || scan.hash != parsed->hash || scan.seal != parsed->seal ||
            scan.prev_hash != parsed->prev_hash) {
            std::abort();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_line(input);
    std::size_t pos = 0;
    while (pos < input.size()) {  // and each line of a multi-line input
        std::size_t nl = input.find('\n', pos);
        if (nl == std::string_view::npos) nl = input.size();
        if (pos != 0 || nl != input.size()) check_line(input.substr(pos, nl - pos));
        pos = nl + 1;
    }
    (void)bg::audit::verify_log(input, bg::audit::VerifyOptions{});
    bg::audit::VerifyOptions keyed;
    keyed.initial_key = fuzz_key();
    const auto r = bg::audit::verify_log(input, keyed);
    if (r.ok && !r.seals_checked) std::abort();
    return 0;
}
