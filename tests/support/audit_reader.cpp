// SPDX-License-Identifier: ISC
#include "tests/support/audit_reader.hpp"

#include "tests/support/files.hpp"
#include "tests/support/polling.hpp"

namespace bg::test {

std::string AuditLog::text() const { return read_file(path_); }

std::vector<nlohmann::json> AuditLog::records() const {
    std::vector<nlohmann::json> out;
    const std::string all = text();
    std::size_t start = 0;
    for (std::size_t nl; (nl = all.find('\n', start)) != std::string::npos; start = nl + 1)
        out.push_back(nlohmann::json::parse(all.substr(start, nl - start)));
    return out;
}

std::vector<nlohmann::json> AuditLog::records_of(std::string_view event) const {
    std::vector<nlohmann::json> out;
    for (auto& r : records())
        if (r.value("event", "") == event) out.push_back(std::move(r));
    return out;
}

std::vector<nlohmann::json> AuditLog::wait_for(std::string_view event, std::size_t count,
                                               std::chrono::milliseconds timeout) const {
    std::vector<nlohmann::json> found;
    (void)eventually([&] { return (found = records_of(event)).size() >= count; }, timeout);
    return found;
}

nlohmann::json AuditLog::wait_for_record(std::string_view event, std::string_view field, const std::string& value,
                                         std::chrono::milliseconds timeout) const {
    nlohmann::json match;
    (void)eventually(
        [&] {
            for (auto& r : records_of(event))
                if (r.contains(field) && r[std::string(field)] == value) {
                    match = std::move(r);
                    return true;
                }
            return false;
        },
        timeout);
    return match;
}

}  // namespace bg::test
