// SPDX-License-Identifier: ISC
// libFuzzer target for the audit record parser, the fast line scanner and the
// verifier. Besides "never crash", it checks the property the fast verifier
// relies on: scan_line() accepts a line iff parse_record() does, and an
// accepted line is exactly canonical; and, for a log that verifies, that
// audit.key passes only with the key the initial key evolves to at its index.
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

// audit.key beside a log that verified with N records: the initial key
// evolved to the key file's index passes at any index 1..N+1 and nothing else
// does (issue 10, item 7: the index alone proves nothing). The index is taken
// from the input so that the fuzzer also lands on the split of long logs.
void check_key_file(std::string_view input, std::uint64_t records) {
    std::uint64_t index = records + 1;
    if (!input.empty()) index = 1 + static_cast<unsigned char>(input.back()) % (records + 1);
    bg::audit::KeyBytes key = fuzz_key();
    for (std::uint64_t i = 1; i < index; ++i) {
        if (!bg::audit::evolve_key(key)) std::abort();
    }
    bg::audit::VerifyOptions o;
    o.initial_key = fuzz_key();
    o.key_file = bg::audit::KeyState(key, index);
    if (!bg::audit::verify_log(input, o).ok) std::abort();
    key[index % key.size()] ^= 0x01;  // one bit off
    o.key_file = bg::audit::KeyState(key, index);
    const auto wrong = bg::audit::verify_log(input, o);
    if (wrong.ok || wrong.first_bad_seq != records + 1) std::abort();
    o.key_file = bg::audit::KeyState(fuzz_key(), records + 2);  // ahead of the log
    if (bg::audit::verify_log(input, o).ok) std::abort();
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
    if (r.ok) check_key_file(input, r.records);
    return 0;
}
