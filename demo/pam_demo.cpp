// SPDX-License-Identifier: ISC
// Demo driver: a minimal PAM application. It runs one service of a PAM
// configuration directory the way login-like programs do — pam_authenticate,
// pam_acct_mgmt, pam_open_session, pam_close_session — and prints what
// happened at each step.
//
//   pam_demo --confdir DIR --service NAME --user USER [--tty TTY] [--rhost HOST]
//
// The conversation prints prompts and messages and reads one line of stdin per
// prompt; a hidden prompt turns off the terminal's echo when stdin is one.
// A step runs only when the previous ones succeeded (no session without an
// account, no close without an open). Exit 0 only when all four succeeded,
// 1 when one failed, 2 on a usage error.
#include <security/pam_appl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <termios.h>
#include <unistd.h>

namespace {

struct Options {
    std::string confdir, service, user, tty, rhost;
};

int usage(const char* why) {
    std::fprintf(stderr,
                 "pam_demo: %s\nusage: pam_demo --confdir DIR --service NAME --user USER [--tty TTY] [--rhost HOST]\n",
                 why);
    return 2;
}

// One line of stdin, without its newline; echo off while reading when asked and stdin is a terminal.
bool read_answer(bool echo, std::string& line) {
    const bool terminal = ::isatty(STDIN_FILENO) == 1;
    termios saved{};
    const bool hide = !echo && terminal && ::tcgetattr(STDIN_FILENO, &saved) == 0;
    if (hide) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        (void)::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    const bool ok = static_cast<bool>(std::getline(std::cin, line));
    if (hide) (void)::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    if (!terminal || hide) {
        // Show what was answered when the terminal did not (a hidden answer stays hidden).
        std::fputs(echo ? line.c_str() : (ok ? "(hidden)" : ""), stdout);
        std::fputc('\n', stdout);
    }
    return ok;
}

extern "C" int demo_conversation(int count, const pam_message** messages, pam_response** responses, void*) {
    if (count <= 0 || messages == nullptr || responses == nullptr) return PAM_CONV_ERR;
    auto* out = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(count), sizeof(pam_response)));
    if (out == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        const pam_message* m = messages[i];
        const char* text = m->msg != nullptr ? m->msg : "";
        switch (m->msg_style) {
            case PAM_PROMPT_ECHO_ON:
            case PAM_PROMPT_ECHO_OFF: {
                std::fputs(text, stdout);
                std::fflush(stdout);
                std::string line;
                if (!read_answer(m->msg_style == PAM_PROMPT_ECHO_ON, line)) {
                    for (int k = 0; k < i; ++k) std::free(out[k].resp);
                    std::free(out);
                    return PAM_CONV_ERR;  // end of input: the user walked away
                }
                out[i].resp = ::strdup(line.c_str());
                ::explicit_bzero(line.data(), line.size());
                break;
            }
            case PAM_ERROR_MSG: std::fprintf(stderr, "%s\n", text); break;
            default: std::printf("%s\n", text); break;
        }
    }
    std::fflush(stdout);
    *responses = out;
    return PAM_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        std::string* target = flag == "--confdir" ? &o.confdir
                              : flag == "--service" ? &o.service
                              : flag == "--user"    ? &o.user
                              : flag == "--tty"     ? &o.tty
                              : flag == "--rhost"   ? &o.rhost
                                                    : nullptr;
        if (target == nullptr) return usage(("unknown argument " + std::string(flag)).c_str());
        if (i + 1 >= argc) return usage(("missing value for " + std::string(flag)).c_str());
        *target = argv[++i];
    }
    if (o.confdir.empty() || o.service.empty() || o.user.empty()) return usage("--confdir, --service and --user are required");

    const pam_conv conv{demo_conversation, nullptr};
    pam_handle_t* pamh = nullptr;
    int rc = pam_start_confdir(o.service.c_str(), o.user.c_str(), &conv, o.confdir.c_str(), &pamh);
    if (rc != PAM_SUCCESS) {
        std::printf("pam_start_confdir: %s\n", pam_strerror(nullptr, rc));
        return 1;
    }
    if (!o.tty.empty()) (void)pam_set_item(pamh, PAM_TTY, o.tty.c_str());
    if (!o.rhost.empty()) (void)pam_set_item(pamh, PAM_RHOST, o.rhost.c_str());

    const struct {
        const char* name;
        int (*call)(pam_handle_t*, int);
    } steps[] = {{"pam_authenticate", pam_authenticate},
                 {"pam_acct_mgmt", pam_acct_mgmt},
                 {"pam_open_session", pam_open_session},
                 {"pam_close_session", pam_close_session}};
    for (const auto& step : steps) {
        rc = step.call(pamh, 0);
        std::printf("%-18s %s\n", step.name, pam_strerror(pamh, rc));
        std::fflush(stdout);
        if (rc != PAM_SUCCESS) break;
    }
    pam_end(pamh, rc);
    return rc == PAM_SUCCESS ? 0 : 1;
}
