// SPDX-License-Identifier: ISC
// Reading a secret (the one-time code, a TOTP secret) for breakglassctl.
// Secrets never come from argv: from the terminal with echo off when stdin is
// a terminal, else one bounded line from stdin. They live in a fixed buffer
// that is wiped on destruction (docs/ARCHITECTURE.md, "Conventions the code keeps").
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include <signal.h>

#include "common/result.hpp"

namespace bg::ctl {

// A short secret in a fixed-size buffer (no reallocation leaves copies
// behind), wiped with OPENSSL_cleanse when destroyed.
class Secret {
public:
    static constexpr std::size_t kCapacity = 256;

    Secret() = default;
    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;
    ~Secret() { wipe(); }

    bool push_back(char c);  // false when full
    void pop_back() { if (size_ > 0) bytes_[--size_] = '\0'; }
    std::string_view view() const { return {bytes_.data(), size_}; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    void wipe();

private:
    std::array<char, kCapacity> bytes_{};
    std::size_t size_ = 0;
};

// Overwrites a string's whole buffer (not only its size) and empties it.
void wipe_string(std::string& s);

// Reads one line from `fd` into `out` (without the newline, and without a
// trailing '\r'): at most `max_bytes` bytes before the newline, else an
// error; end of input ends the line. An empty line is an error. When
// `wait_mask` is given, waits with ppoll(wait_mask) before each read so that
// a signal blocked outside the wait interrupts it ("interrupted").
Status read_secret_line(int fd, std::size_t max_bytes, Secret& out, const sigset_t* wait_mask = nullptr);

// Prompts on /dev/tty with echo off and reads one line. The terminal settings
// and signal dispositions are restored on every path; SIGINT, SIGTERM,
// SIGHUP and SIGQUIT are re-raised after restoring (so the default action
// still happens, with the terminal sane), and a stop (Ctrl-Z) restores the
// terminal, stops, and prompts again on resume.
Status read_secret_from_terminal(std::string_view prompt, std::size_t max_bytes, Secret& out);

// The terminal when stdin is one, else one line from stdin.
Status read_secret(std::string_view prompt, std::size_t max_bytes, Secret& out);

// Keeps secrets out of core dumps and away from ptrace by other users.
void make_process_undumpable();

}  // namespace bg::ctl
