// SPDX-License-Identifier: ISC
// JSON parsed into a value the caller owns (docs/ARCHITECTURE.md, "A store
// that misses a record catches up from the log"). nlohmann::json::parse
// builds its result in a local of its own: when an allocation fails partway,
// that half-built value is freed by nlohmann's destructor, which allocates
// (common/json_build.hpp), and an allocation failing there is
// std::terminate. parse_into builds into `out` through nlohmann's SAX
// interface (nlohmann's own parser; nothing here reads a character), so
// whatever was built when an exception leaves is the caller's to empty.
#ifndef BG_COMMON_JSON_PARSE_HPP
#define BG_COMMON_JSON_PARSE_HPP

#include <string_view>

#include <nlohmann/json.hpp>

namespace bg {

struct JsonParseLimits {
    // Values deeper than this are refused (the top-level value is at depth 0,
    // its members at 1); 0 is no bound.
    int max_depth = 0;
    // An object with a key twice is refused (nlohmann would keep the last).
    bool refuse_duplicate_keys = false;
};

enum class JsonParse { Ok, Invalid, TooDeep, DuplicateKey };

// Parses `text` (strict: one value, nothing after it) into `out`, emptying
// what `out` held first. Guard `out` before the call (EmptiedBeforeDestruction,
// or a wipe that also empties): an exception (out of memory) or any outcome
// but Ok leaves what was built so far in `out`, for that guard.
JsonParse parse_into(std::string_view text, nlohmann::json& out, JsonParseLimits limits = {});

}  // namespace bg

#endif
