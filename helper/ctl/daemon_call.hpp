// SPDX-License-Identifier: ISC
// One request to breakglassd and its expected answer, for the subcommands
// that print a refusal the same way (approvals, reviews).
#pragma once

#include <iostream>
#include <optional>
#include <utility>
#include <variant>

#include "common/protocol.hpp"
#include "common/text.hpp"
#include "common/transport.hpp"
#include "helper/ctl/commands.hpp"
#include "helper/ctl/exit_code.hpp"
#include "helper/ctl/output.hpp"

namespace bg::ctl {

// Sends `request` and returns the answer, or prints why not and sets
// `exit_code` (unreachable: kExitUnreachable; refused: kExitRefused, with the
// refusal as JSON on stdout under --json).
template <typename Answer>
std::optional<Answer> ask_daemon(const CommonOptions& o, const proto::Message& request, proto::MessageType expected,
                                 int& exit_code) {
    proto::CallResult r = proto::call(o.socket, request, expected);
    if (!r.answer) {
        print_error(escape_for_display(r.error) + "; is breakglassd running? (systemctl status breakglassd.socket)");
        exit_code = kExitUnreachable;
        return std::nullopt;
    }
    if (const auto* refused = std::get_if<proto::ErrorAnswer>(&*r.answer)) {
        print_error(describe_error(*refused));
        if (o.json) std::cout << error_json(proto::error_code_name(refused->code), refused->message) << '\n';
        exit_code = kExitRefused;
        return std::nullopt;
    }
    exit_code = kExitOk;
    return std::get<Answer>(std::move(*r.answer));
}

}  // namespace bg::ctl
