// SPDX-License-Identifier: ISC
// libFuzzer target for parse_policy: any bytes must yield a Policy or an
// Error — no crash, no exception, no sanitizer report. A Policy that parses
// is also dumped and evaluated, so those paths see fuzzer-made gates.
//   fuzz_policy -dict=tests/fuzz/policy.dict tests/fuzz/corpus/policy
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "policy/policy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto result = bg::policy::parse_policy(text, "fuzz.toml");
    if (!result) {
        // Every error is located: "fuzz.toml:LINE:COL: ...".
        if (result.error().message.rfind("fuzz.toml:", 0) != 0) std::abort();
        return 0;
    }
    const bg::policy::Policy& policy = *result;
    if (policy.gates.empty()) std::abort();  // "policy defines no gates" is an error
    (void)bg::policy::dump_policy(policy);
    for (const auto& [name, gate] : policy.gates) {
        if (gate.requesters.empty() || gate.factors.empty() || gate.ttl > gate.max_ttl) std::abort();
        bg::policy::EvalRequest r;
        r.user = gate.requesters.front().name;
        if (gate.requesters.front().is_group) r.groups = {r.user};
        r.gate = name;
        r.incident = "INC-12345";  // short: a policy's own regex may backtrack badly on long input
        r.severity = gate.severities.empty() ? "" : gate.severities.front();
        r.factor_kind = gate.factors.front();
        (void)bg::policy::evaluate(policy, r, {});
        (void)bg::policy::gates_for(policy, r.user, r.groups);
    }
    return 0;
}
