// SPDX-License-Identifier: ISC
// The session-scope parsers and names (helper/revocation/session_scopes):
// table tests beside fuzz_cgroup. Revocation kills the cgroups these name,
// so a wrong answer either misses a session or hits someone else's.
#include "helper/revocation/session_scopes.hpp"

#include <gtest/gtest.h>

namespace bg::scopes {
namespace {

TEST(SessionScopes, CgroupPathOfTheUnifiedHierarchyWins) {
    EXPECT_EQ(cgroup_path_in("0::/breakglass.slice/breakglass-bg-2026-000012-34.scope\n"),
              "/breakglass.slice/breakglass-bg-2026-000012-34.scope");
    // Hybrid: the unified line and name=systemd both present; the unified one counts.
    EXPECT_EQ(cgroup_path_in("12:pids:/user.slice\n1:name=systemd:/legacy/path\n0::/unified/path\n"), "/unified/path");
    // Legacy only.
    EXPECT_EQ(cgroup_path_in("3:cpu:/x\n1:name=systemd:/system.slice/ssh.service\n"), "/system.slice/ssh.service");
    // No newline at the end, a colon inside the path.
    EXPECT_EQ(cgroup_path_in("0::/a:b"), "/a:b");
}

TEST(SessionScopes, CgroupTextWithoutAnAbsolutePathIsNothing) {
    EXPECT_EQ(cgroup_path_in(""), std::nullopt);
    EXPECT_EQ(cgroup_path_in("0::\n"), std::nullopt);
    EXPECT_EQ(cgroup_path_in("0::relative\n"), std::nullopt);
    EXPECT_EQ(cgroup_path_in("garbage without colons\n"), std::nullopt);
    EXPECT_EQ(cgroup_path_in("1:cpu:/only/a/controller\n"), std::nullopt);
    EXPECT_EQ(cgroup_path_in("9::/not/hierarchy/zero\n"), std::nullopt);
}

TEST(SessionScopes, PidsAreThePositiveDecimalTokens) {
    EXPECT_EQ(pids_in("1 22 333\n4444\n"), (std::vector<pid_t>{1, 22, 333, 4444}));
    EXPECT_EQ(pids_in(""), std::vector<pid_t>{});
    EXPECT_EQ(pids_in("0 -5 12x 4194305 99999999999 7\n"), std::vector<pid_t>{7});
    EXPECT_EQ(pids_in("4194304"), std::vector<pid_t>{4194304});
}

TEST(SessionScopes, AUnitNameBelongsToItsGrantOnly) {
    const auto unit = unit_name("bg-2026-000012", 34);
    ASSERT_TRUE(unit);
    EXPECT_EQ(*unit, "breakglass-bg-2026-000012-34.scope");
    EXPECT_TRUE(is_scope_of(*unit, "bg-2026-000012"));
    EXPECT_FALSE(is_scope_of(*unit, "bg-2026-000013"));
    EXPECT_FALSE(is_scope_of(*unit, "bg-2026-00001"));
    EXPECT_FALSE(is_scope_of("breakglass-bg-2026-000012-.scope", "bg-2026-000012"));
    EXPECT_FALSE(is_scope_of("breakglass-bg-2026-000012-3x.scope", "bg-2026-000012"));
    EXPECT_FALSE(is_scope_of("breakglass-bg-2026-000012-34.service", "bg-2026-000012"));
    EXPECT_EQ(cgroup_path(*unit), "/breakglass.slice/breakglass-bg-2026-000012-34.scope");
    // An id that cannot be part of a unit name makes none.
    EXPECT_EQ(unit_name("bg/../x", 1), std::nullopt);
    EXPECT_EQ(unit_name("", 1), std::nullopt);
    EXPECT_EQ(unit_name(std::string(65, 'a'), 1), std::nullopt);
}

}  // namespace
}  // namespace bg::scopes
