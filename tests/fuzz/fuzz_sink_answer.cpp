// SPDX-License-Identifier: ISC
// libFuzzer target for judge_answer (helper/ship/payload): what a sink (or
// something posing as one) answers a batch. Only a 2xx can acknowledge, and
// for splunk-hec only with {"code":0}; the reason kept is bounded and holds no
// control character. Input: 1 byte sink type, 2 bytes status, the body.
// Seed corpus: tests/fuzz/corpus/sink_answer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "helper/ship/payload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return 0;
    const auto type = static_cast<bg::policy::SinkType>(data[0] % 4);
    const long status = static_cast<long>(data[1]) * 256 + data[2];
    const std::string_view body(reinterpret_cast<const char*>(data + 3), size - 3);
    const auto v = bg::ship::judge_answer(type, status, body);
    if (v.acknowledged && (status < 200 || status > 299)) std::abort();
    if (!v.acknowledged && v.why.empty()) std::abort();
    if (v.why.size() > 2048) std::abort();
    for (const char c : v.why)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) std::abort();
    return 0;
}
