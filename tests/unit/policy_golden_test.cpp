// SPDX-License-Identifier: ISC
// Golden tests: every tests/golden/NAME.toml is parsed and the result
// compared with NAME.ok — the canonical dump for a valid file, the exact
// "NAME.toml:LINE:COL: message" for a broken one. BG_UPDATE_GOLDEN=1
// rewrites the .ok files; read every changed one before committing it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "policy/policy.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kGoldenDir = BG_POLICY_GOLDEN_DIR;
constexpr std::size_t kMinimumCases = 24;

std::vector<std::string> golden_cases() {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(kGoldenDir, ec)) {
        if (entry.path().extension() == ".toml") names.push_back(entry.path().stem().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string render(const std::string& name) {
    const auto result = bg::policy::parse_policy(read_file(kGoldenDir / (name + ".toml")), name + ".toml");
    return result ? bg::policy::dump_policy(*result) : result.error().message + "\n";
}

class PolicyGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(PolicyGolden, MatchesOkFile) {
    const std::string& name = GetParam();
    const fs::path ok = kGoldenDir / (name + ".ok");
    const std::string actual = render(name);
    if (const char* update = std::getenv("BG_UPDATE_GOLDEN"); update && std::string(update) == "1") {
        std::ofstream(ok, std::ios::binary) << actual;
        GTEST_SKIP() << "wrote " << ok;
    }
    ASSERT_TRUE(fs::exists(ok)) << "missing expected output " << ok << " for " << name
                                << ".toml; run with BG_UPDATE_GOLDEN=1 and read the result";
    EXPECT_EQ(read_file(ok), actual) << "golden case " << name;
}

std::string case_id(const ::testing::TestParamInfo<std::string>& param) {
    std::string id = param.param;
    std::replace_if(id.begin(), id.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
    return id;
}

INSTANTIATE_TEST_SUITE_P(Files, PolicyGolden, ::testing::ValuesIn(golden_cases()), case_id);

TEST(PolicyGoldenDirectory, HasEnoughCasesAndNoOrphans) {
    const auto names = golden_cases();
    EXPECT_GE(names.size(), kMinimumCases) << "golden directory " << kGoldenDir;
    for (const auto& entry : fs::directory_iterator(kGoldenDir)) {
        if (entry.path().extension() != ".ok") continue;
        const fs::path toml = fs::path(entry.path()).replace_extension(".toml");
        EXPECT_TRUE(fs::exists(toml)) << entry.path() << " has no matching .toml";
    }
}

}  // namespace
