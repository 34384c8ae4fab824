// SPDX-License-Identifier: ISC
#include "helper/ctl/log_reader.hpp"

#include <algorithm>

#include "common/protocol.hpp"
#include "common/text.hpp"
#include "common/transport.hpp"
#include "helper/ctl/exit_code.hpp"

namespace bg::ctl {

DaemonLogRead read_log_through_daemon(const std::string& socket, std::uint64_t after_seq, std::int64_t since,
                                      const std::function<bool(const std::string& line)>& each) {
    DaemonLogRead out;
    proto::LogRequest request;
    request.after_seq = after_seq;
    request.since = since;
    out.last_seq = after_seq;
    for (;;) {
        proto::CallResult r = proto::call(socket, request, proto::MessageType::LogAnswer);
        if (!r.answer) {
            out.exit_code = kExitUnreachable;
            out.error = escape_for_display(r.error) + "; is breakglassd running? (systemctl status breakglassd.socket)";
            return out;
        }
        if (const auto* refused = std::get_if<proto::ErrorAnswer>(&*r.answer)) {
            out.exit_code = kExitRefused;
            out.error = std::string(proto::error_code_name(refused->code)) + ": " + escape_for_display(refused->message);
            return out;
        }
        const auto& page = std::get<proto::LogAnswer>(*r.answer);
        for (const std::string& line : page.records) {
            ++out.records;
            if (!each(line)) {
                out.ok = true;
                return out;
            }
        }
        out.last_seq = std::max(out.last_seq, page.last_seq);
        if (!page.more) break;
        if (page.last_seq <= request.after_seq) {
            out.exit_code = kExitUnreachable;
            out.error = "protocol error: breakglassd's log answer did not advance past seq " +
                        std::to_string(request.after_seq);
            return out;
        }
        request.after_seq = page.last_seq;
    }
    out.ok = true;
    return out;
}

}  // namespace bg::ctl
