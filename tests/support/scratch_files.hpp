// SPDX-License-Identifier: ISC
// Scratch directories and byte-level file access for the unit tests that do
// not link bg_test_support (the audit and ctl unit tests: no daemon, no
// accounts). Header only, no gtest: failures throw.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bg::test {

// A fresh directory /var/tmp/bg-<label>.XXXXXX, mode 0700, removed with
// everything in it by the destructor.
class TempDir {
public:
    explicit TempDir(std::string_view label) {
        std::string tmpl = "/var/tmp/bg-" + std::string(label) + ".XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp " + tmpl + " failed");
        path_ = tmpl;
        ::chmod(path_.c_str(), 0700);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

private:
    std::string path_;
};

// The whole file's bytes; "" when it cannot be read.
inline std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Overwrites `bytes` at `offset` in place (a tamper test's flipped byte).
inline void overwrite_at(const std::string& path, std::size_t offset, const std::string& bytes) {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    if (!f) throw std::runtime_error("cannot open " + path);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw std::runtime_error("cannot write " + path);
}

}  // namespace bg::test
