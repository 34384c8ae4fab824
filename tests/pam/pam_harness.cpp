// SPDX-License-Identifier: ISC
#include "tests/pam/pam_harness.hpp"

#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "tests/support/files.hpp"

namespace bg::test {
namespace {

extern "C" int scripted_conversation(int count, const pam_message** messages, pam_response** responses,
                                     void* appdata) {
    auto* c = static_cast<Conversation*>(appdata);
    for (int i = 0; i < count; ++i) c->shown.push_back({messages[i]->msg_style, messages[i]->msg ? messages[i]->msg : ""});
    if (c->fault == Conversation::Fault::FailAll) return PAM_CONV_ERR;
    if (c->fault == Conversation::Fault::ResponsesAreNull) {
        *responses = nullptr;
        return PAM_SUCCESS;
    }
    auto* out = static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(count), sizeof(pam_response)));
    if (out == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        const int style = messages[i]->msg_style;
        if (style != PAM_PROMPT_ECHO_ON && style != PAM_PROMPT_ECHO_OFF) continue;
        if (c->fault == Conversation::Fault::AnswerIsNull) continue;
        if (c->next >= c->answers.size()) {
            for (int k = 0; k < i; ++k) std::free(out[k].resp);
            std::free(out);
            return PAM_CONV_ERR;  // more questions than the script has answers
        }
        const std::string& answer = c->answers[c->next++];
        // Copy every byte, NULs included, as a hostile application could.
        auto* text = static_cast<char*>(std::malloc(answer.size() + 1));
        if (text == nullptr) return PAM_BUF_ERR;
        std::memcpy(text, answer.data(), answer.size());
        text[answer.size()] = '\0';
        out[i].resp = text;
    }
    *responses = out;
    return PAM_SUCCESS;
}

}  // namespace

const char* entry_name(Entry e) {
    switch (e) {
        case Entry::Authenticate: return "Authenticate";
        case Entry::AcctMgmt: return "AcctMgmt";
        case Entry::OpenSession: return "OpenSession";
        case Entry::CloseSession: return "CloseSession";
    }
    return "?";
}

const char* entry_type(Entry e) {
    switch (e) {
        case Entry::Authenticate: return "auth";
        case Entry::AcctMgmt: return "account";
        case Entry::OpenSession:
        case Entry::CloseSession: return "session";
    }
    return "?";
}

std::vector<Shown> Conversation::prompts() const {
    std::vector<Shown> out;
    for (const auto& s : shown)
        if (s.style == PAM_PROMPT_ECHO_ON || s.style == PAM_PROMPT_ECHO_OFF) out.push_back(s);
    return out;
}

std::vector<std::string> Conversation::texts(int style) const {
    std::vector<std::string> out;
    for (const auto& s : shown)
        if (s.style == style) out.push_back(s.text);
    return out;
}

std::string Conversation::all_text() const {
    std::string out;
    for (const auto& s : shown) out += s.text + "\n";
    return out;
}

int run_pam(const std::string& confdir, const std::string& service, const std::string& user, Entry entry,
            Conversation& conversation, const PamItems& items) {
    const pam_conv conv{scripted_conversation, &conversation};
    pam_handle_t* pamh = nullptr;
    int rc = pam_start_confdir(service.c_str(), user.c_str(), &conv, confdir.c_str(), &pamh);
    if (rc != PAM_SUCCESS) return rc;
    if (!items.tty.empty()) (void)pam_set_item(pamh, PAM_TTY, items.tty.c_str());
    if (!items.rhost.empty()) (void)pam_set_item(pamh, PAM_RHOST, items.rhost.c_str());
    if (!items.ruser.empty()) (void)pam_set_item(pamh, PAM_RUSER, items.ruser.c_str());
    switch (entry) {
        case Entry::Authenticate: rc = pam_authenticate(pamh, 0); break;
        case Entry::AcctMgmt: rc = pam_acct_mgmt(pamh, 0); break;
        case Entry::OpenSession: rc = pam_open_session(pamh, 0); break;
        case Entry::CloseSession: rc = pam_close_session(pamh, 0); break;
    }
    pam_end(pamh, rc);
    return rc;
}

int run_pam_login(const std::string& confdir, const std::string& service, const std::string& user,
                  Conversation& conversation, const std::function<void()>& in_session, const PamItems& items) {
    const pam_conv conv{scripted_conversation, &conversation};
    pam_handle_t* pamh = nullptr;
    int rc = pam_start_confdir(service.c_str(), user.c_str(), &conv, confdir.c_str(), &pamh);
    if (rc != PAM_SUCCESS) return rc;
    if (!items.tty.empty()) (void)pam_set_item(pamh, PAM_TTY, items.tty.c_str());
    if (!items.rhost.empty()) (void)pam_set_item(pamh, PAM_RHOST, items.rhost.c_str());
    if (!items.ruser.empty()) (void)pam_set_item(pamh, PAM_RUSER, items.ruser.c_str());
    rc = pam_authenticate(pamh, 0);
    if (rc == PAM_SUCCESS) rc = pam_acct_mgmt(pamh, 0);
    if (rc == PAM_SUCCESS) rc = pam_open_session(pamh, 0);
    if (rc == PAM_SUCCESS) {
        in_session();
        rc = pam_close_session(pamh, 0);
    }
    pam_end(pamh, rc);
    return rc;
}

void write_service(const std::string& confdir, const std::string& service, const std::vector<std::string>& lines) {
    std::string text = "#%PAM-1.0\n";
    for (const auto& l : lines) text += l + "\n";
    write_file(confdir + "/" + service, text, 0644);
}

}  // namespace bg::test
