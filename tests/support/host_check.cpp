// SPDX-License-Identifier: ISC
// bg_test_host_check: what the whole test suite must leave unchanged on the
// host, checked by ctest fixtures around it (tests/support/CMakeLists.txt).
//
//   bg_test_host_check systemd-before STATE   (FIXTURES_SETUP)
//   bg_test_host_check systemd-after STATE    (FIXTURES_CLEANUP)
//       On a host where systemd is PID 1 (/run/systemd/system exists): no
//       breakglass-expire-* unit appeared during the suite, neither still
//       loaded at the end nor mentioned by PID 1 in the journal since the
//       snapshot (a test daemon's timer that fired and went away). Units that
//       existed before (a production host's real grants) are not the suite's.
//       Exit 77 (skipped) without a booted systemd.
//   bg_test_host_check nothing-left-behind    (FIXTURES_CLEANUP)
//       No test process that has ended left users, groups or directories of
//       its run (run_directory.hpp); what one left is removed and named.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>

#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/run_directory.hpp"

namespace {

using bg::test::run;

constexpr int kSkipped = 77;

std::string program(const char* name) {
    for (const char* dir : {"/usr/bin/", "/bin/"}) {
        const std::string path = std::string(dir) + name;
        if (::access(path.c_str(), X_OK) == 0) return path;
    }
    return "";
}

bool systemd_is_pid1() { return ::access("/run/systemd/system", F_OK) == 0; }

const std::regex kUnitName("breakglass-expire-[A-Za-z0-9_.:-]+?\\.(timer|service)");

std::set<std::string> unit_names_in(const std::string& text) {
    std::set<std::string> out;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kUnitName); it != std::sregex_iterator(); ++it)
        out.insert(it->str());
    return out;
}

// Loaded units (active or not) named breakglass-expire-*; nullopt when systemctl fails.
std::optional<std::set<std::string>> loaded_units() {
    const std::string systemctl = program("systemctl");
    if (systemctl.empty()) return std::nullopt;
    const auto r = run({systemctl, "list-units", "--all", "--plain", "--no-legend", "--full", "--no-pager",
                        "breakglass-expire-*"});
    if (r.exit_code != 0) {
        std::cerr << "systemctl list-units failed: " << r.err;
        return std::nullopt;
    }
    return unit_names_in(r.out);
}

int systemd_before(const std::string& state) {
    if (!systemd_is_pid1()) {
        std::cout << "no booted systemd here (/run/systemd/system is missing): nothing to check\n";
        bg::test::write_file(state, "", 0600);
        return kSkipped;
    }
    const auto units = loaded_units();
    if (!units) return 1;
    // To the microsecond: PID 1's lines from just before the snapshot are not the suite's.
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    char since[32];
    std::snprintf(since, sizeof since, "%lld.%06lld", static_cast<long long>(us / 1000000),
                  static_cast<long long>(us % 1000000));
    std::string text = std::string(since) + "\n";
    for (const auto& u : *units) text += u + "\n";
    bg::test::write_file(state, text, 0600);
    std::cout << units->size() << " breakglass-expire-* unit(s) before the suite (not the suite's)\n";
    return 0;
}

int systemd_after(const std::string& state) {
    if (!systemd_is_pid1()) {
        std::cout << "no booted systemd here (/run/systemd/system is missing): nothing to check\n";
        return kSkipped;
    }
    std::istringstream in(bg::test::read_file(state));
    std::string since;
    if (!std::getline(in, since) || since.empty()) {
        std::cerr << "no snapshot in " << state << " (did systemd-before run?)\n";
        return 1;
    }
    std::set<std::string> before;
    for (std::string line; std::getline(in, line);) before.insert(line);
    const auto now = loaded_units();
    if (!now) return 1;
    int failures = 0;
    for (const auto& u : *now)
        if (!before.count(u)) {
            std::cout << "FAIL: " << u << " appeared in the host's systemd during the suite\n";
            ++failures;
        }
    // A transient timer that fired and was collected is gone from list-units; PID 1 logged it.
    if (const std::string journalctl = program("journalctl"); !journalctl.empty()) {
        const auto r = run({journalctl, "--no-pager", "-q", "-o", "cat", "--since", "@" + since, "_PID=1"});
        if (r.exit_code == 0) {
            for (const auto& u : unit_names_in(r.out))
                if (!before.count(u) && !now->count(u)) {
                    std::cout << "FAIL: PID 1 logged " << u << " during the suite\n";
                    ++failures;
                }
        } else {
            std::cout << "journalctl failed (" << r.err << "): only the loaded units were checked\n";
        }
    }
    if (failures == 0) std::cout << "no breakglass-expire-* unit appeared in the host's systemd during the suite\n";
    return failures == 0 ? 0 : 1;
}

int nothing_left_behind() {
    const auto removed = bg::test::sweep_dead_runs();
    for (const auto& r : removed) std::cout << "FAIL: left behind by a test process that has ended: " << r << "\n";
    if (removed.empty()) std::cout << "no test process left users, groups or directories behind\n";
    return removed.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    try {
        if (mode == "systemd-before" && argc == 3) return systemd_before(argv[2]);
        if (mode == "systemd-after" && argc == 3) return systemd_after(argv[2]);
        if (mode == "nothing-left-behind" && argc == 2) return nothing_left_behind();
    } catch (const std::exception& e) {
        std::cerr << "bg_test_host_check: " << e.what() << "\n";
        return 1;
    }
    std::cerr << "usage: bg_test_host_check systemd-before STATE | systemd-after STATE | nothing-left-behind\n";
    return 2;
}
