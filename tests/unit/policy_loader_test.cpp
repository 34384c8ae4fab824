// SPDX-License-Identifier: ISC
// read_policy_file / load_policy: each refusal has its own message. The
// tests run as root, so "not owned by root" is made by chown'ing to 65534.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "policy/policy.hpp"

namespace {

namespace fs = std::filesystem;
using bg::policy::load_policy;
using bg::policy::read_policy_file;

constexpr const char* kValid = R"([defaults]
incident_pattern = '^INC-[0-9]+$'
factors = ["totp"]

[gate.breakglass]
requesters = ["%oncall"]
)";

class PolicyLoader : public ::testing::Test {
protected:
    void SetUp() override {
        std::string templ = (fs::temp_directory_path() / "bg-policy-test-XXXXXX").string();
        ASSERT_NE(::mkdtemp(templ.data()), nullptr);
        dir_ = templ;
    }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    std::string write(const std::string& name, const std::string& text, mode_t mode = 0644) {
        const std::string path = (dir_ / name).string();
        std::ofstream(path, std::ios::binary) << text;
        EXPECT_EQ(::chmod(path.c_str(), mode), 0);  // umask-proof
        return path;
    }
    static bool running_as_root() { return ::geteuid() == 0; }

    fs::path dir_;
};

TEST_F(PolicyLoader, ReadsAValidRootOwnedFile) {
    if (!running_as_root()) GTEST_SKIP() << "needs root to own the file";
    const auto path = write("policy.toml", kValid);
    const auto text = read_policy_file(path);
    ASSERT_TRUE(text) << text.error().message;
    EXPECT_EQ(*text, kValid);
    const auto p = load_policy(path);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->gates.count("breakglass"), 1u);
}

TEST_F(PolicyLoader, ParseErrorsNameThePath) {
    const auto path = write("policy.toml", "[gate.a]\nbogus = 1\n");
    const auto p = load_policy(path, {.require_root_owner = false});
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().message.rfind(path + ":2:1: unknown key 'bogus' in [gate.a]", 0), 0u) << p.error().message;
}

TEST_F(PolicyLoader, RefusesSymlink) {
    const auto target = write("real.toml", kValid);
    const auto link = (dir_ / "policy.toml").string();
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    const auto r = read_policy_file(link, {.require_root_owner = false});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              link + ": is a symbolic link; refusing to follow it (point the daemon at the real file)");
}

TEST_F(PolicyLoader, RefusesWorldWritable) {
    const auto path = write("policy.toml", kValid, 0666);
    const auto r = read_policy_file(path, {.require_root_owner = false});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, path + ": is writable by others (mode 0666); run chmod 0644 " + path);
}

TEST_F(PolicyLoader, RefusesGroupWritable) {
    const auto path = write("policy.toml", kValid, 0664);
    const auto r = read_policy_file(path, {.require_root_owner = false});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, path + ": is writable by its group (mode 0664); run chmod 0644 " + path);
}

TEST_F(PolicyLoader, RefusesFileNotOwnedByRoot) {
    if (!running_as_root()) GTEST_SKIP() << "needs root to chown";
    const auto path = write("policy.toml", kValid);
    ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
    const auto r = read_policy_file(path);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, path + ": is owned by uid 65534, not root; run chown root: " + path);
    // The owner check is the one LoadOptions turns off.
    EXPECT_TRUE(read_policy_file(path, {.require_root_owner = false}));
}

TEST_F(PolicyLoader, RefusesTooLarge) {
    const auto path = write("policy.toml", std::string(bg::policy::kMaxPolicyBytes + 1, '#'));
    const auto r = read_policy_file(path, {.require_root_owner = false});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, path + ": is larger than 1048576 bytes");
}

TEST_F(PolicyLoader, AcceptsExactlyTheCap) {
    const auto path = write("policy.toml", std::string(bg::policy::kMaxPolicyBytes, '#'));
    const auto r = read_policy_file(path, {.require_root_owner = false});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->size(), bg::policy::kMaxPolicyBytes);
}

TEST_F(PolicyLoader, RefusesDirectory) {
    const auto path = (dir_ / "policy.toml").string();
    ASSERT_EQ(::mkdir(path.c_str(), 0755), 0);
    const auto r = read_policy_file(path, {.require_root_owner = false});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, path + ": is a directory, not a policy file");
}

TEST_F(PolicyLoader, RefusesFifoWithoutBlocking) {
    const auto path = (dir_ / "policy.toml").string();
    ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
    const auto r = read_policy_file(path, {.require_root_owner = false});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, path + ": is not a regular file");
}

TEST_F(PolicyLoader, RefusesMissingFile) {
    const auto path = (dir_ / "absent.toml").string();
    const auto r = read_policy_file(path);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, path + ": does not exist; create it (see breakglass-policy(5))");
    const auto p = load_policy(path);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().message, r.error().message);
}

}  // namespace
