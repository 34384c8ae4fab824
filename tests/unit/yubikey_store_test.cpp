// SPDX-License-Identifier: ISC
#include "helper/mfa/yubikey_store.hpp"

#include <gtest/gtest.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using bg::mfa::YubikeyStore;

std::vector<unsigned char> random_bytes(std::size_t n) {
    std::vector<unsigned char> bytes(n);
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) throw std::runtime_error("RAND_bytes");
    return bytes;
}

std::vector<unsigned char> to_vector(std::span<const unsigned char> s) { return {s.begin(), s.end()}; }

std::string hex(const std::vector<unsigned char>& bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 0x0f]);
    }
    return out;
}

constexpr const char* kIdA = "cccccccbcjdf";
constexpr const char* kIdB = "vvvvvvcurikt";

class YubikeyStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "bg-yubikey-store-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        ::chmod(dir_.c_str(), 0700);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string file() const { return dir_ + "/yubikeys.json"; }
    void write_file(const std::string& text, mode_t mode = 0600) const {
        { std::ofstream(file(), std::ios::trunc) << text; }
        ASSERT_EQ(::chmod(file().c_str(), mode), 0);
    }
    std::string read_file() const {
        std::ifstream in(file());
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
    std::string open_error() const {
        auto store = YubikeyStore::open(dir_);
        return store ? std::string("(opened)") : store.error().message;
    }

    std::string dir_;
    const std::vector<unsigned char> key_ = random_bytes(16);
    const std::vector<unsigned char> uid_ = random_bytes(6);
};

TEST_F(YubikeyStoreTest, MissingFileIsEmptyStore) {
    auto store = YubikeyStore::open(dir_);
    ASSERT_TRUE(store) << store.error().message;
    EXPECT_EQ(store->size(), 0u);
    EXPECT_FALSE(store->has_any("alice"));
    EXPECT_EQ(store->find("alice", kIdA), nullptr);
}

TEST_F(YubikeyStoreTest, EnrollPersistsAcrossReload) {
    const auto key_b = random_bytes(16);
    const auto uid_b = random_bytes(6);
    {
        auto store = YubikeyStore::open(dir_);
        ASSERT_TRUE(store);
        ASSERT_TRUE(store->enroll("alice", kIdA, key_, uid_));
        ASSERT_TRUE(store->enroll("bob", kIdB, key_b, uid_b));
        const auto* token = store->find("alice", kIdA);
        ASSERT_NE(token, nullptr);
        EXPECT_EQ(token->public_id, kIdA);
        EXPECT_EQ(to_vector(token->aes_key.view()), key_);
        EXPECT_EQ(to_vector(token->private_uid.view()), uid_);
    }
    auto reloaded = YubikeyStore::open(dir_);
    ASSERT_TRUE(reloaded) << reloaded.error().message;
    EXPECT_EQ(reloaded->size(), 2u);
    EXPECT_TRUE(reloaded->has_any("alice"));
    EXPECT_TRUE(reloaded->has_any("bob"));
    EXPECT_FALSE(reloaded->has_any("carol"));
    const auto* alice = reloaded->find("alice", kIdA);
    ASSERT_NE(alice, nullptr);
    EXPECT_EQ(to_vector(alice->aes_key.view()), key_);
    EXPECT_EQ(to_vector(alice->private_uid.view()), uid_);
    // The sizes the verifier's fixed-extent spans need.
    EXPECT_EQ(alice->aes_key.view().first<16>().size(), 16u);
    EXPECT_EQ(alice->private_uid.view().first<6>().size(), 6u);
    const auto* bob = reloaded->find("bob", kIdB);
    ASSERT_NE(bob, nullptr);
    EXPECT_EQ(to_vector(bob->aes_key.view()), key_b);
}

TEST_F(YubikeyStoreTest, FindIsPerUser) {
    auto store = YubikeyStore::open(dir_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->enroll("alice", kIdA, key_, uid_));
    EXPECT_EQ(store->find("bob", kIdA), nullptr);
    EXPECT_EQ(store->find("alice", kIdB), nullptr);
    EXPECT_EQ(store->find("alice", "CCCCCCCBCJDF"), nullptr);  // keys are the canonical lower-case id
}

TEST_F(YubikeyStoreTest, EnrollReplacesTheSameUsersToken) {
    const auto new_key = random_bytes(16);
    auto store = YubikeyStore::open(dir_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->enroll("alice", kIdA, key_, uid_));
    ASSERT_TRUE(store->enroll("alice", kIdA, new_key, uid_));
    EXPECT_EQ(store->size(), 1u);
    auto reloaded = YubikeyStore::open(dir_);
    ASSERT_TRUE(reloaded);
    ASSERT_NE(reloaded->find("alice", kIdA), nullptr);
    EXPECT_EQ(to_vector(reloaded->find("alice", kIdA)->aes_key.view()), new_key);
}

TEST_F(YubikeyStoreTest, AUserMayHaveSeveralTokens) {
    auto store = YubikeyStore::open(dir_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->enroll("alice", kIdA, key_, uid_));
    ASSERT_TRUE(store->enroll("alice", kIdB, random_bytes(16), random_bytes(6)));
    EXPECT_NE(store->find("alice", kIdA), nullptr);
    EXPECT_NE(store->find("alice", kIdB), nullptr);
}

TEST_F(YubikeyStoreTest, PublicIdCannotBelongToTwoUsers) {
    auto store = YubikeyStore::open(dir_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->enroll("alice", kIdA, key_, uid_));
    const auto second = store->enroll("bob", kIdA, random_bytes(16), random_bytes(6));
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message.find("already enrolled"), std::string::npos) << second.error().message;
    EXPECT_EQ(store->find("bob", kIdA), nullptr);
    ASSERT_NE(store->find("alice", kIdA), nullptr);
    EXPECT_EQ(to_vector(store->find("alice", kIdA)->aes_key.view()), key_);
    // Nor in the file: a hand-edited duplicate cannot exist, the file is keyed by public id.
    auto reloaded = YubikeyStore::open(dir_);
    ASSERT_TRUE(reloaded);
    EXPECT_FALSE(reloaded->has_any("bob"));
}

TEST_F(YubikeyStoreTest, RemoveDeletesAndPersists) {
    {
        auto store = YubikeyStore::open(dir_);
        ASSERT_TRUE(store);
        ASSERT_TRUE(store->enroll("alice", kIdA, key_, uid_));
        ASSERT_TRUE(store->enroll("bob", kIdB, random_bytes(16), random_bytes(6)));
        ASSERT_TRUE(store->remove("alice", kIdA));
        EXPECT_EQ(store->find("alice", kIdA), nullptr);
        EXPECT_FALSE(store->has_any("alice"));
    }
    auto reloaded = YubikeyStore::open(dir_);
    ASSERT_TRUE(reloaded);
    EXPECT_FALSE(reloaded->has_any("alice"));
    EXPECT_TRUE(reloaded->has_any("bob"));
    EXPECT_EQ(read_file().find(hex(key_)), std::string::npos);
}

TEST_F(YubikeyStoreTest, RemovingAnotherUsersTokenIsANoOp) {
    auto store = YubikeyStore::open(dir_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->enroll("alice", kIdA, key_, uid_));
    EXPECT_TRUE(store->remove("bob", kIdA));
    EXPECT_TRUE(store->remove("alice", kIdB));
    EXPECT_NE(store->find("alice", kIdA), nullptr);
}

TEST_F(YubikeyStoreTest, FileIsMode0600AndHoldsHexSecrets) {
    auto store = YubikeyStore::open(dir_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->enroll("alice", kIdA, key_, uid_));
    struct stat st {};
    ASSERT_EQ(::stat(file().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const std::string text = read_file();
    EXPECT_NE(text.find("\"version\": 1"), std::string::npos);
    EXPECT_NE(text.find(hex(key_)), std::string::npos);
    EXPECT_NE(text.find(hex(uid_)), std::string::npos);
    // No temporary file is left behind.
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++entries;
    EXPECT_EQ(entries, 1u);
}

TEST_F(YubikeyStoreTest, GroupOrWorldAccessIsRefused) {
    for (mode_t mode : {0640u, 0604u, 0660u, 0606u}) {
        write_file(R"({"version":1,"tokens":{}})", mode);
        const std::string error = open_error();
        EXPECT_NE(error.find("chmod 0600"), std::string::npos) << error;
    }
    write_file(R"({"version":1,"tokens":{}})", 0600);
    EXPECT_EQ(open_error(), "(opened)");
}

TEST_F(YubikeyStoreTest, SymlinkAndDirectoryAreRefused) {
    const std::string target = dir_ + "/real.json";
    { std::ofstream(target) << R"({"version":1,"tokens":{}})"; }
    ::chmod(target.c_str(), 0600);
    ASSERT_EQ(::symlink(target.c_str(), file().c_str()), 0);
    EXPECT_NE(open_error().find("symbolic link"), std::string::npos) << open_error();
    fs::remove(file());
    fs::create_directory(file());
    EXPECT_FALSE(YubikeyStore::open(dir_));
}

TEST_F(YubikeyStoreTest, MalformedFilesAreRefused) {
    const std::string key = std::string(32, 'a');
    const std::string uid = std::string(12, 'b');
    const auto entry = [&](const std::string& id, const std::string& user, const std::string& k,
                           const std::string& u) {
        return R"({"version":1,"tokens":{")" + id + R"(":{"user":")" + user + R"(","aes_key":")" + k +
               R"(","private_uid":")" + u + R"("}}})";
    };
    ASSERT_EQ((write_file(entry(kIdA, "alice", key, uid)), open_error()), "(opened)");
    const std::string bad[] = {
        "",
        "{",
        "[]",
        R"({"tokens":{}})",
        R"({"version":2,"tokens":{}})",
        R"({"version":1})",
        R"({"version":1,"tokens":[]})",
        R"({"version":1,"tokens":{"cccccccbcjdf":"x"}})",
        R"({"version":1,"tokens":{"cccccccbcjdf":{"user":"alice","aes_key":")" + key + R"("}}})",
        entry("cccccccbcjd", "alice", key, uid),   // short public id
        entry("CCCCCCCBCJDF", "alice", key, uid),  // not canonical
        entry("cccccccbcjda", "alice", key, uid),  // not modhex
        entry(kIdA, "-alice", key, uid),
        entry(kIdA, "", key, uid),
        entry(kIdA, "alice", key.substr(2), uid),
        entry(kIdA, "alice", key + "aa", uid),
        entry(kIdA, "alice", std::string(31, 'a') + "g", uid),
        entry(kIdA, "alice", key, uid.substr(2)),
        entry(kIdA, "alice", key, std::string(11, 'b') + "x"),
    };
    for (const auto& text : bad) {
        write_file(text);
        const std::string error = open_error();
        EXPECT_NE(error, "(opened)") << text;
        EXPECT_NE(error.find("yubikeys.json"), std::string::npos) << error;
    }
}

TEST_F(YubikeyStoreTest, ErrorsDoNotLeakTheSecrets) {
    const std::string key = hex(key_);
    write_file(R"({"version":1,"tokens":{"cccccccbcjdf":{"user":"alice","aes_key":")" + key +
               R"(","private_uid":"zz"}}})");
    const std::string error = open_error();
    EXPECT_NE(error, "(opened)");
    EXPECT_EQ(error.find(key), std::string::npos) << error;
}

TEST_F(YubikeyStoreTest, TooLargeFileIsRefused) {
    write_file(std::string(bg::mfa::kMaxYubikeyStoreFileBytes + 1, ' '));
    EXPECT_NE(open_error().find("larger than"), std::string::npos) << open_error();
}

TEST_F(YubikeyStoreTest, EnrollValidatesItsArguments) {
    auto store = YubikeyStore::open(dir_);
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->enroll("bad user", kIdA, key_, uid_));
    EXPECT_FALSE(store->enroll("alice", "cccccccbcjd", key_, uid_));
    EXPECT_FALSE(store->enroll("alice", "CCCCCCCBCJDF", key_, uid_));
    EXPECT_FALSE(store->enroll("alice", kIdA, random_bytes(15), uid_));
    EXPECT_FALSE(store->enroll("alice", kIdA, random_bytes(32), uid_));
    EXPECT_FALSE(store->enroll("alice", kIdA, key_, random_bytes(5)));
    EXPECT_FALSE(store->enroll("alice", kIdA, key_, random_bytes(7)));
    EXPECT_EQ(store->size(), 0u);
    EXPECT_FALSE(fs::exists(file()));
}

TEST_F(YubikeyStoreTest, FailedWriteLeavesMemoryUnchanged) {
    auto store = YubikeyStore::open(dir_);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->enroll("alice", kIdA, key_, uid_));
    // The state directory vanishes (works as root too, unlike chmod).
    const std::string moved = dir_ + ".moved";
    fs::rename(dir_, moved);
    const auto enrolled = store->enroll("bob", kIdB, random_bytes(16), random_bytes(6));
    const auto removed = store->remove("alice", kIdA);
    fs::rename(moved, dir_);
    ASSERT_FALSE(enrolled);
    EXPECT_NE(enrolled.error().message.find("cannot create a temporary file"), std::string::npos)
        << enrolled.error().message;
    EXPECT_FALSE(removed);
    EXPECT_FALSE(store->has_any("bob"));
    EXPECT_NE(store->find("alice", kIdA), nullptr);
}

}  // namespace
