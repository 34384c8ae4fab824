// SPDX-License-Identifier: ISC
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/text.hpp"

namespace bg {
namespace {

TEST(Text, ValidateAcceptsPrintableUtf8) {
    EXPECT_EQ(validate_text("db is down; ünïcode — ok", 1024), std::nullopt);
}

TEST(Text, ValidateRejectsEachBadClass) {
    EXPECT_EQ(validate_text("", 10), "is empty");
    EXPECT_EQ(validate_text("", 10, true), std::nullopt);
    EXPECT_EQ(validate_text(std::string(1025, 'a'), 1024), "is longer than 1024 bytes");
    EXPECT_EQ(validate_text("a\nb", 10), "contains a control character");
    EXPECT_EQ(validate_text(std::string("a\0b", 3), 10), "contains a control character");
    EXPECT_EQ(validate_text("a\x1b[31m", 10), "contains a control character");
    EXPECT_EQ(validate_text("a\x7f", 10), "contains a control character");
    EXPECT_EQ(validate_text("a\xc2\x9b", 10), "contains a control character");  // C1 CSI
    EXPECT_EQ(validate_text("\xff", 10), "is not valid UTF-8");
    EXPECT_EQ(validate_text("\xc0\xaf", 10), "is not valid UTF-8");          // overlong '/'
    EXPECT_EQ(validate_text("\xed\xa0\x80", 10), "is not valid UTF-8");      // surrogate
    EXPECT_EQ(validate_text("\xf4\x90\x80\x80", 10), "is not valid UTF-8");  // > U+10FFFF
    EXPECT_EQ(validate_text("\xe2\x82", 10), "is not valid UTF-8");          // truncated
}

TEST(Text, EscapeForDisplay) {
    EXPECT_EQ(escape_for_display("plain ü"), "plain ü");
    EXPECT_EQ(escape_for_display("a\nb"), "a\\x0ab");
    EXPECT_EQ(escape_for_display("\x1b[2J"), "\\x1b[2J");
    EXPECT_EQ(escape_for_display("back\\slash"), "back\\\\slash");
    EXPECT_EQ(escape_for_display("\xff\xfe"), "\\xff\\xfe");
    EXPECT_EQ(escape_for_display("\xc2\x9b"), "\\xc2\\x9b");
    EXPECT_EQ(escape_for_display(std::string("\0", 1)), "\\x00");
}

// UTF-8 of one code point (the tests' own encoder, independent of text.cpp).
std::string utf8(std::uint32_t cp) {
    std::string out;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return out;
}

// Every UTF-8 byte of `text` as \xNN.
std::string hex_bytes(const std::string& text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (const char c : text) {
        const auto b = static_cast<unsigned char>(c);
        out += "\\x";
        out += kHex[b >> 4];
        out += kHex[b & 0xF];
    }
    return out;
}

// Unicode 15.1 general category Cf, and Zl/Zp, written out from the
// standard's list (DerivedGeneralCategory.txt), not from text.cpp's table.
const std::vector<std::pair<std::uint32_t, std::uint32_t>> kCf = {
    {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},   {0x070F, 0x070F},
    {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x180E, 0x180E},   {0x200B, 0x200F},   {0x202A, 0x202E},
    {0x2060, 0x2064},   {0x2066, 0x206F},   {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD},
    {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
    {0xE0020, 0xE007F}, {0x2028, 0x2029} /* Zl, Zp */,
};

// Issue 10, item 9: "U+202E and other invisible format characters pass
// validation and show raw in breakglassctl log".
TEST(Text, Issue10InvisibleFormatCharactersAreRefusedAndEscaped) {
    const std::string rlo = utf8(0x202E);
    EXPECT_EQ(validate_text("INC-1 " + rlo + "exe.txt", 1024), "contains an invisible format character (U+202E)");
    EXPECT_EQ(escape_for_display("a" + rlo + "b"), "a\\xe2\\x80\\xaeb");
    std::size_t count = 0;
    for (const auto& [first, last] : kCf) {
        for (std::uint32_t cp = first; cp <= last; ++cp, ++count) {
            const std::string c = utf8(cp);
            const auto why = validate_text("x" + c + "y", 1024);
            ASSERT_TRUE(why.has_value()) << std::hex << cp;
            EXPECT_NE(why->find("invisible format character (U+"), std::string::npos) << *why;
            EXPECT_EQ(escape_for_display("x" + c + "y"), "x" + hex_bytes(c) + "y") << std::hex << cp;
        }
    }
    EXPECT_EQ(count, 172u);  // 170 Cf + Zl + Zp
    // The C1 controls stay refused and escaped, every one of them.
    for (std::uint32_t cp = 0x80; cp <= 0x9F; ++cp) {
        EXPECT_EQ(validate_text(utf8(cp), 8), "contains a control character") << std::hex << cp;
        EXPECT_EQ(escape_for_display(utf8(cp)), hex_bytes(utf8(cp))) << std::hex << cp;
    }
}

// Neighbours of every range, and visible text that merely looks exotic, pass.
TEST(Text, VisibleNeighboursOfFormatCharactersPass) {
    for (const auto& [first, last] : kCf) {
        for (const std::uint32_t cp : {first - 1, last + 1}) {
            bool inside = false;
            for (const auto& [f, l] : kCf) inside = inside || (cp >= f && cp <= l);
            if (inside || (cp >= 0x80 && cp <= 0x9F) || (cp >= 0xD800 && cp <= 0xDFFF)) continue;
            EXPECT_EQ(validate_text(utf8(cp), 8), std::nullopt) << std::hex << cp;
            EXPECT_EQ(escape_for_display(utf8(cp)), utf8(cp)) << std::hex << cp;
        }
    }
    for (const char* ok : {"caf\xc3\xa9", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", "\xe2\x80\x94 dash",
                           "\xf0\x9f\x94\xa5 fire", "\xc2\xa0nbsp"}) {
        EXPECT_EQ(validate_text(ok, 64), std::nullopt) << ok;
        EXPECT_EQ(escape_for_display(ok), ok);
    }
}

TEST(Text, Names) {
    EXPECT_TRUE(is_valid_name("alice", 64));
    EXPECT_TRUE(is_valid_name("db-emergency", 64));
    EXPECT_FALSE(is_valid_name("", 64));
    EXPECT_FALSE(is_valid_name("-rf", 64));
    EXPECT_FALSE(is_valid_name("a b", 64));
    EXPECT_FALSE(is_valid_name("a/b", 64));
    EXPECT_FALSE(is_valid_name(std::string(65, 'a'), 64));
}

}  // namespace
}  // namespace bg
