// SPDX-License-Identifier: ISC
// Driving a real PAM stack from a test: a service file in a temporary
// directory loaded with pam_start_confdir, and a scripted conversation that
// answers prompts in order and records everything it was shown.
#pragma once

#include <security/pam_appl.h>

#include <functional>

#include <string>
#include <vector>

namespace bg::test {

// The build-tree module, by absolute path.
inline const std::string kModulePath = BG_PAM_MODULE_PATH;

enum class Entry { Authenticate, AcctMgmt, OpenSession, CloseSession };
const char* entry_name(Entry e);
const char* entry_type(Entry e);  // "auth", "account", "session"

struct Shown {
    int style = 0;  // PAM_PROMPT_ECHO_ON, PAM_PROMPT_ECHO_OFF, PAM_TEXT_INFO, PAM_ERROR_MSG
    std::string text;
};

struct Conversation {
    enum class Fault {
        None,
        FailAll,           // every call returns PAM_CONV_ERR
        AnswerIsNull,      // PAM_SUCCESS with a response whose resp is NULL
        ResponsesAreNull,  // PAM_SUCCESS with no response array at all
    };
    std::vector<std::string> answers;  // one per prompt; copied in full (an embedded NUL ends the C string)
    Fault fault = Fault::None;
    std::vector<Shown> shown;  // every message, in order (also when failing)
    std::size_t next = 0;

    std::vector<Shown> prompts() const;
    std::vector<std::string> texts(int style) const;
    std::string all_text() const;
};

struct PamItems {
    std::string tty = "pts/7";
    std::string rhost;
    std::string ruser = {};  // PAM_RUSER, "" = not set
};

// Runs one entry point (pam_authenticate, …) of `service` in `confdir` for
// `user`, then pam_end. Returns the entry point's return code, or the
// pam_start_confdir failure.
int run_pam(const std::string& confdir, const std::string& service, const std::string& user, Entry entry,
            Conversation& conversation, const PamItems& items = {});

// A login as login(1) or sshd runs one: pam_authenticate, pam_acct_mgmt,
// pam_open_session on one handle, then `in_session` (which starts the user's
// command, with the handle still open), then pam_close_session and pam_end.
// Returns the first entry point's code that is not PAM_SUCCESS (in_session is
// then not called), or PAM_SUCCESS.
int run_pam_login(const std::string& confdir, const std::string& service, const std::string& user,
                  Conversation& conversation, const std::function<void()>& in_session, const PamItems& items = {});

// Writes `confdir/service`: one line per element.
void write_service(const std::string& confdir, const std::string& service, const std::vector<std::string>& lines);

}  // namespace bg::test
