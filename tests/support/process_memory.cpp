// SPDX-License-Identifier: ISC
#include "tests/support/process_memory.hpp"

#include <fcntl.h>
#include <string>

#include "helper/revocation/process_scan.hpp"

namespace bg::test {
namespace {

// The value of "Key:<spaces>N kB" on its own line; nullopt when absent or malformed.
std::optional<std::uint64_t> kib_of(std::string_view text, std::string_view key) {
    for (std::size_t at = 0; at < text.size();) {
        std::size_t end = text.find('\n', at);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(at, end - at);
        at = end + 1;
        if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':') continue;
        line.remove_prefix(key.size() + 1);
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
        std::uint64_t value = 0;
        std::size_t digits = 0;
        while (digits < line.size() && line[digits] >= '0' && line[digits] <= '9' && digits < 18)
            value = value * 10 + static_cast<std::uint64_t>(line[digits++] - '0');
        if (digits == 0 || line.substr(digits) != " kB") return std::nullopt;
        return value;
    }
    return std::nullopt;
}

}  // namespace

std::optional<ProcessMemory> parse_process_memory(std::string_view status_text) {
    const auto rss = kib_of(status_text, "VmRSS");
    const auto peak = kib_of(status_text, "VmHWM");
    if (!rss || !peak) return std::nullopt;
    return ProcessMemory{*rss, *peak};
}

std::optional<ProcessMemory> process_memory(pid_t pid) {
    const std::string path = "/proc/" + std::to_string(pid) + "/status";
    const auto text = read_small_file(AT_FDCWD, path.c_str(), kMaxProcStatusBytes);
    if (!text) return std::nullopt;
    return parse_process_memory(*text);
}

}  // namespace bg::test
