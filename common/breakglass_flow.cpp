// SPDX-License-Identifier: ISC
#include "common/breakglass_flow.hpp"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <utility>

#include <poll.h>

#include "common/text.hpp"
#include "common/utc_time.hpp"

namespace bg::flow {
namespace {

constexpr std::string_view kReasonPrompt = "Reason for breaking the glass: ";
constexpr std::string_view kIncidentPrompt = "Incident reference: ";
constexpr std::string_view kFactorPrompt = "One-time code (TOTP or YubiKey): ";

std::string quoted(std::string_view text) { return "'" + escape_for_display(text) + "'"; }

// The daemon's own words, escaped again: a refusal is shown as it was given.
std::string refusal_text(const proto::ErrorAnswer& e) {
    return "break-glass refused (" + std::string(proto::error_code_name(e.code)) + "): " +
           escape_for_display(e.message);
}

std::string unavailable_text(const std::string& socket_path, const proto::CallResult& r) {
    return std::string(r.timed_out ? "break-glass refused: breakglassd did not answer in time ("
                                   : "break-glass refused: the breakglass daemon cannot decide (") +
           escape_for_display(r.error) + ", socket " + escape_for_display(socket_path) +
           "); nothing was granted. Access through this gate stays closed until breakglassd answers; "
           "an administrator can check it with: systemctl status breakglassd";
}

Result refused(Prompter& prompter, Outcome outcome, std::string message) {
    prompter.error(message);
    return Result{outcome, "", 0, std::move(message)};
}

// A call whose answer is either the expected type or a refusal; anything else
// (no answer, protocol error) is Unavailable with its message.
struct Answer {
    std::optional<proto::Message> message;
    Result failure;
};
Answer ask_daemon(proto::Client& daemon, const proto::Message& request, proto::MessageType expected, int timeout_ms) {
    proto::CallResult r = daemon.call(request, expected, timeout_ms);
    if (!r.answer) return {std::nullopt, Result{Outcome::Unavailable, "", 0, unavailable_text(daemon.socket_path(), r)}};
    if (const auto* e = std::get_if<proto::ErrorAnswer>(&*r.answer)) {
        std::string text = e->code == proto::ErrorCode::Unavailable || e->code == proto::ErrorCode::Internal
                               ? refusal_text(*e) + "; nothing was granted (fail closed)"
                               : refusal_text(*e);
        return {std::nullopt, Result{outcome_for(e->code), "", 0, std::move(text)}};
    }
    return {std::move(r.answer), Result{}};
}

std::optional<std::string> validate_target(const Target& t) {
    if (!is_valid_name(t.user, kMaxUserBytes)) return "break-glass refused: user name " + quoted(t.user) + " is not valid";
    if (!is_valid_name(t.gate, kMaxGateBytes)) return "break-glass refused: gate name " + quoted(t.gate) + " is not valid";
    if (!t.account.empty() && !is_valid_name(t.account, kMaxUserBytes))
        return "break-glass refused: account name " + quoted(t.account) + " is not valid";
    return std::nullopt;
}

}  // namespace

std::string_view outcome_name(Outcome o) {
    switch (o) {
        case Outcome::Granted: return "granted";
        case Outcome::AlreadyActive: return "already active";
        case Outcome::AuthFailed: return "authentication failed";
        case Outcome::Denied: return "denied";
        case Outcome::Unavailable: return "unavailable";
        case Outcome::ConversationFailed: return "conversation failed";
        case Outcome::BadInput: return "bad input";
        case Outcome::Cancelled: return "cancelled";
    }
    return "unknown";
}

Outcome outcome_for(proto::ErrorCode code) {
    switch (code) {
        case proto::ErrorCode::Denied:
        case proto::ErrorCode::NotPermitted:
        case proto::ErrorCode::NotFound: return Outcome::Denied;
        case proto::ErrorCode::AuthFailed:
        case proto::ErrorCode::RateLimited: return Outcome::AuthFailed;
        case proto::ErrorCode::BadRequest: return Outcome::BadInput;
        case proto::ErrorCode::Unavailable:
        case proto::ErrorCode::Internal: return Outcome::Unavailable;
    }
    return Outcome::Unavailable;
}

std::optional<std::string> validate_reason(std::string_view reason) {
    if (auto bad = validate_text(reason, kMaxReasonBytes)) return "the reason " + *bad;
    return std::nullopt;
}

std::optional<std::string> validate_incident(std::string_view incident) {
    if (auto bad = validate_text(incident, kMaxIncidentBytes)) return "the incident reference " + *bad;
    return std::nullopt;
}

std::string severity_prompt(const std::vector<std::string>& allowed) {
    std::string list;
    for (const std::string& s : allowed) list += (list.empty() ? "" : ", ") + escape_for_display(s);
    return "Incident severity (" + list + "): ";
}

std::optional<std::string> validate_severity(std::string_view severity, const std::vector<std::string>& allowed) {
    for (const std::string& s : allowed)
        if (severity == s) return std::nullopt;
    std::string list;
    for (const std::string& s : allowed) list += (list.empty() ? "" : ", ") + escape_for_display(s);
    return "the severity " + quoted(severity) + " is not one this gate accepts (" + list + ")";
}

std::optional<std::string> validate_factor(std::string_view factor) {
    if (factor.empty()) return std::string("the one-time code is empty");
    if (factor.size() > kMaxFactorBytes)
        return "the one-time code is longer than " + std::to_string(kMaxFactorBytes) + " bytes";
    for (const char c : factor) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x21 || byte > 0x7e)
            return std::string("the one-time code may contain only digits and letters (printable ASCII, no spaces)");
    }
    return std::nullopt;
}

std::string fit_context_text(std::string_view text, std::size_t max_bytes) {
    std::string out = validate_text(text, max_bytes, true) ? escape_for_display(text) : std::string(text);
    if (out.size() > max_bytes) {
        std::size_t cut = max_bytes;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0u) == 0x80u) --cut;  // not inside a character
        out.resize(cut);
    }
    return out;
}

namespace {

std::string with_notice(std::string text, std::string_view notice) {
    if (!notice.empty()) text += " " + fit_context_text(notice, kMaxNoticeBytes);
    return text;
}

}  // namespace

std::string banner(std::string_view gate, bool asks_severity, std::string_view notice) {
    return with_notice("BREAK-GLASS: gate " + quoted(gate) +
                           " is an emergency access path. Breaking the glass needs a reason, an incident reference" +
                           (asks_severity ? ", the incident's severity" : "") +
                           " and a one-time code. Your request and the decision are recorded in breakglassd's audit "
                           "log on this host.",
                       notice);
}

std::string granted_line(std::string_view gate, const proto::Granted& granted) {
    return with_notice("Break-glass granted: " + escape_for_display(granted.event_id) + " for gate " + quoted(gate) +
                           " until " + format_utc(granted.expires_at) +
                           " (UTC). The grant is recorded in breakglassd's audit log on this host.",
                       granted.notice);
}

void wipe(std::string& secret) {
    secret.resize(secret.capacity());  // the bytes past size() may still hold an earlier, longer value
    ::explicit_bzero(secret.data(), secret.size());
    secret.clear();
}

namespace {

// What the check said: a CheckAnswer, or a CommandAnswer when a command rides along.
struct Checked {
    bool active = false;
    std::string grant_id;
    std::int64_t expires_at = 0;
    std::string record_event_id;  // the command record, when there was a command and a grant
    std::vector<std::string> severities;
    std::string notice;
    std::string scope = {};  // the systemd scope the caller is being moved into, "" = none
};
// The daemon's answer, or why there is none (a refusal or no answer at all).
struct CheckOutcome {
    std::optional<Checked> answer;
    Result failure;
};
CheckOutcome ask_check(proto::Client& daemon, const Target& target, const proto::CommandRequest* command) {
    if (command == nullptr) {
        Answer a = ask_daemon(daemon, proto::CheckRequest{target.user, target.gate, target.account},
                              proto::MessageType::CheckAnswer, target.timeout_ms);
        if (!a.message) return {std::nullopt, std::move(a.failure)};
        auto& c = std::get<proto::CheckAnswer>(*a.message);
        return {Checked{c.active, std::move(c.event_id), c.expires_at, "", std::move(c.severities), std::move(c.notice)},
                Result{}};
    }
    proto::CommandRequest request = *command;
    request.user = target.user;
    request.gate = target.gate;
    Answer a = ask_daemon(daemon, request, proto::MessageType::CommandAnswer, target.timeout_ms);
    if (!a.message) return {std::nullopt, std::move(a.failure)};
    auto& c = std::get<proto::CommandAnswer>(*a.message);
    return {Checked{c.active, std::move(c.grant_id), c.expires_at, std::move(c.record_event_id),
                    std::move(c.severities), std::move(c.notice), std::move(c.scope)},
            Result{}};
}

std::string no_grant_text(const Target& target) {
    return "no active break-glass grant for user " + quoted(target.user) + " on gate " + quoted(target.gate) +
           (target.account.empty() || target.account == target.user ? "" : " for account " + quoted(target.account));
}

}  // namespace

Result check_active(const Target& target) {
    proto::Client daemon(target.socket_path, target.connect_timeout_ms);
    return check_active(target, daemon);
}

Result check_active(const Target& target, proto::Client& daemon, const proto::CommandRequest* command) {
    if (auto bad = validate_target(target)) return Result{Outcome::BadInput, "", 0, std::move(*bad)};
    CheckOutcome c = ask_check(daemon, target, command);
    if (!c.answer) return std::move(c.failure);
    if (!c.answer->active) return Result{Outcome::Denied, "", 0, no_grant_text(target)};
    return Result{Outcome::AlreadyActive, c.answer->grant_id, c.answer->expires_at, "", c.answer->record_event_id,
                  c.answer->scope};
}

Result check_or_break_glass(Prompter& prompter, const Target& target) {
    proto::Client daemon(target.socket_path, target.connect_timeout_ms);
    return check_or_break_glass(prompter, target, daemon);
}

Result check_or_break_glass(Prompter& prompter, const Target& target, proto::Client& daemon,
                            const proto::CommandRequest* command) {
    if (auto bad = validate_target(target)) return refused(prompter, Outcome::BadInput, std::move(*bad));

    // The fast path: an active grant is enough, and nothing is asked.
    CheckOutcome check = ask_check(daemon, target, command);
    if (!check.answer) return refused(prompter, check.failure.outcome, std::move(check.failure.message));
    if (check.answer->active)
        return Result{Outcome::AlreadyActive, check.answer->grant_id, check.answer->expires_at, "",
                      check.answer->record_event_id, check.answer->scope};

    prompter.info(banner(target.gate, !check.answer->severities.empty(), check.answer->notice));

    // Each answer is checked as soon as it is given, so a bad one costs no further
    // question, and nothing reaches the daemon unless all three are acceptable.
    std::optional<std::string> reason = prompter.ask(kReasonPrompt, true);
    if (!reason) return refused(prompter, Outcome::ConversationFailed, "break-glass cancelled: no reason was given");
    if (auto bad = validate_reason(*reason)) return refused(prompter, Outcome::BadInput, "break-glass refused: " + *bad);

    std::optional<std::string> incident = prompter.ask(kIncidentPrompt, true);
    if (!incident)
        return refused(prompter, Outcome::ConversationFailed, "break-glass cancelled: no incident reference was given");
    if (auto bad = validate_incident(*incident))
        return refused(prompter, Outcome::BadInput, "break-glass refused: " + *bad);

    // Only a gate that lists severities needs one; the daemon said which.
    std::string severity;
    if (const std::vector<std::string>& allowed = check.answer->severities; !allowed.empty()) {
        std::optional<std::string> answer = prompter.ask(severity_prompt(allowed), true);
        if (!answer)
            return refused(prompter, Outcome::ConversationFailed, "break-glass cancelled: no severity was given");
        if (auto bad = validate_severity(*answer, allowed))
            return refused(prompter, Outcome::BadInput, "break-glass refused: " + *bad);
        severity = std::move(*answer);
    }

    std::optional<std::string> factor = prompter.ask(kFactorPrompt, false);
    if (!factor)
        return refused(prompter, Outcome::ConversationFailed, "break-glass cancelled: no one-time code was given");
    if (auto bad = validate_factor(*factor)) {
        wipe(*factor);
        return refused(prompter, Outcome::BadInput, "break-glass refused: " + *bad);
    }

    proto::Message request = proto::GrantRequest{target.user,
                                                 target.gate,
                                                 std::move(*reason),
                                                 std::move(*incident),
                                                 std::move(severity),
                                                 0,
                                                 *factor,
                                                 fit_context_text(target.tty, kMaxTtyBytes),
                                                 fit_context_text(target.command, kMaxCommandBytes),
                                                 target.runas_group,
                                                 target.runas_user,
                                                 fit_context_text(target.pam_service, kMaxGateBytes),
                                                 target.account};
    wipe(*factor);
    Answer a = ask_daemon(daemon, request, proto::MessageType::Granted,
                          target.timeout_ms < 0 ? -1 : target.timeout_ms + proto::kRemoteAckAllowanceMs);
    wipe(std::get<proto::GrantRequest>(request).factor);
    if (!a.message) return refused(prompter, a.failure.outcome, std::move(a.failure.message));

    // A gate that needs approvals: the daemon recorded the request; wait for them.
    proto::Granted granted;
    if (auto* pending = std::get_if<proto::RequestState>(&*a.message)) {
        Result waited = wait_for_approval(prompter, target, daemon, std::move(*pending));
        if (waited.outcome != Outcome::Granted) return waited;
        granted = proto::Granted{waited.event_id, waited.expires_at, ""};
    } else {
        granted = std::get<proto::Granted>(std::move(*a.message));
    }
    Result out{Outcome::Granted, granted.event_id, granted.expires_at, ""};
    out.message = granted_line(target.gate, granted);
    prompter.info(out.message);
    if (command == nullptr) return out;

    // The command runs only once it is recorded under the new grant. A
    // failure keeps the grant's event_id, so the caller can tell it apart.
    CheckOutcome recorded = ask_check(daemon, target, command);
    if (!recorded.answer || !recorded.answer->active) {
        out.outcome = recorded.answer ? Outcome::Denied : recorded.failure.outcome;
        out.message = "the gated command was not recorded: " +
                      (recorded.answer ? no_grant_text(target) + " (the grant ended before the command could run)"
                                       : recorded.failure.message) +
                      "; refused";
        prompter.error(out.message);
        return out;
    }
    out.record_event_id = recorded.answer->record_event_id;
    out.scope = recorded.answer->scope;
    return out;
}

// ---- approvals (issue 13)

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void on_interrupt(int) { g_interrupted = 1; }

// The signals a person at a terminal (or whoever ends the session) sends,
// caught only while waiting and then given back to the host program as they were.
class InterruptGuard {
public:
    InterruptGuard() {
        g_interrupted = 0;
        struct sigaction sa = {};
        sa.sa_handler = on_interrupt;  // no SA_RESTART: the wait's poll ends at once
        sigemptyset(&sa.sa_mask);
        for (std::size_t i = 0; i < kCount; ++i) installed_[i] = ::sigaction(kSignals[i], &sa, &old_[i]) == 0;
    }
    ~InterruptGuard() {
        for (std::size_t i = 0; i < kCount; ++i)
            if (installed_[i]) (void)::sigaction(kSignals[i], &old_[i], nullptr);
    }
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;
    static bool interrupted() { return g_interrupted != 0; }

private:
    static constexpr std::size_t kCount = 4;
    static constexpr int kSignals[kCount] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    struct sigaction old_[kCount] = {};
    bool installed_[kCount] = {};
};

std::int64_t now_seconds() { return wall_clock_seconds(); }

std::string clock_left(std::int64_t seconds) {
    if (seconds < 0) seconds = 0;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60));
    return buf;
}

Result cancel_request(Prompter& prompter, const Target& target, proto::Client& daemon, const std::string& request_id) {
    const std::string id = escape_for_display(request_id);
    // A new connection: the kept one may be in the middle of an exchange the signal cut short.
    daemon.disconnect();
    proto::CallResult r = daemon.call(proto::CancelRequest{target.user, request_id}, proto::MessageType::RequestCancelled,
                                      target.timeout_ms);
    std::string text;
    if (!r.answer)
        text = "break-glass request " + id + " could not be cancelled (" + escape_for_display(r.error) +
               "); it expires unless approved";
    else if (const auto* done = std::get_if<proto::RequestCancelled>(&*r.answer))
        text = "break-glass request " + id + " cancelled (record " + escape_for_display(done->record_event_id) +
               "); nothing was granted";
    else
        text = "break-glass request " + id + " not cancelled: " +
               refusal_text(std::get<proto::ErrorAnswer>(*r.answer));
    return refused(prompter, Outcome::Cancelled, std::move(text));
}

// Offline approval at the front-end's prompt (issue 13, item 3). A sudo or
// PAM conversation is one blocking question at a time, so the token is asked
// before the polling wait, not beside it: the request code is shown, then
// "Approval token" is asked; a token is submitted at once (SubmitTokenRequest,
// a connection of its own: the daemon takes one per connection), and after
// every answer the request's state is asked, so an online approval that came
// while the prompt was open is taken then. An empty answer goes on to the
// polling wait (online approvals only). At most kMaxTokenTries refused
// tokens, then the wait. Granted or no longer pending: returns the state to
// act on; nullopt = go on waiting. Ctrl-C at the prompt is the host
// program's (sudo ends; the request stays until it expires or is approved).
constexpr int kMaxTokenTries = 5;
constexpr std::size_t kMaxTokenAnswerBytes = 512;
constexpr const char* kTokenPrompt = "Approval token (Enter alone: wait for an online approval): ";

std::optional<proto::RequestState> ask_state(const Target& target, proto::Client& daemon, const std::string& request_id,
                                             Prompter& prompter) {
    proto::CallResult r =
        daemon.call(proto::WaitRequest{target.user, request_id}, proto::MessageType::RequestState, target.timeout_ms);
    if (!r.answer) return std::nullopt;
    if (const auto* e = std::get_if<proto::ErrorAnswer>(&*r.answer)) {
        prompter.error(refusal_text(*e));
        return std::nullopt;
    }
    return std::get<proto::RequestState>(std::move(*r.answer));
}

// Returns the state once it is no longer pending, else nullopt (wait on).
std::optional<proto::RequestState> offline_approval(Prompter& prompter, const Target& target, proto::Client& daemon,
                                                    proto::RequestState& state) {
    prompter.info("Request code: " + escape_for_display(state.request_code));
    prompter.info("(an approver signs it anywhere with: breakglassctl approve --offline --code CODE --key "
                  "THEIR-KEY-FILE)");
    for (int refused_tokens = 0; refused_tokens < kMaxTokenTries;) {
        std::optional<std::string> answer = prompter.ask(kTokenPrompt, true);
        if (!answer) return std::nullopt;
        std::string token = std::move(*answer);
        while (!token.empty() && (token.back() == ' ' || token.back() == '\r')) token.pop_back();
        if (token.empty()) return std::nullopt;
        if (token.size() > kMaxTokenAnswerBytes || validate_text(token, kMaxTokenAnswerBytes, false)) {
            prompter.error("that is not an approval token (base32 in groups of five); paste it again");
            ++refused_tokens;
            continue;
        }
        proto::Client submit(target.socket_path, target.connect_timeout_ms);
        proto::CallResult r = submit.call(proto::SubmitTokenRequest{target.user, state.request_id, token},
                                          proto::MessageType::TokenAccepted, target.timeout_ms);
        if (!r.answer) {
            prompter.error("the approval token could not be submitted (" + escape_for_display(r.error) + ")");
            ++refused_tokens;
        } else if (const auto* e = std::get_if<proto::ErrorAnswer>(&*r.answer)) {
            prompter.error(refusal_text(*e));
            ++refused_tokens;
        } else {
            const auto& ok = std::get<proto::TokenAccepted>(*r.answer);
            prompter.info("approval token accepted: approved by " + escape_for_display(ok.approver) + " (record " +
                          escape_for_display(ok.record_event_id) + "), " + std::to_string(ok.approvals) + " of " +
                          std::to_string(ok.approvals_needed) + " approval(s)");
        }
        // Granted (by this token or online meanwhile), or ended: done here.
        if (auto now_state = ask_state(target, daemon, state.request_id, prompter)) {
            state = std::move(*now_state);
            if (state.state != "pending") return state;
        }
    }
    return std::nullopt;
}

}  // namespace

std::string waiting_line(const proto::RequestState& s, std::int64_t now) {
    std::string line = "waiting for approval by " + escape_for_display(s.approvers) + " \u2014 request " +
                       escape_for_display(s.request_id) + ", " + clock_left(s.expires_at - now) + " left";
    if (!s.approved_by.empty())
        line += " (approved by " + escape_for_display(s.approved_by) + ", " + std::to_string(s.approvals_needed) +
                " needed)";
    return line + "; Ctrl-C cancels";
}

Result wait_for_approval(Prompter& prompter, const Target& target, proto::Client& daemon, proto::RequestState state) {
    const WaitPacing& pacing = target.pacing;
    // Offline approval first, when the policy has [approver_keys] (the
    // request has a code): a token at the prompt, or Enter to wait here.
    if (!state.request_code.empty()) {
        if (auto ended = offline_approval(prompter, target, daemon, state)) state = std::move(*ended);
    }
    InterruptGuard guard;
    std::string shown_approvals;  // what the last line shown said about approvals and the connection
    std::int64_t shown_at = 0;
    std::int64_t unreachable_since = 0;
    for (;;) {
        const std::int64_t now = now_seconds();
        if (state.state == "granted")
            return Result{Outcome::Granted, state.grant_id, state.grant_expires_at, ""};
        if (state.state != "pending")
            return refused(prompter, Outcome::Denied,
                           "break-glass request " + escape_for_display(state.request_id) + " for gate " +
                               quoted(target.gate) + " " + escape_for_display(state.state) + ": " +
                               escape_for_display(state.message) + "; nothing was granted");
        const std::string approvals = state.approved_by + (unreachable_since != 0 ? "\n" : "");
        if (shown_at == 0 || approvals != shown_approvals || now - shown_at >= pacing.refresh_seconds) {
            std::string line = waiting_line(state, now);
            if (unreachable_since != 0) line += " (breakglassd unreachable, reconnecting)";
            prompter.info(line);
            shown_approvals = approvals;
            shown_at = now;
        }
        if (!guard.interrupted()) ::poll(nullptr, 0, pacing.poll_ms);  // a signal ends the sleep early
        if (guard.interrupted()) return cancel_request(prompter, target, daemon, state.request_id);
        proto::CallResult r = daemon.call(proto::WaitRequest{target.user, state.request_id},
                                          proto::MessageType::RequestState, target.timeout_ms);
        if (guard.interrupted()) return cancel_request(prompter, target, daemon, state.request_id);
        if (!r.answer) {
            // The client connects again at the next call; the request lives in the daemon, not here.
            if (unreachable_since == 0) unreachable_since = now_seconds();
            if (now_seconds() > state.expires_at + pacing.unreachable_grace_seconds)
                return refused(prompter, Outcome::Unavailable,
                               "break-glass request " + escape_for_display(state.request_id) +
                                   " has expired and breakglassd has not answered since " +
                                   std::to_string(now_seconds() - unreachable_since) + " s (" +
                                   escape_for_display(r.error) + "); nothing was granted");
            continue;
        }
        unreachable_since = 0;
        if (const auto* e = std::get_if<proto::ErrorAnswer>(&*r.answer))
            return refused(prompter, outcome_for(e->code), refusal_text(*e));
        state = std::get<proto::RequestState>(std::move(*r.answer));
    }
}

SessionResult record_session(const std::string& socket_path, const proto::SessionRequest& request, int timeout_ms) {
    proto::Client daemon(socket_path);
    return record_session(daemon, request, timeout_ms);
}

SessionResult record_session(proto::Client& daemon, const proto::SessionRequest& request, int timeout_ms) {
    SessionResult out;
    Answer a = ask_daemon(daemon, request, proto::MessageType::SessionRecorded, timeout_ms);
    if (!a.message) {
        out.failure = a.failure.outcome;
        out.message = std::move(a.failure.message);
        return out;
    }
    const auto& recorded = std::get<proto::SessionRecorded>(*a.message);
    out.recorded = true;
    out.record_event_id = recorded.record_event_id;
    out.grant_id = recorded.grant_id;
    if (out.grant_id.empty())
        out.message = "no active break-glass grant for user " + quoted(request.user) + " on gate " + quoted(request.gate);
    return out;
}

}  // namespace bg::flow
