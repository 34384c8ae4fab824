// SPDX-License-Identifier: ISC
#include <gtest/gtest.h>

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
