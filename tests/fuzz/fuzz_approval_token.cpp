// SPDX-License-Identifier: ISC
// libFuzzer target for helper/workflow/offline_token: parse_approval_token
// and parse_request_code, which read what a local user pastes at the prompt
// (the token reaches breakglassd in a SubmitTokenRequest) and what an
// approver types into `breakglassctl approve --offline`.
// Invariants:
//   - neither parser crashes, hangs or reads out of bounds, whatever the input;
//   - what a parser accepts formats back to text it accepts again, and to the
//     same value (the token's digest, the code's names and digest), so one
//     token has one digest: single use cannot be dodged by retyping it;
//   - check_approval_token on an accepted token and code never says ok
//     without a key (an empty key list refuses everything).
// Seed corpus: tests/fuzz/corpus/approval_token.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "helper/workflow/offline_token.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto token = bg::workflow::parse_approval_token(text);
    if (token) {
        const std::string again = bg::workflow::format_approval_token(*token);
        const auto back = bg::workflow::parse_approval_token(again);
        if (!back || bg::workflow::token_digest(*back) != bg::workflow::token_digest(*token)) std::abort();
        if (bg::workflow::format_approval_token(*back) != again) std::abort();
    }
    const auto code = bg::workflow::parse_request_code(text);
    if (code) {
        const std::string again = bg::workflow::format_request_code(*code);
        const auto back = bg::workflow::parse_request_code(again);
        if (!back || back->actor != code->actor || back->host != code->host || back->gate != code->gate ||
            back->digest != code->digest)
            std::abort();
        if (token && bg::workflow::check_approval_token(*token, *code, {}).ok) std::abort();
    }
    return 0;
}
