// SPDX-License-Identifier: ISC
#include "helper/revocation/systemd_scopes.hpp"

#include <poll.h>
#include <syslog.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include <algorithm>
#include <csignal>
#include <cstring>

#include "common/callback_guard.hpp"
#include "helper/revocation/session_scopes.hpp"
#include "helper/revocation/systemd_bus.hpp"

namespace bg::scopes {
namespace {

constexpr int kMaxRounds = 15;
constexpr std::uint64_t kRoundUsec = 20000;  // 20 ms between rounds

enum class Kind { Start, Attach, Kill };

// True when the pidfd says the front end has exited.
bool gone(const ScopeRequest& r) {
    if (!r.pidfd || !r.pidfd->valid()) return false;
    pollfd p{r.pidfd->get(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

int append_pids(sd_bus_message* m, const std::vector<pid_t>& pids) {
    std::vector<std::uint32_t> ids;
    for (const pid_t p : pids) ids.push_back(static_cast<std::uint32_t>(p));
    return sd_bus_message_append_array(m, 'u', ids.data(), ids.size() * sizeof(std::uint32_t));
}

// The descendants of the front end that are not in the scope's cgroup yet.
std::vector<pid_t> outside(pid_t leader, const std::string& path) {
    std::vector<pid_t> out;
    for (const pid_t p : descendants_of(leader))
        if (const auto c = cgroup_of(p); c && *c != path) out.push_back(p);
    return out;
}

}  // namespace

struct SystemdScopes::Call {
    SystemdScopes* owner = nullptr;
    Kind kind = Kind::Start;
    std::uint64_t id = 0;  // the Follow, for Start and Attach
    std::string unit;
};

struct SystemdScopes::Follow {
    SystemdScopes* owner = nullptr;
    std::uint64_t id = 0;
    ScopeRequest request;
    int rounds = 0;
    sd_event_source* timer = nullptr;
    ~Follow() {
        if (timer) sd_event_source_disable_unref(timer);
    }
};

SystemdScopes::SystemdScopes(sd_event* event, Logger log) : event_(event), log_(std::move(log)) {}

SystemdScopes::~SystemdScopes() {
    follows_.clear();
    if (bus_) sd_bus_flush_close_unref(bus_);
}

std::unique_ptr<SystemdScopes> SystemdScopes::connect(sd_event* event, Logger log) {
    if (sd_booted() <= 0) {
        log(LOG_NOTICE, "this host does not run systemd: no session scopes; revocation finds processes by the /proc scan");
        return nullptr;
    }
    std::unique_ptr<SystemdScopes> s(new SystemdScopes(event, std::move(log)));
    if (!s->bus())
        s->log_(LOG_WARNING, "cannot reach systemd on the system bus: no session scopes for now (retried at the next "
                             "session); revocation finds processes by the /proc scan");
    return s;
}

sd_bus* SystemdScopes::bus() {
    if (bus_ && sd_bus_is_open(bus_) > 0) return bus_;
    if (bus_) {
        sd_bus_flush_close_unref(bus_);
        bus_ = nullptr;
    }
    bus_ = systemd::open_system_bus(event_);
    return bus_;
}

namespace {

// A failure in either loses a scope or a log line; revocation still finds the
// session's processes by the /proc scan.
int on_reply(sd_bus_message* reply, void* userdata, sd_bus_error*) {
    auto* call = static_cast<SystemdScopes::Call*>(userdata);
    return guarded(
        "a reply from systemd about a session scope",
        [&] {
            std::string error;
            if (const sd_bus_error* e = sd_bus_message_get_error(reply)) {
                const bool benign = call->kind == Kind::Kill &&
                                    (sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit") ||
                                     sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.UnknownObject"));
                if (!benign)
                    error = std::string(e->name ? e->name : "error") + (e->message ? std::string(": ") + e->message : "");
            }
            call->owner->replied(*call, error);
            return 0;
        },
        [] {});
}

int on_step(sd_event_source*, std::uint64_t, void* userdata) {
    auto* f = static_cast<SystemdScopes::Follow*>(userdata);
    return guarded(
        "following a session into its scope",
        [&] {
            f->owner->step(f->id);  // may destroy f
            return 0;
        },
        [] {});
}

}  // namespace

void SystemdScopes::send(sd_bus_message* m, Call* call) {
    sd_bus_slot* slot = nullptr;
    const int r = sd_bus_call_async(bus_, &slot, m, on_reply, call, systemd::kCallTimeoutUsec);
    if (r < 0) {
        replied(*call, std::string("cannot send the call: ") + std::strerror(-r));
        delete call;
        return;
    }
    // The bus owns the slot from here; the call's context goes with it.
    sd_bus_slot_set_destroy_callback(slot, [](void* userdata) { delete static_cast<Call*>(userdata); });
    sd_bus_slot_set_floating(slot, 1);
    sd_bus_slot_unref(slot);
}

void SystemdScopes::start(ScopeRequest request) {
    if (gone(request)) return;
    const auto no_scope = [&](const std::string& why) {
        log_(LOG_WARNING, "no session scope " + request.unit + " for grant " + request.grant_id + " (pid " +
                              std::to_string(request.pid) + "): " + why +
                              "; revocation finds its processes by the /proc scan");
    };
    if (const auto why = would_empty_login_session(request.pid)) return no_scope(*why);
    sd_bus* b = bus();
    if (!b) return no_scope("the system bus is unreachable");
    std::vector<pid_t> pids{request.pid};
    for (const pid_t p : descendants_of(request.pid)) pids.push_back(p);
    sd_bus_message* m = nullptr;
    int r = sd_bus_message_new_method_call(b, &m, systemd::kDestination, systemd::kPath, systemd::kManager,
                                           "StartTransientUnit");
    // StartTransientUnit(name, mode, properties a(sv), aux a(sa(sv)))
    if (r >= 0) r = sd_bus_message_append(m, "ss", request.unit.c_str(), "fail");
    if (r >= 0) r = sd_bus_message_open_container(m, 'a', "(sv)");
    if (r >= 0) r = sd_bus_message_append(m, "(sv)", "Description", "s", request.description.c_str());
    if (r >= 0) r = sd_bus_message_append(m, "(sv)", "Slice", "s", kSlice);
    if (r >= 0) r = sd_bus_message_append(m, "(sv)", "CollectMode", "s", "inactive-or-failed");
    // systemd moves processes into a running unit (AttachProcessesToUnit)
    // only when it is delegated. The cgroup stays root's: the session's
    // processes cannot make sub-cgroups or move themselves out.
    if (r >= 0) r = sd_bus_message_append(m, "(sv)", "Delegate", "b", 1);
    if (r >= 0) r = sd_bus_message_open_container(m, 'r', "sv");
    if (r >= 0) r = sd_bus_message_append(m, "s", "PIDs");
    if (r >= 0) r = sd_bus_message_open_container(m, 'v', "au");
    if (r >= 0) r = append_pids(m, pids);
    if (r >= 0) r = sd_bus_message_close_container(m);  // v
    if (r >= 0) r = sd_bus_message_close_container(m);  // r
    if (r >= 0) r = sd_bus_message_close_container(m);  // a(sv)
    if (r >= 0) r = sd_bus_message_append(m, "a(sa(sv))", 0);
    if (r < 0) {
        sd_bus_message_unref(m);
        return no_scope(std::string("cannot build the call: ") + std::strerror(-r));
    }
    const std::uint64_t id = next_id_++;
    auto f = std::make_unique<Follow>();
    f->owner = this;
    f->id = id;
    f->request = std::move(request);
    const std::string unit = f->request.unit;
    follows_[id] = std::move(f);
    send(m, new Call{this, Kind::Start, id, unit});
    sd_bus_message_unref(m);
}

void SystemdScopes::kill(const std::string& unit) {
    sd_bus* b = bus();
    if (!b) {
        log_(LOG_WARNING, "cannot kill " + unit + ": the system bus is unreachable");
        return;
    }
    sd_bus_message* m = nullptr;
    int r = sd_bus_message_new_method_call(b, &m, systemd::kDestination, systemd::kPath, systemd::kManager, "KillUnit");
    if (r >= 0) r = sd_bus_message_append(m, "ssi", unit.c_str(), "all", static_cast<std::int32_t>(SIGKILL));
    if (r < 0) {
        sd_bus_message_unref(m);
        log_(LOG_WARNING, "cannot kill " + unit + ": " + std::strerror(-r));
        return;
    }
    send(m, new Call{this, Kind::Kill, 0, unit});
    sd_bus_message_unref(m);
}

void SystemdScopes::replied(const Call& call, const std::string& error) {
    if (call.kind == Kind::Kill) {
        if (!error.empty()) log_(LOG_WARNING, "cannot kill " + call.unit + ": " + error);
        return;
    }
    const auto it = follows_.find(call.id);
    if (it == follows_.end()) return;
    Follow& f = *it->second;
    if (!error.empty()) {
        log_(LOG_WARNING, std::string(call.kind == Kind::Start ? "cannot make" : "cannot complete") + " session scope " +
                              call.unit + " for grant " + f.request.grant_id + " (pid " + std::to_string(f.request.pid) +
                              "): " + error + "; revocation finds its processes by the /proc scan");
        if (call.kind == Kind::Start) {
            follows_.erase(it);
            return;
        }
    }
    later(f);
}

void SystemdScopes::later(Follow& f) {
    if (f.timer) {
        sd_event_source_set_time_relative(f.timer, kRoundUsec);
        sd_event_source_set_enabled(f.timer, SD_EVENT_ONESHOT);
        return;
    }
    if (sd_event_add_time_relative(event_, &f.timer, CLOCK_MONOTONIC, kRoundUsec, 1000, on_step, &f) < 0) {
        f.timer = nullptr;
        follows_.erase(f.id);
    }
}

void SystemdScopes::step(std::uint64_t id) {
    const auto it = follows_.find(id);
    if (it == follows_.end()) return;
    Follow& f = *it->second;
    const std::string path = cgroup_path(f.request.unit);
    if (gone(f.request) || ++f.rounds > kMaxRounds) {
        follows_.erase(it);
        return;
    }
    // systemd moves the front end when the scope's start job runs.
    const auto leader = cgroup_of(f.request.pid);
    if (!leader || *leader != path) return later(f);
    const std::vector<pid_t> left = outside(f.request.pid, path);
    if (left.empty()) {
        follows_.erase(it);
        return;
    }
    attach(f, left);
}

void SystemdScopes::attach(Follow& f, const std::vector<pid_t>& pids) {
    sd_bus* b = bus();
    sd_bus_message* m = nullptr;
    int r = b ? sd_bus_message_new_method_call(b, &m, systemd::kDestination, systemd::kPath, systemd::kManager,
                                               "AttachProcessesToUnit")
              : -ENOTCONN;
    // AttachProcessesToUnit(unit, subcgroup, pids au)
    if (r >= 0) r = sd_bus_message_append(m, "ss", f.request.unit.c_str(), "");
    if (r >= 0) r = append_pids(m, pids);
    if (r < 0) {
        if (m) sd_bus_message_unref(m);
        log_(LOG_WARNING, "cannot move processes of pid " + std::to_string(f.request.pid) + " into " + f.request.unit +
                              ": " + std::strerror(-r));
        follows_.erase(f.id);
        return;
    }
    send(m, new Call{this, Kind::Attach, f.id, f.request.unit});
    sd_bus_message_unref(m);
}

}  // namespace bg::scopes
