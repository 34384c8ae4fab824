// SPDX-License-Identifier: ISC
// libFuzzer target for the TOTP parsers: base32_decode on arbitrary text (a
// secret from totp.json or an operator) and verify() on arbitrary code
// strings (what a front-end forwards from the user). Invariants checked:
// decode(encode(x)) == x, a decoded value re-encodes to the upper-cased input
// without padding, and verify() only succeeds on six ASCII digits.
#include "helper/mfa/totp.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

// A fixed, non-secret key: the RFC 6238 SHA1 test seed.
constexpr unsigned char kKey[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9', '0',
                                  '1', '2', '3', '4', '5', '6', '7', '8', '9', '0'};
constexpr std::int64_t kNow = 1111111111;

bool is_six_digits(std::string_view s) {
    if (s.size() != 6) return false;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    if (const auto decoded = bg::totp::base32_decode(input)) {
        const std::string encoded = bg::totp::base32_encode(*decoded);
        std::string canonical(input.substr(0, input.find('=')));
        for (char& c : canonical) {
            if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        }
        if (encoded != canonical) std::abort();
        const auto again = bg::totp::base32_decode(encoded);
        if (!again || *again != *decoded) std::abort();
    }

    // Use the first 8 bytes (when present) as last_accepted_step so replay
    // paths are reached too; the rest is the code.
    std::uint64_t last = 0;
    std::string_view code = input;
    if (size > 8 && (data[0] & 1u) != 0) {
        for (std::size_t i = 1; i < 9 && i < size; ++i) last = (last << 8) | data[i];
        last %= 37037040;  // near step_at(kNow) = 37037037, so all outcomes occur
        code = input.substr(9);
    }
    const auto outcome = bg::totp::verify(kKey, code, kNow, last);
    if (outcome.step) {
        if (!is_six_digits(code) || *outcome.step <= last) std::abort();
        const auto now_step = bg::totp::step_at(kNow);
        if (*outcome.step + 1 < now_step || *outcome.step > now_step + 1) std::abort();
    } else if (!is_six_digits(code) && outcome.failure != bg::totp::Failure::Malformed) {
        std::abort();
    }
    return 0;
}
