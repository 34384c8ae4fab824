// SPDX-License-Identifier: ISC
// pam_breakglass.so: the PAM front-end of breakglass (docs/ARCHITECTURE.md,
// "Processes and trust boundaries": a thin front-end). It parses its arguments, talks to the
// user through the application's conversation function, sends one request to
// breakglassd and maps the answer to a PAM return code. It keeps no state,
// writes no files, forks nothing, and erases the one-time code as soon as it
// is sent. No exception leaves an entry point. It installs signal handlers
// only while it waits for a gate's approvals (SIGINT, SIGTERM, SIGHUP,
// SIGQUIT: Ctrl-C cancels the request, common/breakglass_flow.hpp) and puts
// the application's back before it returns.
//
// The actor is the human who asks, never the account being entered
// (docs/ARCHITECTURE.md; man/pam_breakglass.8, "THE ACTOR"). In a set-user-ID
// program (real uid ≠ effective uid: su, sudo) it is the invoking user, the
// real uid, which PAM_RUSER must not contradict; in a program running as
// itself (sshd, login, PostgreSQL) it is PAM_USER, which the stack has
// authenticated before this module (stacked `required` after it). Every
// request names the actor as its user and PAM_USER as its target.
//
// Return codes (man/pam_breakglass.8 has the same table):
//   auth     PAM_SUCCESS grant active or granted · PAM_AUTH_ERR wrong/replayed
//            factor, rate limited, answer refused as bad input · PAM_PERM_DENIED
//            policy says no, PAM_RUSER contradicts the real uid ·
//            PAM_AUTHINFO_UNAVAIL daemon cannot decide, the invoking user cannot
//            be looked up · PAM_CONV_ERR conversation failed, or the wait
//            for approvals was interrupted (Ctrl-C: request cancelled) ·
//            PAM_USER_UNKNOWN no usable user (PAM_USER or the invoking user)
//   account  PAM_SUCCESS grant active · PAM_PERM_DENIED none · PAM_AUTHINFO_UNAVAIL
//   session  open: PAM_SUCCESS recorded under an active grant, else PAM_SESSION_ERR;
//            close: PAM_SUCCESS (a failure to record is logged, not returned)
//   setcred  PAM_SUCCESS · chauthtok PAM_SERVICE_ERR
//   any      PAM_SERVICE_ERR bad module arguments · PAM_SYSTEM_ERR internal error
// Never PAM_IGNORE.
#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <syslog.h>
#include <unistd.h>

#include "common/breakglass_flow.hpp"
#include "common/nss.hpp"
#include "common/text.hpp"
#include "pam_module/pam_args.hpp"

#define BG_PAM_EXPORT extern "C" __attribute__((visibility("default")))

namespace bg::pam {
namespace {

// Linux-PAM's PAM_MAX_MSG_SIZE: longer messages may be cut or refused by
// conversation functions, so cut them ourselves on a character boundary.
constexpr std::size_t kMaxMessageBytes = 512 - 1;

// A lookup of a PAM item that failed: not the same as an item the application
// did not set. The entry point refuses (guarded(): PAM_SYSTEM_ERR) instead of
// breaking the glass, or recording a session, on facts it could not read
// (issue 16, fault injection: a failed PAM_TTY lookup gave a grant whose
// record named no terminal).
struct ItemUnavailable : std::runtime_error {
    ItemUnavailable(int type, int rc)
        : std::runtime_error("cannot read PAM item " + std::to_string(type) + " (pam_get_item: " +
                             std::to_string(rc) + ")") {}
};

// The string item `type`, "" when the application set none; throws ItemUnavailable.
std::string item(pam_handle_t* pamh, int type) {
    const void* value = nullptr;
    const int rc = pam_get_item(pamh, type, &value);
    if (rc != PAM_SUCCESS) throw ItemUnavailable(type, rc);
    return value == nullptr ? std::string() : static_cast<const char*>(value);
}

// Frees a conversation's responses, erasing each answer first (one may be the code).
void free_responses(pam_response* responses, int count) {
    if (responses == nullptr) return;
    for (int i = 0; i < count; ++i) {
        if (responses[i].resp == nullptr) continue;
        ::explicit_bzero(responses[i].resp, std::strlen(responses[i].resp));
        std::free(responses[i].resp);
    }
    std::free(responses);
}

// The application's conversation function, one message at a time.
class PamPrompter final : public flow::Prompter {
public:
    explicit PamPrompter(pam_handle_t* pamh) : pamh_(pamh) {}

    std::optional<std::string> ask(std::string_view prompt, bool echo) override {
        return converse(echo ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF, prompt);
    }
    void info(std::string_view text) override { (void)converse(PAM_TEXT_INFO, text); }
    void error(std::string_view text) override { (void)converse(PAM_ERROR_MSG, text); }

private:
    std::optional<std::string> converse(int style, std::string_view text) {
        const void* item_value = nullptr;
        if (pam_get_item(pamh_, PAM_CONV, &item_value) != PAM_SUCCESS || item_value == nullptr) return std::nullopt;
        const auto* conv = static_cast<const pam_conv*>(item_value);
        if (conv->conv == nullptr) return std::nullopt;

        const std::string shown = flow::fit_context_text(text, kMaxMessageBytes);
        const pam_message message{style, shown.c_str()};
        const pam_message* messages[] = {&message};
        pam_response* responses = nullptr;
        const int rc = conv->conv(1, messages, &responses, conv->appdata_ptr);
        const bool wants_answer = style == PAM_PROMPT_ECHO_ON || style == PAM_PROMPT_ECHO_OFF;
        // One named result returned on every path (NRVO): the answer, which may be the
        // one-time code, is never moved out of a small-string buffer left unwiped.
        std::optional<std::string> answer;
        if (rc == PAM_SUCCESS && wants_answer && responses != nullptr && responses[0].resp != nullptr)
            answer.emplace(responses[0].resp);
        else if (rc == PAM_SUCCESS && !wants_answer)
            answer.emplace();
        free_responses(responses, 1);
        return answer;  // nullopt: the conversation failed or gave a NULL response
    }

    pam_handle_t* pamh_;
};

Result<ModuleArgs> arguments(pam_handle_t* pamh, int argc, const char** argv) {
    auto args = parse_module_args(std::span<const char* const>(argv, argc < 0 ? 0u : static_cast<std::size_t>(argc)));
    if (!args) pam_syslog(pamh, LOG_ERR, "bad module arguments: %s", args.error().message.c_str());
    return args;
}

// The user being authenticated, or the PAM code to return.
struct User {
    std::string name;
    int failure = PAM_SUCCESS;
};
User user_of(pam_handle_t* pamh) {
    const char* name = nullptr;
    const int rc = pam_get_user(pamh, &name, nullptr);
    if (rc != PAM_SUCCESS || name == nullptr) {
        pam_syslog(pamh, LOG_ERR, "cannot determine the user: %s", pam_strerror(pamh, rc));
        return {"", rc == PAM_CONV_ERR || rc == PAM_CONV_AGAIN ? PAM_CONV_ERR : PAM_USER_UNKNOWN};
    }
    if (!is_valid_name(name, kMaxUserBytes)) {
        pam_syslog(pamh, LOG_NOTICE, "user name '%s' is not valid", escape_for_display(name).c_str());
        return {"", PAM_USER_UNKNOWN};
    }
    return {name, PAM_SUCCESS};
}

// Who breaks the glass (the actor) and which account they enter (the
// target, PAM_USER), or the PAM code to return and why.
struct Parties {
    std::string actor;
    std::string target;
    int failure = PAM_SUCCESS;
    std::string why;  // when failure: said to the user and logged
};
Parties parties_of(pam_handle_t* pamh) {
    const User user = user_of(pamh);
    if (user.failure != PAM_SUCCESS) return {"", "", user.failure, ""};
    const uid_t real_uid = ::getuid();
    // A program running as itself (sshd, login, cron as root; PostgreSQL as
    // postgres): the user its stack has just authenticated. The daemon lets
    // only root and trusted_frontends name someone else.
    if (real_uid == ::geteuid()) return {user.name, user.name, PAM_SUCCESS, ""};
    // A set-user-ID program (su, sudo): whoever ran it, as the kernel says.
    // PAM_USER is only the account they ask to enter.
    const nss::Lookup<nss::User> invoker = nss::user_by_uid(real_uid);
    const std::string uid_text = "uid " + std::to_string(real_uid);
    if (invoker.failed())
        return {"", "", PAM_AUTHINFO_UNAVAIL,
                "break-glass refused: cannot look up the invoking user (" + uid_text + "): " +
                    escape_for_display(invoker.error)};
    if (invoker.not_found() || !is_valid_name(invoker.value.name, kMaxUserBytes))
        return {"", "", PAM_USER_UNKNOWN,
                "break-glass refused: the invoking user (" + uid_text + ") has no usable user name"};
    // The application's word for who invoked it must agree with the kernel's.
    const std::string ruser = item(pamh, PAM_RUSER);
    if (!ruser.empty() && ruser != invoker.value.name)
        return {"", "", PAM_PERM_DENIED,
                "break-glass refused: the application says the request comes from '" + escape_for_display(ruser) +
                    "' (PAM_RUSER), but it runs for '" + invoker.value.name + "' (" + uid_text + ")"};
    return {invoker.value.name, user.name, PAM_SUCCESS, ""};
}

// A failure of parties_of, logged and (when it has a reason) shown.
int refuse_parties(pam_handle_t* pamh, const char* what, const Parties& p) {
    if (!p.why.empty()) {
        pam_syslog(pamh, p.failure == PAM_AUTHINFO_UNAVAIL ? LOG_ERR : LOG_NOTICE, "%s: %s", what, p.why.c_str());
        PamPrompter(pamh).error(p.why);
    }
    return p.failure;
}

// The requester's terminal, and where from when remote, for the record.
std::string source_of(pam_handle_t* pamh) {
    const std::string tty = item(pamh, PAM_TTY);
    const std::string rhost = item(pamh, PAM_RHOST);
    if (rhost.empty()) return tty;
    return tty.empty() ? "from " + rhost : tty + " from " + rhost;
}

flow::Target target_of(pam_handle_t* pamh, const ModuleArgs& args, const Parties& parties) {
    flow::Target t;
    t.user = parties.actor;
    t.account = parties.target;
    t.gate = args.gate;
    t.tty = source_of(pamh);
    t.command = "pam:" + item(pamh, PAM_SERVICE);
    t.pam_service = item(pamh, PAM_SERVICE);  // the daemon holds it against the gate's pam_service
    t.socket_path = args.socket_path;
    return t;
}

int auth_code(flow::Outcome o) {
    switch (o) {
        case flow::Outcome::Granted:
        case flow::Outcome::AlreadyActive: return PAM_SUCCESS;
        case flow::Outcome::AuthFailed:
        case flow::Outcome::BadInput: return PAM_AUTH_ERR;
        case flow::Outcome::Denied: return PAM_PERM_DENIED;
        case flow::Outcome::Unavailable: return PAM_AUTHINFO_UNAVAIL;
        case flow::Outcome::ConversationFailed:
        case flow::Outcome::Cancelled: return PAM_CONV_ERR;
    }
    return PAM_SYSTEM_ERR;
}

void log_outcome(pam_handle_t* pamh, const ModuleArgs& args, const Parties& parties, const char* what,
                 const flow::Result& r) {
    const bool refused = r.outcome != flow::Outcome::Granted && r.outcome != flow::Outcome::AlreadyActive;
    if (!refused && !args.debug && r.outcome == flow::Outcome::AlreadyActive) return;  // the fast path stays quiet
    const int priority = r.outcome == flow::Outcome::Unavailable ? LOG_ERR : refused ? LOG_NOTICE : LOG_INFO;
    pam_syslog(pamh, priority, "%s: actor '%s' target '%s' gate '%s': %s%s%s%s", what, parties.actor.c_str(),
               parties.target.c_str(), args.gate.c_str(), std::string(flow::outcome_name(r.outcome)).c_str(),
               r.event_id.empty() ? "" : " ", r.event_id.c_str(), r.message.empty() ? "" : (" — " + r.message).c_str());
}

proto::SessionRequest session_request(pam_handle_t* pamh, const ModuleArgs& args, const Parties& parties,
                                      const char* event) {
    proto::SessionRequest s;
    s.user = parties.actor;
    s.target = parties.target;
    s.gate = args.gate;
    s.event = event;
    s.service = flow::fit_context_text(item(pamh, PAM_SERVICE), kMaxGateBytes);
    s.tty = flow::fit_context_text(item(pamh, PAM_TTY), kMaxTtyBytes);
    s.remote_host = flow::fit_context_text(item(pamh, PAM_RHOST), kMaxTtyBytes);
    s.pid = static_cast<std::int64_t>(::getpid());
    return s;
}

int authenticate(pam_handle_t* pamh, int argc, const char** argv) {
    auto args = arguments(pamh, argc, argv);
    if (!args) return PAM_SERVICE_ERR;
    const Parties parties = parties_of(pamh);
    if (parties.failure != PAM_SUCCESS) return refuse_parties(pamh, "auth", parties);
    PamPrompter prompter(pamh);
    const flow::Result r = flow::check_or_break_glass(prompter, target_of(pamh, *args, parties));
    log_outcome(pamh, *args, parties, "auth", r);
    return auth_code(r.outcome);
}

int account(pam_handle_t* pamh, int argc, const char** argv) {
    auto args = arguments(pamh, argc, argv);
    if (!args) return PAM_SERVICE_ERR;
    const Parties parties = parties_of(pamh);
    if (parties.failure != PAM_SUCCESS) return refuse_parties(pamh, "account", parties);
    const flow::Result r = flow::check_active(target_of(pamh, *args, parties));
    log_outcome(pamh, *args, parties, "account", r);
    switch (r.outcome) {
        case flow::Outcome::AlreadyActive: return PAM_SUCCESS;
        case flow::Outcome::Unavailable:
            PamPrompter(pamh).error(r.message);
            return PAM_AUTHINFO_UNAVAIL;
        default:
            PamPrompter(pamh).error("access refused: " + r.message);
            return PAM_PERM_DENIED;
    }
}

int open_session(pam_handle_t* pamh, int argc, const char** argv) {
    auto args = arguments(pamh, argc, argv);
    if (!args) return PAM_SERVICE_ERR;
    const Parties parties = parties_of(pamh);
    if (parties.failure != PAM_SUCCESS) {
        (void)refuse_parties(pamh, "session_open", parties);
        return PAM_SESSION_ERR;
    }
    const flow::SessionResult r =
        flow::record_session(args->socket_path, session_request(pamh, *args, parties, "session_open"));
    if (r.recorded && !r.grant_id.empty()) {
        if (args->debug)
            pam_syslog(pamh, LOG_DEBUG, "session_open: actor '%s' target '%s' gate '%s': recorded %s under %s",
                       parties.actor.c_str(), parties.target.c_str(), args->gate.c_str(), r.record_event_id.c_str(),
                       r.grant_id.c_str());
        return PAM_SUCCESS;
    }
    // Fail closed: a session through a break-glass gate runs only under an active grant
    // and only once the daemon has recorded it.
    pam_syslog(pamh, r.recorded ? LOG_NOTICE : LOG_ERR, "session_open: actor '%s' target '%s' gate '%s': refused: %s",
               parties.actor.c_str(), parties.target.c_str(), args->gate.c_str(), r.message.c_str());
    PamPrompter(pamh).error("session refused: " + r.message);
    return PAM_SESSION_ERR;
}

int close_session(pam_handle_t* pamh, int argc, const char** argv) {
    auto args = arguments(pamh, argc, argv);
    if (!args) return PAM_SERVICE_ERR;
    Parties parties;
    try {
        parties = parties_of(pamh);
    } catch (const ItemUnavailable& e) {  // the session is over anyway: say why it is not recorded
        pam_syslog(pamh, LOG_ERR, "session_close: not recorded: %s", e.what());
        return PAM_SUCCESS;
    }
    if (parties.failure != PAM_SUCCESS) {  // nothing to record against; the session is over anyway
        if (!parties.why.empty()) pam_syslog(pamh, LOG_NOTICE, "session_close: %s", parties.why.c_str());
        return PAM_SUCCESS;
    }
    proto::SessionRequest request;
    try {
        request = session_request(pamh, *args, parties, "session_close");
    } catch (const ItemUnavailable& e) {  // the session is over anyway: say why it is not recorded
        pam_syslog(pamh, LOG_ERR, "session_close: actor '%s' target '%s' gate '%s': not recorded: %s",
                   parties.actor.c_str(), parties.target.c_str(), args->gate.c_str(), e.what());
        return PAM_SUCCESS;
    }
    const flow::SessionResult r = flow::record_session(args->socket_path, request);
    // The session has ended whatever we return, and a failure here would only stop
    // the modules after this one from cleaning up: log it, do not return it.
    if (!r.recorded)
        pam_syslog(pamh, LOG_ERR, "session_close: actor '%s' target '%s' gate '%s': not recorded: %s",
                   parties.actor.c_str(), parties.target.c_str(), args->gate.c_str(), r.message.c_str());
    else if (args->debug)
        pam_syslog(pamh, LOG_DEBUG, "session_close: actor '%s' target '%s' gate '%s': recorded %s",
                   parties.actor.c_str(), parties.target.c_str(), args->gate.c_str(), r.record_event_id.c_str());
    return PAM_SUCCESS;
}

template <typename F>
int guarded(pam_handle_t* pamh, const char* entry, F&& body) noexcept {
    try {
        return body();
    } catch (const std::exception& e) {
        pam_syslog(pamh, LOG_CRIT, "%s: %s; refusing", entry, e.what());
        return PAM_SYSTEM_ERR;
    } catch (...) {
        pam_syslog(pamh, LOG_CRIT, "%s: internal error; refusing", entry);
        return PAM_SYSTEM_ERR;
    }
}

}  // namespace
}  // namespace bg::pam

BG_PAM_EXPORT int pam_sm_authenticate(pam_handle_t* pamh, int /*flags*/, int argc, const char** argv) {
    return bg::pam::guarded(pamh, "auth", [&] { return bg::pam::authenticate(pamh, argc, argv); });
}

// The module holds no credentials: the grant lives in breakglassd, and what it
// unlocks is the gate's business. Success keeps stacks that call pam_setcred
// after a successful auth working; arguments are still checked.
BG_PAM_EXPORT int pam_sm_setcred(pam_handle_t* pamh, int /*flags*/, int argc, const char** argv) {
    return bg::pam::guarded(pamh, "setcred", [&] {
        return bg::pam::arguments(pamh, argc, argv) ? PAM_SUCCESS : PAM_SERVICE_ERR;
    });
}

BG_PAM_EXPORT int pam_sm_acct_mgmt(pam_handle_t* pamh, int /*flags*/, int argc, const char** argv) {
    return bg::pam::guarded(pamh, "account", [&] { return bg::pam::account(pamh, argc, argv); });
}

BG_PAM_EXPORT int pam_sm_open_session(pam_handle_t* pamh, int /*flags*/, int argc, const char** argv) {
    return bg::pam::guarded(pamh, "session_open", [&] { return bg::pam::open_session(pamh, argc, argv); });
}

BG_PAM_EXPORT int pam_sm_close_session(pam_handle_t* pamh, int /*flags*/, int argc, const char** argv) {
    return bg::pam::guarded(pamh, "session_close", [&] { return bg::pam::close_session(pamh, argc, argv); });
}

// There is no password to change: a `password` line naming this module is a
// configuration error, said so loudly (never PAM_IGNORE).
BG_PAM_EXPORT int pam_sm_chauthtok(pam_handle_t* pamh, int /*flags*/, int /*argc*/, const char** /*argv*/) {
    return bg::pam::guarded(pamh, "chauthtok", [&] {
        pam_syslog(pamh, LOG_ERR, "pam_breakglass does not change passwords; remove it from the password stack");
        return PAM_SERVICE_ERR;
    });
}
