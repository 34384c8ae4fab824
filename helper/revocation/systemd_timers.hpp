// SPDX-License-Identifier: ISC
// The line of revocation that does not need the daemon running: one
// transient systemd timer per grant, created through sd-bus
// (StartTransientUnit), whose service runs `breakglassctl expire ID` a second
// after the grant's expires_at (its connection starts a stopped daemon through
// the socket). A running daemon has ended the grant at expires_at with its own
// sd-event timer and stopped this one by then, so no service is started for
// nothing at the moment the sessions end; its startup sweep catches the rest.
// A failure here is logged, never fatal.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct sd_bus;
struct sd_bus_message;
struct sd_event;

namespace bg::timers {

// "breakglass-expire-bg-2026-000123" for grant "bg-2026-000123": the name of
// both the .timer and the .service. nullopt when the id holds a character a
// unit name may not (grant ids never do; this is the guard).
std::optional<std::string> unit_base_name(std::string_view grant_id);

// OnCalendar= for a unix time, in UTC: "2026-11-29 17:00:00 UTC".
std::string on_calendar_utc(std::int64_t unix_seconds);

// The timer elapses this long after expires_at (see above).
inline constexpr std::int64_t kElapseAfterExpirySeconds = 1;

class SystemdTimers {
public:
    using Logger = std::function<void(int priority, const std::string& text)>;

    // nullptr (after logging once why) when this host does not run systemd
    // or its bus cannot be reached. The bus is attached to `event`, and
    // calls never block the loop.
    static std::unique_ptr<SystemdTimers> connect(sd_event* event, std::string ctl_path, Logger log);
    ~SystemdTimers();
    SystemdTimers(const SystemdTimers&) = delete;
    SystemdTimers& operator=(const SystemdTimers&) = delete;

    // Creates breakglass-expire-ID.timer (OnCalendar= expires_at + 1 s in
    // UTC, AccuracySec=1ms) with its service. A timer that already exists (after a
    // daemon restart) counts as created.
    void start(const std::string& grant_id, std::int64_t expires_at);
    // Stops the grant's timer (revoked early, or expired). A timer that is
    // already gone is not an error.
    void stop(const std::string& grant_id);

    // A call in flight and its outcome (used by the reply handler).
    struct Call;
    void finished(const Call& call, const std::string& error);

private:
    SystemdTimers(sd_event* event, std::string ctl_path, Logger log);
    // The bus, reconnected when the last connection was lost; nullptr if it cannot be.
    sd_bus* bus();
    // Sends a built method call; the reply goes to on_reply.
    void send(sd_bus_message* m, Call* call);


    sd_event* event_ = nullptr;
    sd_bus* bus_ = nullptr;
    std::string ctl_path_;
    Logger log_;
};

}  // namespace bg::timers
