// SPDX-License-Identifier: ISC
// breakglassctl's command line: one table of subcommands, each row {path,
// description, which global options apply, setup}. setup adds the
// subcommand's own options and returns its handler, bound to them; a
// subcommand is one row and one setup function, nothing else to keep in step.
//
// The global options --socket, --json and --state-dir are accepted before
// the subcommand (breakglassctl --socket PATH status, as systemctl and git -C
// take theirs) and after it; given in both places, the one after the
// subcommand wins. A global option the subcommand does not take (--state-dir
// with anything but verify) is a usage error, not silently ignored.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "helper/ctl/commands.hpp"
#include "helper/ctl/exit_code.hpp"

namespace CLI {
class App;
}

namespace bg::ctl {

enum GlobalOption : unsigned {
    kSocketOption = 1u << 0,
    kJsonOption = 1u << 1,
    kStateDirOption = 1u << 2,
};

using Handler = std::function<int(const CommonOptions&)>;

struct Subcommand {
    std::string_view path;         // "status", or "policy check": a group word, then the command
    std::string_view description;  // one line, for --help
    unsigned global_options;       // GlobalOption bits this subcommand takes
    Handler (*setup)(CLI::App& command);
};

// Every subcommand, in --help order.
std::span<const Subcommand> subcommands();

struct CommandLine {
    Handler handler;             // empty: nothing to run; exit with exit_code
    CommonOptions options;       // the global options, resolved (defaults filled in)
    std::string path;            // the subcommand's path, e.g. "policy check"
    int exit_code = kExitUsage;  // when !handler: kExitOk after --help, kExitUsage on an error (already printed)
};

// Parses argv (CLI11). Prints --help and usage errors itself.
CommandLine parse_command_line(int argc, const char* const* argv);

}  // namespace bg::ctl
