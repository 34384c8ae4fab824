// SPDX-License-Identifier: ISC
#include "tests/sudo/sudo_host.hpp"

#include <unistd.h>

#include "tests/support/files.hpp"
#include "tests/support/process.hpp"

namespace bg::test {
namespace {

constexpr const char* kPlugin = BG_SUDO_PLUGIN_PATH;

const std::vector<std::string>& test_environment() {
    static const std::vector<std::string> env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=dumb", "LANG=C"};
    return env;
}

}  // namespace

std::string sudo_environment_missing() {
    if (::geteuid() != 0) return "needs root (creates users, mounts in a private namespace)";
    if (::access(kSudo, X_OK) != 0) return "no /usr/bin/sudo";
    if (::access("/etc/sudo.conf", F_OK) != 0) return "no /etc/sudo.conf to mount over";
    if (::access("/usr/sbin/useradd", X_OK) != 0) return "no useradd";
    return "";
}

std::string sudo_policy(const SudoAccounts& a) {
    return "# breakglass_sudo test policy\n"
           "[defaults]\nmax_ttl = \"1h\"\nincident_pattern = '^INC-[0-9]+$'\nfactors = [\"totp\"]\n\n"
           "[gate.breakglass]\n"
           "description = \"sudo -g GATEGROUP, guarded by breakglass_sudo.so in the tests\"\n"
           "sudo_runas_group = \"" + a.gate.name() + "\"\nrequesters = [\"" + a.user.name() + "\"]\nttl = \"10m\"\n"
           "termination_grace = \"2s\"\n\n"
           "[gate.breakglass-svc]\n"
           "description = \"sudo -u SERVICEUSER, guarded by breakglass_sudo.so in the tests\"\n"
           "sudo_runas_user = \"" + a.service.name() + "\"\nrequesters = [\"" + a.user.name() + "\"]\nttl = \"10m\"\n";
}

std::string sudo_gates_option(const SudoAccounts& a) { return "gates=" + a.gate.name() + ":" + kSudoGate; }

std::string plugin_sudo_conf(const std::string& plugin_options) {
    std::string conf = "# breakglass_sudo test sudo.conf\n";
    if (!plugin_options.empty()) {
        conf += "Plugin breakglass_approval " + std::string(kPlugin) + " " + plugin_options + "\n";
        conf += "Plugin breakglass_audit " + std::string(kPlugin) + " " + plugin_options + "\n";
    }
    return conf;
}

SudoConfig::SudoConfig(const std::string& dir, const SudoAccounts& a, const std::string& sudo_conf, bool use_pty,
                       const std::string& extra_defaults) {
    const std::string editor = dir + "/editor";
    write_file(editor, "#!/bin/sh\n# sudoedit's editor in the tests: writes a known line into each file.\n"
                       "for f; do printf '%s' '" + editor_text() + "' > \"$f\"; done\n",
               0755);
    const std::string u = a.user.name();
    write_file(dir + "/sudoers",
               "# breakglass_sudo test sudoers\n"
               "Defaults env_reset\n"
               "Defaults secure_path=\"/usr/sbin:/usr/bin:/sbin:/bin\"\n"
               "Defaults !lecture, !syslog, !fqdn\n"
               // sudoedit runs this editor and no other: not $SUDO_EDITOR, $VISUAL or $EDITOR, not /usr/bin/editor.
               "Defaults editor=" + editor + ", !env_editor\n" +
                   std::string(use_pty ? "Defaults use_pty\n" : "") + extra_defaults +
               "root ALL=(ALL:ALL) ALL\n" +
                   u + " ALL=(:" + a.gate.name() + "," + a.other.name() + ") NOPASSWD: ALL\n" +
                   u + " ALL=(" + a.service.name() + ") NOPASSWD: ALL\n" +
                   u + " ALL=(root) NOPASSWD: /usr/bin/id\n",
               0440);
    write_file(dir + "/sudo.conf", sudo_conf, 0644);
    conf_ = std::make_unique<BindMount>(dir + "/sudo.conf", "/etc/sudo.conf");
    sudoers_ = std::make_unique<BindMount>(dir + "/sudoers", "/etc/sudoers");
}

PtySession sudo_on_terminal(const SudoAccounts& a, const std::vector<std::string>& argv,
                            const std::vector<PtyAnswer>& answers, std::chrono::milliseconds timeout,
                            const std::function<void(std::string_view)>& on_output) {
    PtyOptions options;
    options.on_output = on_output;
    options.user = a.user.name();
    options.environment = test_environment();
    options.timeout = timeout;
    return run_on_pty(argv, answers, options);
}

ProcessResult sudo_without_terminal(const SudoAccounts& a, const std::vector<std::string>& argv) {
    RunOptions options;
    options.as = credentials_of(a.user.name());
    options.set_loginuid = true;
    options.new_session = true;
    options.environment = test_environment();
    options.working_directory = "/";
    return run(argv, options);
}

}  // namespace bg::test
