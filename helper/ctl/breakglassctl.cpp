// SPDX-License-Identifier: ISC
// breakglassctl: the command-line front-end of breakglass. The subcommand
// table and the parsing are command_line.cpp; each handler (commands.cpp)
// runs one exchange and returns an exit code from exit_code.hpp (documented
// in --help and breakglassctl(1)).
#include <exception>
#include <string>

#include "helper/ctl/command_line.hpp"
#include "helper/ctl/commands.hpp"
#include "helper/ctl/exit_code.hpp"

int main(int argc, char** argv) {
    try {
        const bg::ctl::CommandLine command = bg::ctl::parse_command_line(argc, argv);
        if (!command.handler) return command.exit_code;
        return command.handler(command.options);
    } catch (const std::exception& e) {
        bg::ctl::print_error(std::string("internal error: ") + e.what());
    } catch (...) {
        bg::ctl::print_error("internal error");
    }
    return bg::ctl::kExitRefused;
}
