// SPDX-License-Identifier: ISC
// breakglassctl's exit codes. The --help footer and man/breakglassctl.1 list
// the same table; scripts (and the systemd expiry timer) depend on it.
#pragma once

namespace bg::ctl {

enum ExitCode : int {
    kExitOk = 0,           // done
    kExitRefused = 1,      // the daemon refused (ErrorAnswer), or a policy/file check failed
    kExitUsage = 2,        // bad command line
    kExitUnreachable = 3,  // breakglassd did not answer
    kExitVerifyFailed = 4, // the audit log failed verification
};

inline constexpr const char* kExitCodeHelp =
    "Exit status:\n"
    "  0  done\n"
    "  1  refused or denied by breakglassd, or a policy/file check failed\n"
    "  2  usage error\n"
    "  3  breakglassd unreachable or did not answer\n"
    "  4  audit log verification failed";

}  // namespace bg::ctl
