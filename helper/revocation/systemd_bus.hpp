// SPDX-License-Identifier: ISC
// The connection to systemd that the per-grant timers and the session scopes
// share the way of opening: the system bus, or, as root on a host without a
// D-Bus broker, systemd's private socket (as systemctl does), attached to the
// daemon's sd-event loop so that no call blocks it.
#pragma once

struct sd_bus;
struct sd_event;

namespace bg::systemd {

inline constexpr const char* kDestination = "org.freedesktop.systemd1";
inline constexpr const char* kPath = "/org/freedesktop/systemd1";
inline constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
// A reply later than this is a failure.
inline constexpr unsigned long long kCallTimeoutUsec = 10000000ULL;

// A new connection attached to `event`; nullptr when neither way works.
sd_bus* open_system_bus(sd_event* event);

}  // namespace bg::systemd
