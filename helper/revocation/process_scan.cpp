// SPDX-License-Identifier: ISC
#include "helper/revocation/process_scan.hpp"

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdint>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>

#include "common/text.hpp"
#include "helper/revocation/session_scopes.hpp"

namespace bg {

std::optional<std::string> read_small_file(int dir_fd, const char* name, std::size_t max_bytes) {
    UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) return std::nullopt;
    std::string text;
    char buf[4096];
    while (text.size() <= max_bytes) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) return text;
        text.append(buf, static_cast<std::size_t>(n));
    }
    return std::nullopt;  // larger than the caller expects
}

namespace {

constexpr std::uint64_t kMaxPid = 4194304;  // PID_MAX_LIMIT

bool is_key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '(' ||
           c == ')';
}

// A decimal number of at most 10 digits, no sign, no spaces, <= max.
std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max) {
    if (s.empty() || s.size() > 10) return std::nullopt;
    std::uint64_t n = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (n > max) return std::nullopt;
    return n;
}

// Exactly four tab-separated ids (the Uid: and Gid: lines).
template <typename Id>
bool parse_four_ids(std::string_view value, Id (&out)[4]) {
    for (int i = 0; i < 4; ++i) {
        const std::size_t tab = value.find('\t');
        const std::string_view field = i == 3 ? value : value.substr(0, tab);
        if (i < 3 && tab == std::string_view::npos) return false;
        const auto n = parse_decimal(field, UINT32_MAX);
        if (!n) return false;
        out[i] = static_cast<Id>(*n);
        if (i < 3) value.remove_prefix(tab + 1);
    }
    return true;
}

// Space-separated gids, possibly none; the kernel ends the list with a space.
bool parse_groups(std::string_view value, std::vector<gid_t>& out) {
    if (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    while (!value.empty()) {
        const std::size_t space = value.find(' ');
        const std::string_view field = value.substr(0, space);
        const auto n = parse_decimal(field, UINT32_MAX);
        if (!n || out.size() == kMaxProcGroups) return false;
        out.push_back(static_cast<gid_t>(*n));
        if (space == std::string_view::npos) break;
        value.remove_prefix(space + 1);
    }
    return true;
}

// The kernel escapes only '\n' and '\\' in Name (proc_task_name), so any
// other byte the process wrote to its comm appears raw. Only the size is
// checked; the name is escaped wherever it is shown.
bool is_valid_name_value(std::string_view name) { return name.size() <= kMaxProcNameBytes; }


// What /proc says about one process: its status (nullopt when it could not
// be read or parsed), the owner of its /proc/PID directory and its login uid.
struct Candidate {
    std::optional<ProcStatus> status;
    bool other_threads = false;  // a zombie leader whose other threads still run
    uid_t owner = 0;
    std::optional<uid_t> loginuid;
};

// nullopt when the process is gone (its /proc/PID directory cannot be opened).
std::optional<Candidate> read_candidate(int proc_fd, const char* pid_name) {
    UniqueFd dir_fd(::openat(proc_fd, pid_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd.valid()) return std::nullopt;
    struct stat st {};
    if (::fstat(dir_fd.get(), &st) != 0) return std::nullopt;
    Candidate c;
    c.owner = st.st_uid;
    if (const auto text = read_small_file(dir_fd.get(), "status", kMaxProcStatusBytes))
        c.status = parse_proc_status(*text);
    // A leader that called exit alone shows Z while its other threads run on.
    if (c.status && (c.status->state == 'Z' || c.status->state == 'X')) {
        const int task_fd = ::openat(dir_fd.get(), "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (DIR* tasks = task_fd >= 0 ? ::fdopendir(task_fd) : nullptr) {
            int n = 0;
            while (const dirent* t = ::readdir(tasks))
                if (t->d_name[0] != '.') ++n;
            ::closedir(tasks);
            c.other_threads = n > 1;
        } else if (task_fd >= 0) {
            ::close(task_fd);
        }
    }
    if (const auto login = read_small_file(dir_fd.get(), "loginuid", 32)) {
        std::string_view v = *login;
        while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
        // 4294967295 is "not set"; parse_decimal accepts it and it matches no real uid.
        if (const auto n = parse_decimal(v, UINT32_MAX)) c.loginuid = static_cast<uid_t>(*n);
    }
    return c;
}

bool matches(const Candidate& c, uid_t actor_uid, gid_t gate_gid) {
    if (!c.status) return unreadable_runs_under_grant(c.owner, c.loginuid, actor_uid);
    return ((c.status->state != 'Z' && c.status->state != 'X') || c.other_threads) &&
           runs_under_grant(*c.status, c.loginuid, actor_uid, gate_gid);
}

std::atomic<std::size_t> g_pidfds_held{0};

// A pidfd for `pid` within the budget. ESRCH (gone): false. Any other
// failure, or no slot left: true with no pidfd, and `*why` says why; the
// caller keeps the process by pid.
bool open_pidfd(pid_t pid, UniqueFd* fd, PidfdSlot* slot, std::string* why) {
    PidfdSlot s = PidfdSlot::take();
    if (!s) {
        *why = "the daemon's pidfd budget of " + std::to_string(pidfd_budget()) + " was in use";
        return true;
    }
    UniqueFd opened(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!opened.valid()) {
        if (errno == ESRCH) return false;
        *why = std::string("pidfd_open: ") + std::strerror(errno);
        return true;
    }
    *fd = std::move(opened);
    *slot = std::move(s);
    return true;
}

GrantProcess grant_process(pid_t pid, UniqueFd pidfd, PidfdSlot slot, std::string no_pidfd, const Candidate& c,
                           uid_t actor_uid) {
    GrantProcess p;
    p.pid = pid;
    p.pidfd = std::move(pidfd);
    p.slot = std::move(slot);
    p.no_pidfd = std::move(no_pidfd);
    p.actor_uid = actor_uid;
    if (c.status) {
        p.name = escape_for_display(c.status->name);
        p.front_end = is_privileged_front_end(*c.status, actor_uid);
    } else {
        p.status_unreadable = true;
    }
    return p;
}

// Whether /proc/PID/cgroup names `cgroup_path` (the unified hierarchy's
// "0::PATH" line, or the name=systemd one on a host without it).
bool in_cgroup(int proc_fd, const char* pid_name, const std::string& cgroup_path) {
    UniqueFd dir_fd(::openat(proc_fd, pid_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd.valid()) return false;
    const auto text = read_small_file(dir_fd.get(), "cgroup", 64 * 1024);
    return text && scopes::cgroup_path_in(*text) == cgroup_path;
}

struct DirClose {
    void operator()(DIR* d) const { ::closedir(d); }
};

}  // namespace

std::optional<ProcStatus> parse_proc_status(std::string_view text) {
    if (text.size() > kMaxProcStatusBytes) return std::nullopt;
    ProcStatus s;
    bool have_name = false, have_state = false, have_pid = false, have_uid = false, have_gid = false,
         have_groups = false;
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        const std::size_t colon = line.find(':');
        if (colon == 0 || colon == std::string_view::npos) return std::nullopt;
        const std::string_view key = line.substr(0, colon);
        if (!std::all_of(key.begin(), key.end(), is_key_char)) return std::nullopt;
        std::string_view value = line.substr(colon + 1);
        if (!value.empty()) {
            if (value.front() != '\t' && value.front() != ' ') return std::nullopt;
            value.remove_prefix(1);
        }
        const auto once = [](bool& seen) {
            if (seen) return false;
            seen = true;
            return true;
        };
        if (key == "Name") {
            if (!once(have_name) || !is_valid_name_value(value)) return std::nullopt;
            s.name = std::string(value);
        } else if (key == "State") {
            if (!once(have_state) || value.empty()) return std::nullopt;
            const char c = value.front();
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return std::nullopt;
            s.state = c;
        } else if (key == "Pid") {
            const auto n = parse_decimal(value, kMaxPid);
            if (!once(have_pid) || !n || *n == 0) return std::nullopt;
            s.pid = static_cast<pid_t>(*n);
        } else if (key == "Uid") {
            if (!once(have_uid) || !parse_four_ids(value, s.uid)) return std::nullopt;
        } else if (key == "Gid") {
            if (!once(have_gid) || !parse_four_ids(value, s.gid)) return std::nullopt;
        } else if (key == "Groups") {
            if (!once(have_groups) || !parse_groups(value, s.groups)) return std::nullopt;
        }
    }
    if (!(have_name && have_state && have_pid && have_uid && have_gid && have_groups)) return std::nullopt;
    return s;
}

bool runs_under_grant(const ProcStatus& s, std::optional<uid_t> loginuid, uid_t actor_uid, gid_t gate_gid) {
    // uid[3]/gid[3] (filesystem ids) follow the effective ones; they are not a separate way in.
    const bool actor = s.uid[0] == actor_uid || s.uid[1] == actor_uid || s.uid[2] == actor_uid ||
                       (loginuid && *loginuid == actor_uid);
    if (!actor) return false;
    return s.gid[0] == gate_gid || s.gid[1] == gate_gid || s.gid[2] == gate_gid ||
           std::find(s.groups.begin(), s.groups.end(), gate_gid) != s.groups.end();
}

bool unreadable_runs_under_grant(uid_t proc_dir_owner, std::optional<uid_t> loginuid, uid_t actor_uid) {
    return proc_dir_owner == actor_uid || (loginuid && *loginuid == actor_uid);
}

bool is_privileged_front_end(const ProcStatus& s, uid_t actor_uid) {
    return actor_uid != 0 && s.uid[0] == actor_uid && s.uid[1] == 0;
}

std::vector<GrantProcess> find_grant_processes(uid_t actor_uid, gid_t gate_gid) {
    std::vector<GrantProcess> found;
    scan_grant_processes(actor_uid, gate_gid, [&](GrantProcess&& p) { found.push_back(std::move(p)); });
    return found;
}

std::vector<GrantProcess> find_cgroup_processes(const std::string& cgroup_dir, const std::string& cgroup_path,
                                                uid_t actor_uid) {
    std::vector<GrantProcess> found;
    scan_cgroup_processes(cgroup_dir, cgroup_path, actor_uid, [&](GrantProcess&& p) { found.push_back(std::move(p)); });
    return found;
}

void scan_grant_processes(uid_t actor_uid, gid_t gate_gid, const FoundProcess& found) {
    scan_grant_processes(std::vector<ScanKey>{{actor_uid, gate_gid}},
                         [&](std::size_t, GrantProcess&& p) { found(std::move(p)); });
}

void scan_grant_processes(const std::vector<ScanKey>& keys, const FoundProcessFor& found) {
    if (keys.empty()) return;
    UniqueFd proc_fd(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!proc_fd.valid()) return;
    std::unique_ptr<DIR, DirClose> dir(::fdopendir(::dup(proc_fd.get())));
    if (!dir) return;
    const pid_t self = ::getpid();
    std::vector<std::size_t> hits;
    while (const dirent* entry = ::readdir(dir.get())) {
        const auto n = parse_decimal(entry->d_name, kMaxPid);
        if (!n) continue;
        const auto pid = static_cast<pid_t>(*n);
        if (pid <= 1 || pid == self) continue;
        const auto before = read_candidate(proc_fd.get(), entry->d_name);
        if (!before) continue;
        hits.clear();
        for (std::size_t i = 0; i < keys.size(); ++i)
            if (matches(*before, keys[i].actor_uid, keys[i].gate_gid)) hits.push_back(i);
        if (hits.empty()) continue;
        UniqueFd pidfd;
        PidfdSlot slot;
        std::string no_pidfd;
        if (!open_pidfd(pid, &pidfd, &slot, &no_pidfd)) continue;  // gone meanwhile
        // The pid may have been reused between the read and pidfd_open: read
        // again now that the pidfd pins the process, and keep it only if the
        // process behind it still matches. (Without a pidfd each signal
        // checks again, still_matches.)
        const auto after = read_candidate(proc_fd.get(), entry->d_name);
        if (!after) continue;
        // Built first, handed over after: the callback may drop a process
        // (already found in a scope), and with it the pidfd a second copy needs.
        std::vector<std::pair<std::size_t, GrantProcess>> out;
        for (const std::size_t i : hits) {
            if (!matches(*after, keys[i].actor_uid, keys[i].gate_gid)) continue;
            UniqueFd fd;
            PidfdSlot s;
            std::string why = no_pidfd;
            if (out.empty()) {
                fd = std::move(pidfd);
                s = std::move(slot);
            } else if (const int pinned = out.front().second.pidfd.get(); pinned >= 0) {
                s = PidfdSlot::take();
                if (!s) {
                    why = "the daemon's pidfd budget of " + std::to_string(pidfd_budget()) + " was in use";
                } else {
                    fd = UniqueFd(::fcntl(pinned, F_DUPFD_CLOEXEC, 0));
                    if (!fd.valid()) {
                        why = std::string("dup of a pidfd: ") + std::strerror(errno);
                        s = PidfdSlot();
                    }
                }
            }
            GrantProcess p = grant_process(pid, std::move(fd), std::move(s), std::move(why), *after, keys[i].actor_uid);
            p.gate_gid = keys[i].gate_gid;
            out.emplace_back(i, std::move(p));
        }
        for (auto& [i, p] : out) found(i, std::move(p));
    }
}

void scan_cgroup_processes(const std::string& cgroup_dir, const std::string& cgroup_path, uid_t actor_uid,
                           const FoundProcess& found) {
    UniqueFd proc_fd(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!proc_fd.valid()) return;
    UniqueFd group_fd(::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!group_fd.valid()) return;
    // A scope holds a session's processes: a few, or a few thousand at most.
    const auto procs = read_small_file(group_fd.get(), "cgroup.procs", 4 * 1024 * 1024);
    if (!procs) return;
    const pid_t self = ::getpid();
    std::string_view rest = *procs;
    while (!rest.empty()) {
        const std::size_t nl = rest.find('\n');
        const std::string_view field = rest.substr(0, nl);
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
        const auto n = parse_decimal(field, kMaxPid);
        if (!n) continue;
        const auto pid = static_cast<pid_t>(*n);
        if (pid <= 1 || pid == self) continue;
        const std::string pid_name(field);
        UniqueFd pidfd;
        PidfdSlot slot;
        std::string no_pidfd;
        if (!open_pidfd(pid, &pidfd, &slot, &no_pidfd)) continue;  // gone meanwhile
        // Read after the pidfd pins the process: a reused pid is not in the cgroup.
        if (!in_cgroup(proc_fd.get(), pid_name.c_str(), cgroup_path)) continue;
        const auto c = read_candidate(proc_fd.get(), pid_name.c_str());
        if (!c) continue;
        if (c->status && (c->status->state == 'Z' || c->status->state == 'X') && !c->other_threads) continue;
        GrantProcess p = grant_process(pid, std::move(pidfd), std::move(slot), std::move(no_pidfd), *c, actor_uid);
        p.cgroup_path = cgroup_path;
        found(std::move(p));
    }
}

PidfdSlot PidfdSlot::take() {
    PidfdSlot s;
    const std::size_t budget = pidfd_budget();
    std::size_t held = g_pidfds_held.load();
    while (held < budget)
        if (g_pidfds_held.compare_exchange_weak(held, held + 1)) {
            s.held_ = true;
            break;
        }
    return s;
}

void PidfdSlot::release() {
    if (std::exchange(held_, false)) g_pidfds_held.fetch_sub(1);
}

std::size_t pidfd_budget() {
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return 1024;
    return std::max<std::size_t>(8, static_cast<std::size_t>(std::min<rlim_t>(r.rlim_cur, 1u << 20) / 4));
}

std::size_t pidfds_held() { return g_pidfds_held.load(); }

bool still_matches(const GrantProcess& p) {
    UniqueFd proc_fd(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!proc_fd.valid()) return false;
    const std::string pid_name = std::to_string(p.pid);
    if (!p.cgroup_path.empty()) {
        if (!in_cgroup(proc_fd.get(), pid_name.c_str(), p.cgroup_path)) return false;
        const auto c = read_candidate(proc_fd.get(), pid_name.c_str());
        return c && (!c->status || (c->status->state != 'Z' && c->status->state != 'X') || c->other_threads);
    }
    if (!p.gate_gid) return false;
    const auto c = read_candidate(proc_fd.get(), pid_name.c_str());
    return c && matches(*c, p.actor_uid, *p.gate_gid);
}

bool signal_process(const GrantProcess& p, int sig) {
    if (p.pidfd.valid()) return ::syscall(SYS_pidfd_send_signal, p.pidfd.get(), sig, nullptr, 0) == 0;
    // By pid: checked in /proc just before; a pid reused in the microseconds
    // between is signalled only if it is the actor's under the same grant too.
    return still_matches(p) && ::kill(p.pid, sig) == 0;
}

bool has_exited(const GrantProcess& p) {
    if (!p.pidfd.valid()) return !still_matches(p);
    pollfd pfd{p.pidfd.get(), POLLIN, 0};
    return ::poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

}  // namespace bg
