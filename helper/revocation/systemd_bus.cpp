// SPDX-License-Identifier: ISC
#include "helper/revocation/systemd_bus.hpp"

#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

namespace bg::systemd {

sd_bus* open_system_bus(sd_event* event) {
    sd_bus* b = nullptr;
    if (sd_bus_open_system(&b) < 0) {
        // No D-Bus broker (a minimal host): root may talk to systemd directly
        // on its private socket, as systemctl does.
        b = nullptr;
        if (::geteuid() != 0 || sd_bus_new(&b) < 0) return nullptr;
        if (sd_bus_set_address(b, "unix:path=/run/systemd/private") < 0 || sd_bus_start(b) < 0) {
            sd_bus_unref(b);
            return nullptr;
        }
    }
    if (sd_bus_attach_event(b, event, SD_EVENT_PRIORITY_NORMAL) < 0) {
        sd_bus_flush_close_unref(b);
        return nullptr;
    }
    return b;
}

}  // namespace bg::systemd
