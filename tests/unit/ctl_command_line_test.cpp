// SPDX-License-Identifier: ISC
// breakglassctl's command line (helper/ctl/command_line): the subcommand
// table, global options before or after the subcommand, and the exit codes of
// parsing. Nothing is run: the handler is only looked at. The exit codes of
// running against a real daemon are in tests/integration.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "helper/ctl/command_line.hpp"

namespace bg::ctl {
namespace {

CommandLine parse(std::vector<std::string> args) {
    args.insert(args.begin(), "breakglassctl");
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

TEST(CtlCommandLine, SocketBeforeOrAfterTheSubcommand) {
    for (const auto& args : std::vector<std::vector<std::string>>{{"--socket", "/run/x.sock", "status"},
                                                                   {"status", "--socket", "/run/x.sock"},
                                                                   {"--socket=/run/x.sock", "status"}}) {
        const CommandLine c = parse(args);
        ASSERT_TRUE(c.handler) << args[0];
        EXPECT_EQ(c.path, "status");
        EXPECT_EQ(c.options.socket, "/run/x.sock") << args[0];
    }
    const CommandLine nested = parse({"--socket", "/run/x.sock", "policy", "reload"});
    ASSERT_TRUE(nested.handler);
    EXPECT_EQ(nested.path, "policy reload");
    EXPECT_EQ(nested.options.socket, "/run/x.sock");
}

TEST(CtlCommandLine, DefaultsWhenNotGivenAndAfterTheSubcommandWins) {
    const CommandLine plain = parse({"status"});
    ASSERT_TRUE(plain.handler);
    EXPECT_EQ(plain.options.socket, BG_DEFAULT_SOCKET);
    EXPECT_FALSE(plain.options.json);
    const CommandLine both = parse({"--socket", "/run/before.sock", "status", "--socket", "/run/after.sock"});
    ASSERT_TRUE(both.handler);
    EXPECT_EQ(both.options.socket, "/run/after.sock");
}

TEST(CtlCommandLine, JsonAndStateDirWhereTheyApply) {
    EXPECT_TRUE(parse({"--json", "list", "--all"}).options.json);
    EXPECT_TRUE(parse({"list", "--json"}).options.json);
    const CommandLine verify = parse({"--state-dir", "/srv/copy", "--json", "verify"});
    ASSERT_TRUE(verify.handler);
    EXPECT_EQ(verify.options.state_dir, "/srv/copy");
    EXPECT_TRUE(verify.options.json);
    EXPECT_EQ(parse({"verify", "--state-dir", "/srv/other"}).options.state_dir, "/srv/other");
    EXPECT_EQ(parse({"verify"}).options.state_dir, "/var/lib/breakglass");
    // show reads the files only when --state-dir is given, else asks breakglassd.
    EXPECT_TRUE(parse({"show", "bg-2026-000001", "--state-dir", "/srv/copy"}).options.state_dir_given);
    EXPECT_TRUE(parse({"--state-dir", "/srv/copy", "show", "bg-2026-000001"}).options.state_dir_given);
    EXPECT_FALSE(parse({"show", "bg-2026-000001"}).options.state_dir_given);
}

// A global option the subcommand does not take is a usage error in either place.
TEST(CtlCommandLine, AGlobalOptionTheSubcommandDoesNotTakeIsAUsageError) {
    for (const auto& args : std::vector<std::vector<std::string>>{{"--state-dir", "/srv/copy", "status"},
                                                                   {"status", "--state-dir", "/srv/copy"}}) {
        const CommandLine c = parse(args);
        EXPECT_FALSE(c.handler) << args[0];
        EXPECT_EQ(c.exit_code, kExitUsage) << args[0];
    }
}

TEST(CtlCommandLine, HelpIsZeroAndUsageErrorsAreTwo) {
    for (const auto& args : std::vector<std::vector<std::string>>{{"--help"}, {"status", "--help"}, {"policy", "--help"}}) {
        const CommandLine c = parse(args);
        EXPECT_FALSE(c.handler);
        EXPECT_EQ(c.exit_code, kExitOk) << args[0];
    }
    for (const auto& args : std::vector<std::vector<std::string>>{{},
                                                                   {"--socket", "/x"},
                                                                   {"frobnicate"},
                                                                   {"status", "--frobnicate"},
                                                                   {"--frobnicate", "status"},
                                                                   {"policy"},
                                                                   {"request", "--gate", "g"},
                                                                   {"revoke"}}) {
        const CommandLine c = parse(args);
        EXPECT_FALSE(c.handler);
        EXPECT_EQ(c.exit_code, kExitUsage) << (args.empty() ? "(nothing)" : args[0]);
    }
}

// `approve` is online (ID) or offline (--offline --code --key, no ID).
TEST(CtlCommandLine, ApproveOfflineTakesCodeAndKeyAndNoId) {
    EXPECT_TRUE(parse({"approve", "--offline", "--code", "a@h/g/AAAA", "--key", "k"}).handler);
    EXPECT_TRUE(parse({"approve", "--offline", "--code", "a@h/g/AAAA", "--key", "k", "--valid", "2h"}).handler);
    for (const std::vector<std::string>& bad :
         std::vector<std::vector<std::string>>{{"approve", "--offline", "--code", "c"},
                                               {"approve", "--offline", "--key", "k"},
                                               {"approve", "--code", "c", "--key", "k"},
                                               {"approve", "bg-2026-000001", "--offline", "--code", "c", "--key", "k"},
                                               {"approver-key", "generate"}}) {
        const CommandLine c = parse(bad);
        EXPECT_FALSE(c.handler) << bad[0] << " " << bad[1];
        EXPECT_EQ(c.exit_code, kExitUsage) << bad[1];
    }
}

// Every row of the table is reachable by its path, with its required arguments.
TEST(CtlCommandLine, EverySubcommandInTheTableParses) {
    const std::map<std::string, std::vector<std::string>> required = {
        {"request", {"--gate", "g", "--reason", "r", "--incident", "INC-1"}},
        {"psql", {"--gate", "g", "--reason", "r", "--incident", "INC-1", "--", "-c", "select 1"}},
        {"revoke", {"bg-2026-000001"}},
        {"expire", {"bg-2026-000001"}},
        {"approve", {"bg-2026-000001"}},
        {"deny", {"bg-2026-000001", "--reason", "no"}},
        {"review", {"bg-2026-000001", "--verdict", "gate-needs-fix", "--note", "n"}},
        {"show", {"bg-2026-000001"}},
        {"enroll totp", {"alice"}},
        {"enroll yubikey", {"alice", "--public-id", "cccccccccccc"}},
        {"approver-key generate", {"--out", "/tmp/k"}},
        {"alert test", {"oncall"}},
        {"export", {"--format", "csv"}},
    };
    std::size_t rows = 0;
    for (const Subcommand& s : subcommands()) {
        ++rows;
        std::vector<std::string> args = {"--socket", "/run/t.sock"};
        const std::string path(s.path);
        if (const auto space = path.find(' '); space != std::string::npos) {
            args.push_back(path.substr(0, space));
            args.push_back(path.substr(space + 1));
        } else {
            args.push_back(path);
        }
        if (auto it = required.find(path); it != required.end()) args.insert(args.end(), it->second.begin(), it->second.end());
        const CommandLine c = parse(args);
        ASSERT_TRUE(c.handler) << path;
        EXPECT_EQ(c.path, path);
        EXPECT_EQ(c.options.socket, "/run/t.sock") << path;
        EXPECT_TRUE(s.global_options & kSocketOption) << path << ": --socket is accepted everywhere";
    }
    EXPECT_EQ(rows, 23u);
}

}  // namespace
}  // namespace bg::ctl
