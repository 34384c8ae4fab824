// SPDX-License-Identifier: ISC
// Running real processes from tests: the daemon, breakglassctl, as root or as
// another user (setpriv). No shell is involved.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace bg::test {

struct ProcessResult {
    int exit_code = -1;  // 128+signal when killed
    std::string out;
    std::string err;
};

// Runs argv to completion, feeding `input` on stdin.
ProcessResult run(const std::vector<std::string>& argv, const std::string& input = "");

// Starts argv in the background with stdout/stderr to `log_path`.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log_path);

// argv prefix that runs a command as `user` with that user's groups.
std::vector<std::string> as_user(const std::string& user, std::vector<std::string> argv);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text, mode_t mode);

}  // namespace bg::test
