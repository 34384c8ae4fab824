// SPDX-License-Identifier: ISC
#include "pam_module/pam_args.hpp"

#include <string_view>

#include "common/text.hpp"
#include "common/transport.hpp"

namespace bg::pam {
namespace {

std::string quoted(std::string_view text) { return "'" + escape_for_display(text) + "'"; }

}  // namespace

Result<ModuleArgs> parse_module_args(std::span<const char* const> argv) {
    ModuleArgs out;
    bool have_gate = false, have_socket = false;
    for (const char* raw : argv) {
        if (raw == nullptr) return make_error("a module argument is missing (NULL)");
        const std::string_view arg(raw);
        if (arg == "debug") {
            out.debug = true;
        } else if (arg.starts_with("gate=")) {
            if (have_gate) return make_error("gate= is given twice");
            const std::string_view name = arg.substr(5);
            if (!is_valid_name(name, kMaxGateBytes))
                return make_error("gate name " + quoted(name) + " is not valid (1.." + std::to_string(kMaxGateBytes) +
                                  " of [A-Za-z0-9_.-], not starting with '-')");
            out.gate = std::string(name);
            have_gate = true;
        } else if (arg.starts_with("socket=")) {
            if (have_socket) return make_error("socket= is given twice");
            const std::string_view path = arg.substr(7);
            if (auto problem = proto::socket_path_problem(path)) return make_error(std::move(*problem));
            out.socket_path = std::string(path);
            have_socket = true;
        } else {
            return make_error("unknown argument " + quoted(arg) + " (known: gate=NAME, socket=PATH, debug)");
        }
    }
    if (!have_gate) return make_error("the required argument gate=NAME is missing");
    return out;
}

}  // namespace bg::pam
