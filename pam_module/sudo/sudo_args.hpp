// SPDX-License-Identifier: ISC
// breakglass_sudo.so's plugin options (the words after the plugin path on a
// `Plugin` line in sudo.conf, handed to open() as plugin_options) and the other
// pure pieces of the plugin: looking up "key=value" entries in sudo's lists,
// deciding whether a run-as group/user is gated, and the command text for the
// record. No I/O, so every case is unit-tested.
//
//   gates=ENTRY[,ENTRY…]  required. ENTRY is GROUP:GATE (run-as group → gate),
//                         group:GROUP:GATE (the same, explicit) or user:USER:GATE
//                         (run-as user → gate). root is never a gate target:
//                         it is sudo's default run-as user and group, and
//                         gating it would gate every sudo command.
//   socket=PATH           breakglassd's socket (default BG_DEFAULT_SOCKET); absolute
//   debug                 show each decision on the terminal
//
// Anything else, a repeated option, a group or user named twice or a missing
// gates= is a configuration error (see sudo_plugin.cpp for what the plugin
// does then).
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace bg::sudo {

struct PluginArgs {
    std::map<std::string, std::string, std::less<>> gate_by_group;  // run-as group name → gate
    std::map<std::string, std::string, std::less<>> gate_by_user;   // run-as user name → gate
    std::string socket_path = BG_DEFAULT_SOCKET;
    bool debug = false;
};

// `options` is sudo's NULL-terminated plugin_options without the terminator.
Result<PluginArgs> parse_plugin_args(std::span<const char* const> options);

// The value of the first "key=value" entry of a NULL-terminated sudo list
// (settings, user_info, command_info); nullopt when absent or list is NULL.
std::optional<std::string_view> find_entry(const char* const* list, std::string_view key);

// Parses a decimal uid/gid as sudo writes them; nullopt when not a number in range.
std::optional<unsigned int> parse_id(std::string_view text);

// A comma-separated id list (command_info's runas_groups=); nullopt when any element is bad.
std::optional<std::vector<unsigned int>> parse_id_list(std::string_view text);

// What made a command gated.
struct GatedBy {
    std::string gate;
    std::string runas_group;  // the matching group, "" when matched by user
    std::string runas_user;   // the matching user, "" when matched by group
};
// The run-as groups (primary first) and user of a command → the gate, if any.
// Groups win over the user; the first group with a gate wins.
std::optional<GatedBy> gate_for(const PluginArgs& args, std::span<const std::string> runas_groups,
                                std::string_view runas_user);

// argv as one line for the record: words joined by spaces, a word with
// spaces, quotes or nothing in it single-quoted, control characters and bad
// UTF-8 escaped, cut to max_bytes on a character boundary.
std::string command_line(const char* const* argv, std::size_t max_bytes);

}  // namespace bg::sudo
