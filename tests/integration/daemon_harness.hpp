// SPDX-License-Identifier: ISC
// What the integration tests that run breakglassd share: test users and
// groups, a temporary directory the test users can reach, waiting for the
// daemon to answer, the CLI's argv and the audit log's records.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bg::test {

// Creates the groups and the users that are missing (system users without a
// home, each with its own group). Needs root. False if useradd failed.
bool add_users_and_groups(const std::vector<std::string>& users, const std::vector<std::string>& groups);
void remove_users_and_groups(const std::vector<std::string>& users, const std::vector<std::string>& groups);

// mkdtemp under /tmp, mode 0755 so test users reach the socket inside. "" on failure.
std::string make_test_dir(const std::string& prefix);

// Ready means answering: the socket accepts connections before the startup
// sweep has run, and requests wait until it has. False after ~5 s.
bool wait_until_serving(const std::string& socket, const std::string& gate);

// {ctl, args..., "--socket", socket}
std::vector<std::string> ctl_argv(const std::string& ctl, const std::string& socket, std::vector<std::string> args);

// Every record of <state_dir>/audit.log, parsed; only those of `event` when given.
std::vector<nlohmann::json> audit_records(const std::string& state_dir, const std::string& event = "");

}  // namespace bg::test
