// SPDX-License-Identifier: ISC
// breakglassctl: the command-line front-end of breakglass. It parses the
// command line (CLI11), hands each subcommand to ctl_commands.cpp and maps
// the outcome to the exit codes in ctl_exit_code.hpp (documented in --help
// and breakglassctl(1)).
#include <exception>
#include <iostream>
#include <string>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "helper/ctl/commands.hpp"
#include "helper/ctl/exit_code.hpp"

#ifndef BG_DEFAULT_STATE_DIR
#define BG_DEFAULT_STATE_DIR "/var/lib/breakglass"
#endif

namespace {

using namespace bg::ctl;

std::string default_tty() {
    const char* name = ttyname(STDIN_FILENO);
    return name != nullptr ? std::string(name) : std::string();
}

void add_socket_option(CLI::App* cmd, CommonOptions& o) {
    cmd->add_option("--socket", o.socket, "breakglassd's socket")->type_name("PATH")->capture_default_str();
}

void add_json_flag(CLI::App* cmd, bool& json) {
    cmd->add_flag("--json", json, "print one machine-readable JSON object on stdout");
}

int run(int argc, char** argv) {
    CLI::App app{"breakglassctl: request, inspect and revoke break-glass grants; read and verify the audit log",
                 "breakglassctl"};
    app.footer(std::string(kExitCodeHelp) + "\n\nSee breakglassctl(1).");
    app.require_subcommand(1);
    app.failure_message([](const CLI::App* failed, const CLI::Error& e) {
        return "breakglassctl: " + std::string(e.what()) + "\nRun '" + failed->get_name() +
               " --help' for more information.\n";
    });

    CommonOptions common;
    common.socket = BG_DEFAULT_SOCKET;

    // request
    RequestArguments request;
    request.tty = default_tty();
    auto* request_cmd = app.add_subcommand(
        "request", "break the glass: ask for a time-boxed grant of one gate (prompts for the one-time code)");
    request_cmd->add_option("--gate", request.gate, "the gate to open, as named in the policy")->type_name("GATE")->required();
    request_cmd->add_option("--reason", request.reason, "why (free text, up to 1024 bytes)")->type_name("REASON")->required();
    request_cmd->add_option("--incident", request.incident, "incident reference, e.g. INC-1234")->type_name("INCIDENT")->required();
    request_cmd->add_option("--severity", request.severity, "incident severity, e.g. sev1")->type_name("SEVERITY");
    request_cmd->add_option("--ttl", request.ttl, "how long, e.g. 10m, 1h, 1h30m (default: the gate's ttl)")
        ->type_name("DURATION");
    request_cmd->add_option("--tty", request.tty, "terminal recorded with the grant (default: stdin's terminal)")
        ->type_name("TTY");
    add_socket_option(request_cmd, common);
    add_json_flag(request_cmd, common.json);
    request_cmd->footer(
        "The one-time code is never taken from the command line: it is read from the terminal\n"
        "with echo off, or as one line from stdin when stdin is not a terminal.\n\n" +
        std::string(kExitCodeHelp));

    // status, list
    auto* status_cmd = app.add_subcommand("status", "show active grants");
    add_socket_option(status_cmd, common);
    add_json_flag(status_cmd, common.json);
    bool list_all = false;
    auto* list_cmd = app.add_subcommand("list", "list grants (active; with --all also revoked and expired)");
    list_cmd->add_flag("--all", list_all, "include ended grants, most recent first");
    add_socket_option(list_cmd, common);
    add_json_flag(list_cmd, common.json);

    // revoke, expire
    std::string event_id;
    std::string revoke_reason;
    auto* revoke_cmd = app.add_subcommand("revoke", "end a grant now (root, or the grant's own user)");
    revoke_cmd->add_option("ID", event_id, "the grant's event id, e.g. bg-2026-000042")->required();
    revoke_cmd->add_option("--reason", revoke_reason, "why it is revoked")->type_name("REASON");
    add_socket_option(revoke_cmd, common);
    add_json_flag(revoke_cmd, common.json);
    auto* expire_cmd = app.add_subcommand("expire", "end a grant whose time is up (run by the systemd timer; root)");
    expire_cmd->add_option("ID", event_id, "the grant's event id")->required();
    add_socket_option(expire_cmd, common);
    add_json_flag(expire_cmd, common.json);

    // log
    std::string since;
    auto* log_cmd = app.add_subcommand("log", "print audit records (root); with --json as JSON lines, the export format");
    log_cmd->add_option("--since", since, "from this time: 2026-11-29T10:00:00Z (UTC), or a duration ago: 1h, 30m")
        ->type_name("TIME");
    add_socket_option(log_cmd, common);
    add_json_flag(log_cmd, common.json);

    // verify
    VerifyArguments verify;
    verify.state_dir = BG_DEFAULT_STATE_DIR;
    auto* verify_cmd = app.add_subcommand(
        "verify", "check the audit log's hash chain and seals offline, reading DIR/audit.log directly");
    verify_cmd->add_option("--state-dir", verify.state_dir, "state directory holding audit.log and audit.key")
        ->type_name("DIR")
        ->capture_default_str();
    verify_cmd->add_option("--key", verify.key_file, "the initial sealing key (audit.key.initial, kept off the host)")
        ->type_name("FILE");
    verify_cmd->add_option("--expect-head", verify.expect_head,
                           "the log must end at record SEQ (with hash HASH), e.g. from a shipped checkpoint")
        ->type_name("SEQ[:HASH]");
    add_socket_option(verify_cmd, common);  // accepted for uniformity; verify never asks the daemon
    add_json_flag(verify_cmd, verify.json);

    // policy check / reload
    auto* policy_cmd = app.add_subcommand("policy", "check or reload the policy");
    policy_cmd->require_subcommand(1);
    std::string policy_file;
    bool policy_verbose = false;
    auto* check_cmd = policy_cmd->add_subcommand(
        "check", "parse FILE locally, or without FILE ask breakglassd to check its policy file");
    check_cmd->add_option("FILE", policy_file, "a policy file to check (e.g. a draft)");
    check_cmd->add_flag("-v,--verbose", policy_verbose, "with FILE: print the policy as parsed");
    add_socket_option(check_cmd, common);
    add_json_flag(check_cmd, common.json);
    auto* reload_cmd = policy_cmd->add_subcommand(
        "reload", "make breakglassd load its policy file (a rejected file leaves the last good policy in force)");
    add_socket_option(reload_cmd, common);
    add_json_flag(reload_cmd, common.json);

    // enroll totp
    auto* enroll_cmd = app.add_subcommand("enroll", "enroll a second factor for a user (root)");
    enroll_cmd->require_subcommand(1);
    std::string enroll_user;
    bool secret_stdin = false;
    auto* totp_cmd = enroll_cmd->add_subcommand(
        "totp", "store a TOTP secret for USER and print its otpauth:// URI (show it as a QR code)");
    totp_cmd->add_option("USER", enroll_user, "the user to enroll")->required();
    totp_cmd->add_flag("--secret-stdin", secret_stdin,
                       "read the base32 secret from stdin (one line) instead of letting breakglassd generate one");
    add_socket_option(totp_cmd, common);
    add_json_flag(totp_cmd, common.json);
    std::string public_id;
    auto* yubikey_cmd = enroll_cmd->add_subcommand(
        "yubikey", "register USER's YubiKey (Yubico OTP); reads 'AESKEYHEX PRIVATEIDHEX' from the terminal or stdin");
    yubikey_cmd->add_option("USER", enroll_user, "the user to enroll")->required();
    yubikey_cmd->add_option("--public-id", public_id, "the 12 modhex characters every OTP of this key starts with")
        ->required();
    add_socket_option(yubikey_cmd, common);
    add_json_flag(yubikey_cmd, common.json);

    // Every subcommand's --help ends with the exit codes too.
    for (CLI::App* cmd : {status_cmd, list_cmd, revoke_cmd, expire_cmd, log_cmd, verify_cmd, policy_cmd, check_cmd,
                          reload_cmd, enroll_cmd, totp_cmd, yubikey_cmd})
        cmd->footer(kExitCodeHelp);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);  // prints help, or the error via failure_message
        return code == 0 ? kExitOk : kExitUsage;
    }

    if (request_cmd->parsed()) return run_request(common, request);
    if (status_cmd->parsed()) return run_status(common, false);
    if (list_cmd->parsed()) return run_status(common, list_all);
    if (revoke_cmd->parsed()) return run_revoke(common, event_id, revoke_reason);
    if (expire_cmd->parsed()) return run_expire(common, event_id);
    if (log_cmd->parsed()) return run_log(common, since);
    if (verify_cmd->parsed()) return run_verify(verify);
    if (check_cmd->parsed()) return run_policy_check(common, policy_file, policy_verbose);
    if (reload_cmd->parsed()) return run_policy_reload(common);
    if (totp_cmd->parsed()) return run_enroll_totp(common, enroll_user, secret_stdin);
    if (yubikey_cmd->parsed()) return run_enroll_yubikey(common, enroll_user, public_id);
    return kExitUsage;  // unreachable: require_subcommand
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        bg::ctl::print_error(std::string("internal error: ") + e.what());
    } catch (...) {
        bg::ctl::print_error("internal error");
    }
    return bg::ctl::kExitRefused;
}
