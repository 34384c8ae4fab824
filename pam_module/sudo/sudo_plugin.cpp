// SPDX-License-Identifier: ISC
// breakglass_sudo.so: the sudo front-end of breakglass (docs/ARCHITECTURE.md,
// "Two front-ends"). sudo never tells PAM the run-as group, so `sudo -g GATEGROUP`
// is gated here: an approval plugin that sees runas_egid/runas_gid (and the
// run-as user) in command_info, and an audit plugin that records each gated
// command and its exit status. Like pam_breakglass.so it is thin: it parses
// its options, converses through sudo's conversation function, sends its
// requests and maps the answers. It writes no files and forks nothing. No
// exception leaves an entry point (catch (...) ⇒ refuse).
//
// Signals: while check() runs, sudo has its own handler on SIGINT, SIGTERM,
// SIGHUP, SIGQUIT (and others), which only notes the signal in sudo's signal
// pipe, read when the command runs: Ctrl-C would do nothing at all during a
// wait for approvals. So while the flow waits for a gate's approvals it puts
// its own handler on those four, which cancels the request (CancelRequest, a
// request_cancelled record), and gives sudo its handlers back before
// check() returns (common/breakglass_flow.hpp, wait_for_approval).
//
// One connection per sudo run: sudo loads the file once for both Plugin
// lines, so the two halves share one connection to breakglassd (Run below).
// The approval half's check is a CommandRequest, which under an active grant
// also records the command, durably, in the same exchange (log before
// acting); after a new grant it is sent again. The audit half sends only the
// session_close, on the same connection when it is still fresh
// (proto::Client reconnects after a long command). The descriptor is
// close-on-exec, so the command never inherits it.
//
// Which commands are gated is decided from the plugin options alone, so a
// down daemon fails gated commands closed and leaves every other sudo
// command alone; the daemon re-checks the mapping against its policy.
//
// Bad plugin options (a typo in sudo.conf): open() still succeeds, and says
// on every sudo invocation what is wrong; check() then approves only
// commands run as root:root (uid 0, gid 0) and refuses every other run-as
// user/group. The gated groups are unknown, so they stay closed, but the
// administrator keeps `sudo` (as root) to fix sudo.conf. (Had open() failed,
// sudo would refuse every command, including the one that fixes the file.)
//
// Return codes (man/breakglass_sudo.8 has the same table):
//   approval check  1 ungated, or gated with a grant active or just granted
//                   0 gated and refused (errstr says why), or misconfigured and not root:root
//                  -1 internal error (refused)
//   audit accept    1 ungated, or gated and recorded by the approval half; 0 a gated
//                   command the approval half of this file, with the same gates and
//                   socket, did not record (sudo does not run it)
#include <sudo_plugin.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>
#include <variant>
#include <vector>

#include "common/breakglass_flow.hpp"
#include "common/nss.hpp"
#include "common/text.hpp"
#include "pam_module/sudo/sudo_args.hpp"

#define BG_SUDO_EXPORT __attribute__((visibility("default")))

namespace bg::sudo {
namespace {

constexpr const char* kName = "breakglass_sudo";

// What sudo tells every plugin in open(): who runs sudo, from where, and how to talk back.
struct Host {
    sudo_conv_t conversation = nullptr;
    sudo_printf_t print = nullptr;
    std::string user;  // the invoking user (user_info "user=")
    std::string tty;   // user_info "tty=", "" without one
    std::string cwd;   // user_info "cwd=": where sudo was run
    std::int64_t pid = 0;
};

struct Config {
    std::optional<PluginArgs> args;  // nullopt: the options were bad
    std::string error;               // why, when they were
};

// Whether two halves' options decide and record alike (debug aside).
bool same_decisions(const Config& a, const Config& b) {
    return a.args && b.args && a.args->gate_by_group == b.args->gate_by_group &&
           a.args->gate_by_user == b.args->gate_by_user && a.args->socket_path == b.args->socket_path;
}

Host host_of(sudo_conv_t conversation, sudo_printf_t print, char* const user_info[]) {
    Host h;
    h.conversation = conversation;
    h.print = print;
    h.user = std::string(find_entry(user_info, "user").value_or(""));
    h.tty = std::string(find_entry(user_info, "tty").value_or(""));
    h.cwd = std::string(find_entry(user_info, "cwd").value_or(""));
    if (auto pid = parse_id(find_entry(user_info, "pid").value_or(""))) h.pid = static_cast<std::int64_t>(*pid);
    return h;
}

Config config_of(char* const plugin_options[]) {
    std::size_t count = 0;
    while (plugin_options != nullptr && plugin_options[count] != nullptr) ++count;
    auto parsed = parse_plugin_args(std::span<const char* const>(plugin_options, count));
    if (!parsed) return Config{std::nullopt, parsed.error().message};
    return Config{std::move(*parsed), ""};
}

void say(const Host& h, int type, const std::string& text) {
    if (h.print != nullptr) h.print(type, "%s: %s\n", kName, text.c_str());
}

std::string quoted(std::string_view text) { return "'" + escape_for_display(text) + "'"; }

// sudo's conversation function, one message at a time. Messages get the newline
// sudo does not add; answers are erased before sudo's buffer is freed.
class SudoPrompter final : public flow::Prompter {
public:
    explicit SudoPrompter(sudo_conv_t conversation) : conversation_(conversation) {}

    std::optional<std::string> ask(std::string_view prompt, bool echo) override {
        return converse(echo ? SUDO_CONV_PROMPT_ECHO_ON : SUDO_CONV_PROMPT_ECHO_OFF, std::string(prompt));
    }
    void info(std::string_view text) override { (void)converse(SUDO_CONV_INFO_MSG, std::string(text) + "\n"); }
    void error(std::string_view text) override { (void)converse(SUDO_CONV_ERROR_MSG, std::string(text) + "\n"); }

private:
    std::optional<std::string> converse(int type, const std::string& text) {
        if (conversation_ == nullptr) return std::nullopt;
        const sudo_conv_message message{type, 0, text.c_str()};
        sudo_conv_reply reply{nullptr};
        const int rc = conversation_(1, &message, &reply, nullptr);
        const bool wants_answer = type == SUDO_CONV_PROMPT_ECHO_ON || type == SUDO_CONV_PROMPT_ECHO_OFF;
        std::optional<std::string> answer;  // one named result (NRVO): the code is never left in a moved-from buffer
        if (rc == 0 && wants_answer && reply.reply != nullptr)
            answer.emplace(reply.reply);
        else if (rc == 0 && !wants_answer)
            answer.emplace();
        if (reply.reply != nullptr) {
            ::explicit_bzero(reply.reply, std::strlen(reply.reply));
            std::free(reply.reply);
        }
        return answer;
    }

    sudo_conv_t conversation_;
};

// ---- run-as credentials from command_info

struct RunAs {
    unsigned int uid = 0;
    std::vector<unsigned int> gids;  // the primary (effective) group first, then runas_groups
};

// nullopt: command_info does not say who the command runs as.
std::optional<RunAs> runas_of(char* const command_info[]) {
    const auto uid = parse_id(find_entry(command_info, "runas_euid").value_or(find_entry(command_info, "runas_uid").value_or("")));
    const auto gid = parse_id(find_entry(command_info, "runas_egid").value_or(find_entry(command_info, "runas_gid").value_or("")));
    if (!uid || !gid) return std::nullopt;
    RunAs r{*uid, {*gid}};
    if (auto real_gid = parse_id(find_entry(command_info, "runas_gid").value_or("")); real_gid && *real_gid != *gid)
        r.gids.push_back(*real_gid);
    if (auto list = find_entry(command_info, "runas_groups")) {
        const auto groups = parse_id_list(*list);
        if (!groups) return std::nullopt;
        r.gids.insert(r.gids.end(), groups->begin(), groups->end());
    }
    return r;
}

struct Ungated {};
struct Refuse {
    std::string why;
};
struct Gated {
    GatedBy by;
    std::string runas;  // "USER:GROUP" (or #ID where a name is unknown), for the record
};
using Decision = std::variant<Ungated, Gated, Refuse>;

// "USER:GROUP" of the command's run-as user and primary group, reusing the
// primary group's name when the gate check already looked it up.
std::string runas_text(const RunAs& runas, const std::optional<std::string>& primary_group) {
    const nss::Lookup<nss::User> u = nss::user_by_uid(static_cast<uid_t>(runas.uid));
    std::string group = primary_group.value_or("");
    if (!primary_group) {
        const nss::Lookup<nss::Group> g = nss::group_by_gid(static_cast<gid_t>(runas.gids.front()));
        group = g.found() ? g.value.name : "#" + std::to_string(runas.gids.front());
    }
    return (u.found() ? u.value.name : "#" + std::to_string(runas.uid)) + ":" + group;
}

// Is this command gated? root (uid/gid 0) is never a gate target, so sudo's
// default run-as root:root costs no name lookup at all.
Decision classify(const PluginArgs& args, char* const command_info[]) {
    const auto runas = runas_of(command_info);
    if (!runas) return Refuse{"sudo did not say which user and group the command runs as"};
    std::vector<std::string> groups;
    std::optional<std::string> primary_group;  // its name (or #GID), when looked up
    if (!args.gate_by_group.empty()) {
        for (std::size_t i = 0; i < runas->gids.size(); ++i) {
            const unsigned int gid = runas->gids[i];
            if (gid == 0) continue;
            nss::Lookup<nss::Group> g = nss::group_by_gid(static_cast<gid_t>(gid));
            if (g.failed())
                return Refuse{"cannot look up group " + std::to_string(gid) + " to see whether it is a break-glass gate (" +
                              escape_for_display(g.error) + ")"};
            if (i == 0) primary_group = g.found() ? g.value.name : "#" + std::to_string(gid);
            if (g.found()) groups.push_back(std::move(g.value.name));
        }
    }
    std::string user;
    if (!args.gate_by_user.empty() && runas->uid != 0) {
        nss::Lookup<nss::User> u = nss::user_by_uid(static_cast<uid_t>(runas->uid));
        if (u.failed())
            return Refuse{"cannot look up user " + std::to_string(runas->uid) + " to see whether it is a break-glass gate (" +
                          escape_for_display(u.error) + ")"};
        if (u.found()) user = std::move(u.value.name);
    }
    if (auto gated = gate_for(args, groups, user)) return Gated{std::move(*gated), runas_text(*runas, primary_group)};
    return Ungated{};
}

bool runs_as_root(char* const command_info[]) {
    const auto runas = runas_of(command_info);
    return runas && runas->uid == 0 && runas->gids.front() == 0;
}

std::string refusal_for(flow::Outcome o, const std::string& gate) {
    switch (o) {
        case flow::Outcome::AuthFailed: return "break-glass for gate " + quoted(gate) + " refused: the one-time code was not accepted";
        case flow::Outcome::Denied: return "break-glass for gate " + quoted(gate) + " refused by policy";
        case flow::Outcome::Unavailable:
            return "breakglassd is not reachable or cannot decide; gated commands are refused (gate " + quoted(gate) + ")";
        case flow::Outcome::ConversationFailed: return "break-glass for gate " + quoted(gate) + " cancelled: no answer";
        case flow::Outcome::Cancelled:
            return "break-glass for gate " + quoted(gate) + " cancelled while waiting for approval";
        case flow::Outcome::BadInput: return "break-glass for gate " + quoted(gate) + " refused: an answer was not valid";
        case flow::Outcome::Granted:
        case flow::Outcome::AlreadyActive: break;
    }
    return "break-glass for gate " + quoted(gate) + " refused";
}

void log_line(int priority, const std::string& text) {
    ::syslog(LOG_AUTHPRIV | priority, "%s: %s", kName, text.c_str());
}

// ---- one sudo run

// What the two halves share in one sudo run. sudo loads this file once for
// both Plugin lines, so the approval half's connection and what it recorded
// are the audit half's too (a copy of the file under another path would have
// its own: the audit half then refuses gated commands, see audit_accept).
struct Run {
    std::optional<proto::Client> daemon;  // the run's one connection to breakglassd
    bool checked = false;                  // the approval half decided about this run's command
    Config checked_with;                   // ... with these options
    // Set once the gated command is recorded: its session_close, sent by the
    // audit half on `daemon` when the command has ended.
    std::optional<proto::SessionRequest> close;
    std::string grant_id;  // the grant the command was recorded under
} run;

proto::Client& daemon_at(const std::string& socket_path) {
    if (!run.daemon || run.daemon->socket_path() != socket_path) run.daemon.emplace(socket_path);
    return *run.daemon;
}

// ---- approval plugin

struct Approval {
    Host host;
    Config config;
    bool noninteractive = false;  // sudo -n (settings "noninteractive=true"): no questions may be asked
    std::string errstr;  // outlives check(): sudo prints it after we return
} approval;

int approval_open(unsigned int version, sudo_conv_t conversation, sudo_printf_t print, char* const settings[],
                  char* const user_info[], char* const plugin_options[], const char** errstr) {
    approval = Approval{};
    approval.host = host_of(conversation, print, user_info);
    approval.noninteractive = find_entry(settings, "noninteractive").value_or("") == "true";
    if (SUDO_API_VERSION_GET_MAJOR(version) != SUDO_API_VERSION_MAJOR) {
        approval.errstr = "incompatible sudo plugin API " + std::to_string(SUDO_API_VERSION_GET_MAJOR(version));
        *errstr = approval.errstr.c_str();
        return -1;
    }
    approval.config = config_of(plugin_options);
    if (!approval.config.args) {
        const std::string text = "bad options in sudo.conf: " + approval.config.error +
                                 "; until that is fixed only commands run as root:root are allowed";
        say(approval.host, SUDO_CONV_ERROR_MSG, text);
        log_line(LOG_ERR, text);
    }
    return 1;
}

// The command record: argv, where and as whom it runs, the tty and sudo's pid.
proto::CommandRequest command_request(const Host& host, const Gated& gated, char* const command_info[],
                                      char* const run_argv[]) {
    proto::CommandRequest c;
    c.user = host.user;
    c.gate = gated.by.gate;
    c.service = "sudo";
    c.tty = flow::fit_context_text(host.tty, kMaxTtyBytes);
    c.pid = host.pid;
    c.command = command_line(run_argv, kMaxCommandBytes);
    // command_info has cwd= only when the command runs elsewhere (-D, runcwd).
    const std::string cwd(find_entry(command_info, "cwd").value_or(host.cwd));
    c.detail = flow::fit_context_text("cwd=" + cwd + " runas=" + gated.runas, kMaxCommandBytes);
    // What made it gated: the daemon holds it against the gate's mapping in the policy.
    c.runas_group = gated.by.runas_group;
    c.runas_user = gated.by.runas_user;
    return c;
}

// The command is recorded: what the audit half sends when it has ended.
void remember_close(const proto::CommandRequest& c, const std::string& grant_id) {
    run.grant_id = grant_id;
    proto::SessionRequest s;
    s.user = c.user;
    s.gate = c.gate;
    s.event = "session_close";
    s.service = c.service;
    s.tty = c.tty;
    s.pid = c.pid;
    run.close = std::move(s);
}

// With systemd, breakglassd moves this sudo process into a scope of the grant
// when it records the command (breakglassd(8), "Session scopes"). sudo forks
// the command only after this returns: waiting here until the move is done
// means nothing the command starts (a double fork in its first instant
// included) is born outside the scope. The daemon names the scope in its
// answer ("" when it makes none: nothing is waited for); a scope that systemd
// does not make in time costs at most kScopeWait.
constexpr auto kScopeWait = std::chrono::milliseconds(250);
bool in_scope(const std::string& unit) {
    std::ifstream in("/proc/self/cgroup");
    std::stringstream text;
    text << in.rdbuf();
    return text.str().find("/" + unit) != std::string::npos;
}
void wait_for_scope(const std::string& unit) {
    if (unit.empty()) return;
    const auto until = std::chrono::steady_clock::now() + kScopeWait;
    while (!in_scope(unit) && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

// sudo -n: a break-glass needs questions, which -n forbids, so a gated command
// runs only under an active grant (the check, which records it) and is
// otherwise refused at once, saying how to get one.
template <typename RefuseWith>
int check_noninteractive(const PluginArgs& args, const flow::Target& target, const proto::CommandRequest& command,
                         const RefuseWith& refuse) {
    const flow::Result r = flow::check_active(target, daemon_at(args.socket_path), &command);
    const std::string summary = "user " + quoted(target.user) + " gate " + quoted(target.gate) + " (sudo -n): " +
                                std::string(flow::outcome_name(r.outcome)) +
                                (r.event_id.empty() ? "" : " " + r.event_id);
    if (r.outcome == flow::Outcome::AlreadyActive) {
        remember_close(command, r.event_id);
        wait_for_scope(r.scope);
        if (args.debug) {
            log_line(LOG_INFO, summary);
            say(approval.host, SUDO_CONV_INFO_MSG, summary + ", recorded " + r.record_event_id);
        }
        return 1;
    }
    log_line(r.outcome == flow::Outcome::Unavailable ? LOG_ERR : LOG_NOTICE, summary);
    if (r.outcome == flow::Outcome::Unavailable) return refuse(r.message);
    return refuse(r.message + "; breaking the glass asks questions, which sudo -n does not allow. Run the command "
                              "without -n to answer them on the terminal, or first get a grant with: "
                              "breakglassctl request --gate " + target.gate + " --reason TEXT --incident REF");
}

int approval_check(char* const command_info[], char* const run_argv[], const char** errstr) {
    // sudo 1.9.13 does not show an approval plugin's errstr, so it is also said here.
    const auto refuse = [&](std::string why) {
        approval.errstr = std::move(why);
        *errstr = approval.errstr.c_str();
        say(approval.host, SUDO_CONV_ERROR_MSG, approval.errstr);
        return 0;
    };
    if (!approval.config.args) {
        if (runs_as_root(command_info)) return 1;
        return refuse(std::string(kName) + " is misconfigured (" + approval.config.error +
                      "); only commands run as root:root are allowed");
    }
    const PluginArgs& args = *approval.config.args;
    run.checked = true;
    run.checked_with = approval.config;
    const Decision decision = classify(args, command_info);
    if (std::holds_alternative<Ungated>(decision)) return 1;
    if (const auto* r = std::get_if<Refuse>(&decision)) {
        log_line(LOG_ERR, "user " + quoted(approval.host.user) + ": " + r->why + "; refused");
        return refuse(r->why + "; refused");
    }
    const auto& gated = std::get<Gated>(decision);
    flow::Target target;
    target.user = approval.host.user;
    target.gate = gated.by.gate;
    target.tty = approval.host.tty;
    target.command = "sudo " + command_line(run_argv, kMaxCommandBytes);
    target.socket_path = args.socket_path;
    target.runas_group = gated.by.runas_group;
    target.runas_user = gated.by.runas_user;
    const proto::CommandRequest command = command_request(approval.host, gated, command_info, run_argv);
    if (approval.noninteractive) return check_noninteractive(args, target, command, refuse);
    SudoPrompter prompter(approval.host.conversation);
    const flow::Result r = flow::check_or_break_glass(prompter, target, daemon_at(args.socket_path), &command);
    const bool ok = r.outcome == flow::Outcome::Granted || r.outcome == flow::Outcome::AlreadyActive;
    const std::string summary = "user " + quoted(target.user) + " gate " + quoted(target.gate) + ": " +
                                std::string(flow::outcome_name(r.outcome)) +
                                (r.event_id.empty() ? "" : " " + r.event_id) +
                                (ok ? ", command recorded " + r.record_event_id : "");
    if (r.outcome != flow::Outcome::AlreadyActive || args.debug)
        log_line(ok ? LOG_INFO : r.outcome == flow::Outcome::Unavailable ? LOG_ERR : LOG_NOTICE, summary);
    if (args.debug) say(approval.host, SUDO_CONV_INFO_MSG, summary);
    if (ok) {
        remember_close(command, r.event_id);
        wait_for_scope(r.scope);
        return 1;
    }
    // A grant was made but the command could not be recorded under it.
    if (!r.event_id.empty())
        return refuse("break-glass for gate " + quoted(target.gate) + " granted (" + r.event_id +
                      ") but the gated command was not recorded; refused");
    return refuse(refusal_for(r.outcome, target.gate));
}

// ---- audit plugin

struct Audit {
    Host host;
    Config config;
    std::string errstr;
} audit;

int audit_open(unsigned int version, sudo_conv_t conversation, sudo_printf_t print, char* const user_info[],
               char* const plugin_options[], const char** errstr) {
    audit = Audit{};
    audit.host = host_of(conversation, print, user_info);
    if (SUDO_API_VERSION_GET_MAJOR(version) != SUDO_API_VERSION_MAJOR) {
        audit.errstr = "incompatible sudo plugin API " + std::to_string(SUDO_API_VERSION_GET_MAJOR(version));
        *errstr = audit.errstr.c_str();
        return -1;
    }
    // Bad options: the approval half says so and refuses everything but root:root,
    // which is never gated, so there is nothing to record.
    audit.config = config_of(plugin_options);
    return 1;
}

int audit_accept(const char* plugin_name, unsigned int plugin_type, char* const command_info[],
                 char* const /*run_argv*/[], const char** errstr) {
    if (audit.config.args && audit.config.args->debug)
        say(audit.host, SUDO_CONV_INFO_MSG,
            std::string("accept from ") + (plugin_name != nullptr ? plugin_name : "?") + " type " +
                std::to_string(plugin_type));
    // sudo calls accept once per plugin that accepted (policy, then each approval
    // plugin, then itself); ours right after our approval half approved.
    if (!audit.config.args || plugin_type != SUDO_APPROVAL_PLUGIN || plugin_name == nullptr ||
        std::string_view(plugin_name) != "breakglass_approval")
        return 1;
    // The approval half decided with the same gates and socket: a gated command
    // got this far only once recorded.
    if (run.checked && same_decisions(run.checked_with, audit.config)) {
        if (audit.config.args->debug && run.close)
            say(audit.host, SUDO_CONV_INFO_MSG, "gated command recorded by the approval half");
        return 1;
    }
    // Otherwise breakglass_approval came from another file or with other
    // options: decide again, and refuse a gated command (fail closed), since
    // this half cannot tell whether, or where, it was recorded.
    const Decision decision = classify(*audit.config.args, command_info);
    if (std::holds_alternative<Ungated>(decision)) return 1;
    audit.errstr = (std::holds_alternative<Refuse>(decision) ? std::get<Refuse>(decision).why
                                                            : "the gated command was not recorded: breakglass_approval "
                                                              "and breakglass_audit must be loaded from the same file "
                                                              "with the same gates= and socket=") +
                   "; refused";
    *errstr = audit.errstr.c_str();
    say(audit.host, SUDO_CONV_ERROR_MSG, audit.errstr);
    log_line(LOG_ERR, "user " + quoted(audit.host.user) + ": " + audit.errstr);
    return 0;
}

std::string exit_detail(int status_type, int status) {
    switch (status_type) {
        case SUDO_PLUGIN_WAIT_STATUS:
            if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
            if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
            return "wait status " + std::to_string(status);
        case SUDO_PLUGIN_EXEC_ERROR: return "exec failed: " + std::string(std::strerror(status));
        case SUDO_PLUGIN_SUDO_ERROR: return "sudo error: " + std::string(std::strerror(status));
        case SUDO_PLUGIN_NO_STATUS: break;
    }
    return "no status (the command did not run or sudo did not wait for it)";
}

// The session_close of a recorded command, to the daemon that recorded it, on
// the run's connection while it is fresh (else a new one: the command may have
// run for longer than the daemon keeps an idle connection). It is a closing
// record: the daemon answers before syncing it.
void audit_close(int status_type, int status) {
    if (!run.close || !run.daemon) return;
    proto::SessionRequest s = std::move(*run.close);
    run.close.reset();
    s.detail = exit_detail(status_type, status);
    const flow::SessionResult r = flow::record_session(*run.daemon, s);
    run.daemon.reset();
    // The command has ended whatever happens here: log a failure, nothing to return.
    if (!r.recorded)
        log_line(LOG_ERR, "user " + quoted(s.user) + " gate " + quoted(s.gate) + ": session_close not recorded: " + r.message);
    // A command killed by a signal after its grant ended was, most likely,
    // ended by the revocation: the terminal says so (issue 10, item 9).
    if (r.recorded && r.grant_id.empty() && status_type == SUDO_PLUGIN_WAIT_STATUS && WIFSIGNALED(status))
        say(audit.host, SUDO_CONV_ERROR_MSG,
            "the break-glass grant " + escape_for_display(run.grant_id) + " has ended (expired or revoked); the command was " +
                s.detail);
}

template <typename F>
int guarded(const char* entry, const char** errstr, int failure, F&& body) noexcept {
    try {
        return body();
    } catch (...) {
        ::syslog(LOG_AUTHPRIV | LOG_CRIT, "%s: %s: internal error; refusing", kName, entry);
        if (errstr != nullptr) *errstr = "breakglass_sudo: internal error; refused";
        return failure;
    }
}

}  // namespace
}  // namespace bg::sudo

extern "C" {

static int bg_approval_open(unsigned int version, sudo_conv_t conversation, sudo_printf_t print,
                            char* const settings[], char* const user_info[], int /*submit_optind*/,
                            char* const /*submit_argv*/[], char* const /*submit_envp*/[], char* const plugin_options[],
                            const char** errstr) {
    return bg::sudo::guarded("approval open", errstr, -1, [&] {
        return bg::sudo::approval_open(version, conversation, print, settings, user_info, plugin_options, errstr);
    });
}

static void bg_approval_close(void) {}

static int bg_approval_check(char* const command_info[], char* const run_argv[], char* const /*run_envp*/[],
                             const char** errstr) {
    return bg::sudo::guarded("approval check", errstr, -1,
                             [&] { return bg::sudo::approval_check(command_info, run_argv, errstr); });
}

static int bg_show_version(int /*verbose*/) {
    return bg::sudo::guarded("show_version", nullptr, -1, [] {
        if (bg::sudo::approval.host.print != nullptr)
            bg::sudo::approval.host.print(SUDO_CONV_INFO_MSG, "breakglass_sudo approval plugin version %s\n",
                                          BG_VERSION);
        return 1;
    });
}

static int bg_audit_open(unsigned int version, sudo_conv_t conversation, sudo_printf_t print,
                         char* const /*settings*/[], char* const user_info[], int /*submit_optind*/,
                         char* const /*submit_argv*/[], char* const /*submit_envp*/[], char* const plugin_options[],
                         const char** errstr) {
    return bg::sudo::guarded("audit open", errstr, -1, [&] {
        return bg::sudo::audit_open(version, conversation, print, user_info, plugin_options, errstr);
    });
}

static void bg_audit_close(int status_type, int status) {
    (void)bg::sudo::guarded("audit close", nullptr, 0, [&] {
        bg::sudo::audit_close(status_type, status);
        return 0;
    });
}

static int bg_audit_accept(const char* plugin_name, unsigned int plugin_type, char* const command_info[],
                           char* const run_argv[], char* const /*run_envp*/[], const char** errstr) {
    return bg::sudo::guarded("audit accept", errstr, 0, [&] {
        return bg::sudo::audit_accept(plugin_name, plugin_type, command_info, run_argv, errstr);
    });
}

static int bg_audit_reject(const char*, unsigned int, const char*, char* const[], const char**) { return 1; }
static int bg_audit_error(const char*, unsigned int, const char*, char* const[], const char**) { return 1; }

static int bg_audit_show_version(int /*verbose*/) {
    return bg::sudo::guarded("show_version", nullptr, -1, [] {
        if (bg::sudo::audit.host.print != nullptr)
            bg::sudo::audit.host.print(SUDO_CONV_INFO_MSG, "breakglass_sudo audit plugin version %s\n", BG_VERSION);
        return 1;
    });
}

BG_SUDO_EXPORT struct approval_plugin breakglass_approval = {
    SUDO_APPROVAL_PLUGIN, SUDO_API_VERSION, bg_approval_open, bg_approval_close, bg_approval_check, bg_show_version,
};

BG_SUDO_EXPORT struct audit_plugin breakglass_audit = {
    SUDO_AUDIT_PLUGIN,
    SUDO_API_VERSION,
    bg_audit_open,
    bg_audit_close,
    bg_audit_accept,
    bg_audit_reject,
    bg_audit_error,
    bg_audit_show_version,
    nullptr,  // register_hooks
    nullptr,  // deregister_hooks
    nullptr,  // event_alloc (filled in by sudo)
};

}  // extern "C"
