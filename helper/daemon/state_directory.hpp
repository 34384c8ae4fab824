// SPDX-License-Identifier: ISC
// The state directory holds the audit log, the seal key and the factor
// secrets (docs/ARCHITECTURE.md, "Trust boundaries"): the daemon refuses to
// start on one that someone else could have changed or read. The directory
// must be a real directory (not a symbolic link), owned by the daemon's user,
// with no access for group or others (0700); state.json, when it exists, a
// regular file (not a symbolic link) owned by the daemon's user and writable
// by nobody else. The other files are checked by what opens them (audit log,
// key files, factor stores, reserve, ends.pending).
#pragma once

#include <string>

#include "common/result.hpp"

namespace bg {

// Each refusal has its own message naming the path and how to fix it.
Status check_state_directory(const std::string& dir);

}  // namespace bg
