// SPDX-License-Identifier: ISC
#include "pam_module/sudo/sudo_args.hpp"

#include <charconv>

#include "common/breakglass_flow.hpp"
#include "common/text.hpp"
#include "common/transport.hpp"

namespace bg::sudo {
namespace {

std::string quoted(std::string_view text) { return "'" + escape_for_display(text) + "'"; }

std::string name_rule(std::size_t max) {
    return "1.." + std::to_string(max) + " of [A-Za-z0-9_.-], not starting with '-'";
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = text.find(separator, start);
        parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) return parts;
        start = end + 1;
    }
}

// One gates= entry into args; an error names the entry.
std::optional<std::string> add_gate(PluginArgs& args, std::string_view entry) {
    const std::vector<std::string_view> parts = split(entry, ':');
    bool by_user = false;
    std::string_view target, gate;
    if (parts.size() == 2) {
        target = parts[0];
        gate = parts[1];
    } else if (parts.size() == 3 && (parts[0] == "group" || parts[0] == "user")) {
        by_user = parts[0] == "user";
        target = parts[1];
        gate = parts[2];
    } else {
        return "gates= entry " + quoted(entry) + " is not GROUP:GATE, group:GROUP:GATE or user:USER:GATE";
    }
    const char* kind = by_user ? "user" : "group";
    const std::size_t max = kMaxUserBytes;  // group names follow the same rule as user names
    if (!is_valid_name(target, max))
        return std::string("run-as ") + kind + " " + quoted(target) + " in gates= is not valid (" + name_rule(max) + ")";
    if (!is_valid_name(gate, kMaxGateBytes))
        return "gate name " + quoted(gate) + " in gates= is not valid (" + name_rule(kMaxGateBytes) + ")";
    if (target == "root")
        return std::string("run-as ") + kind +
               " 'root' cannot be a gate: it is sudo's default target, so every sudo command would be gated";
    auto& map = by_user ? args.gate_by_user : args.gate_by_group;
    if (!map.emplace(std::string(target), std::string(gate)).second)
        return std::string("run-as ") + kind + " " + quoted(target) + " is named twice in gates=";
    return std::nullopt;
}

}  // namespace

Result<PluginArgs> parse_plugin_args(std::span<const char* const> options) {
    PluginArgs out;
    bool have_gates = false, have_socket = false;
    for (const char* raw : options) {
        if (raw == nullptr) return make_error("a plugin option is missing (NULL)");
        const std::string_view option(raw);
        if (option == "debug") {
            out.debug = true;
        } else if (option.starts_with("gates=")) {
            if (have_gates) return make_error("gates= is given twice");
            const std::string_view list = option.substr(6);
            if (list.empty()) return make_error("gates= is empty");
            for (const std::string_view entry : split(list, ','))
                if (auto bad = add_gate(out, entry)) return make_error(std::move(*bad));
            have_gates = true;
        } else if (option.starts_with("socket=")) {
            if (have_socket) return make_error("socket= is given twice");
            const std::string_view path = option.substr(7);
            if (auto problem = proto::socket_path_problem(path)) return make_error(std::move(*problem));
            out.socket_path = std::string(path);
            have_socket = true;
        } else {
            return make_error("unknown option " + quoted(option) + " (known: gates=GROUP:GATE[,...], socket=PATH, debug)");
        }
    }
    if (!have_gates) return make_error("the required option gates=GROUP:GATE[,...] is missing");
    return out;
}

std::optional<std::string_view> find_entry(const char* const* list, std::string_view key) {
    if (list == nullptr) return std::nullopt;
    for (; *list != nullptr; ++list) {
        const std::string_view entry(*list);
        if (entry.size() > key.size() && entry.starts_with(key) && entry[key.size()] == '=')
            return entry.substr(key.size() + 1);
    }
    return std::nullopt;
}

std::optional<unsigned int> parse_id(std::string_view text) {
    unsigned int value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
    return value;
}

std::optional<std::vector<unsigned int>> parse_id_list(std::string_view text) {
    std::vector<unsigned int> ids;
    if (text.empty()) return ids;
    for (const std::string_view part : split(text, ',')) {
        const auto id = parse_id(part);
        if (!id) return std::nullopt;
        ids.push_back(*id);
    }
    return ids;
}

std::optional<GatedBy> gate_for(const PluginArgs& args, std::span<const std::string> runas_groups,
                                std::string_view runas_user) {
    for (const std::string& group : runas_groups)
        if (auto it = args.gate_by_group.find(group); it != args.gate_by_group.end())
            return GatedBy{it->second, group, ""};
    if (auto it = args.gate_by_user.find(runas_user); it != args.gate_by_user.end())
        return GatedBy{it->second, "", std::string(runas_user)};
    return std::nullopt;
}

std::string command_line(const char* const* argv, std::size_t max_bytes) {
    std::string line;
    for (const char* const* arg = argv; arg != nullptr && *arg != nullptr; ++arg) {
        const std::string_view word(*arg);
        if (!line.empty()) line += ' ';
        const bool plain = !word.empty() && word.find_first_of(" \t'\"\\") == std::string_view::npos;
        if (plain) {
            line += word;
        } else {
            line += '\'';
            for (const char c : word) line += c == '\'' ? std::string("'\\''") : std::string(1, c);
            line += '\'';
        }
        if (line.size() > max_bytes) break;  // enough; the rest is cut below
    }
    return flow::fit_context_text(line, max_bytes);
}

}  // namespace bg::sudo
