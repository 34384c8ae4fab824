// SPDX-License-Identifier: ISC
#include "helper/revocation/session_scopes.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <set>

#include "common/file_io.hpp"
#include "helper/revocation/process_scan.hpp"

namespace bg::scopes {
namespace {

bool is_unit_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == ':';
}

std::string prefix_of(std::string_view grant_id) { return "breakglass-" + std::string(grant_id) + "-"; }

// A small file under /proc or /sys, whole; nullopt when it cannot be read.
std::optional<std::string> read_small(const std::string& path, std::size_t max_bytes = 64 * 1024) {
    return read_small_file(AT_FDCWD, path.c_str(), max_bytes);
}

std::optional<pid_t> parse_pid(std::string_view s) {
    if (s.empty() || s.size() > 10) return std::nullopt;
    long long n = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
    }
    if (n <= 0 || n > 4194304) return std::nullopt;
    return static_cast<pid_t>(n);
}


struct DirClose {
    void operator()(DIR* d) const { ::closedir(d); }
};

std::vector<std::string> entries_of(const std::string& dir) {
    std::vector<std::string> out;
    std::unique_ptr<DIR, DirClose> d(::opendir(dir.c_str()));
    if (!d) return out;
    while (const dirent* e = ::readdir(d.get())) {
        const std::string_view name = e->d_name;
        if (name != "." && name != "..") out.emplace_back(name);
    }
    return out;
}

}  // namespace

// The parsers are pure: they see the files' text, never the files.
std::vector<pid_t> pids_in(std::string_view text) {
    std::vector<pid_t> out;
    while (!text.empty()) {
        const std::size_t end = text.find_first_of(" \n");
        if (const auto pid = parse_pid(text.substr(0, end))) out.push_back(*pid);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    }
    return out;
}

std::optional<std::string> cgroup_path_in(std::string_view rest) {
    std::optional<std::string> legacy;
    while (!rest.empty()) {
        const std::size_t nl = rest.find('\n');
        const std::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        const std::size_t first = line.find(':');
        const std::size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
        if (second == std::string_view::npos) continue;
        const std::string_view hierarchy = line.substr(first + 1, second - first - 1);
        const std::string_view path = line.substr(second + 1);
        if (path.empty() || path.front() != '/') continue;  // not a cgroup path
        if (hierarchy.empty() && line.substr(0, first) == "0") return std::string(path);
        if (hierarchy == "name=systemd") legacy = std::string(path);
    }
    return legacy;
}

std::optional<std::string> unit_name(std::string_view grant_id, std::uint64_t session) {
    if (grant_id.empty() || grant_id.size() > 64) return std::nullopt;
    if (!std::all_of(grant_id.begin(), grant_id.end(), is_unit_name_char)) return std::nullopt;
    return prefix_of(grant_id) + std::to_string(session) + ".scope";
}

bool is_scope_of(std::string_view unit, std::string_view grant_id) {
    const std::string prefix = prefix_of(grant_id);
    constexpr std::string_view suffix = ".scope";
    if (unit.size() <= prefix.size() + suffix.size()) return false;
    if (unit.substr(0, prefix.size()) != prefix || unit.substr(unit.size() - suffix.size()) != suffix) return false;
    const std::string_view number = unit.substr(prefix.size(), unit.size() - prefix.size() - suffix.size());
    return std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string cgroup_path(std::string_view unit) { return "/" + std::string(kSlice) + "/" + std::string(unit); }

std::optional<std::string> cgroup_root() {
    for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"})
        if (::access((std::string(root) + "/cgroup.controllers").c_str(), F_OK) == 0) return std::string(root);
    if (::access("/sys/fs/cgroup/systemd/cgroup.procs", F_OK) == 0) return std::string("/sys/fs/cgroup/systemd");
    return std::nullopt;
}

std::vector<std::string> grant_scopes(std::string_view grant_id) {
    std::vector<std::string> out;
    const auto root = cgroup_root();
    if (!root) return out;
    for (std::string& name : entries_of(*root + "/" + kSlice))
        if (is_scope_of(name, grant_id)) out.push_back(std::move(name));
    std::sort(out.begin(), out.end());
    return out;
}

std::optional<std::string> cgroup_of(pid_t pid) {
    const auto text = read_small("/proc/" + std::to_string(pid) + "/cgroup");
    if (!text) return std::nullopt;
    return cgroup_path_in(*text);
}

std::vector<pid_t> descendants_of(pid_t pid, std::size_t limit) {
    std::vector<pid_t> out;
    std::set<pid_t> seen{pid};
    std::vector<pid_t> to_visit{pid};
    while (!to_visit.empty() && out.size() < limit) {
        const pid_t parent = to_visit.back();
        to_visit.pop_back();
        const std::string task_dir = "/proc/" + std::to_string(parent) + "/task";
        for (const std::string& tid : entries_of(task_dir)) {
            const auto children = read_small(task_dir + "/" + tid + "/children");
            if (!children) continue;
            for (const pid_t child : pids_in(*children)) {
                if (!seen.insert(child).second || out.size() >= limit) continue;
                out.push_back(child);
                to_visit.push_back(child);
            }
        }
    }
    return out;
}

std::optional<std::string> would_empty_login_session(pid_t leader) {
    const auto path = cgroup_of(leader);
    if (!path) return std::nullopt;
    const std::size_t slash = path->rfind('/');
    const std::string_view unit = std::string_view(*path).substr(slash == std::string::npos ? 0 : slash + 1);
    if (unit.substr(0, 8) != "session-" || unit.size() < 14 || unit.substr(unit.size() - 6) != ".scope")
        return std::nullopt;
    const auto root = cgroup_root();
    if (!root) return std::nullopt;
    const auto members = read_small(*root + *path + "/cgroup.procs", 4 * 1024 * 1024);
    if (!members) return std::nullopt;
    std::vector<pid_t> tree = descendants_of(leader);
    tree.push_back(leader);
    for (const pid_t member : pids_in(*members))
        if (std::find(tree.begin(), tree.end(), member) == tree.end()) return std::nullopt;
    return "it is the only process tree of its login session " + std::string(unit) +
           ", which logind would end if it were moved out";
}

}  // namespace bg::scopes
