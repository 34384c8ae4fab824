// SPDX-License-Identifier: ISC
#include "tests/integration/daemon_harness.hpp"

#include <chrono>
#include <cstdlib>
#include <pwd.h>
#include <sys/stat.h>
#include <thread>

#include "common/protocol.hpp"
#include "common/transport.hpp"
#include "tests/integration/process.hpp"

namespace bg::test {

bool add_users_and_groups(const std::vector<std::string>& users, const std::vector<std::string>& groups) {
    for (const std::string& group : groups) (void)run({"/usr/sbin/groupadd", "-f", group});
    for (const std::string& user : users) {
        if (::getpwnam(user.c_str()) != nullptr) continue;
        if (run({"/usr/sbin/useradd", "--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin",
                 user})
                .exit_code != 0)
            return false;
    }
    return true;
}

void remove_users_and_groups(const std::vector<std::string>& users, const std::vector<std::string>& groups) {
    for (const std::string& user : users) (void)run({"/usr/sbin/userdel", user});
    for (const std::string& group : groups) (void)run({"/usr/sbin/groupdel", group});
}

std::string make_test_dir(const std::string& prefix) {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return "";
    ::chmod(tmpl.c_str(), 0755);
    return tmpl;
}

bool wait_until_serving(const std::string& socket, const std::string& gate) {
    for (int i = 0; i < 100; ++i) {
        if (proto::call(socket, proto::CheckRequest{"", gate}, proto::MessageType::CheckAnswer, 1000).answer) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

std::vector<std::string> ctl_argv(const std::string& ctl, const std::string& socket, std::vector<std::string> args) {
    args.insert(args.begin(), ctl);
    args.push_back("--socket");
    args.push_back(socket);
    return args;
}

std::vector<nlohmann::json> audit_records(const std::string& state_dir, const std::string& event) {
    std::vector<nlohmann::json> out;
    const std::string text = read_file(state_dir + "/audit.log");
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t nl = text.find('\n', start);
        nlohmann::json r = nlohmann::json::parse(text.substr(start, nl - start));
        if (event.empty() || r["event"] == event) out.push_back(std::move(r));
        start = nl + 1;
    }
    return out;
}

}  // namespace bg::test
