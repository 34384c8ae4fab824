// SPDX-License-Identifier: ISC
// The sink cursor (helper/ship/cursor): strict text, write-fsync-rename, a new
// URL starts again from seq 1, a damaged file is an error (never a guess).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "helper/ship/cursor.hpp"
#include "tests/support/files.hpp"
#include "tests/support/run_directory.hpp"

namespace bg::ship {
namespace {

const std::string kUrl = "https://logs.example.net:19532";

TEST(ShipCursor, RendersAndParsesBack) {
    const Cursor c{kUrl, 1234567};
    const std::string text = render_cursor(c);
    EXPECT_EQ(text, "breakglass-sink-cursor 1\nurl=https://logs.example.net:19532\nacked_seq=1234567\n");
    auto back = parse_cursor(text);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, c);
}

TEST(ShipCursor, RefusesWhatItDidNotWrite) {
    for (const char* bad : {"", "breakglass-sink-cursor 2\nurl=https://x\nacked_seq=1\n",
                            "breakglass-sink-cursor 1\nurl=https://x\nacked_seq=01\n",
                            "breakglass-sink-cursor 1\nurl=https://x\nacked_seq=-1\n",
                            "breakglass-sink-cursor 1\nurl=https://x\nacked_seq=1",
                            "breakglass-sink-cursor 1\nurl=https://x\nacked_seq=1\nextra\n",
                            "breakglass-sink-cursor 1\nurl=https://x y\nacked_seq=1\n",
                            "breakglass-sink-cursor 1\nurl=\nacked_seq=1\n",
                            "breakglass-sink-cursor 1\nacked_seq=1\nurl=https://x\n",
                            "breakglass-sink-cursor 1\nurl=https://x\nacked_seq=184467440737095516160\n"})
        EXPECT_FALSE(parse_cursor(bad)) << bad;
}

TEST(ShipCursor, StoresDurablyAndLoads) {
    test::ScratchDir dir("cursor");
    const std::string path = dir.file("central.cursor");
    auto missing = load_cursor(path, kUrl);
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->acked_seq, 0u);  // a new sink starts from seq 1
    ASSERT_TRUE(store_cursor(path, Cursor{kUrl, 77}));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_NE(::stat((path + ".new").c_str(), &st), 0) << "the temporary file is renamed away";
    bool reset = true;
    auto loaded = load_cursor(path, kUrl, &reset);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->acked_seq, 77u);
    EXPECT_FALSE(reset);
    // Another URL is another sink: it gets the whole log.
    auto moved = load_cursor(path, "https://elsewhere.example.net", &reset);
    ASSERT_TRUE(moved);
    EXPECT_EQ(moved->acked_seq, 0u);
    EXPECT_TRUE(reset);
}

TEST(ShipCursor, DamagedFileIsAnErrorThatSaysWhatToDo) {
    test::ScratchDir dir("cursor");
    const std::string path = dir.file("central.cursor");
    test::write_file(path, "breakglass-sink-cursor 1\nurl=https://x\nacked_seq=9", 0600);
    auto loaded = load_cursor(path, "https://x");
    ASSERT_FALSE(loaded);
    EXPECT_NE(loaded.error().message.find("remove it"), std::string::npos) << loaded.error().message;
}

}  // namespace
}  // namespace bg::ship
