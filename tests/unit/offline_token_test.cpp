// SPDX-License-Identifier: ISC
// helper/workflow/offline_token: the request code and the approval token are
// pure functions of their inputs. Golden values pin the formats (a change
// breaks every token in the field); the parsers refuse what they did not
// write and say why; check_approval_token says which binding does not fit.
#include <gtest/gtest.h>

#include "helper/workflow/offline_token.hpp"

namespace bg::workflow {
namespace {

// A fixed Ed25519 key (PKCS#8 PEM): golden tokens stay the same run to run
// (Ed25519 signatures are deterministic).
constexpr const char* kBobPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mGXc9LiAf\n"
    "-----END PRIVATE KEY-----\n";
constexpr const char* kEvePem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB\n"
    "-----END PRIVATE KEY-----\n";

RequestCode alice_code() {
    return {"alice", "web1", "db-emergency",
            request_digest("web1", "alice", "db-emergency", "db down", "INC-7", "bg-2026-000012",
                           "00112233445566778899aabbccddeeff")};
}

ApprovalToken signed_token(const char* pem, const RequestCode& code, std::int64_t not_after) {
    auto key = audit::Ed25519PrivateKey::from_pem(pem);
    EXPECT_TRUE(key);
    auto sig = key->sign(token_message(code, not_after));
    EXPECT_TRUE(sig);
    return make_token(code, not_after, key->public_key(), *sig);
}

std::vector<std::pair<std::string, audit::Ed25519PublicKey>> policy_keys() {
    return {{"bob", audit::Ed25519PrivateKey::from_pem(kBobPem)->public_key()}};
}

TEST(RequestCode, GoldenFormatAndRoundTrip) {
    const RequestCode c = alice_code();
    const std::string text = format_request_code(c);
    EXPECT_EQ(text, "alice@web1/db-emergency/6VEK-3TA7-MRCQ-IZI7-62GQ");
    EXPECT_EQ(format_request_digest(c.digest), "6VEK-3TA7-MRCQ-IZI7");
    const auto back = parse_request_code(text);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->actor, "alice");
    EXPECT_EQ(back->host, "web1");
    EXPECT_EQ(back->gate, "db-emergency");
    EXPECT_EQ(back->digest, c.digest);
    // Case and dashes are free in the code part.
    std::string loose = text.substr(0, text.rfind('/') + 1);
    for (char ch : text.substr(text.rfind('/') + 1))
        if (ch != '-') loose += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_TRUE(parse_request_code(loose)) << loose;
}

TEST(RequestCode, EveryFieldChangesTheDigest) {
    const RequestDigest base = alice_code().digest;
    const char* n = "00112233445566778899aabbccddeeff";
    EXPECT_NE(request_digest("web2", "alice", "db-emergency", "db down", "INC-7", "bg-2026-000012", n), base);
    EXPECT_NE(request_digest("web1", "alicf", "db-emergency", "db down", "INC-7", "bg-2026-000012", n), base);
    EXPECT_NE(request_digest("web1", "alice", "db-emergencz", "db down", "INC-7", "bg-2026-000012", n), base);
    EXPECT_NE(request_digest("web1", "alice", "db-emergency", "db up", "INC-7", "bg-2026-000012", n), base);
    EXPECT_NE(request_digest("web1", "alice", "db-emergency", "db down", "INC-8", "bg-2026-000012", n), base);
    EXPECT_NE(request_digest("web1", "alice", "db-emergency", "db down", "INC-7", "bg-2026-000013", n), base);
    EXPECT_NE(request_digest("web1", "alice", "db-emergency", "db down", "INC-7", "bg-2026-000012",
                             "00112233445566778899aabbccddeef0"),
              base);
    // Length-prefixed: moving text between fields changes it too.
    EXPECT_NE(request_digest("web1", "alice", "db-emergency", "db downI", "NC-7", "bg-2026-000012", n), base);
}

TEST(RequestCode, RefusesWhatItDidNotWrite) {
    const std::string good = format_request_code(alice_code());
    std::string typo = good;
    typo[typo.size() - 2] = typo[typo.size() - 2] == 'A' ? 'B' : 'A';
    std::string other_host = good;
    other_host.replace(other_host.find("web1"), 4, "web2");  // the check covers the names
    for (const std::string& bad :
         {std::string(), std::string("alice"), std::string("alice@web1"), std::string("alice@web1/db-emergency"),
          good.substr(0, good.size() - 1), good + "A", typo, other_host, "@web1/db/" + good.substr(good.rfind('/') + 1),
          "al ice@web1/db/" + good.substr(good.rfind('/') + 1), std::string(4096, 'a')}) {
        const auto r = parse_request_code(bad);
        EXPECT_FALSE(r) << bad;
    }
    EXPECT_NE(parse_request_code(typo).error().message.find("mistyped"), std::string::npos);
    EXPECT_NE(parse_request_code(good.substr(0, good.size() - 1)).error().message.find("truncated"),
              std::string::npos);
}

TEST(ApprovalToken, GoldenFormatAndRoundTrip) {
    const ApprovalToken t = signed_token(kBobPem, alice_code(), 1767229200);
    const std::string text = format_approval_token(t);
    EXPECT_EQ(text.size(), 130u + 25u);  // 26 groups of five
    // Version 1, key tag, not_after, tags, signature, check: pinned whole.
    EXPECT_EQ(text,
              "AEM34-2KVY4-INY45-FQ2R4-FB6K5-UDMAW-PM27R-LWJQI-QQTWB-K4W3F-BXTJO-BXKQV-QM6RW-AKUCO-U4FUQ-E27OC-OL3BU-"
              "AGHJA-Y26E4-DYBZV-CONTE-UMOA2-OYXAK-IRLGN-FKBR6-CZ724");
    EXPECT_EQ(token_digest(t), "580e776ca099af409eb47774e7d4411a");
    const auto back = parse_approval_token(text);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->not_after, 1767229200);
    EXPECT_EQ(back->signature, t.signature);
    EXPECT_EQ(token_digest(*back), token_digest(t));
    EXPECT_EQ(token_digest(t).size(), 32u);
    // Typing: any case, without dashes, with spaces, 0 for O and 1 for I.
    std::string loose;
    for (char c : text)
        if (c != '-') loose += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_TRUE(parse_approval_token(loose));
    EXPECT_TRUE(parse_approval_token(" " + text + " "));
}

TEST(ApprovalToken, RefusesTruncatedLongMistypedAndForeignText) {
    const std::string text = format_approval_token(signed_token(kBobPem, alice_code(), 1767229200));
    const auto truncated = parse_approval_token(text.substr(0, text.size() - 6));
    ASSERT_FALSE(truncated);
    EXPECT_NE(truncated.error().message.find("truncated"), std::string::npos) << truncated.error().message;
    const auto long_one = parse_approval_token(text + "A");
    ASSERT_FALSE(long_one);
    EXPECT_NE(long_one.error().message.find("too long"), std::string::npos);
    std::string typo = text;
    typo[40] = typo[40] == 'Q' ? 'R' : 'Q';
    const auto mistyped = parse_approval_token(typo);
    ASSERT_FALSE(mistyped);
    EXPECT_NE(mistyped.error().message.find("mistyped"), std::string::npos);
    EXPECT_FALSE(parse_approval_token(""));
    EXPECT_FALSE(parse_approval_token(std::string(2000, 'A')));
    const auto foreign = parse_approval_token(text.substr(0, 20) + "!" + text.substr(21));
    ASSERT_FALSE(foreign);
    EXPECT_NE(foreign.error().message.find("not base32"), std::string::npos);
}

TEST(ApprovalToken, CheckNamesTheBindingThatDoesNotFit) {
    const RequestCode code = alice_code();
    const auto keys = policy_keys();
    const ApprovalToken good = signed_token(kBobPem, code, 1767229200);
    const TokenCheck ok = check_approval_token(good, code, keys);
    EXPECT_TRUE(ok.ok) << ok.why;
    EXPECT_EQ(ok.approver, "bob");

    const auto refused = [&](RequestCode other, const char* pem, const std::string& expect) {
        const TokenCheck c = check_approval_token(signed_token(pem, other, 1767229200), code, keys);
        EXPECT_FALSE(c.ok);
        EXPECT_NE(c.why.find(expect), std::string::npos) << c.why;
    };
    RequestCode host = code;
    host.host = "web2";
    refused(host, kBobPem, "another host");
    RequestCode actor = code;
    actor.actor = "mallory";
    refused(actor, kBobPem, "another user's request");
    RequestCode gate = code;
    gate.gate = "pair";
    refused(gate, kBobPem, "another gate");
    RequestCode request = code;
    request.digest[0] ^= 1;
    refused(request, kBobPem, "another request");
    refused(code, kEvePem, "not in the policy");

    // The signature binds not_after: a token whose time was changed fails.
    ApprovalToken later = good;
    later.not_after += 3600;
    const TokenCheck moved = check_approval_token(later, code, keys);
    EXPECT_FALSE(moved.ok);
    EXPECT_NE(moved.why.find("signature does not verify"), std::string::npos) << moved.why;
}

}  // namespace
}  // namespace bg::workflow
