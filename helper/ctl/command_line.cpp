// SPDX-License-Identifier: ISC
#include "helper/ctl/command_line.hpp"
#include "helper/ctl/approval_commands.hpp"
#include "helper/ctl/report_commands.hpp"

#include <array>
#include <map>
#include <memory>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>

#ifndef BG_DEFAULT_STATE_DIR
#define BG_DEFAULT_STATE_DIR "/var/lib/breakglass"
#endif

namespace bg::ctl {
namespace {

// Each setup adds the subcommand's own options (bound to storage the handler
// shares) and returns the handler.

Handler setup_request(CLI::App& cmd) {
    auto a = std::make_shared<RequestArguments>();
    if (const char* tty = ::ttyname(STDIN_FILENO)) a->tty = tty;
    cmd.add_option("--gate", a->gate, "the gate to open, as named in the policy")->type_name("GATE")->required();
    cmd.add_option("--reason", a->reason, "why (free text, up to 1024 bytes)")->type_name("REASON")->required();
    cmd.add_option("--incident", a->incident, "incident reference, e.g. INC-1234")->type_name("INCIDENT")->required();
    cmd.add_option("--severity", a->severity, "incident severity, e.g. sev1")->type_name("SEVERITY");
    cmd.add_option("--ttl", a->ttl, "how long, e.g. 10m, 1h, 1h30m (default: the gate's ttl)")->type_name("DURATION");
    cmd.add_option("--tty", a->tty, "terminal recorded with the grant (default: stdin's terminal)")->type_name("TTY");
    cmd.footer(
        "The one-time code is never taken from the command line: it is read from the terminal\n"
        "with echo off, or as one line from stdin when stdin is not a terminal.\n\n" +
        std::string(kExitCodeHelp));
    return [a](const CommonOptions& o) { return run_request(o, *a); };
}

Handler setup_psql(CLI::App& cmd) {
    auto a = std::make_shared<RequestArguments>();
    auto psql_args = std::make_shared<std::vector<std::string>>();
    if (const char* tty = ::ttyname(STDIN_FILENO)) a->tty = tty;
    cmd.add_option("--gate", a->gate, "the PostgreSQL gate to open, as named in the policy")->type_name("GATE")->required();
    cmd.add_option("--reason", a->reason, "why (free text, up to 1024 bytes)")->type_name("REASON")->required();
    cmd.add_option("--incident", a->incident, "incident reference, e.g. INC-1234")->type_name("INCIDENT")->required();
    cmd.add_option("--severity", a->severity, "incident severity, e.g. sev1")->type_name("SEVERITY");
    cmd.add_option("--ttl", a->ttl, "how long, e.g. 10m, 1h (default: the gate's ttl)")->type_name("DURATION");
    cmd.add_option("--tty", a->tty, "terminal recorded with the grant (default: stdin's terminal)")->type_name("TTY");
    cmd.add_option("PSQL_ARGS", *psql_args, "after --: more arguments for psql");
    cmd.footer(
        "The same flow as 'breakglassctl request' (on a gate with approvals it waits for them; Ctrl-C\n"
        "cancels the request); then psql runs as the grant's own PostgreSQL role, its\n"
        "password in PGPASSWORD (never argv), PGAPPNAME=breakglass:<grant id>, the gate's host and database.\n"
        "At the grant's end the role is dropped and its sessions are terminated.\n\n" +
        std::string(kExitCodeHelp));
    return [a, psql_args](const CommonOptions& o) { return run_psql(o, *a, *psql_args); };
}

Handler setup_status(CLI::App&) {
    return [](const CommonOptions& o) { return run_status(o, false); };
}

Handler setup_list(CLI::App& cmd) {
    auto all = std::make_shared<bool>(false);
    cmd.add_flag("--all", *all, "include ended grants, most recent first");
    return [all](const CommonOptions& o) { return run_status(o, *all); };
}

Handler setup_revoke(CLI::App& cmd) {
    struct Args {
        std::string event_id, reason;
    };
    auto a = std::make_shared<Args>();
    cmd.add_option("ID", a->event_id, "the grant's event id, e.g. bg-2026-000042")->required();
    cmd.add_option("--reason", a->reason, "why it is revoked")->type_name("REASON");
    return [a](const CommonOptions& o) { return run_revoke(o, a->event_id, a->reason); };
}

Handler setup_expire(CLI::App& cmd) {
    auto event_id = std::make_shared<std::string>();
    cmd.add_option("ID", *event_id, "the grant's event id")->required();
    return [event_id](const CommonOptions& o) { return run_expire(o, *event_id); };
}

Handler setup_log(CLI::App& cmd) {
    auto since = std::make_shared<std::string>();
    cmd.add_option("--since", *since, "from this time: 2026-11-29T10:00:00Z (UTC), or a duration ago: 1h, 30m")
        ->type_name("TIME");
    return [since](const CommonOptions& o) { return run_log(o, *since); };
}

Handler setup_verify(CLI::App& cmd) {
    auto a = std::make_shared<VerifyArguments>();
    cmd.add_option("--key", a->key_file, "the initial sealing key (audit.key.initial, kept off the host)")
        ->type_name("FILE");
    cmd.add_option("--expect-head", a->expect_head,
                   "the log must end at record SEQ (with hash HASH), e.g. from a shipped checkpoint")
        ->type_name("SEQ[:HASH]");
    auto* files = cmd.add_option("--journal-file", a->journal_files,
                                 "verify a remote copy: journal files written by systemd-journal-remote")
                      ->type_name("FILE")
                      ->expected(1, -1);
    auto* exported = cmd.add_option("--journal-export", a->journal_export,
                                    "verify a remote copy: a journalctl -o export stream (- for stdin)")
                         ->type_name("FILE|-");
    auto* lines = cmd.add_option("--json-lines", a->json_lines,
                                 "verify a remote copy: JSON lines (record lines, or objects with \"record_line\")")
                      ->type_name("FILE");
    files->excludes(exported)->excludes(lines);
    exported->excludes(lines);
    cmd.add_option("--pubkey", a->pubkey_file, "the checkpoint public key (breakglassctl checkpoint-key), with a copy")
        ->type_name("FILE");
    cmd.add_flag("--against-remote", a->against_remote,
                 "also compare the local log (DIR/audit.log) with the remote copy and name the first divergence");
    return [a](const CommonOptions& o) { return run_verify(o, *a); };
}

Handler setup_checkpoint_key(CLI::App&) {
    return [](const CommonOptions& o) { return run_checkpoint_key(o); };
}

Handler setup_policy_check(CLI::App& cmd) {
    struct Args {
        std::string file;
        bool verbose = false;
    };
    auto a = std::make_shared<Args>();
    cmd.add_option("FILE", a->file, "a policy file to check (e.g. a draft)");
    cmd.add_flag("-v,--verbose", a->verbose, "with FILE: print the policy as parsed");
    return [a](const CommonOptions& o) { return run_policy_check(o, a->file, a->verbose); };
}

Handler setup_policy_reload(CLI::App&) {
    return [](const CommonOptions& o) { return run_policy_reload(o); };
}

Handler setup_alert_test(CLI::App& cmd) {
    auto channel = std::make_shared<std::string>();
    cmd.add_option("NAME", *channel, "the channel, as in the policy's [alert.NAME]")->required();
    cmd.footer("Exit status: 0 the channel took the alert (HTTP 2xx, sendmail exited 0); 1 it did not, or\n"
               "breakglassd refused (no such channel, not root); 2 usage error; 3 breakglassd did not answer.");
    return [channel](const CommonOptions& o) { return run_alert_test(o, *channel); };
}

Handler setup_enroll_totp(CLI::App& cmd) {
    struct Args {
        std::string user;
        bool secret_stdin = false;
    };
    auto a = std::make_shared<Args>();
    cmd.add_option("USER", a->user, "the user to enroll")->required();
    cmd.add_flag("--secret-stdin", a->secret_stdin,
                 "read the base32 secret from stdin (one line) instead of letting breakglassd generate one");
    return [a](const CommonOptions& o) { return run_enroll_totp(o, a->user, a->secret_stdin); };
}

Handler setup_enroll_yubikey(CLI::App& cmd) {
    struct Args {
        std::string user, public_id;
    };
    auto a = std::make_shared<Args>();
    cmd.add_option("USER", a->user, "the user to enroll")->required();
    cmd.add_option("--public-id", a->public_id, "the 12 modhex characters every OTP of this key starts with")
        ->required();
    return [a](const CommonOptions& o) { return run_enroll_yubikey(o, a->user, a->public_id); };
}

Handler setup_pending(CLI::App&) {
    return [](const CommonOptions& o) { return run_pending(o); };
}

Handler setup_approve(CLI::App& cmd) {
    struct Args {
        std::string request_id, note, code, key, valid;
        bool offline = false;
    };
    auto a = std::make_shared<Args>();
    auto* id = cmd.add_option("ID", a->request_id, "the request's id, e.g. bg-2026-000042 (breakglassctl pending)");
    auto* note = cmd.add_option("--note", a->note, "a note recorded with the approval")->type_name("NOTE");
    auto* offline = cmd.add_flag("--offline", a->offline,
                                 "sign an approval token for --code with --key, without breakglassd (anywhere)");
    auto* code = cmd.add_option("--code", a->code, "the request code the requester reads out (USER@HOST/GATE/XXXX-...)")
                     ->type_name("CODE");
    auto* key = cmd.add_option("--key", a->key, "your private key (breakglassctl approver-key generate)")
                    ->type_name("FILE");
    auto* valid = cmd.add_option("--valid", a->valid, "how long the token is valid (default 1h, at most 24h)")
                      ->type_name("DURATION");
    code->needs(offline);
    key->needs(offline);
    valid->needs(offline);
    offline->needs(code)->needs(key)->excludes(id)->excludes(note);
    cmd.footer("Online: your own one-time code is read from the terminal (echo off), or as one line from stdin.\n"
               "Offline (--offline --code CODE --key FILE): prints a token for the requester to paste; no daemon.\n\n" +
               std::string(kExitCodeHelp));
    return [a](const CommonOptions& o) {
        if (a->offline) return run_approve_offline(o, a->code, a->key, a->valid);
        if (a->request_id.empty()) {
            print_error("approve: give the request's ID, or --offline --code CODE --key FILE");
            return static_cast<int>(kExitUsage);
        }
        return run_approve(o, a->request_id, a->note);
    };
}

Handler setup_approver_key_generate(CLI::App& cmd) {
    struct Args {
        std::string out, name;
    };
    auto a = std::make_shared<Args>();
    cmd.add_option("--out", a->out, "where to write the private key (0600; an existing file is never replaced)")
        ->type_name("FILE")
        ->required();
    cmd.add_option("--name", a->name, "the approver's user name in the policy line (default: yours)")
        ->type_name("USER");
    return [a](const CommonOptions& o) { return run_approver_key_generate(o, a->out, a->name); };
}

Handler setup_deny(CLI::App& cmd) {
    struct Args {
        std::string request_id, reason;
    };
    auto a = std::make_shared<Args>();
    cmd.add_option("ID", a->request_id, "the request's id (breakglassctl pending)")->required();
    cmd.add_option("--reason", a->reason, "why it is turned down (recorded)")->type_name("REASON")->required();
    return [a](const CommonOptions& o) { return run_deny(o, a->request_id, a->reason); };
}

Handler setup_review(CLI::App& cmd) {
    struct Args {
        std::string grant_id, verdict, note;
    };
    auto a = std::make_shared<Args>();
    cmd.add_option("ID", a->grant_id, "the grant's id (breakglassctl reviews, list --all)")->required();
    cmd.add_option("--verdict", a->verdict, "justified, unjustified or gate-needs-fix")
        ->type_name("VERDICT")
        ->required()
        ->check(CLI::IsMember({"justified", "unjustified", "gate-needs-fix"}));
    cmd.add_option("--note", a->note, "why (recorded with the review, up to 1024 bytes)")->type_name("TEXT")->required();
    return [a](const CommonOptions& o) { return run_review(o, a->grant_id, a->verdict, a->note); };
}

Handler setup_reviews(CLI::App& cmd) {
    auto overdue = std::make_shared<bool>(false);
    cmd.add_flag("--overdue", *overdue, "only those past their gate's review_within");
    return [overdue](const CommonOptions& o) { return run_reviews(o, *overdue); };
}

Handler setup_show(CLI::App& cmd) {
    auto grant_id = std::make_shared<std::string>();
    cmd.add_option("ID", *grant_id, "the grant's id, e.g. bg-2026-000042")->required();
    cmd.footer("Reads the audit log through breakglassd (root and the policy's auditors), or with --state-dir\n"
               "the files directly (root, when the daemon is down); says how the chain was checked.\n\n" +
               std::string(kExitCodeHelp));
    return [grant_id](const CommonOptions& o) { return run_show(o, *grant_id); };
}

// report and export: the period and where the records come from.
void add_record_sources(CLI::App& cmd, ReportArguments& a) {
    cmd.add_option("--since", a.since, "from this time (RFC 3339 UTC) or a duration ago, e.g. 90d (default 90d)")
        ->type_name("TIME");
    cmd.add_option("--until", a.until, "up to this time (RFC 3339 UTC) or a duration ago (default now)")->type_name("TIME");
    cmd.add_option("--journal-file", a.journal_files,
                   "read the remote copies of many hosts: journal files written by systemd-journal-remote")
        ->type_name("FILE");
    cmd.add_option("--journal-dir", a.journal_dirs, "read every *.journal file under DIR (fleet-wide)")->type_name("DIR");
    cmd.add_option("--pubkey", a.pubkey_files,
                   "verify HOST's copy with its checkpoint public key (breakglassctl checkpoint-key; repeatable; "
                   "plain FILE only when the copies hold one host)")
        ->type_name("HOST=FILE");
}

Handler setup_report(CLI::App& cmd) {
    auto a = std::make_shared<ReportArguments>();
    add_record_sources(cmd, *a);
    cmd.add_option("--html", a->html_file, "write one self-contained XHTML page with inline SVG charts (- for stdout)")
        ->type_name("FILE");
    cmd.add_option("--prometheus", a->prometheus_file, "write the figures in the Prometheus text format (- for stdout)")
        ->type_name("FILE");
    cmd.add_option("--policy", a->policy_file, "take each gate's review_within from this policy file (default 72h)")
        ->type_name("FILE");
    cmd.footer("Reads the log through breakglassd (root and the policy's auditors), DIR/audit.log with --state-dir\n"
               "(root; verified first) or, with --journal-file/--journal-dir, the remote\n"
               "copies of many hosts, and reports per gate (and per host): breaks, actors, weekly trend, share,\n"
               "median time used and TTL, reviews on time, verdicts and flags (frequent, rising, fix-the-gate,\n"
               "unreviewed). See breakglassctl(1).\n\n" +
               std::string(kExitCodeHelp));
    return [a](const CommonOptions& o) { return run_report(o, *a); };
}

Handler setup_export(CLI::App& cmd) {
    auto a = std::make_shared<ReportArguments>();
    add_record_sources(cmd, *a);
    cmd.add_option("--format", a->format, "json or csv (RFC 4180; fields starting with = + - @ are prefixed with ')")
        ->type_name("FORMAT")
        ->required();
    return [a](const CommonOptions& o) { return run_export(o, *a); };
}

constexpr unsigned kDaemonOptions = kSocketOption | kJsonOption;

// --socket is taken everywhere (verify and `policy check FILE` do not use it), so
// that `breakglassctl --socket PATH <anything>` is never an error.
const std::array<Subcommand, 23> kSubcommands = {{
    {"request", "break the glass: ask for a time-boxed grant of one gate (prompts for the one-time code)",
     kDaemonOptions, setup_request},
    {"psql", "break the glass of a PostgreSQL gate and run psql as the grant's own role until it ends",
     kDaemonOptions, setup_psql},
    {"status", "show active grants", kDaemonOptions, setup_status},
    {"pending", "list the requests that wait for your approval", kDaemonOptions, setup_pending},
    {"approve", "approve request ID (prompts for your own one-time code; never your own request), or --offline",
     kDaemonOptions,
     setup_approve},
    {"deny", "turn down request ID with --reason (an approver of its gate)", kDaemonOptions, setup_deny},
    {"approver-key generate",
     "write a new offline-approval private key to --out FILE (0600) and print its [approver_keys] line",
     kDaemonOptions, setup_approver_key_generate},
    {"list", "list grants (active; with --all also revoked and expired)", kDaemonOptions, setup_list},
    {"revoke", "end a grant now (root, or the grant's own user)", kDaemonOptions, setup_revoke},
    {"expire", "end a grant whose time is up (run by the systemd timer; root)", kDaemonOptions, setup_expire},
    {"review", "give grant ID its review: --verdict justified|unjustified|gate-needs-fix --note TEXT (a reviewer of "
               "its gate; never your own grant or one you approved)",
     kDaemonOptions, setup_review},
    {"reviews", "list the grants waiting for a review (--overdue: only those past due)", kDaemonOptions,
     setup_reviews},
    {"show", "the whole story of grant ID from the audit log, verified (root, auditors; --state-dir reads the files)",
     kDaemonOptions | kStateDirOption, setup_show},
    {"log", "print audit records (root and auditors); with --json as JSON lines, the export format", kDaemonOptions,
     setup_log},
    {"verify", "check the audit log's hash chain and seals offline, reading DIR/audit.log directly",
     kDaemonOptions | kStateDirOption, setup_verify},
    {"report", "the per-gate bypass report: breaks, trend, share, time used, reviews, flags (JSON, HTML, Prometheus)",
     kDaemonOptions | kStateDirOption, setup_report},
    {"export", "the auditor's evidence pack: every grant with approvals, commands, end and review (json or csv)",
     kDaemonOptions | kStateDirOption, setup_export},
    {"checkpoint-key", "print the checkpoint public key (root; reads DIR/checkpoint.key) for verify --pubkey",
     kDaemonOptions | kStateDirOption, setup_checkpoint_key},
    {"policy check", "parse FILE locally, or without FILE ask breakglassd to check its policy file", kDaemonOptions,
     setup_policy_check},
    {"policy reload", "make breakglassd load its policy file (a rejected file leaves the last good policy in force)",
     kDaemonOptions, setup_policy_reload},
    {"alert test", "send one test alert on channel NAME now and show what it answered (root)", kDaemonOptions,
     setup_alert_test},
    {"enroll totp", "store a TOTP secret for USER and print its otpauth:// URI (show it as a QR code)",
     kDaemonOptions, setup_enroll_totp},
    {"enroll yubikey",
     "register USER's YubiKey (Yubico OTP); reads 'AESKEYHEX PRIVATEIDHEX' from the terminal or stdin",
     kDaemonOptions, setup_enroll_yubikey},
}};

// The words that group subcommands ("policy check"), with their help line.
const std::map<std::string, std::string, std::less<>> kGroups = {
    {"policy", "check or reload the policy"},
    {"alert", "test an alert channel (root)"},
    {"enroll", "enroll a second factor for a user (root)"},
    {"approver-key", "an approver's own key for offline approvals"},
};

// One global option: where it was given (before or after the subcommand).
struct Given {
    std::string socket;
    bool json = false;
    std::string state_dir;
    CLI::Option* socket_option = nullptr;
    CLI::Option* json_option = nullptr;
    CLI::Option* state_dir_option = nullptr;

    // All three are added; those not in `takes` are hidden from --help and
    // refused after parsing with a message that names who takes them.
    void add_to(CLI::App& app, unsigned takes, const char* where) {
        socket_option = app.add_option("--socket", socket, std::string("breakglassd's socket") + where +
                                                               " (default " BG_DEFAULT_SOCKET ")")
                            ->type_name("PATH");
        json_option = app.add_flag("--json", json, std::string("print machine-readable JSON on stdout") + where);
        state_dir_option = app.add_option("--state-dir", state_dir,
                                          std::string("state directory holding audit.log and audit.key") + where +
                                              " (default " BG_DEFAULT_STATE_DIR ")")
                               ->type_name("DIR");
        if (!(takes & kSocketOption)) socket_option->group("");
        if (!(takes & kJsonOption)) json_option->group("");
        if (!(takes & kStateDirOption)) state_dir_option->group("");
    }
};

bool given(const CLI::Option* o) { return o != nullptr && o->count() > 0; }

// "verify" for --state-dir: the subcommands that take a global option.
std::string takers_of(unsigned option) {
    std::string out;
    for (const Subcommand& s : kSubcommands)
        if (s.global_options & option) out += (out.empty() ? "" : ", ") + std::string(s.path);
    return out;
}

}  // namespace

std::span<const Subcommand> subcommands() { return kSubcommands; }

CommandLine parse_command_line(int argc, const char* const* argv) {
    CLI::App app{"breakglassctl: request, inspect and revoke break-glass grants; read and verify the audit log",
                 "breakglassctl"};
    app.footer("Global options may also be given before the subcommand, e.g. breakglassctl --socket PATH status.\n\n" +
               std::string(kExitCodeHelp) + "\n\nSee breakglassctl(1).");
    app.require_subcommand(1);
    app.failure_message([](const CLI::App* failed, const CLI::Error& e) {
        return "breakglassctl: " + std::string(e.what()) + "\nRun '" + failed->get_name() +
               " --help' for more information.\n";
    });

    Given before;
    before.add_to(app, kSocketOption | kJsonOption | kStateDirOption, " (any subcommand that takes it)");

    struct Row {
        const Subcommand* subcommand = nullptr;
        CLI::App* app = nullptr;
        Handler handler;
        Given after;
    };
    std::vector<std::unique_ptr<Row>> rows;  // stable addresses: CLI11 holds pointers into `after`
    std::map<std::string, CLI::App*, std::less<>> groups;
    for (const Subcommand& s : kSubcommands) {
        CLI::App* parent = &app;
        std::string_view name = s.path;
        if (const auto space = s.path.find(' '); space != std::string_view::npos) {
            const std::string group(s.path.substr(0, space));
            auto [it, created] = groups.try_emplace(group, nullptr);
            if (created) {
                it->second = app.add_subcommand(group, kGroups.at(group));
                it->second->require_subcommand(1);
                it->second->footer(kExitCodeHelp);
            }
            parent = it->second;
            name = s.path.substr(space + 1);
        }
        auto row = std::make_unique<Row>();
        row->subcommand = &s;
        row->app = parent->add_subcommand(std::string(name), std::string(s.description));
        row->app->footer(kExitCodeHelp);
        row->handler = s.setup(*row->app);  // may replace the footer with its own
        row->after.add_to(*row->app, s.global_options, "");
        rows.push_back(std::move(row));
    }

    CommandLine out;
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);  // prints help, or the error via failure_message
        out.exit_code = code == 0 ? kExitOk : kExitUsage;
        return out;
    }

    const Row* chosen = nullptr;
    for (const auto& row : rows)
        if (row->app->parsed()) chosen = row.get();
    if (chosen == nullptr) return out;  // unreachable: require_subcommand
    const Subcommand& s = *chosen->subcommand;

    // A global option the subcommand does not take is an error, before it or after it.
    const Given& after = chosen->after;
    const struct {
        unsigned option;
        const char* name;
        bool given_anywhere;
    } globals[] = {{kSocketOption, "--socket", given(before.socket_option) || given(after.socket_option)},
                   {kJsonOption, "--json", given(before.json_option) || given(after.json_option)},
                   {kStateDirOption, "--state-dir", given(before.state_dir_option) || given(after.state_dir_option)}};
    for (const auto& g : globals)
        if (g.given_anywhere && !(s.global_options & g.option)) {
            print_error(std::string(g.name) + " does not apply to '" + std::string(s.path) + "' (it is an option of: " +
                        takers_of(g.option) + "; see --help)");
            return out;
        }

    out.options.socket = given(after.socket_option) ? after.socket
                         : given(before.socket_option) ? before.socket
                                                       : std::string(BG_DEFAULT_SOCKET);
    out.options.json = (given(after.json_option) && after.json) || (given(before.json_option) && before.json);
    out.options.state_dir = given(after.state_dir_option) ? after.state_dir
                            : given(before.state_dir_option) ? before.state_dir
                                                             : std::string(BG_DEFAULT_STATE_DIR);
    out.options.state_dir_given = given(after.state_dir_option) || given(before.state_dir_option);
    out.path = std::string(s.path);
    out.handler = chosen->handler;
    out.exit_code = kExitOk;
    return out;
}

}  // namespace bg::ctl
