// SPDX-License-Identifier: ISC
// What one test process owns on the host, and how it is found again when the
// process died without cleaning up.
//
// Every test process gets a run token (6 random [a-z0-9]) on first use. It
// holds an flock on /tmp/bgt<token>.lock for as long as it lives, keeps its
// temporary directories under /tmp/bgt<token>/, and names its users and
// groups bgt<token>-<role> (test_accounts.hpp). Two test runs on one machine
// therefore never share a name or a path, and a run whose lock is free is dead:
// sweep_dead_runs() removes what it left (accounts, processes, directories).
// No gtest in here: failures throw std::runtime_error.
#pragma once

#include <string>
#include <vector>

namespace bg::test {

// "k3x9q2": this process's token (created, locked and the dead runs swept on first use).
const std::string& run_token();
// "bgtk3x9q2-": the prefix of every account name this process creates.
std::string run_account_prefix();
// /tmp/bgt<token>, mode 0755 (test users reach sockets inside).
const std::string& run_directory();

// A fresh directory under the run directory, mode 0755, removed with
// everything in it by the destructor.
class ScratchDir {
public:
    explicit ScratchDir(const std::string& label);
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

// What the runs that died without cleaning up left on the host: one line per
// thing removed ("user bgtk3x9q2-alice", "directory /tmp/bgtk3x9q2"). Runs
// still alive (their lock is held) are never touched.
std::vector<std::string> sweep_dead_runs();

}  // namespace bg::test
