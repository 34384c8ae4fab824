// SPDX-License-Identifier: ISC
#include "helper/revocation/systemd_timers.hpp"

#include <cerrno>
#include <cstring>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "common/callback_guard.hpp"
#include "common/utc_time.hpp"
#include "helper/revocation/systemd_bus.hpp"

namespace bg::timers {
namespace {

using systemd::kCallTimeoutUsec;
using systemd::kDestination;
using systemd::kManager;
using systemd::kPath;
// AccuracySec=1ms. With systemd's default of 1 min, or even 1 s, PID 1 moves the
// elapse to a point in the window fixed per kernel boot (derived from its boot
// id), so the expiry would start up to a whole window late on some hosts. An
// expiry is a security deadline, not housekeeping to coalesce.
constexpr std::uint64_t kAccuracyUsec = 1000;
// What a grant without its systemd timer still has.
constexpr const char* kWithoutTimer =
    "the daemon's own timer still ends it at expires_at, and its startup sweep if the daemon is not running then";

bool is_unit_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == ':';
}

// Appends one (sv) property whose value is a string.
int append_string_property(sd_bus_message* m, const char* name, const std::string& value) {
    return sd_bus_message_append(m, "(sv)", name, "s", value.c_str());
}

}  // namespace

std::optional<std::string> unit_base_name(std::string_view grant_id) {
    if (grant_id.empty() || grant_id.size() > 64) return std::nullopt;
    for (const char c : grant_id)
        if (!is_unit_name_char(c)) return std::nullopt;
    return "breakglass-expire-" + std::string(grant_id);
}

std::string on_calendar_utc(std::int64_t unix_seconds) {
    std::string text = format_utc(unix_seconds);  // "2026-11-29T17:00:00Z"
    if (text.size() == 20) {
        text[10] = ' ';
        text.pop_back();
    }
    return text + " UTC";
}

// One call in flight: what to say when its reply comes.
struct SystemdTimers::Call {
    SystemdTimers* owner = nullptr;
    std::string unit;
    bool start = true;
};

SystemdTimers::SystemdTimers(sd_event* event, std::string ctl_path, Logger log)
    : event_(event), ctl_path_(std::move(ctl_path)), log_(std::move(log)) {}

SystemdTimers::~SystemdTimers() {
    if (bus_) sd_bus_flush_close_unref(bus_);
}

std::unique_ptr<SystemdTimers> SystemdTimers::connect(sd_event* event, std::string ctl_path, Logger log) {
    if (sd_booted() <= 0) {
        log(LOG_NOTICE,
            "this host does not run systemd: no per-grant expiry timers; the daemon's own timer and its startup sweep "
            "end grants");
        return nullptr;
    }
    std::unique_ptr<SystemdTimers> timers(new SystemdTimers(event, std::move(ctl_path), std::move(log)));
    if (!timers->bus()) {
        timers->log_(LOG_WARNING,
                     "cannot reach systemd on the system bus: no per-grant expiry timers for now (retried at the next "
                     "grant); the daemon's own timer ends grants");
    }
    return timers;
}

sd_bus* SystemdTimers::bus() {
    if (bus_ && sd_bus_is_open(bus_) > 0) return bus_;
    if (bus_) {
        sd_bus_flush_close_unref(bus_);
        bus_ = nullptr;
    }
    bus_ = systemd::open_system_bus(event_);
    return bus_;
}

void SystemdTimers::finished(const Call& call, const std::string& error) {
    if (call.start) {
        if (error.empty()) return;
        log_(LOG_ERR, "cannot create " + call.unit + ".timer: " + error + "; " + kWithoutTimer);
        return;
    }
    if (!error.empty()) log_(LOG_WARNING, "cannot stop " + call.unit + ".timer: " + error);
}

namespace {

// A failure here loses a log line; the grant's end does not depend on it.
int on_reply(sd_bus_message* reply, void* userdata, sd_bus_error*) {
    auto* call = static_cast<SystemdTimers::Call*>(userdata);
    return guarded(
        "a reply from systemd about an expiry timer",
        [&] {
            std::string error;
            if (const sd_bus_error* e = sd_bus_message_get_error(reply)) {
                const bool benign =
                    call->start ? sd_bus_error_has_name(e, "org.freedesktop.systemd1.UnitExists")
                                : (sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit") ||
                                   sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.UnknownObject"));
                if (!benign)
                    error = std::string(e->name ? e->name : "error") + (e->message ? std::string(": ") + e->message : "");
            }
            call->owner->finished(*call, error);
            return 0;
        },
        [] {});
}

}  // namespace

void SystemdTimers::send(sd_bus_message* m, Call* call) {
    sd_bus_slot* slot = nullptr;
    const int r = sd_bus_call_async(bus_, &slot, m, on_reply, call, kCallTimeoutUsec);
    if (r < 0) {
        finished(*call, std::string("cannot send the call: ") + std::strerror(-r));
        delete call;
        return;
    }
    // The bus owns the slot from here; the call's context goes with it.
    sd_bus_slot_set_destroy_callback(slot, [](void* userdata) { delete static_cast<Call*>(userdata); });
    sd_bus_slot_set_floating(slot, 1);
    sd_bus_slot_unref(slot);
}

void SystemdTimers::start(const std::string& grant_id, std::int64_t expires_at) {
    const auto base = unit_base_name(grant_id);
    if (!base) {
        log_(LOG_ERR, std::string("grant id is not usable in a unit name; no systemd timer for it; ") + kWithoutTimer);
        return;
    }
    sd_bus* b = bus();
    auto fail = [&](const char* what, int r) {
        log_(LOG_ERR, "cannot create " + *base + ".timer (" + what + ": " + std::strerror(r < 0 ? -r : r) + "); " +
                          kWithoutTimer);
    };
    if (!b) return fail("system bus", ENOTCONN);

    sd_bus_message* m = nullptr;
    int r = sd_bus_message_new_method_call(b, &m, kDestination, kPath, kManager, "StartTransientUnit");
    if (r < 0) return fail("message", r);
    const std::string timer = *base + ".timer";
    const std::string service = *base + ".service";
    const std::string description = "breakglass: expire grant " + grant_id;
    // StartTransientUnit(name, mode, properties a(sv), aux a(sa(sv)))
    if (r >= 0) r = sd_bus_message_append(m, "ss", timer.c_str(), "fail");
    if (r >= 0) r = sd_bus_message_open_container(m, 'a', "(sv)");
    if (r >= 0) r = append_string_property(m, "Description", description);
    if (r >= 0)
        r = sd_bus_message_append(m, "(sv)", "TimersCalendar", "a(ss)", 1, "OnCalendar",
                                  on_calendar_utc(expires_at + kElapseAfterExpirySeconds).c_str());
    if (r >= 0) r = sd_bus_message_append(m, "(sv)", "AccuracyUSec", "t", kAccuracyUsec);
    if (r >= 0) r = sd_bus_message_append(m, "(sv)", "RemainAfterElapse", "b", 0);
    if (r >= 0) r = append_string_property(m, "CollectMode", "inactive-or-failed");
    if (r >= 0) r = sd_bus_message_close_container(m);
    // The service the timer starts.
    if (r >= 0) r = sd_bus_message_open_container(m, 'a', "(sa(sv))");
    if (r >= 0) r = sd_bus_message_open_container(m, 'r', "sa(sv)");
    if (r >= 0) r = sd_bus_message_append(m, "s", service.c_str());
    if (r >= 0) r = sd_bus_message_open_container(m, 'a', "(sv)");
    if (r >= 0) r = append_string_property(m, "Description", description);
    if (r >= 0) r = append_string_property(m, "Type", "oneshot");
    if (r >= 0) r = append_string_property(m, "CollectMode", "inactive-or-failed");
    // breakglassctl only talks to the daemon's socket as root (SO_PEERCRED uid 0).
    if (r >= 0) r = sd_bus_message_append(m, "(sv)", "CapabilityBoundingSet", "t", std::uint64_t{0});
    if (r >= 0) r = sd_bus_message_append(m, "(sv)", "NoNewPrivileges", "b", 1);
    if (r >= 0) r = sd_bus_message_append(m, "(sv)", "RestrictAddressFamilies", "(bas)", 1, 1, "AF_UNIX");
    if (r >= 0) r = sd_bus_message_append(m, "(sv)", "PrivateTmp", "b", 1);
    if (r >= 0) r = append_string_property(m, "ProtectSystem", "strict");
    if (r >= 0) r = append_string_property(m, "ProtectHome", "yes");
    // ExecStart a(sasb): path, argv, ignore-failure
    if (r >= 0) r = sd_bus_message_open_container(m, 'r', "sv");
    if (r >= 0) r = sd_bus_message_append(m, "s", "ExecStart");
    if (r >= 0) r = sd_bus_message_open_container(m, 'v', "a(sasb)");
    if (r >= 0) r = sd_bus_message_open_container(m, 'a', "(sasb)");
    if (r >= 0) r = sd_bus_message_open_container(m, 'r', "sasb");
    if (r >= 0) r = sd_bus_message_append(m, "s", ctl_path_.c_str());
    if (r >= 0) r = sd_bus_message_append(m, "as", 3, "breakglassctl", "expire", grant_id.c_str());
    if (r >= 0) r = sd_bus_message_append(m, "b", 0);
    for (int i = 0; i < 5 && r >= 0; ++i) r = sd_bus_message_close_container(m);  // r, a, v, r(sv), a(sv)
    if (r >= 0) r = sd_bus_message_close_container(m);                             // r(sa(sv))
    if (r >= 0) r = sd_bus_message_close_container(m);                             // a(sa(sv))
    if (r < 0) {
        sd_bus_message_unref(m);
        return fail("message", r);
    }
    send(m, new Call{this, *base, true});
    sd_bus_message_unref(m);
}

void SystemdTimers::stop(const std::string& grant_id) {
    const auto base = unit_base_name(grant_id);
    if (!base) return;
    sd_bus* b = bus();
    if (!b) {
        log_(LOG_WARNING, "cannot stop " + *base + ".timer: the system bus is unreachable (it elapses harmlessly)");
        return;
    }
    const std::string timer = *base + ".timer";
    sd_bus_message* m = nullptr;
    int r = sd_bus_message_new_method_call(b, &m, kDestination, kPath, kManager, "StopUnit");
    if (r >= 0) r = sd_bus_message_append(m, "ss", timer.c_str(), "replace");
    if (r < 0) {
        sd_bus_message_unref(m);
        log_(LOG_WARNING, "cannot stop " + timer + ": " + std::strerror(-r) + " (it elapses harmlessly)");
        return;
    }
    send(m, new Call{this, *base, false});
    sd_bus_message_unref(m);
}

}  // namespace bg::timers
