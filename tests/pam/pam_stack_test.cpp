// SPDX-License-Identifier: ISC
// pam_breakglass.so through real libpam: a service file in a temporary
// directory (pam_start_confdir) that loads the build-tree module by absolute
// path, a real breakglassd from the test fixture, and a scripted conversation.
//
// The matrix: every entry point × every situation × control flag, each cell a
// test of its own asserting the exact return code libpam gives for the whole
// stack. The module alone must return what man/pam_breakglass.8 says; in a
// stack, the expected code is not computed here but asked of libpam itself:
// the same stack with pam_debug.so (returning the documented code) in the
// module's place. So the test never re-implements PAM's stacking rules.
#include <gtest/gtest.h>

#include <security/pam_appl.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

#include "common/transport.hpp"
#include "tests/pam/pam_harness.hpp"
#include "tests/pam/pam_test_policy.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/files.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/private_mounts.hpp"
#include "tests/support/process.hpp"
#include "tests/support/silent_listener.hpp"
#include "tests/support/test_daemon.hpp"

namespace bg::test {
namespace {

using namespace std::chrono_literals;

enum class Situation {
    NoGrant,              // nothing active; the user answers with a good code
    ActiveGrant,          // a grant is already active
    ExpiredGrant,         // a grant existed and has expired; the user answers with a fresh code
    WrongFactor,          // nothing active; the code is wrong (auth) / an earlier attempt failed
    ReplayedFactor,       // a grant was taken and revoked; its code is offered again
    PolicyDeny,           // the user is not a requester of the gate
    DaemonDown,           // breakglassd was stopped; its socket file remains
    BadArgument,          // the service line has an unknown module argument
    ConversationAborted,  // nothing active; the application's conversation fails
};
// Alone: the module is the stack's only line (its own code is the stack's);
// the others: the module, then pam_permit (required, requisite) or pam_deny
// (sufficient) as the next line of the same type.
enum class Control { Alone, Required, Requisite, Sufficient };

const char* situation_name(Situation s) {
    switch (s) {
        case Situation::NoGrant: return "NoGrant";
        case Situation::ActiveGrant: return "ActiveGrant";
        case Situation::ExpiredGrant: return "ExpiredGrant";
        case Situation::WrongFactor: return "WrongFactor";
        case Situation::ReplayedFactor: return "ReplayedFactor";
        case Situation::PolicyDeny: return "PolicyDeny";
        case Situation::DaemonDown: return "DaemonDown";
        case Situation::BadArgument: return "BadArgument";
        case Situation::ConversationAborted: return "ConversationAborted";
    }
    return "?";
}
const char* control_name(Control c) {
    switch (c) {
        case Control::Alone: return "required";
        case Control::Required: return "required";
        case Control::Requisite: return "requisite";
        case Control::Sufficient: return "sufficient";
    }
    return "?";
}

// What pam_breakglass.so itself returns: the table of man/pam_breakglass.8.
int module_code(Entry e, Situation s) {
    if (s == Situation::BadArgument) return PAM_SERVICE_ERR;
    switch (e) {
        case Entry::Authenticate:
            switch (s) {
                case Situation::NoGrant:
                case Situation::ActiveGrant:
                case Situation::ExpiredGrant: return PAM_SUCCESS;
                case Situation::WrongFactor:
                case Situation::ReplayedFactor: return PAM_AUTH_ERR;
                case Situation::PolicyDeny: return PAM_PERM_DENIED;
                case Situation::DaemonDown: return PAM_AUTHINFO_UNAVAIL;
                case Situation::ConversationAborted: return PAM_CONV_ERR;
                case Situation::BadArgument: break;
            }
            break;
        case Entry::AcctMgmt:
            if (s == Situation::ActiveGrant) return PAM_SUCCESS;
            if (s == Situation::DaemonDown) return PAM_AUTHINFO_UNAVAIL;
            return PAM_PERM_DENIED;
        case Entry::OpenSession: return s == Situation::ActiveGrant ? PAM_SUCCESS : PAM_SESSION_ERR;
        case Entry::CloseSession: return PAM_SUCCESS;
    }
    return -1;
}

// pam_debug.so's argument for `e` returning `code` ("auth=perm_denied"):
// libpam's own names of the return codes (pam_tokens.h), indexed by value.
std::string pam_debug_argument(Entry e, int code) {
    static const char* const kNames[] = {
        "success",       "open_err",          "symbol_err",         "service_err",          "system_err",
        "buf_err",       "perm_denied",       "auth_err",           "cred_insufficient",    "authinfo_unavail",
        "user_unknown",  "maxtries",          "new_authtok_reqd",   "acct_expired",         "session_err",
        "cred_unavail",  "cred_expired",      "cred_err",           "no_module_data",       "conv_err",
        "authtok_err",   "authtok_recover_err", "authtok_lock_busy", "authtok_disable_aging", "try_again",
        "ignore",        "abort",             "authtok_expired",    "module_unknown",       "bad_item",
        "conv_again",    "incomplete"};
    const char* event = "";
    switch (e) {
        case Entry::Authenticate: event = "auth"; break;
        case Entry::AcctMgmt: event = "acct"; break;
        case Entry::OpenSession: event = "open_session"; break;
        case Entry::CloseSession: event = "close_session"; break;
    }
    if (code < 0 || static_cast<std::size_t>(code) >= std::size(kNames)) throw std::out_of_range("PAM return code");
    return std::string(event) + "=" + kNames[code];
}

std::string follower_of(Control c) { return c == Control::Sufficient ? "pam_deny.so" : "pam_permit.so"; }

// The stack's lines for entry `e` and control `c`; `module` is the first
// line's module path and arguments.
std::vector<std::string> stack_lines(Entry e, Control c, const std::string& module) {
    std::vector<std::string> lines = {std::string(entry_type(e)) + " " + control_name(c) + " " + module};
    if (c != Control::Alone) lines.push_back(std::string(entry_type(e)) + " required " + follower_of(c));
    return lines;
}

// What libpam returns for the same stack with pam_debug.so returning
// `module_code` in pam_breakglass.so's place.
int libpam_reference(const std::string& confdir, Entry e, Control c, int module_code) {
    write_service(confdir, "bg-pam-reference", stack_lines(e, c, "pam_debug.so " + pam_debug_argument(e, module_code)));
    Conversation ignored;
    return run_pam(confdir, "bg-pam-reference", kRequester, e, ignored);
}

struct Cell {
    Entry entry;
    Situation situation;
    Control control;
};

void PrintTo(const Cell& c, std::ostream* os) {
    *os << entry_name(c.entry) << " / " << situation_name(c.situation) << " / " << control_name(c.control);
}

std::vector<Cell> all_cells() {
    std::vector<Cell> out;
    for (Entry e : {Entry::Authenticate, Entry::AcctMgmt, Entry::OpenSession, Entry::CloseSession})
        for (Situation s : {Situation::NoGrant, Situation::ActiveGrant, Situation::ExpiredGrant, Situation::WrongFactor,
                            Situation::ReplayedFactor, Situation::PolicyDeny, Situation::DaemonDown,
                            Situation::BadArgument, Situation::ConversationAborted})
            for (Control c : {Control::Alone, Control::Required, Control::Requisite, Control::Sufficient})
                out.push_back({e, s, c});
    return out;
}

std::string cell_name(const ::testing::TestParamInfo<Cell>& info) {
    return std::string(entry_name(info.param.entry)) + "_" + situation_name(info.param.situation) + "_" +
           (info.param.control == Control::Alone ? "alone" : control_name(info.param.control));
}

class PamMatrix : public ::testing::TestWithParam<Cell> {
protected:
    void TearDown() override {
        if (HasFailure() && daemon_) std::fprintf(stderr, "daemon log:\n%s\n", daemon_->log().c_str());
    }
    std::unique_ptr<TestDaemon> daemon_;
};

TEST_P(PamMatrix, ExactReturnCode) {
    const Cell cell = GetParam();
    daemon_ = std::make_unique<TestDaemon>(kPamTestPolicy);
    TestDaemon& d = *daemon_;
    const std::string user = cell.situation == Situation::PolicyDeny ? kOutsider : kRequester;
    const auto secret = d.enroll_totp(user);
    const std::uint64_t step = totp_step_now();

    // The situation, set up through the protocol as root.
    std::string good_code = totp_code(secret, step);
    std::int64_t expired_at = 0;
    switch (cell.situation) {
        case Situation::ActiveGrant:
            ASSERT_TRUE(std::holds_alternative<proto::Granted>(d.grant(user, kGate, good_code)));
            break;
        case Situation::ExpiredGrant: {
            const auto g = d.grant(user, kGate, good_code, 1);
            ASSERT_TRUE(std::holds_alternative<proto::Granted>(g));
            expired_at = std::get<proto::Granted>(g).expires_at;
            good_code = totp_code(secret, step + 1);  // the next step: the first one is spent
            break;
        }
        case Situation::WrongFactor:
            if (cell.entry != Entry::Authenticate) {  // an earlier, failed attempt
                ASSERT_TRUE(std::holds_alternative<proto::ErrorAnswer>(d.grant(user, kGate, wrong_totp_code(secret))));
            }
            good_code = wrong_totp_code(secret);
            break;
        case Situation::ReplayedFactor: {
            const auto g = d.grant(user, kGate, good_code);
            ASSERT_TRUE(std::holds_alternative<proto::Granted>(g));
            d.revoke(std::get<proto::Granted>(g).event_id);
            break;  // good_code is now a used one
        }
        default: break;
    }

    std::string args = std::string("gate=") + kGate + " socket=" + d.socket();
    if (cell.situation == Situation::BadArgument) args += " frobnicate";
    write_service(d.dir(), "bg-pam-test", stack_lines(cell.entry, cell.control, kModulePath + " " + args));

    if (cell.situation == Situation::ExpiredGrant) {
        // The grant ends at expires_at; its expire record follows from the daemon's timer.
        ASSERT_TRUE(eventually([&] { return !d.active(user, kGate); }, 10s)) << "still active past " << expired_at;
    }
    if (cell.situation == Situation::DaemonDown) d.stop();
    const std::size_t records_before = cell.situation == Situation::DaemonDown ? 0 : d.audit().size();

    Conversation conv;
    conv.answers = {"database primary down, failover stuck", "INC-4242", good_code};
    if (cell.situation == Situation::ConversationAborted) conv.fault = Conversation::Fault::FailAll;
    const int rc = run_pam(d.dir(), "bg-pam-test", user, cell.entry, conv);

    const int expected_module = module_code(cell.entry, cell.situation);
    const int expected = cell.control == Control::Alone ? expected_module
                                                        : libpam_reference(d.dir(), cell.entry, cell.control, expected_module);
    EXPECT_EQ(rc, expected) << "got " << pam_strerror(nullptr, rc) << ", expected " << pam_strerror(nullptr, expected)
                            << (cell.control == Control::Alone ? " (man/pam_breakglass.8)" : " (libpam, pam_debug.so in its place)")
                            << "\nshown:\n" << conv.all_text();
    // The point of the gate: where the break-glass did not succeed, neither does the stack.
    if (expected_module != PAM_SUCCESS) {
        EXPECT_NE(rc, PAM_SUCCESS);
    }
    EXPECT_NE(rc, PAM_IGNORE);

    // What the user saw.
    const bool prompted = cell.entry == Entry::Authenticate &&
                          (cell.situation == Situation::NoGrant || cell.situation == Situation::ExpiredGrant ||
                           cell.situation == Situation::WrongFactor || cell.situation == Situation::ReplayedFactor ||
                           cell.situation == Situation::PolicyDeny);
    if (prompted) {
        const auto p = conv.prompts();
        ASSERT_EQ(p.size(), 3u) << conv.all_text();
        EXPECT_EQ(p[0].style, PAM_PROMPT_ECHO_ON);
        EXPECT_EQ(p[1].style, PAM_PROMPT_ECHO_ON);
        EXPECT_EQ(p[2].style, PAM_PROMPT_ECHO_OFF);
        EXPECT_NE(p[2].text.find("One-time code"), std::string::npos);
        ASSERT_FALSE(conv.texts(PAM_TEXT_INFO).empty());
        EXPECT_NE(conv.texts(PAM_TEXT_INFO).front().find("BREAK-GLASS: gate 'pam-test'"), std::string::npos);
    } else if (cell.entry == Entry::Authenticate && cell.situation != Situation::ConversationAborted) {
        EXPECT_TRUE(conv.prompts().empty()) << conv.all_text();
    }
    if (cell.situation == Situation::ActiveGrant || cell.situation == Situation::BadArgument ||
        cell.entry == Entry::CloseSession) {
        EXPECT_TRUE(conv.shown.empty()) << "nothing to say:\n" << conv.all_text();
    }
    if (expected_module != PAM_SUCCESS && cell.situation != Situation::BadArgument &&
        cell.entry != Entry::CloseSession) {
        EXPECT_FALSE(conv.texts(PAM_ERROR_MSG).empty()) << "a refusal is explained:\n" << conv.all_text();
    }
    if (cell.situation == Situation::DaemonDown && cell.entry != Entry::CloseSession) {
        EXPECT_NE(conv.all_text().find("nothing was granted"), std::string::npos) << conv.all_text();
    }

    // What the daemon holds afterwards.
    if (cell.situation == Situation::DaemonDown) return;
    const bool should_be_active = cell.situation == Situation::ActiveGrant ||
                                  (cell.entry == Entry::Authenticate && expected_module == PAM_SUCCESS);
    EXPECT_EQ(d.active(user, kGate), should_be_active);
    if (cell.situation == Situation::BadArgument) {
        EXPECT_EQ(d.audit().size(), records_before) << "a misconfigured module sends nothing";
    }
    EXPECT_TRUE(d.running());
}

INSTANTIATE_TEST_SUITE_P(EntryBySituationByControl, PamMatrix, ::testing::ValuesIn(all_cells()), cell_name);

// ---- beyond the matrix

class PamStack : public ::testing::Test {
protected:
    void SetUp() override {
        daemon_ = std::make_unique<TestDaemon>(kPamTestPolicy);
        secret_ = daemon_->enroll_totp(kRequester);
        write_service(daemon_->dir(), "bg-pam-test",
                      {"auth required " + kModulePath + " gate=" + kGate + " socket=" + daemon_->socket(),
                       "account required " + kModulePath + " gate=" + kGate + " socket=" + daemon_->socket(),
                       "session required " + kModulePath + " gate=" + kGate + " socket=" + daemon_->socket()});
    }
    void TearDown() override {
        // No daemon when SetUp's start threw (it says why itself).
        if (HasFailure() && daemon_) std::fprintf(stderr, "daemon log:\n%s\n", daemon_->log().c_str());
    }
    int authenticate(Conversation& conv, const PamItems& items = {}) {
        return run_pam(daemon_->dir(), "bg-pam-test", kRequester, Entry::Authenticate, conv, items);
    }
    std::string code() const { return totp_code_now(secret_); }

    std::unique_ptr<TestDaemon> daemon_;
    std::vector<unsigned char> secret_;
};

TEST_F(PamStack, GrantRecordCarriesWhatTheUserTypedAndWhereFrom) {
    Conversation conv;
    conv.answers = {"db primary down, failover stuck", "INC-77", code()};
    ASSERT_EQ(authenticate(conv, {"pts/3", "bastion.example"}), PAM_SUCCESS) << conv.all_text();
    const auto grants = daemon_->audit().records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0]["actor"], kRequester);
    EXPECT_EQ(grants[0]["gate_bypassed"], kGate);
    EXPECT_EQ(grants[0]["reason"], "db primary down, failover stuck");
    EXPECT_EQ(grants[0]["incident_ref"], "INC-77");
    EXPECT_EQ(grants[0]["source"], "pts/3 from bastion.example");
    // The actor and the account entered: PAM_USER in a program running as
    // itself (this test runs as root, as sshd does); the service is the action.
    EXPECT_EQ(grants[0]["target"], kRequester);
    EXPECT_EQ(grants[0]["action"], "pam:bg-pam-test");
    EXPECT_EQ(grants[0]["peer_uid"], 0);
    // The grant's id and expiry (UTC) are shown.
    const auto infos = conv.texts(PAM_TEXT_INFO);
    ASSERT_EQ(infos.size(), 2u);
    EXPECT_NE(infos[1].find(grants[0]["event_id"].get<std::string>()), std::string::npos) << infos[1];
    EXPECT_NE(infos[1].find("(UTC)"), std::string::npos) << infos[1];
    // The code never reaches the log.
    EXPECT_EQ(daemon_->audit().text().find(conv.answers[2]), std::string::npos);

    // The second authentication takes the fast path: no prompts, no new record.
    const std::size_t before = daemon_->audit().size();
    Conversation again;
    EXPECT_EQ(authenticate(again), PAM_SUCCESS);
    EXPECT_TRUE(again.shown.empty());
    EXPECT_EQ(daemon_->audit().size(), before);
}

// Descriptor number -> what it points at, from /proc/PID/fd.
std::map<int, std::string> descriptors_of(pid_t pid) {
    std::map<int, std::string> fds;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        std::error_code link_ec;
        const auto target = std::filesystem::read_symlink(e.path(), link_ec);
        if (link_ec) continue;  // the iterator's own descriptor, already closed
        fds[std::stoi(e.path().filename().string())] = target.string();
    }
    return fds;
}

// The descriptors a child of this process would inherit: those without FD_CLOEXEC.
std::map<int, std::string> inheritable_descriptors() {
    std::map<int, std::string> fds = descriptors_of(::getpid());
    std::erase_if(fds, [](const auto& fd) {
        const int flags = ::fcntl(fd.first, F_GETFD);
        return flags < 0 || (flags & FD_CLOEXEC) != 0;
    });
    return fds;
}

// Issue 16, item 5: a session opened through the module inherits no
// descriptor of it. As login(1) does, the application keeps the PAM handle
// open and runs the user's command (here sleep) without closing anything
// itself: the command's /proc/PID/fd holds only what this process had open
// without close-on-exec before PAM started, and after pam_end the process
// holds no descriptor it did not hold before (the module's connections are
// closed, not only close-on-exec).
TEST_F(PamStack, Issue16Item5ASessionInheritsNoDescriptorOfTheModule) {
    const std::map<int, std::string> before = descriptors_of(::getpid());
    const std::map<int, std::string> inheritable = inheritable_descriptors();
    for (const bool granted_before : {false, true}) {
        SCOPED_TRACE(granted_before ? "under the grant (fast path)" : "breaking the glass");
        Conversation conv;
        if (!granted_before) conv.answers = {"disk full on db-3", "INC-9", code()};
        std::map<int, std::string> command_fds;
        bool command_ran = false;
        const int rc = run_pam_login(daemon_->dir(), "bg-pam-test", kRequester, conv, [&] {
            const pid_t child = ::fork();
            if (child == 0) {
                ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
                ::_exit(127);
            }
            ASSERT_GT(child, 0);
            // The command is running once its executable is sleep and it is
            // asleep: before that, sleep's own start-up (setlocale) may hold a
            // locale file open for a moment, which is not inherited.
            command_ran = eventually(
                [&] {
                    const std::string proc = "/proc/" + std::to_string(child);
                    std::error_code ec;
                    if (std::filesystem::read_symlink(proc + "/exe", ec).filename() != "sleep") return false;
                    std::ifstream stat(proc + "/stat");
                    std::string line;
                    std::getline(stat, line);
                    const auto paren = line.rfind(')');
                    return paren != std::string::npos && line.size() > paren + 2 && line[paren + 2] == 'S';
                },
                std::chrono::seconds(10));
            command_fds = descriptors_of(child);
            ::kill(child, SIGKILL);
            int status = 0;
            ::waitpid(child, &status, 0);
        });
        ASSERT_EQ(rc, PAM_SUCCESS) << conv.all_text();
        ASSERT_TRUE(command_ran);
        EXPECT_FALSE(command_fds.empty());
        for (const auto& [fd, target] : command_fds) {
            const auto it = inheritable.find(fd);
            EXPECT_TRUE(it != inheritable.end() && it->second == target)
                << "the session's command inherited descriptor " << fd << " -> " << target;
        }
        std::map<int, std::string> after = descriptors_of(::getpid());
        for (const auto& [fd, target] : after) {
            const auto it = before.find(fd);
            EXPECT_TRUE(it != before.end() && it->second == target)
                << "the module left descriptor " << fd << " -> " << target << " open in the application";
        }
    }
    EXPECT_EQ(daemon_->audit().records_of("grant").size(), 1u);
}

TEST_F(PamStack, FullLifecycleAuthAccountSession) {
    Conversation conv;
    conv.answers = {"disk full on db-3", "INC-9", code()};
    ASSERT_EQ(authenticate(conv), PAM_SUCCESS);
    Conversation quiet;
    EXPECT_EQ(run_pam(daemon_->dir(), "bg-pam-test", kRequester, Entry::AcctMgmt, quiet), PAM_SUCCESS);
    EXPECT_EQ(run_pam(daemon_->dir(), "bg-pam-test", kRequester, Entry::OpenSession, quiet), PAM_SUCCESS)
        << quiet.all_text();
    EXPECT_EQ(run_pam(daemon_->dir(), "bg-pam-test", kRequester, Entry::CloseSession, quiet), PAM_SUCCESS);
    EXPECT_TRUE(quiet.shown.empty()) << quiet.all_text();
    const auto opened = daemon_->audit().records_of("session_open");
    const auto closed = daemon_->audit().records_of("session_close");
    ASSERT_EQ(opened.size(), 1u);
    ASSERT_EQ(closed.size(), 1u);
    EXPECT_EQ(opened[0]["actor"], kRequester);
}

// Hostile answers are refused before anything reaches the daemon: the audit
// log gets no new record, the user is told why, nothing raw reaches the screen.
TEST_F(PamStack, HostileAnswersAreRefusedBeforeAnythingIsSent) {
    struct Case {
        const char* name;
        std::vector<std::string> answers;
        std::size_t prompts;  // questions asked before the refusal
        const char* message;
    };
    const std::string good_reason = "db down";
    const std::vector<Case> cases = {
        {"reason too long", {std::string(1025, 'r')}, 1, "longer than 1024"},
        {"reason of a megabyte", {std::string(1 << 20, 'r')}, 1, "longer than 1024"},
        {"reason empty", {""}, 1, "is empty"},
        {"reason with escape sequence", {"a\x1b[2Jb"}, 1, "control character"},
        {"reason with newline", {"line one\nline two"}, 1, "control character"},
        {"reason with C1 control", {"a\xc2\x9b" "b"}, 1, "control character"},
        {"reason invalid UTF-8", {"bad \xff\xfe byte"}, 1, "UTF-8"},
        {"reason overlong UTF-8", {"\xc0\xaf"}, 1, "UTF-8"},
        {"incident too long", {good_reason, "INC-" + std::string(125, '1')}, 2, "longer than 128"},
        {"incident with tab", {good_reason, "INC-1\t"}, 2, "control character"},
        {"code too long", {good_reason, "INC-1", std::string(65, '1')}, 3, "longer than 64"},
        {"code with space", {good_reason, "INC-1", "123 456"}, 3, "printable ASCII"},
        {"code non-ASCII digits", {good_reason, "INC-1", "\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93"}, 3, "printable ASCII"},
        {"code empty", {good_reason, "INC-1", ""}, 3, "is empty"},
        {"code with escape", {good_reason, "INC-1", "\x1b]0;pwned\x07"}, 3, "printable ASCII"},
    };
    for (const Case& c : cases) {
        const std::size_t before = daemon_->audit().size();
        Conversation conv;
        conv.answers = c.answers;
        EXPECT_EQ(authenticate(conv), PAM_AUTH_ERR) << c.name;
        EXPECT_EQ(conv.prompts().size(), c.prompts) << c.name << ": no question after a bad answer";
        const auto errors = conv.texts(PAM_ERROR_MSG);
        ASSERT_EQ(errors.size(), 1u) << c.name;
        EXPECT_NE(errors[0].find(c.message), std::string::npos) << c.name << ": " << errors[0];
        for (const auto& s : conv.shown) {
            EXPECT_EQ(s.text.find('\x1b'), std::string::npos) << c.name;
            EXPECT_LE(s.text.size(), 511u) << c.name;
        }
        EXPECT_EQ(daemon_->audit().size(), before) << c.name << ": nothing was sent";
        EXPECT_TRUE(daemon_->running()) << c.name;
    }
    EXPECT_FALSE(daemon_->active(kRequester, kGate));
}

// A PAM response is a C string: bytes after an embedded NUL never reach the
// module, so what is recorded is exactly the part before it.
TEST_F(PamStack, BytesAfterAnEmbeddedNulNeverArrive) {
    Conversation conv;
    conv.answers = {std::string("db down\0\x1b[2J tail", 17), std::string("INC-5\0garbage", 13), code()};
    ASSERT_EQ(authenticate(conv), PAM_SUCCESS) << conv.all_text();
    const auto grants = daemon_->audit().records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0]["reason"], "db down");
    EXPECT_EQ(grants[0]["incident_ref"], "INC-5");
}

TEST_F(PamStack, BrokenConversationsEndInConvErr) {
    for (const auto fault : {Conversation::Fault::FailAll, Conversation::Fault::AnswerIsNull,
                             Conversation::Fault::ResponsesAreNull}) {
        const std::size_t before = daemon_->audit().size();
        Conversation conv;
        conv.answers = {"r", "INC-1", code()};
        conv.fault = fault;
        EXPECT_EQ(authenticate(conv), PAM_CONV_ERR) << static_cast<int>(fault);
        EXPECT_EQ(daemon_->audit().size(), before);
    }
    // Too few answers: the application ends the conversation at the code.
    Conversation short_script;
    short_script.answers = {"r", "INC-1"};
    EXPECT_EQ(authenticate(short_script), PAM_CONV_ERR);
    EXPECT_FALSE(daemon_->active(kRequester, kGate));
}

// Refusals from the daemon are shown as the daemon gave them, escaped again:
// the daemon quotes the incident escaped (a backslash doubled), and the module
// escapes the daemon's whole message once more before showing it.
TEST_F(PamStack, DaemonRefusalIsShownEscaped) {
    Conversation conv;
    conv.answers = {"r", "JIRA\\1", code()};  // valid text (JIRA\1), but not the gate's incident pattern
    EXPECT_EQ(authenticate(conv), PAM_PERM_DENIED);
    const auto errors = conv.texts(PAM_ERROR_MSG);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("denied"), std::string::npos) << errors[0];
    EXPECT_NE(errors[0].find("INC-[0-9]+"), std::string::npos) << errors[0];
    EXPECT_NE(errors[0].find("'JIRA\\\\\\\\1'"), std::string::npos) << "four backslashes: " << errors[0];
    EXPECT_EQ(daemon_->audit().records_of("deny").size(), 1u);
}

// Three wrong codes, then the right one is refused as rate limited: PAM_AUTH_ERR throughout.
TEST_F(PamStack, RateLimitedIsAnAuthError) {
    for (int i = 0; i < 3; ++i) {
        Conversation conv;
        conv.answers = {"r", "INC-1", wrong_totp_code(secret_)};
        EXPECT_EQ(authenticate(conv), PAM_AUTH_ERR);
    }
    Conversation conv;
    conv.answers = {"r", "INC-1", code()};
    EXPECT_EQ(authenticate(conv), PAM_AUTH_ERR);
    EXPECT_NE(conv.all_text().find("try again"), std::string::npos) << conv.all_text();
    EXPECT_FALSE(daemon_->active(kRequester, kGate));
}

TEST_F(PamStack, MissingGateArgumentIsAServiceError) {
    for (const std::string& args : {std::string(""), std::string("socket=") + daemon_->socket(),
                                    std::string("gate=") + kGate + " gate=other", std::string("gate=-x"),
                                    std::string("gate=") + kGate + " socket=relative/path"}) {
        write_service(daemon_->dir(), "bg-pam-bad", {"auth sufficient " + kModulePath + " " + args, "auth required pam_deny.so"});
        Conversation conv;
        EXPECT_EQ(run_pam(daemon_->dir(), "bg-pam-bad", kRequester, Entry::Authenticate, conv), PAM_AUTH_ERR) << args;
        write_service(daemon_->dir(), "bg-pam-bad", {"auth required " + kModulePath + " " + args});
        EXPECT_EQ(run_pam(daemon_->dir(), "bg-pam-bad", kRequester, Entry::Authenticate, conv), PAM_SERVICE_ERR) << args;
        EXPECT_TRUE(conv.shown.empty());
    }
}

TEST_F(PamStack, SetcredSucceedsAndChauthtokIsAServiceError) {
    write_service(daemon_->dir(), "bg-pam-cred",
                  {"auth required " + kModulePath + " gate=" + kGate + " socket=" + daemon_->socket(),
                   "password required " + kModulePath + " gate=" + kGate + " socket=" + daemon_->socket()});
    Conversation conv;
    const pam_conv c{nullptr, &conv};
    pam_handle_t* pamh = nullptr;
    ASSERT_EQ(pam_start_confdir("bg-pam-cred", kRequester, &c, daemon_->dir().c_str(), &pamh), PAM_SUCCESS);
    EXPECT_EQ(pam_setcred(pamh, PAM_ESTABLISH_CRED), PAM_SUCCESS);
    EXPECT_EQ(pam_chauthtok(pamh, 0), PAM_SERVICE_ERR);
    pam_end(pamh, PAM_SUCCESS);
}

TEST_F(PamStack, UnknownUserNameIsRefusedWithoutPrompting) {
    Conversation conv;
    EXPECT_EQ(run_pam(daemon_->dir(), "bg-pam-test", "bad\x1b" "name", Entry::Authenticate, conv), PAM_USER_UNKNOWN);
    EXPECT_TRUE(conv.prompts().empty());
}

// The test policy binds kGate to PAM service "bg-pam-test" (pam_service). A
// pam_breakglass line naming the gate in another service is refused by the
// daemon, with a deny record; without pam_service any service may open it.
TEST(PamServiceBinding, AnotherServiceMayNotOpenABoundGate) {
    TestDaemon d(kPamTestPolicy);
    const auto secret = d.enroll_totp(kRequester);
    write_service(d.dir(), "bg-pam-other",
                  {"auth required " + kModulePath + " gate=" + kGate + " socket=" + d.socket()});
    Conversation conv;
    conv.answers = {"db down", "INC-3", totp_code(secret, totp_step_now())};
    EXPECT_EQ(run_pam(d.dir(), "bg-pam-other", kRequester, Entry::Authenticate, conv), PAM_PERM_DENIED)
        << conv.all_text();
    EXPECT_NE(conv.all_text().find("is bound to PAM service 'bg-pam-test'; service 'bg-pam-other' may not open it"),
              std::string::npos)
        << conv.all_text();
    const auto denies = d.audit().records_of("deny");
    ASSERT_EQ(denies.size(), 1u);
    EXPECT_EQ(denies[0]["action"], "pam:bg-pam-other");
    EXPECT_EQ(denies[0]["target"], kRequester);
    EXPECT_FALSE(d.active(kRequester, kGate));

    // The bound service itself opens it (the refusal above did not spend the code).
    write_service(d.dir(), "bg-pam-test", {"auth required " + kModulePath + " gate=" + kGate + " socket=" + d.socket()});
    Conversation bound;
    bound.answers = conv.answers;
    EXPECT_EQ(run_pam(d.dir(), "bg-pam-test", kRequester, Entry::Authenticate, bound), PAM_SUCCESS) << bound.all_text();
}

TEST(PamServiceBinding, AGateWithoutPamServiceOpensFromAnyService) {
    std::string policy = kPamTestPolicy;
    const std::string bound_line = "pam_service = \"bg-pam-test\"\n";
    ASSERT_NE(policy.find(bound_line), std::string::npos);
    policy.erase(policy.find(bound_line), bound_line.size());
    TestDaemon d(policy);
    const auto secret = d.enroll_totp(kRequester);
    write_service(d.dir(), "bg-pam-other",
                  {"auth required " + kModulePath + " gate=" + kGate + " socket=" + d.socket()});
    Conversation conv;
    conv.answers = {"db down", "INC-3", totp_code(secret, totp_step_now())};
    EXPECT_EQ(run_pam(d.dir(), "bg-pam-other", kRequester, Entry::Authenticate, conv), PAM_SUCCESS) << conv.all_text();
}

// A gate whose policy lists severities can be opened through PAM: the module
// asks for the severity (echoed, after the incident) and the daemon grants.
TEST(PamSeverity, AGateWithSeveritiesAsksForOneAndGrants) {
    TestDaemon d(std::string(kPamTestPolicy) + "severities = [\"sev1\", \"sev2\"]\n");  // kPamTestPolicy ends in [gate.pam-test]
    const auto secret = d.enroll_totp(kRequester);
    write_service(d.dir(), "bg-pam-test",
                  {"auth required " + kModulePath + " gate=" + kGate + " socket=" + d.socket()});
    Conversation wrong;
    wrong.answers = {"db down", "INC-3", "sev3", totp_code(secret, totp_step_now())};
    EXPECT_EQ(run_pam(d.dir(), "bg-pam-test", kRequester, Entry::Authenticate, wrong), PAM_AUTH_ERR) << wrong.all_text();
    EXPECT_EQ(wrong.prompts().size(), 3u) << wrong.all_text();
    EXPECT_NE(wrong.all_text().find("not one this gate accepts"), std::string::npos) << wrong.all_text();

    Conversation conv;
    conv.answers = {"db down", "INC-3", "sev1", totp_code(secret, totp_step_now())};
    EXPECT_EQ(run_pam(d.dir(), "bg-pam-test", kRequester, Entry::Authenticate, conv), PAM_SUCCESS) << conv.all_text();
    const auto p = conv.prompts();
    ASSERT_EQ(p.size(), 4u) << conv.all_text();
    EXPECT_EQ(p[2].style, PAM_PROMPT_ECHO_ON);
    EXPECT_EQ(p[2].text, "Incident severity (sev1, sev2): ");
    EXPECT_EQ(p[3].style, PAM_PROMPT_ECHO_OFF);
    const auto grants = d.audit().records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_NE(grants[0]["detail"].get<std::string>().find("severity sev1"), std::string::npos) << grants[0].dump();
}

// A daemon that accepts nothing (its listen queue is full) must not hang the
// login: the module gives up at the documented connect deadline (3 s) and
// refuses with AUTHINFO_UNAVAIL, saying so. Before connect() had a deadline
// this call never returned.
TEST(PamHungDaemon, AuthIsUnavailableAtTheConnectDeadline) {
    SilentListener listener(0);
    listener.fill_queue();
    write_service(listener.dir(), "bg-pam-test",
                  {"auth required " + kModulePath + " gate=" + kGate + " socket=" + listener.path()});
    Conversation conv;
    conv.answers = {"r", "INC-1", "123456"};
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(run_pam(listener.dir(), "bg-pam-test", kRequester, Entry::Authenticate, conv), PAM_AUTHINFO_UNAVAIL);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 2900ms);
    EXPECT_LT(took, 6s);
    EXPECT_TRUE(conv.prompts().empty()) << conv.all_text();
    const auto errors = conv.texts(PAM_ERROR_MSG);
    ASSERT_EQ(errors.size(), 1u) << conv.all_text();
    EXPECT_NE(errors[0].find("did not accept the connection within 3 s"), std::string::npos) << errors[0];
    EXPECT_NE(errors[0].find("nothing was granted"), std::string::npos) << errors[0];
}

// ---- the actor is the human who asks (issue 10, item 1)
//
// kRequester ("daemon") is A, whose account is entered; kOutsider ("nobody")
// is B, who asks. A su-like service is a set-user-ID-root program B runs: the
// PAM client here runs in a child with real uid B and effective uid 0
// (run_function_set_user_id), which is what the kernel shows of su. An
// sshd-like service runs as root throughout (real uid 0): PAM_USER, once the
// stack before the module has authenticated it, is the actor.

class PamActor : public ::testing::Test {
protected:
    // Both are requesters of the gate, each with a factor of their own: B is
    // an on-call colleague, not a stranger.
    static std::string policy() {
        std::string p = kPamTestPolicy;
        const std::string requesters = "requesters = [\"daemon\"]";
        p.replace(p.find(requesters), requesters.size(), "requesters = [\"daemon\", \"nobody\"]");
        return p;
    }
    void SetUp() override {
        daemon_ = std::make_unique<TestDaemon>(policy());
        secret_a_ = daemon_->enroll_totp(kA);
        secret_b_ = daemon_->enroll_totp(kB);
        const std::string module = kModulePath + " gate=" + kGate + " socket=" + daemon_->socket();
        // su as pam_breakglass(8) documents it: the break-glass or nothing.
        write_service(daemon_->dir(), kService,
                      {"auth sufficient " + module, "auth required pam_deny.so", "account required " + module,
                       "session required " + module});
    }
    void TearDown() override {
        if (HasFailure() && daemon_) std::fprintf(stderr, "daemon log:\n%s\n", daemon_->log().c_str());
    }
    // `invoker` runs the su-like service to enter `account`; the PAM code of
    // `entry`, answering with `answers` (none: a conversation that cannot answer).
    int su(const std::string& invoker, const std::string& account, Entry entry,
           const std::vector<std::string>& answers = {}, const PamItems& items = {}) {
        return run_function_set_user_id(invoker, [&] {
            Conversation conv;
            conv.answers = answers;
            return run_pam(daemon_->dir(), kService, account, entry, conv, items);
        });
    }
    static constexpr const char* kA = kRequester;
    static constexpr const char* kB = kOutsider;
    static constexpr const char* kService = "bg-pam-test";
    std::unique_ptr<TestDaemon> daemon_;
    std::vector<unsigned char> secret_a_, secret_b_;
};

// The bug: A broke the glass; B then ran `su A` and, with PAM_USER = A, took
// A's fast path: uid of A without a password, a code or a record.
TEST_F(PamActor, Issue10Item1AGrantOfANeverAuthenticatesBEnteringA) {
    const auto granted = daemon_->grant(kA, kGate, totp_code_now(secret_a_));
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(granted));
    const std::size_t records_before = daemon_->audit().size();

    EXPECT_EQ(su(kB, kA, Entry::Authenticate), PAM_AUTH_ERR) << "B has no grant: asked, no answer, pam_deny";
    EXPECT_EQ(su(kB, kA, Entry::AcctMgmt), PAM_PERM_DENIED);
    EXPECT_EQ(su(kB, kA, Entry::OpenSession), PAM_SESSION_ERR);
    EXPECT_FALSE(daemon_->active(kB, kGate));
    // The refused session is recorded as B's, entering A, under no grant.
    const auto opens = daemon_->audit().records_of("session_open");
    ASSERT_EQ(opens.size(), 1u);
    EXPECT_EQ(opens[0]["actor"], kB);
    EXPECT_EQ(opens[0]["target"], kA);
    EXPECT_EQ(opens[0]["grant_id"], "");
    EXPECT_EQ(daemon_->audit().size(), records_before + 1);

    // A, entering A through the same su (A's own real uid), still has it.
    EXPECT_EQ(su(kA, kA, Entry::Authenticate), PAM_SUCCESS);
    EXPECT_EQ(su(kA, kA, Entry::AcctMgmt), PAM_SUCCESS);
}

// B's guesses are B's: verified against B's factor, recorded with actor B and
// target A, counted against B. A, logging in through an sshd-like service
// afterwards, is not rate limited by them.
TEST_F(PamActor, Issue10Item1WrongCodesOfBAreBsAndDoNotRateLimitA) {
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(su(kB, kA, Entry::Authenticate, {"r", "INC-1", wrong_totp_code(secret_b_)}), PAM_AUTH_ERR) << i;
    const auto failures = daemon_->audit().records_of("auth_failed");
    ASSERT_EQ(failures.size(), 3u);
    for (const auto& f : failures) {
        EXPECT_EQ(f["actor"], kB) << f.dump();
        EXPECT_EQ(f["target"], kA) << f.dump();
        EXPECT_EQ(f["action"], std::string("pam:") + kService) << f.dump();
        EXPECT_EQ(f["peer_uid"], 0) << f.dump();
    }
    // B is now rate limited: even B's good code is refused.
    EXPECT_EQ(su(kB, kA, Entry::Authenticate, {"r", "INC-1", totp_code_now(secret_b_)}), PAM_AUTH_ERR);
    EXPECT_FALSE(daemon_->active(kB, kGate));

    // A is not.
    Conversation conv;
    conv.answers = {"db down", "INC-2", totp_code_now(secret_a_)};
    ASSERT_EQ(run_pam(daemon_->dir(), kService, kA, Entry::Authenticate, conv), PAM_SUCCESS) << conv.all_text();
    const auto grants = daemon_->audit().records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0]["actor"], kA);
    EXPECT_EQ(grants[0]["target"], kA);
}

// A grant opens the account it was taken for: B, having broken the glass to
// enter A, holds a grant for A only; su into another account asks nothing and
// is refused.
TEST_F(PamActor, BsGrantToEnterAOpensAOnly) {
    ASSERT_EQ(su(kB, kA, Entry::Authenticate, {"db down", "INC-3", totp_code_now(secret_b_)}), PAM_SUCCESS);
    const auto grants = daemon_->audit().records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0]["actor"], kB);
    EXPECT_EQ(grants[0]["target"], kA);
    EXPECT_EQ(su(kB, kA, Entry::AcctMgmt), PAM_SUCCESS);
    EXPECT_EQ(su(kB, kA, Entry::OpenSession), PAM_SUCCESS);
    const auto opens = daemon_->audit().records_of("session_open");
    ASSERT_EQ(opens.size(), 1u);
    EXPECT_EQ(opens[0]["actor"], kB);
    EXPECT_EQ(opens[0]["target"], kA);
    EXPECT_EQ(opens[0]["grant_id"], grants[0]["event_id"]);

    EXPECT_EQ(su(kB, "root", Entry::Authenticate), PAM_AUTH_ERR);
    EXPECT_EQ(su(kB, "root", Entry::AcctMgmt), PAM_PERM_DENIED);
    EXPECT_EQ(su(kB, "root", Entry::OpenSession), PAM_SESSION_ERR);
    EXPECT_EQ(daemon_->audit().records_of("grant").size(), 1u);
}

// The account a grant opens is part of the grant: after a restart (checkpoint
// and replay of the log) and after a SIGKILL (replay alone) B's grant still
// opens A and only A.
TEST_F(PamActor, TheAccountOfAGrantSurvivesARestart) {
    ASSERT_EQ(su(kB, kA, Entry::Authenticate, {"db down", "INC-5", totp_code_now(secret_b_)}), PAM_SUCCESS);
    for (const bool kill : {false, true}) {
        if (kill) {
            daemon_->kill();
            daemon_->start();
        } else {
            daemon_->restart();
        }
        EXPECT_EQ(su(kB, kA, Entry::AcctMgmt), PAM_SUCCESS) << (kill ? "after SIGKILL" : "after restart");
        EXPECT_EQ(su(kB, "root", Entry::AcctMgmt), PAM_PERM_DENIED) << (kill ? "after SIGKILL" : "after restart");
        EXPECT_EQ(su(kB, kB, Entry::AcctMgmt), PAM_PERM_DENIED) << (kill ? "after SIGKILL" : "after restart");
    }
}

// What the application says of who invoked it (PAM_RUSER) must agree with the
// kernel: a su-like program claiming A invoked it, run by B, is refused.
TEST_F(PamActor, ARequestingUserThatContradictsTheRealUidIsRefused) {
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(daemon_->grant(kA, kGate, totp_code_now(secret_a_))));
    PamItems items;
    items.ruser = kA;
    EXPECT_EQ(su(kB, kA, Entry::Authenticate, {}, items), PAM_AUTH_ERR);  // sufficient failed, then pam_deny
    EXPECT_EQ(su(kB, kA, Entry::AcctMgmt, {}, items), PAM_PERM_DENIED);
    items.ruser = kB;
    EXPECT_EQ(su(kB, kA, Entry::AcctMgmt, {}, items), PAM_PERM_DENIED) << "B holds no grant";
}

// The daemon holds a set-user-ID peer to its real uid whatever the front-end
// names: a client run by B with effective uid 0 may not ask about A's grant.
TEST_F(PamActor, TheDaemonHoldsASetUserIdPeerToItsRealUid) {
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(daemon_->grant(kA, kGate, totp_code_now(secret_a_))));
    const std::string socket = daemon_->socket();
    const int rc = run_function_set_user_id(kB, [&] {
        proto::Client client(socket);
        auto r = client.call(proto::CheckRequest{kA, kGate, kA}, proto::MessageType::CheckAnswer);
        if (!r.answer) return 10;
        if (const auto* e = std::get_if<proto::ErrorAnswer>(&*r.answer))
            return e->code == proto::ErrorCode::NotPermitted ? 0 : 11;
        return 12;  // answered as if B were A
    });
    EXPECT_EQ(rc, 0);
    // As itself, B is answered (no grant).
    const int own = run_function_set_user_id(kB, [&] {
        proto::Client client(socket);
        auto r = client.call(proto::CheckRequest{kB, kGate, kA}, proto::MessageType::CheckAnswer);
        if (!r.answer) return 10;
        const auto* a = std::get_if<proto::CheckAnswer>(&*r.answer);
        return a != nullptr && !a->active ? 0 : 13;
    });
    EXPECT_EQ(own, 0);
}

// An sshd-like service runs as root (real uid 0): the stack authenticates
// PAM_USER first (pam_permit stands in for it), then the module, `required`,
// breaks the glass for that user — the actor — and A's grant does not open B.
TEST_F(PamActor, AnSshdLikeServiceActsForPamUserAfterTheStacksAuthentication) {
    const std::string module = kModulePath + " gate=" + kGate + " socket=" + daemon_->socket();
    write_service(daemon_->dir(), kService, {"auth required pam_permit.so", "auth required " + module});
    Conversation conv;
    conv.answers = {"db down", "INC-4", totp_code_now(secret_a_)};
    ASSERT_EQ(run_pam(daemon_->dir(), kService, kA, Entry::Authenticate, conv, {"", "10.0.0.9", ""}), PAM_SUCCESS)
        << conv.all_text();
    const auto grants = daemon_->audit().records_of("grant");
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0]["actor"], kA);
    EXPECT_EQ(grants[0]["target"], kA);
    EXPECT_EQ(grants[0]["source"], "from 10.0.0.9");

    Conversation other;  // B logging in: asked (no grant of B's), no answer
    EXPECT_EQ(run_pam(daemon_->dir(), kService, kB, Entry::Authenticate, other), PAM_CONV_ERR);
    EXPECT_FALSE(other.prompts().empty()) << other.all_text();
    EXPECT_FALSE(daemon_->active(kB, kGate));
}

// The issue's own reproduction, through the real, set-user-ID /usr/bin/su:
// its PAM service file is bind-mounted, in this test's private mount
// namespace, over /etc/pam.d/su with the stack pam_breakglass(8) documents for
// su (the module `sufficient`, then pam_deny). Root broke the glass for
// itself; an unprivileged user then ran `su -c 'id -u' root </dev/null` and
// got uid 0 on root's grant, with no code and no record.
TEST(PamRealSu, Issue10Item1AnotherUserDoesNotGetRootOnRootsGrant) {
    if (::access("/usr/bin/su", X_OK) != 0 || ::access("/etc/pam.d/su", F_OK) != 0)
        GTEST_SKIP() << "no /usr/bin/su or /etc/pam.d/su";
    std::string policy = kPamTestPolicy;
    const std::string bound_line = "pam_service = \"bg-pam-test\"\n";
    policy.replace(policy.find(bound_line), bound_line.size(), "pam_service = \"su\"\n");
    const std::string requesters = "requesters = [\"daemon\"]";
    policy.replace(policy.find(requesters), requesters.size(), "requesters = [\"root\", \"daemon\"]");
    TestDaemon d(policy);
    const auto root_secret = d.enroll_totp("root");
    const std::string module = kModulePath + " gate=" + kGate + " socket=" + d.socket();
    write_service(d.dir(), "su",
                  {"auth     sufficient pam_rootok.so", "auth     sufficient " + module, "auth     required   pam_deny.so",
                   "account  sufficient pam_rootok.so", "account  required   " + module,
                   "session  required   pam_permit.so", "password required   pam_deny.so"});
    const BindMount su_stack(d.dir() + "/su", "/etc/pam.d/su");
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(d.grant("root", kGate, totp_code_now(root_secret))));
    const std::size_t records_before = d.audit().size();

    RunOptions as_b;
    as_b.as = credentials_of(kOutsider);
    as_b.new_session = true;  // no terminal: su's questions read the empty stdin
    as_b.working_directory = "/";
    const ProcessResult r = run({"/usr/bin/su", "-c", "id -u", "root"}, as_b);
    EXPECT_NE(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out.find("0\n"), std::string::npos) << "uid 0 on root's grant:\n" << r.out << r.err;
    EXPECT_FALSE(d.active(kOutsider, kGate));
    // Nothing was granted to anyone; whatever was recorded names the one who asked.
    EXPECT_EQ(d.audit().records_of("grant").size(), 1u);
    const auto records = d.audit().records();
    for (std::size_t i = records_before; i < records.size(); ++i)
        EXPECT_EQ(records[i]["actor"], kOutsider) << records[i].dump();
}

// ---- the shared object itself

TEST(PamModuleBinary, ExportsOnlyTheEntryPoints) {
    const auto nm = run({"/usr/bin/nm", "-D", "--defined-only", kModulePath});
    ASSERT_EQ(nm.exit_code, 0) << nm.err;
    std::vector<std::string> symbols;
    std::size_t start = 0;
    while (start < nm.out.size()) {
        std::size_t nl = nm.out.find('\n', start);
        if (nl == std::string::npos) nl = nm.out.size();
        const std::string line = nm.out.substr(start, nl - start);
        start = nl + 1;
        if (line.empty()) continue;
        symbols.push_back(line.substr(line.rfind(' ') + 1));
    }
    std::sort(symbols.begin(), symbols.end());
    const std::vector<std::string> expected = {"pam_sm_acct_mgmt",    "pam_sm_authenticate", "pam_sm_chauthtok",
                                               "pam_sm_close_session", "pam_sm_open_session", "pam_sm_setcred"};
    EXPECT_EQ(symbols, expected) << nm.out;
}

TEST(PamModuleBinary, NeedsOnlyLibpamAndTheCRuntimes) {
    EXPECT_EQ(kModulePath.substr(kModulePath.rfind('/') + 1), "pam_breakglass.so");
    const auto elf = run({"/usr/bin/readelf", "-d", kModulePath});
    ASSERT_EQ(elf.exit_code, 0) << elf.err;
    const std::vector<std::string> allowed = {"libpam.so", "libstdc++.so", "libgcc_s.so", "libc.so", "libm.so",
                                              "ld-linux", "libasan.so", "libubsan.so"};
    std::size_t pos = 0;
    int needed = 0;
    while ((pos = elf.out.find("(NEEDED)", pos)) != std::string::npos) {
        const std::size_t open = elf.out.find('[', pos), close = elf.out.find(']', open);
        const std::string lib = elf.out.substr(open + 1, close - open - 1);
        ++needed;
        EXPECT_TRUE(std::any_of(allowed.begin(), allowed.end(), [&](const std::string& a) { return lib.starts_with(a); }))
            << "unexpected dependency " << lib;
        pos = close;
    }
    EXPECT_GT(needed, 0);
    EXPECT_NE(elf.out.find("BIND_NOW"), std::string::npos) << "full RELRO";
}

}  // namespace
}  // namespace bg::test
