// SPDX-License-Identifier: ISC
#include "helper/mfa/totp_store.hpp"

#include "helper/mfa/totp.hpp"

#include <gtest/gtest.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using bg::mfa::TotpStore;

std::vector<unsigned char> random_secret(std::size_t n = 20) {
    std::vector<unsigned char> secret(n);
    if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) throw std::runtime_error("RAND_bytes");
    return secret;
}

std::vector<unsigned char> to_vector(std::span<const unsigned char> s) { return {s.begin(), s.end()}; }

class TotpStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "bg-totp-store-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        ::chmod(dir_.c_str(), 0700);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string file() const { return dir_ + "/totp.json"; }
    void write_file(const std::string& text, mode_t mode = 0600) const {
        { std::ofstream(file(), std::ios::trunc) << text; }
        ASSERT_EQ(::chmod(file().c_str(), mode), 0);
    }

    std::string dir_;
};

TEST_F(TotpStoreTest, MissingFileIsEmptyStore) {
    auto store = TotpStore::open(dir_);
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ(store->size(), 0u);
    EXPECT_FALSE(store->has("alice"));
    EXPECT_FALSE(store->secret_for("alice").has_value());
}

TEST_F(TotpStoreTest, EnrollPersistsAcrossReload) {
    const auto alice = random_secret();
    const auto bob = random_secret(32);
    {
        auto store = TotpStore::open(dir_);
        ASSERT_TRUE(store);
        ASSERT_TRUE(store->enroll("alice", alice));
        ASSERT_TRUE(store->enroll("bob", bob));
        ASSERT_TRUE(store->has("alice"));
        EXPECT_EQ(to_vector(*store->secret_for("alice")), alice);
    }
    auto reloaded = TotpStore::open(dir_);
    ASSERT_TRUE(reloaded) << reloaded.error().message;
    EXPECT_EQ(reloaded->size(), 2u);
    ASSERT_TRUE(reloaded->secret_for("alice").has_value());
    EXPECT_EQ(to_vector(*reloaded->secret_for("alice")), alice);
    EXPECT_EQ(to_vector(*reloaded->secret_for("bob")), bob);
}

TEST_F(TotpStoreTest, EnrollReplacesExistingSecret) {
    const auto first = random_secret();
    const auto second = random_secret();
    auto store = TotpStore::open(dir_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->enroll("alice", first));
    ASSERT_TRUE(store->enroll("alice", second));
    EXPECT_EQ(to_vector(*store->secret_for("alice")), second);
    auto reloaded = TotpStore::open(dir_);
    ASSERT_TRUE(reloaded);
    EXPECT_EQ(reloaded->size(), 1u);
    EXPECT_EQ(to_vector(*reloaded->secret_for("alice")), second);
}

TEST_F(TotpStoreTest, FileIsMode0600AndNoTempFilesRemain) {
    auto store = TotpStore::open(dir_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->enroll("alice", random_secret()));
    struct stat st {};
    ASSERT_EQ(::stat(file().c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_uid, ::geteuid());
    std::size_t entries = 0;
    for (const auto& entry : fs::directory_iterator(dir_)) {
        (void)entry;
        ++entries;
    }
    EXPECT_EQ(entries, 1u);
}

TEST_F(TotpStoreTest, SecretIsStoredAsBase32) {
    const auto secret = random_secret();
    auto store = TotpStore::open(dir_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->enroll("alice", secret));
    std::ifstream in(file());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find(bg::totp::base32_encode(secret)), std::string::npos);
    EXPECT_NE(text.find("\"version\": 1"), std::string::npos);
}

TEST_F(TotpStoreTest, GroupOrWorldAccessibleFileIsRefused) {
    const std::string valid = R"({"version":1,"users":{"alice":{"secret":")" +
                              bg::totp::base32_encode(random_secret()) + R"("}}})";
    for (const mode_t mode : {0640u, 0604u, 0660u, 0620u, 0602u, 0644u}) {
        write_file(valid, mode);
        auto store = TotpStore::open(dir_);
        ASSERT_FALSE(store) << std::oct << mode;
        EXPECT_NE(store.error().message.find("chmod 0600"), std::string::npos) << store.error().message;
    }
    write_file(valid, 0600);
    auto store = TotpStore::open(dir_);
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_TRUE(store->has("alice"));
}

TEST_F(TotpStoreTest, MalformedJsonIsRefused) {
    const std::string good_secret = bg::totp::base32_encode(random_secret());
    const std::vector<std::string> bad = {
        "",
        "{",
        "not json",
        "[]",
        R"({"users":{}})",                                            // no version
        R"({"version":2,"users":{}})",                                // unknown version
        R"({"version":1})",                                           // no users
        R"({"version":1,"users":[]})",                                // users not an object
        R"({"version":1,"users":{"alice":"x"}})",                     // entry not an object
        R"({"version":1,"users":{"alice":{}}})",                      // no secret
        R"({"version":1,"users":{"alice":{"secret":42}}})",           // secret not a string
        R"({"version":1,"users":{"alice":{"secret":"not base32!"}}})",
        R"({"version":1,"users":{"alice":{"secret":"MZXW6YTB"}}})",   // 5 bytes: too short
        R"({"version":1,"users":{"../evil":{"secret":")" + good_secret + R"("}}})",
        R"({"version":1,"users":{"":{"secret":")" + good_secret + R"("}}})",
    };
    for (const auto& text : bad) {
        write_file(text);
        auto store = TotpStore::open(dir_);
        EXPECT_FALSE(store) << text;
    }
}

TEST_F(TotpStoreTest, ErrorMessagesDoNotContainSecrets) {
    const std::string secret = bg::totp::base32_encode(random_secret(10));  // too short
    write_file(R"({"version":1,"users":{"alice":{"secret":")" + secret + R"("}}})");
    auto store = TotpStore::open(dir_);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().message.find(secret), std::string::npos) << store.error().message;
}

TEST_F(TotpStoreTest, SymlinkIsRefused) {
    const std::string target = dir_ + "/elsewhere.json";
    { std::ofstream(target) << R"({"version":1,"users":{}})"; }
    ::chmod(target.c_str(), 0600);
    fs::create_symlink(target, file());
    EXPECT_FALSE(TotpStore::open(dir_));
}

TEST_F(TotpStoreTest, DirectoryInPlaceOfFileIsRefused) {
    fs::create_directory(file());
    EXPECT_FALSE(TotpStore::open(dir_));
}

TEST_F(TotpStoreTest, RemoveDeletesAndPersists) {
    auto store = TotpStore::open(dir_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->enroll("alice", random_secret()));
    const auto bob = random_secret();
    ASSERT_TRUE(store->enroll("bob", bob));
    ASSERT_TRUE(store->remove("alice"));
    EXPECT_FALSE(store->has("alice"));
    EXPECT_TRUE(store->remove("nobody"));
    auto reloaded = TotpStore::open(dir_);
    ASSERT_TRUE(reloaded);
    EXPECT_FALSE(reloaded->has("alice"));
    ASSERT_TRUE(reloaded->has("bob"));
    EXPECT_EQ(to_vector(*reloaded->secret_for("bob")), bob);
}

TEST_F(TotpStoreTest, EnrollRejectsBadInput) {
    auto store = TotpStore::open(dir_);
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->enroll("", random_secret()));
    EXPECT_FALSE(store->enroll("-alice", random_secret()));
    EXPECT_FALSE(store->enroll("al/ice", random_secret()));
    EXPECT_FALSE(store->enroll("alice", random_secret(bg::mfa::kMinSecretBytes - 1)));
    EXPECT_FALSE(store->enroll("alice", random_secret(bg::mfa::kMaxSecretBytes + 1)));
    EXPECT_EQ(store->size(), 0u);
    EXPECT_FALSE(fs::exists(file()));
}

TEST_F(TotpStoreTest, FailedWriteLeavesStoreUnchanged) {
    auto store = TotpStore::open(dir_ + "/missing-subdir");
    ASSERT_TRUE(store);  // missing file (and directory) = empty store
    EXPECT_FALSE(store->enroll("alice", random_secret()));
    EXPECT_FALSE(store->has("alice"));
}

TEST(SecretBytes, MoveLeavesSourceEmpty) {
    const auto raw = random_secret();
    bg::mfa::SecretBytes a(raw);
    bg::mfa::SecretBytes b(std::move(a));
    EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
    EXPECT_EQ(to_vector(b.view()), raw);
    bg::mfa::SecretBytes c(random_secret());
    c = std::move(b);
    EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(to_vector(c.view()), raw);
}

}  // namespace
