// SPDX-License-Identifier: ISC
// pam_breakglass.so's module arguments (the words after the module path in a
// PAM service file), parsed by a pure function so every case is unit-tested.
//
//   gate=NAME     required: the policy gate this service line guards
//   socket=PATH   breakglassd's socket (default BG_DEFAULT_SOCKET); absolute
//   debug         log each decision's details at LOG_DEBUG
//
// Anything else, a repeated argument or a missing gate= is a configuration
// error: the module refuses (PAM_SERVICE_ERR) and logs which argument.
#pragma once

#include <span>
#include <string>

#include "common/result.hpp"

namespace bg::pam {

struct ModuleArgs {
    std::string gate;
    std::string socket_path = BG_DEFAULT_SOCKET;
    bool debug = false;
};

Result<ModuleArgs> parse_module_args(std::span<const char* const> argv);

}  // namespace bg::pam
