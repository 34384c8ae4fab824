// SPDX-License-Identifier: ISC
// parse_plugin_args and the plugin's other pure pieces, case by case.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/text.hpp"
#include "pam_module/sudo/sudo_args.hpp"

namespace bg::sudo {
namespace {

Result<PluginArgs> parse(std::vector<const char*> options) { return parse_plugin_args(options); }

TEST(SudoArgs, GatesAloneTakeTheDefaults) {
    const auto a = parse({"gates=breakglass:breakglass"});
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->gate_by_group.at("breakglass"), "breakglass");
    EXPECT_TRUE(a->gate_by_user.empty());
    EXPECT_EQ(a->socket_path, BG_DEFAULT_SOCKET);
    EXPECT_FALSE(a->debug);
}

TEST(SudoArgs, SeveralGatesGroupsAndUsersInAnyOrder) {
    const auto a = parse({"debug", "socket=/run/bg/other.sock",
                          "gates=breakglass:breakglass,group:dba:db-emergency,user:postgres:db-emergency"});
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->gate_by_group.size(), 2u);
    EXPECT_EQ(a->gate_by_group.at("dba"), "db-emergency");
    EXPECT_EQ(a->gate_by_user.at("postgres"), "db-emergency");
    EXPECT_EQ(a->socket_path, "/run/bg/other.sock");
    EXPECT_TRUE(a->debug);
}

TEST(SudoArgs, EachBadOptionIsNamed) {
    const struct {
        std::vector<const char*> options;
        const char* says;
    } cases[] = {
        {{}, "gates=GROUP:GATE[,...] is missing"},
        {{"debug"}, "gates=GROUP:GATE[,...] is missing"},
        {{"gatse=breakglass:breakglass"}, "unknown option 'gatse=breakglass:breakglass'"},
        {{"gates=a:b", "gates=c:d"}, "gates= is given twice"},
        {{"gates="}, "gates= is empty"},
        {{"gates=breakglass"}, "entry 'breakglass' is not GROUP:GATE"},
        {{"gates=a:b,"}, "entry '' is not GROUP:GATE"},
        {{"gates=a:b:c"}, "entry 'a:b:c' is not GROUP:GATE"},
        {{"gates=user:a:b:c"}, "entry 'user:a:b:c' is not GROUP:GATE"},
        {{"gates=-g:gate"}, "run-as group '-g' in gates= is not valid"},
        {{"gates=grp:bad/gate"}, "gate name 'bad/gate' in gates= is not valid"},
        {{"gates=user::gate"}, "run-as user '' in gates= is not valid"},
        {{"gates=root:gate"}, "run-as group 'root' cannot be a gate"},
        {{"gates=user:root:gate"}, "run-as user 'root' cannot be a gate"},
        {{"gates=a:g1,group:a:g2"}, "run-as group 'a' is named twice"},
        {{"gates=a:b", "socket=run/x"}, "is not an absolute path"},
        {{"gates=a:b", "socket=/x", "socket=/y"}, "socket= is given twice"},
        {{"gates=a:b", "socket=/run/\x01"}, "is not valid text"},
        {{"gates=a:b", nullptr}, "missing (NULL)"},
    };
    for (const auto& c : cases) {
        const auto a = parse(c.options);
        ASSERT_FALSE(a) << c.says;
        EXPECT_NE(a.error().message.find(c.says), std::string::npos) << a.error().message;
    }
}

TEST(SudoArgs, SocketPathLongerThanSunPathIsRefused) {
    const std::string option = "socket=/" + std::string(200, 'x');
    const auto a = parse({"gates=a:b", option.c_str()});
    ASSERT_FALSE(a);
    EXPECT_NE(a.error().message.find("too long"), std::string::npos);
}

TEST(SudoArgs, FindEntryMatchesWholeKeysOnly) {
    const char* list[] = {"runas_gid=5", "runas_egid=7", "user=alice", "tty=", nullptr};
    EXPECT_EQ(find_entry(list, "runas_egid"), "7");
    EXPECT_EQ(find_entry(list, "runas_gid"), "5");
    EXPECT_EQ(find_entry(list, "user"), "alice");
    EXPECT_EQ(find_entry(list, "tty"), "");
    EXPECT_EQ(find_entry(list, "runas"), std::nullopt);
    EXPECT_EQ(find_entry(nullptr, "user"), std::nullopt);
}

TEST(SudoArgs, IdsAreDecimalAndInRange) {
    EXPECT_EQ(parse_id("0"), 0u);
    EXPECT_EQ(parse_id("4294967295"), 4294967295u);
    EXPECT_EQ(parse_id("4294967296"), std::nullopt);
    EXPECT_EQ(parse_id("-1"), std::nullopt);
    EXPECT_EQ(parse_id("12a"), std::nullopt);
    EXPECT_EQ(parse_id(""), std::nullopt);
    EXPECT_EQ(parse_id_list("1,2,3"), (std::vector<unsigned int>{1, 2, 3}));
    EXPECT_EQ(parse_id_list(""), std::vector<unsigned int>{});
    EXPECT_EQ(parse_id_list("1,,3"), std::nullopt);
}

TEST(SudoArgs, GroupsWinOverTheUserAndTheFirstGatedGroupWins) {
    const auto a = parse({"gates=grp1:gate1,grp2:gate2,user:svc:gate3"});
    ASSERT_TRUE(a);
    const std::vector<std::string> none{"users"}, both{"users", "grp2", "grp1"};
    EXPECT_FALSE(gate_for(*a, none, "alice"));
    const auto by_group = gate_for(*a, both, "svc");
    ASSERT_TRUE(by_group);
    EXPECT_EQ(by_group->gate, "gate2");
    EXPECT_EQ(by_group->runas_group, "grp2");
    EXPECT_EQ(by_group->runas_user, "");
    const auto by_user = gate_for(*a, none, "svc");
    ASSERT_TRUE(by_user);
    EXPECT_EQ(by_user->gate, "gate3");
    EXPECT_EQ(by_user->runas_user, "svc");
}

TEST(SudoArgs, CommandLineQuotesEscapesAndBounds) {
    const char* plain[] = {"/usr/bin/id", "-g", nullptr};
    EXPECT_EQ(command_line(plain, 4096), "/usr/bin/id -g");
    const char* spaced[] = {"sh", "-c", "echo it's", "", nullptr};
    EXPECT_EQ(command_line(spaced, 4096), "sh -c 'echo it'\\''s' ''");
    const char* control[] = {"printf", "a\x1b[2Jb", nullptr};
    const std::string shown = command_line(control, 4096);
    EXPECT_EQ(shown.find('\x1b'), std::string::npos) << shown;
    const std::string long_word(10000, 'x');
    const char* big[] = {long_word.c_str(), "more", nullptr};
    EXPECT_LE(command_line(big, 100).size(), 100u);
    EXPECT_EQ(command_line(nullptr, 100), "");
}

}  // namespace
}  // namespace bg::sudo
