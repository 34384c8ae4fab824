// SPDX-License-Identifier: ISC
// breakglassctl's side of approvals (issue 13): `request` waiting for a gate's
// approvals, `pending`, `approve` and `deny`. The wait holds nothing in the
// daemon but its connection: it asks for the request's state every
// kPollMs, reconnecting when the connection drops, until the request is
// granted, rejected or expired; Ctrl-C (or SIGTERM, SIGHUP) cancels it with a
// request_cancelled record.
#include <csignal>
#include <ctime>
#include <iostream>

#include <poll.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/breakglass_flow.hpp"
#include "common/text.hpp"
#include "common/transport.hpp"
#include "helper/ctl/approval_commands.hpp"
#include "helper/ctl/exit_code.hpp"
#include "helper/ctl/output.hpp"
#include "helper/ctl/secret_input.hpp"

namespace bg::ctl {
namespace {

constexpr int kPollMs = 250;
// After the request's expiry the daemon answers "expired"; a daemon that
// cannot be reached for this long past it ends the wait.
constexpr std::int64_t kUnreachableGraceSeconds = 30;

volatile std::sig_atomic_t g_stop = 0;
void on_stop_signal(int) { g_stop = 1; }

std::int64_t now_seconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string clock_left(std::int64_t seconds) {
    if (seconds < 0) seconds = 0;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60));
    return buf;
}

// The waiting line is the front-ends' own (common/breakglass_flow.hpp), so
// sudo, PAM and the CLI say the same thing.
using flow::waiting_line;

// Sends `request` and returns the answer, or prints why not and sets `exit_code`.
template <typename Answer>
std::optional<Answer> ask(const CommonOptions& o, const proto::Message& request, proto::MessageType expected,
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

struct StopSignals {
    struct sigaction old[3] = {};
    static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};
    StopSignals() {
        g_stop = 0;
        struct sigaction sa = {};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &old[i]);
    }
    ~StopSignals() {
        for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &old[i], nullptr);
    }
};

int cancel(const CommonOptions& o, const std::string& request_id, bool tty) {
    if (tty) std::cerr << '\n';
    proto::CallResult r = proto::call(o.socket, proto::CancelRequest{"", request_id}, proto::MessageType::RequestCancelled);
    if (r.answer) {
        if (const auto* done = std::get_if<proto::RequestCancelled>(&*r.answer)) {
            print_error("request " + escape_for_display(request_id) + " cancelled (record " +
                        escape_for_display(done->record_event_id) + "); nothing was granted");
            return kExitRefused;
        }
        if (const auto* refused = std::get_if<proto::ErrorAnswer>(&*r.answer))
            print_error("cancelling request " + escape_for_display(request_id) + ": " + describe_error(*refused));
    } else {
        print_error("request " + escape_for_display(request_id) + " could not be cancelled (" +
                    escape_for_display(r.error) + "); it expires unless approved");
    }
    return kExitRefused;
}

}  // namespace

int wait_for_approval(const CommonOptions& o, const std::string& gate, proto::RequestState state) {
    StopSignals signals;
    const bool tty = isatty(STDERR_FILENO) == 1;
    proto::Client daemon(o.socket);
    std::string shown;
    std::int64_t unreachable_since = 0;
    for (;;) {
        const std::int64_t now = now_seconds();
        if (state.state == "granted") {
            if (tty) std::cerr << '\n';
            const proto::Granted granted{state.grant_id, state.grant_expires_at, ""};
            std::cout << (o.json ? granted_json(gate, granted) : format_granted(gate, granted, now)) << '\n' << std::flush;
            return kExitOk;
        }
        if (state.state != "pending") {
            if (tty) std::cerr << '\n';
            print_error("request " + escape_for_display(state.request_id) + " " + escape_for_display(state.state) +
                        ": " + escape_for_display(state.message) + "; nothing was granted");
            return kExitRefused;
        }
        std::string line = waiting_line(state, now);
        if (unreachable_since != 0) line += " (breakglassd unreachable, reconnecting)";
        if (tty) {
            std::cerr << "\r\033[K" << line << std::flush;
        } else if (line.substr(0, line.find(" \u2014 ")) + state.approved_by != shown) {
            std::cerr << line << '\n' << std::flush;  // not a terminal: once, and when approvals change
            shown = line.substr(0, line.find(" \u2014 ")) + state.approved_by;
        }
        ::poll(nullptr, 0, kPollMs);  // a signal ends the wait early
        if (g_stop) return cancel(o, state.request_id, tty);
        proto::CallResult r = daemon.call(proto::WaitRequest{"", state.request_id}, proto::MessageType::RequestState);
        if (g_stop) return cancel(o, state.request_id, tty);
        if (!r.answer) {
            if (unreachable_since == 0) unreachable_since = now_seconds();
            if (now_seconds() > state.expires_at + kUnreachableGraceSeconds) {
                if (tty) std::cerr << '\n';
                print_error("breakglassd has not answered since " + std::to_string(now_seconds() - unreachable_since) +
                            " s and request " + escape_for_display(state.request_id) + " has expired: " +
                            escape_for_display(r.error));
                return kExitUnreachable;
            }
            continue;
        }
        unreachable_since = 0;
        if (const auto* refused = std::get_if<proto::ErrorAnswer>(&*r.answer)) {
            if (tty) std::cerr << '\n';
            print_error(describe_error(*refused));
            return kExitRefused;
        }
        state = std::get<proto::RequestState>(std::move(*r.answer));
    }
}

int run_pending(const CommonOptions& o) {
    int exit_code = kExitOk;
    const auto answer = ask<proto::PendingAnswer>(o, proto::PendingRequest{}, proto::MessageType::PendingAnswer, exit_code);
    if (!answer) return exit_code;
    const std::int64_t now = now_seconds();
    if (o.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& p : answer->requests)
            list.push_back({{"request_id", p.request_id}, {"user", p.user}, {"gate", p.gate}, {"reason", p.reason},
                            {"incident", p.incident}, {"requested_at", p.requested_at}, {"expires_at", p.expires_at},
                            {"approvals_needed", p.approvals_needed}, {"approved_by", p.approved_by}});
        std::cout << nlohmann::json{{"requests", list}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                  << '\n';
        return kExitOk;
    }
    if (answer->requests.empty()) {
        std::cout << "no requests wait for your approval\n";
        return kExitOk;
    }
    for (const auto& p : answer->requests)
        std::cout << escape_for_display(p.request_id) << "  " << escape_for_display(p.user) << "  gate "
                  << escape_for_display(p.gate) << "  incident " << escape_for_display(p.incident) << "  "
                  << (p.approved_by.empty() ? std::string("0") : "approved by " + escape_for_display(p.approved_by))
                  << " of " << p.approvals_needed << " needed  " << clock_left(p.expires_at - now) << " left\n"
                  << "    reason: " << escape_for_display(p.reason) << '\n';
    return kExitOk;
}

int run_approve(const CommonOptions& o, const std::string& request_id, const std::string& note) {
    make_process_undumpable();
    proto::Message message{std::in_place_type<proto::ApproveRequest>, proto::ApproveRequest{request_id, note, ""}};
    std::string& factor = std::get<proto::ApproveRequest>(message).factor;
    factor.reserve(Secret::kCapacity + 1);
    {
        Secret code;
        const Status read = read_secret("Your one-time code: ", kMaxFactorBytes, code);
        if (!read) {
            print_error("reading the one-time code: " + read.error().message);
            return read.error().message == "interrupted" ? kExitRefused : kExitUsage;
        }
        factor.assign(code.view());
    }
    int exit_code = kExitOk;
    const auto answer = ask<proto::ApproveAnswer>(o, message, proto::MessageType::ApproveAnswer, exit_code);
    wipe_string(factor);
    if (!answer) return exit_code;
    if (o.json) {
        std::cout << nlohmann::json{{"request_id", answer->request_id}, {"record_event_id", answer->record_event_id},
                                    {"approvals", answer->approvals}, {"approvals_needed", answer->approvals_needed},
                                    {"grant_id", answer->grant_id}}
                         .dump()
                  << '\n';
        return kExitOk;
    }
    std::cout << "approved " << escape_for_display(answer->request_id) << " (record "
              << escape_for_display(answer->record_event_id) << "): " << answer->approvals << " of "
              << answer->approvals_needed << " approval(s)"
              << (answer->grant_id.empty() ? std::string()
                                           : "; granted as " + escape_for_display(answer->grant_id))
              << '\n';
    return kExitOk;
}

int run_deny(const CommonOptions& o, const std::string& request_id, const std::string& reason) {
    int exit_code = kExitOk;
    const auto answer =
        ask<proto::Rejected>(o, proto::RejectRequest{request_id, reason}, proto::MessageType::Rejected, exit_code);
    if (!answer) return exit_code;
    if (o.json)
        std::cout << nlohmann::json{{"request_id", answer->request_id}, {"record_event_id", answer->record_event_id}}.dump()
                  << '\n';
    else
        std::cout << "rejected " << escape_for_display(answer->request_id) << " (record "
                  << escape_for_display(answer->record_event_id) << ")\n";
    return kExitOk;
}

}  // namespace bg::ctl
