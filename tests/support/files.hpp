// SPDX-License-Identifier: ISC
// Whole files for tests: read what a daemon wrote, write what it will read.
// No gtest in here (benchmarks link this library too): failures throw.
#pragma once

#include <string>
#include <sys/types.h>

namespace bg::test {

// The whole file; "" when it does not exist.
std::string read_file(const std::string& path);

// Replaces `path` with `text` and sets `mode` (not subject to the umask). Throws on failure.
void write_file(const std::string& path, const std::string& text, mode_t mode);

}  // namespace bg::test
