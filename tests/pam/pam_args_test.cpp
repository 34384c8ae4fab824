// SPDX-License-Identifier: ISC
// parse_module_args: the module's configuration surface, case by case.
#include <gtest/gtest.h>

#include <vector>

#include "pam_module/pam_args.hpp"

namespace bg::pam {
namespace {

Result<ModuleArgs> parse(std::vector<const char*> argv) { return parse_module_args(argv); }

TEST(PamArgs, GateAloneTakesTheDefaults) {
    const auto a = parse({"gate=breakglass"});
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->gate, "breakglass");
    EXPECT_EQ(a->socket_path, BG_DEFAULT_SOCKET);
    EXPECT_FALSE(a->debug);
}

TEST(PamArgs, AllArgumentsInAnyOrder) {
    const auto a = parse({"debug", "socket=/run/bg/other.sock", "gate=db-emergency"});
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->gate, "db-emergency");
    EXPECT_EQ(a->socket_path, "/run/bg/other.sock");
    EXPECT_TRUE(a->debug);
}

TEST(PamArgs, MissingGateIsAnError) {
    for (const auto& argv : {std::vector<const char*>{}, std::vector<const char*>{"debug"},
                             std::vector<const char*>{"socket=/run/x"}}) {
        const auto a = parse(argv);
        ASSERT_FALSE(a);
        EXPECT_NE(a.error().message.find("gate=NAME is missing"), std::string::npos) << a.error().message;
    }
}

TEST(PamArgs, EachBadArgumentIsNamed) {
    const struct {
        std::vector<const char*> argv;
        const char* message;
    } cases[] = {
        {{"gate=a", "frobnicate"}, "unknown argument 'frobnicate'"},
        {{"gate=a", "Debug"}, "unknown argument 'Debug'"},
        {{"gate=a", "gate"}, "unknown argument 'gate'"},
        {{"gate=a", "gate=b"}, "gate= is given twice"},
        {{"gate="}, "gate name '' is not valid"},
        {{"gate=-rf"}, "gate name '-rf' is not valid"},
        {{"gate=a b"}, "gate name 'a b' is not valid"},
        {{"gate=a/b"}, "gate name 'a/b' is not valid"},
        {{"gate=\x1b[2J"}, "gate name '\\x1b[2J' is not valid"},
        {{"gate=a", "socket="}, "socket path '' is not an absolute path"},
        {{"gate=a", "socket=run/socket"}, "not an absolute path"},
        {{"gate=a", "socket=/a", "socket=/b"}, "socket= is given twice"},
        {{"gate=a", "socket=/\x01"}, "not valid text"},
        {{"gate=a", nullptr}, "NULL"},
    };
    for (const auto& c : cases) {
        const auto a = parse(c.argv);
        ASSERT_FALSE(a) << c.message;
        EXPECT_NE(a.error().message.find(c.message), std::string::npos) << a.error().message;
    }
}

TEST(PamArgs, GateNameLimits) {
    const std::string longest = "gate=" + std::string(64, 'g');
    const std::string too_long = "gate=" + std::string(65, 'g');
    EXPECT_TRUE(parse({longest.c_str()}));
    EXPECT_FALSE(parse({too_long.c_str()}));
    EXPECT_TRUE(parse({"gate=A.z_0-9"}));
}

TEST(PamArgs, SocketPathMustFitAUnixSocketAddress) {
    const std::string fits = "socket=/" + std::string(106, 's');
    const std::string too_long = "socket=/" + std::string(107, 's');
    EXPECT_TRUE(parse({"gate=a", fits.c_str()}));
    const auto a = parse({"gate=a", too_long.c_str()});
    ASSERT_FALSE(a);
    EXPECT_NE(a.error().message.find("too long"), std::string::npos);
}

}  // namespace
}  // namespace bg::pam
