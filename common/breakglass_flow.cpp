// SPDX-License-Identifier: ISC
#include "common/breakglass_flow.hpp"

#include <cstring>
#include <utility>

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

    // A gate that needs approvals: the daemon recorded the request and waits
    // for them. This front-end does not wait: the grant, once approved, is
    // taken by the next attempt's fast path.
    if (const auto* pending = std::get_if<proto::RequestState>(&*a.message))
        return refused(prompter, Outcome::Denied,
                       "break-glass request " + escape_for_display(pending->request_id) + " for gate " +
                           quoted(target.gate) + " waits for " + std::to_string(pending->approvals_needed) +
                           " approval(s) by " + escape_for_display(pending->approvers) +
                           "; nothing is granted yet: once it is approved, run this again");
    const auto& granted = std::get<proto::Granted>(*a.message);
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
