// SPDX-License-Identifier: ISC
// Making and killing the session scopes of grants through systemd (sd-bus,
// on the daemon's sd-event loop: no call blocks it). See session_scopes.hpp
// for the names and terminator.hpp for how revocation uses them.
//
// A session is reported by its front end (sudo's plugin, or the program that
// opened a PAM session) before it starts the session's processes, so the
// scope is made while the session starts: StartTransientUnit with the front
// end's pid and its descendants; then, once systemd has moved it,
// AttachProcessesToUnit for descendants forked meanwhile that are still
// outside, rounds 20 ms apart for up to 0.3 s. The scope is delegated
// (Delegate=yes, which AttachProcessesToUnit needs), its cgroup root's. What
// detached itself before that (a double fork within the first milliseconds)
// is not in the scope; the /proc
// scan still finds it by the gate's group. A failure is logged, never fatal:
// the session runs on, recorded, and the /proc scan ends it at revocation.
// A front end that is the only process tree of its logind session is not
// moved (logind would end that session): would_empty_login_session.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/file_io.hpp"

struct sd_bus;
struct sd_bus_message;
struct sd_event;
struct sd_event_source;

namespace bg::scopes {

struct ScopeRequest {
    std::string grant_id;
    std::string unit;                 // unit_name(grant id, seq of the session's record)
    pid_t pid = 0;                    // the session's front end: the process that reported it
    std::shared_ptr<UniqueFd> pidfd;  // opened when the session was recorded: it is still that process
    std::string description;
};

class SystemdScopes {
public:
    using Logger = std::function<void(int priority, const std::string& text)>;

    // nullptr (after logging why) when this host does not run systemd
    // (sd_booted). A bus that cannot be reached now is retried at the next request.
    static std::unique_ptr<SystemdScopes> connect(sd_event* event, Logger log);
    ~SystemdScopes();
    SystemdScopes(const SystemdScopes&) = delete;
    SystemdScopes& operator=(const SystemdScopes&) = delete;

    void start(ScopeRequest request);
    // KillUnit(unit, "all", SIGKILL): whatever is left in a grant's scope at
    // the end of its termination. A scope already gone is not an error.
    void kill(const std::string& unit);

    // Used by the C callbacks.
    struct Call;
    struct Follow;
    void replied(const Call& call, const std::string& error);
    void step(std::uint64_t id);

private:
    SystemdScopes(sd_event* event, Logger log);
    sd_bus* bus();
    void send(sd_bus_message* m, Call* call);
    void attach(Follow& f, const std::vector<pid_t>& pids);
    void later(Follow& f);

    sd_event* event_ = nullptr;
    sd_bus* bus_ = nullptr;
    Logger log_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, std::unique_ptr<Follow>> follows_;
};

}  // namespace bg::scopes
