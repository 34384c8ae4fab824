// SPDX-License-Identifier: ISC
// Ed25519 keys, signatures, the public key text form and strict base64.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "helper/audit/ed25519.hpp"

namespace bg::audit {
namespace {

class Ed25519Files : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/bg-ed25519-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { EXPECT_EQ(std::system(("rm -rf '" + dir_ + "'").c_str()), 0); }
    std::string dir_;
};

TEST(Ed25519, SignsAndVerifies) {
    auto key = Ed25519PrivateKey::generate();
    ASSERT_TRUE(key) << key.error().message;
    auto sig = key->sign("breakglass-checkpoint-v1\nseq=1\n");
    ASSERT_TRUE(sig);
    EXPECT_TRUE(ed25519_verify(key->public_key(), "breakglass-checkpoint-v1\nseq=1\n", *sig));
    EXPECT_FALSE(ed25519_verify(key->public_key(), "breakglass-checkpoint-v1\nseq=2\n", *sig));
}

TEST(Ed25519, WrongKeyIsRefused) {
    auto a = Ed25519PrivateKey::generate();
    auto b = Ed25519PrivateKey::generate();
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->public_key(), b->public_key());
    auto sig = a->sign("message");
    ASSERT_TRUE(sig);
    EXPECT_FALSE(ed25519_verify(b->public_key(), "message", *sig));
}

TEST(Ed25519, FlippedBitIsRefused) {
    auto key = Ed25519PrivateKey::generate();
    ASSERT_TRUE(key);
    auto sig = key->sign("message");
    ASSERT_TRUE(sig);
    for (std::size_t byte : {std::size_t{0}, std::size_t{31}, std::size_t{32}, std::size_t{63}}) {
        auto bad = *sig;
        bad[byte] ^= 0x01;
        EXPECT_FALSE(ed25519_verify(key->public_key(), "message", bad)) << byte;
    }
    std::string message = "message";
    message[3] ^= 0x20;
    EXPECT_FALSE(ed25519_verify(key->public_key(), message, *sig));
}

TEST(Ed25519, TruncatedSignatureIsRefused) {
    auto key = Ed25519PrivateKey::generate();
    ASSERT_TRUE(key);
    auto sig = key->sign("message");
    ASSERT_TRUE(sig);
    const std::string bytes(reinterpret_cast<const char*>(sig->data()), sig->size());
    EXPECT_TRUE(ed25519_verify(key->public_key(), "message", std::string_view(bytes)));
    EXPECT_FALSE(ed25519_verify(key->public_key(), "message", std::string_view(bytes).substr(0, 63)));
    EXPECT_FALSE(ed25519_verify(key->public_key(), "message", std::string_view(bytes + "x")));
    EXPECT_FALSE(ed25519_verify(key->public_key(), "message", std::string_view()));
    const std::string text = base64_encode(sig->data(), sig->size());
    EXPECT_TRUE(parse_ed25519_signature(text));
    EXPECT_FALSE(parse_ed25519_signature(text.substr(0, text.size() - 4)));
    EXPECT_FALSE(parse_ed25519_signature(text.substr(0, text.size() - 1)));
}

TEST(Ed25519, PublicKeyTextRoundTripsAndIsStrict) {
    Ed25519PublicKey raw{};
    for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<unsigned char>(i);
    const std::string text = format_ed25519_public_key(raw);
    EXPECT_EQ(text, "ed25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
    auto parsed = parse_ed25519_public_key(text);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, raw);
    EXPECT_TRUE(parse_ed25519_public_key(text + "\n"));
    for (const std::string& bad : std::vector<std::string>{
             std::string(""), std::string("ed25519:"), text.substr(8),           // no prefix
             "ED25519:" + text.substr(8), "ssh-ed25519 " + text.substr(8),       // other prefixes
             text + "\n\n", text + " ", " " + text, text.substr(0, text.size() - 1),  // whitespace, padding
             text.substr(0, text.size() - 4),                                     // 30 bytes
             text + "AAAA",                                                       // 35 bytes
             "ed25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=",              // non-zero pad bits
             "ed25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=",              // bad character
             "ed25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\nh8=",            // embedded newline
             "ed25519:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A",              // no padding
         }) {
        EXPECT_FALSE(parse_ed25519_public_key(bad)) << bad;
    }
}

TEST(Ed25519, Base64DecodeIsExact) {
    auto ok = base64_decode_exact("Zm9v", 3);
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, "foo");
    EXPECT_FALSE(base64_decode_exact("Zm9v", 2));
    EXPECT_FALSE(base64_decode_exact("", 0));
    EXPECT_FALSE(base64_decode_exact("Zm8=", 3));
    EXPECT_TRUE(base64_decode_exact("Zm8=", 2));
    EXPECT_FALSE(base64_decode_exact("Zm9=", 2));  // pad bits set
    EXPECT_FALSE(base64_decode_exact("Z===", 1));
    EXPECT_FALSE(base64_decode_exact("Zm==", 2));
}

TEST_F(Ed25519Files, WritesLoadsAndKeepsSigning) {
    auto key = Ed25519PrivateKey::generate();
    ASSERT_TRUE(key);
    const std::string path = dir_ + "/checkpoint.key";
    ASSERT_TRUE(key->write(path));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_NE(::access((path + ".tmp").c_str(), F_OK), 0);
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    EXPECT_EQ(first, "-----BEGIN PRIVATE KEY-----");
    auto loaded = Ed25519PrivateKey::load(path);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->public_key(), key->public_key());
    auto sig = loaded->sign("x");
    ASSERT_TRUE(sig);
    EXPECT_TRUE(ed25519_verify(key->public_key(), "x", *sig));
}

TEST_F(Ed25519Files, NeverReplacesAnExistingKey) {
    auto a = Ed25519PrivateKey::generate();
    auto b = Ed25519PrivateKey::generate();
    ASSERT_TRUE(a && b);
    const std::string path = dir_ + "/checkpoint.key";
    ASSERT_TRUE(a->write(path));
    EXPECT_FALSE(b->write(path));
    auto loaded = Ed25519PrivateKey::load(path);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->public_key(), a->public_key());
}

TEST_F(Ed25519Files, LoadRefusesGroupOrOtherAccessAndSymlinks) {
    auto key = Ed25519PrivateKey::generate();
    ASSERT_TRUE(key);
    const std::string path = dir_ + "/checkpoint.key";
    ASSERT_TRUE(key->write(path));
    for (mode_t mode : {mode_t{0640}, mode_t{0604}, mode_t{0660}, mode_t{0644}}) {
        ASSERT_EQ(::chmod(path.c_str(), mode), 0);
        auto loaded = Ed25519PrivateKey::load(path);
        ASSERT_FALSE(loaded) << std::oct << mode;
        EXPECT_NE(loaded.error().message.find("group or others"), std::string::npos);
    }
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    ASSERT_TRUE(Ed25519PrivateKey::load(path));
    const std::string link = dir_ + "/link.key";
    ASSERT_EQ(::symlink(path.c_str(), link.c_str()), 0);
    EXPECT_FALSE(Ed25519PrivateKey::load(link));
    if (::geteuid() == 0) {
        ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
        auto loaded = Ed25519PrivateKey::load(path);
        ASSERT_FALSE(loaded);
        EXPECT_NE(loaded.error().message.find("not owned"), std::string::npos);
    }
}

TEST_F(Ed25519Files, LoadRefusesOtherKeyTypesAndGarbage) {
    const std::string path = dir_ + "/k";
    ASSERT_EQ(std::system(("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + path +
                           " 2>/dev/null && chmod 600 " + path)
                              .c_str()),
              0);
    auto ec = Ed25519PrivateKey::load(path);
    ASSERT_FALSE(ec);
    EXPECT_NE(ec.error().message.find("not an Ed25519"), std::string::npos);
    EXPECT_FALSE(Ed25519PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
    EXPECT_FALSE(Ed25519PrivateKey::from_pem(""));
}

TEST_F(Ed25519Files, ReadsTheOpensslCliKeyAndPublicKeyFile) {
    const std::string path = dir_ + "/cli.key";
    ASSERT_EQ(std::system(("openssl genpkey -algorithm ED25519 -out " + path + " && chmod 600 " + path).c_str()), 0);
    auto key = Ed25519PrivateKey::load(path);
    ASSERT_TRUE(key) << key.error().message;
    const std::string pub = dir_ + "/cli.pub";
    {
        std::ofstream out(pub);
        out << format_ed25519_public_key(key->public_key()) << "\n";
    }
    auto parsed = read_ed25519_public_key_file(pub);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(*parsed, key->public_key());
}

}  // namespace
}  // namespace bg::audit
