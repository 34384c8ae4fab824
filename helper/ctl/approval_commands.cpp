// SPDX-License-Identifier: ISC
// breakglassctl's side of approvals (issue 13): `request` waiting for a gate's
// approvals, `pending`, `approve` and `deny`. The wait holds nothing in the
// daemon but its connection: it asks for the request's state every
// kPollMs, reconnecting when the connection drops, until the request is
// granted, rejected or expired; Ctrl-C (or SIGTERM, SIGHUP) cancels it with a
// request_cancelled record.
//
// Offline approvals on a terminal: the wait shows "Request code: …" once and
// then a fixed prompt, "Approval token: ", with the waiting line above it
// (its deadline as a UTC time, not a countdown: a line redrawn every 250 ms
// would tear what the requester is typing). The terminal's line discipline
// collects the token; the wait polls stdin and the daemon together, so a
// pasted token (Enter) and an online approval are both taken as they come.
// The line is redrawn only when an approval is counted. Off a terminal, each
// line of stdin is a token.
#include <pwd.h>

#include <cerrno>
#include <csignal>
#include <ctime>
#include <iostream>

#include <poll.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/breakglass_flow.hpp"
#include "common/text.hpp"
#include "common/transport.hpp"
#include "common/utc_time.hpp"
#include "helper/audit/ed25519.hpp"
#include "helper/ctl/approval_commands.hpp"
#include "helper/ctl/daemon_call.hpp"
#include "helper/ctl/exit_code.hpp"
#include "helper/ctl/output.hpp"
#include "helper/ctl/secret_input.hpp"
#include "helper/workflow/offline_token.hpp"
#include "policy/policy.hpp"

namespace bg::ctl {
namespace {

constexpr int kPollMs = 250;
// After the request's expiry the daemon answers "expired"; a daemon that
// cannot be reached for this long past it ends the wait.
constexpr std::int64_t kUnreachableGraceSeconds = 30;

volatile std::sig_atomic_t g_stop = 0;
void on_stop_signal(int) { g_stop = 1; }

std::int64_t now_seconds() { return wall_clock_seconds(); }

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

// One line from fd 0: at most kMaxTokenLine bytes (the rest of a longer line
// is read and dropped). `eof` when the input ended.
constexpr std::size_t kMaxTokenLine = 512;
std::string read_token_line(bool& eof, bool& too_long) {
    std::string line;
    eof = false;
    too_long = false;
    for (;;) {
        char c = 0;
        const ssize_t n = ::read(STDIN_FILENO, &c, 1);
        if (n < 0 && errno == EINTR) {
            if (g_stop) return line;
            continue;
        }
        if (n <= 0) {
            eof = true;
            return line;
        }
        if (c == '\n') return line;
        if (line.size() < kMaxTokenLine) line += c;
        else too_long = true;
    }
}

// The prompt after the waiting line, on a terminal.
constexpr const char* kTokenPrompt = "Approval token (paste and press Enter; an online approval also ends the wait): ";

// Submits one token on a connection of its own (the daemon takes one per
// connection). True when it was accepted.
bool submit_token(const CommonOptions& o, const std::string& request_id, const std::string& token) {
    proto::CallResult r = proto::call(o.socket, proto::SubmitTokenRequest{"", request_id, token},
                                      proto::MessageType::TokenAccepted);
    if (!r.answer) {
        print_error("the approval token could not be submitted (" + escape_for_display(r.error) + "); paste it again");
        return false;
    }
    if (const auto* refused = std::get_if<proto::ErrorAnswer>(&*r.answer)) {
        print_error(describe_error(*refused));
        return false;
    }
    const auto& ok = std::get<proto::TokenAccepted>(*r.answer);
    std::cerr << "approval token accepted: approved by " << escape_for_display(ok.approver) << " (record "
              << escape_for_display(ok.record_event_id) << "), " << ok.approvals << " of " << ok.approvals_needed
              << " approval(s)\n"
              << std::flush;
    return true;
}

}  // namespace

std::optional<proto::Granted> wait_for_approval(const CommonOptions& o, proto::RequestState state, int& exit_code) {
    StopSignals signals;
    const bool tty = isatty(STDERR_FILENO) == 1;
    proto::Client daemon(o.socket);
    std::string shown;
    std::int64_t unreachable_since = 0;
    // Tokens: only when the request has a code; stdin until it ends.
    bool tokens = !state.request_code.empty();
    bool code_shown = false;
    const bool stdin_tty = isatty(STDIN_FILENO) == 1;
    std::string prompted;  // what the prompt was last drawn for (approvals so far)
    const auto stopped = [&]() -> std::optional<proto::Granted> {
        exit_code = cancel(o, state.request_id, tty);
        return std::nullopt;
    };
    for (;;) {
        const std::int64_t now = now_seconds();
        if (state.state == "granted") {
            if (tty) std::cerr << '\n';
            exit_code = kExitOk;
            return proto::Granted{state.grant_id, state.grant_expires_at, ""};
        }
        if (state.state != "pending") {
            if (tty) std::cerr << '\n';
            print_error("request " + escape_for_display(state.request_id) + " " + escape_for_display(state.state) +
                        ": " + escape_for_display(state.message) + "; nothing was granted");
            exit_code = kExitRefused;
            return std::nullopt;
        }
        std::string line = waiting_line(state, now);
        if (unreachable_since != 0) line += " (breakglassd unreachable, reconnecting)";
        if (tokens && !code_shown) {
            if (tty) std::cerr << "\r\033[K";
            // One write, so that a reader of the output never sees half the code.
            const std::string code_lines = "Request code: " + escape_for_display(state.request_code) +
                                      "\n(an approver signs it anywhere with: breakglassctl approve --offline "
                                      "--code CODE --key THEIR-KEY-FILE)\n";
            std::cerr << code_lines << std::flush;
            code_shown = true;
        }
        if (tokens && tty && stdin_tty) {
            // A fixed line and prompt; drawn again only when approvals change.
            if (prompted != "drawn:" + state.approved_by) {
                if (!prompted.empty()) std::cerr << '\n';
                std::string fixed = "waiting for approval by " + escape_for_display(state.approvers) +
                                    " \u2014 request " + escape_for_display(state.request_id) + ", until " +
                                    format_utc(state.expires_at) +
                                    (state.approved_by.empty()
                                         ? std::string()
                                         : " (approved by " + escape_for_display(state.approved_by) + ", " +
                                               std::to_string(state.approvals_needed) + " needed)") +
                                    "; Ctrl-C cancels";
                std::cerr << fixed << '\n' << kTokenPrompt << std::flush;
                prompted = "drawn:" + state.approved_by;
            }
        } else if (tty) {
            std::cerr << "\r\033[K" << line << std::flush;
        } else if (line.substr(0, line.find(" \u2014 ")) + state.approved_by != shown) {
            std::cerr << line << '\n' << std::flush;  // not a terminal: once, and when approvals change
            shown = line.substr(0, line.find(" \u2014 ")) + state.approved_by;
        }
        // A signal ends the wait early; a line on stdin is a token.
        struct pollfd in = {STDIN_FILENO, POLLIN, 0};
        const int ready = ::poll(&in, tokens ? 1 : 0, kPollMs);
        if (g_stop) return stopped();
        if (tokens && ready > 0 && (in.revents & (POLLIN | POLLHUP | POLLERR))) {
            bool eof = false, too_long = false;
            std::string token = read_token_line(eof, too_long);
            if (g_stop) return stopped();
            if (eof) tokens = false;  // no more input: keep waiting for online approvals
            while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
            if (too_long) {
                print_error("that line is too long for an approval token; paste it again");
            } else if (!token.empty()) {
                (void)submit_token(o, state.request_id, token);
            }
            if (tokens && tty && stdin_tty) std::cerr << kTokenPrompt << std::flush;
        }
        proto::CallResult r = daemon.call(proto::WaitRequest{"", state.request_id}, proto::MessageType::RequestState);
        if (g_stop) return stopped();
        if (!r.answer) {
            if (unreachable_since == 0) unreachable_since = now_seconds();
            if (now_seconds() > state.expires_at + kUnreachableGraceSeconds) {
                if (tty) std::cerr << '\n';
                print_error("breakglassd has not answered since " + std::to_string(now_seconds() - unreachable_since) +
                            " s and request " + escape_for_display(state.request_id) + " has expired: " +
                            escape_for_display(r.error));
                exit_code = kExitUnreachable;
                return std::nullopt;
            }
            continue;
        }
        unreachable_since = 0;
        if (const auto* refused = std::get_if<proto::ErrorAnswer>(&*r.answer)) {
            if (tty) std::cerr << '\n';
            print_error(describe_error(*refused));
            exit_code = kExitRefused;
            return std::nullopt;
        }
        state = std::get<proto::RequestState>(std::move(*r.answer));
    }
}

int run_pending(const CommonOptions& o) {
    int exit_code = kExitOk;
    const auto answer =
        ask_daemon<proto::PendingAnswer>(o, proto::PendingRequest{}, proto::MessageType::PendingAnswer, exit_code);
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
    const auto answer = ask_daemon<proto::ApproveAnswer>(o, message, proto::MessageType::ApproveAnswer, exit_code);
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

int run_approve_offline(const CommonOptions& o, const std::string& code_text, const std::string& key_file,
                        const std::string& valid) {
    make_process_undumpable();
    const auto code = workflow::parse_request_code(code_text);
    if (!code) {
        print_error(code.error().message);
        return kExitUsage;
    }
    std::int64_t seconds = 3600;
    if (!valid.empty()) {
        const auto d = policy::parse_duration(valid);
        if (!d || d->count() > workflow::kMaxTokenValiditySeconds) {
            print_error("--valid " + escape_for_display(valid) + ": give a duration up to 24h, e.g. 30m, 2h");
            return kExitUsage;
        }
        seconds = d->count();
    }
    auto key = audit::Ed25519PrivateKey::load(key_file);
    if (!key) {
        print_error("the approver key " + escape_for_display(key_file) + ": " + key.error().message);
        return kExitRefused;
    }
    const std::int64_t not_after = now_seconds() + seconds;
    const auto signature = key->sign(workflow::token_message(*code, not_after));
    if (!signature) {
        print_error("signing: " + signature.error().message);
        return kExitRefused;
    }
    const std::string token =
        workflow::format_approval_token(workflow::make_token(*code, not_after, key->public_key(), *signature));
    if (o.json) {
        std::cout << nlohmann::json{{"token", token},        {"user", code->actor}, {"host", code->host},
                                    {"gate", code->gate},    {"request", workflow::format_request_digest(code->digest)},
                                    {"not_after", not_after}}
                         .dump()
                  << '\n';
        return kExitOk;
    }
    std::cerr << "approving " << escape_for_display(code->actor) << "'s request on host " << escape_for_display(code->host)
              << " for gate '" << escape_for_display(code->gate) << "' (request "
              << workflow::format_request_digest(code->digest) << "), valid until " << format_utc(not_after)
              << ".\nThe code does not carry the reason: ask the requester for it before you read this out.\n"
              << "Approval token:\n"
              << std::flush;
    std::cout << token << '\n';
    return kExitOk;
}

int run_approver_key_generate(const CommonOptions& o, const std::string& out, const std::string& name_given) {
    make_process_undumpable();
    std::string name = name_given;
    if (name.empty()) {
        const struct passwd* pw = ::getpwuid(::getuid());
        if (pw == nullptr || pw->pw_name == nullptr) {
            print_error("cannot find your user name; give it with --name");
            return kExitUsage;
        }
        name = pw->pw_name;
    }
    if (!is_valid_name(name, 64)) {
        print_error("--name " + escape_for_display(name) + " is not a valid user name");
        return kExitUsage;
    }
    auto key = audit::Ed25519PrivateKey::generate();
    if (!key) {
        print_error("generating the key: " + key.error().message);
        return kExitRefused;
    }
    if (const Status written = key->write(out); !written) {
        print_error(escape_for_display(out) + ": " + written.error().message);
        return kExitRefused;
    }
    const std::string line = name + " = \"" + audit::format_ed25519_public_key(key->public_key()) + "\"";
    if (o.json) {
        std::cout << nlohmann::json{{"user", name}, {"key_file", out},
                                    {"public_key", audit::format_ed25519_public_key(key->public_key())},
                                    {"policy_line", line}}
                         .dump()
                  << '\n';
        return kExitOk;
    }
    std::cerr << "wrote the private key to " << escape_for_display(out)
              << " (mode 0600; keep it on this machine). Add this line to [approver_keys] in the policy of every "
                 "host whose requests you may approve:\n"
              << std::flush;
    std::cout << line << '\n';
    return kExitOk;
}

int run_deny(const CommonOptions& o, const std::string& request_id, const std::string& reason) {
    int exit_code = kExitOk;
    const auto answer =
        ask_daemon<proto::Rejected>(o, proto::RejectRequest{request_id, reason}, proto::MessageType::Rejected, exit_code);
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
