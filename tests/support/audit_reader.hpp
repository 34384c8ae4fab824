// SPDX-License-Identifier: ISC
// The daemon's audit log as a test reads it: <state dir>/audit.log, one JSON
// record per line. Only complete lines count (the daemon may be appending).
// No gtest in here: a line that is not JSON throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace bg::test {

class AuditLog {
public:
    explicit AuditLog(std::string path) : path_(std::move(path)) {}

    const std::string& path() const { return path_; }
    // The file as it is (for "this secret never reached the log").
    std::string text() const;
    std::vector<nlohmann::json> records() const;
    std::vector<nlohmann::json> records_of(std::string_view event) const;
    std::size_t size() const { return records().size(); }

    // Polls until at least `count` records of `event` exist or `timeout` has
    // passed; returns the records of `event` found by then.
    std::vector<nlohmann::json> wait_for(std::string_view event, std::size_t count,
                                         std::chrono::milliseconds timeout) const;
    // Polls until a record of `event` whose `field` is `value` exists; null json when none came.
    nlohmann::json wait_for_record(std::string_view event, std::string_view field, const std::string& value,
                                   std::chrono::milliseconds timeout) const;

private:
    std::string path_;
};

}  // namespace bg::test
