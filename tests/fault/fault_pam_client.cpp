// SPDX-License-Identifier: ISC
// The front-end of the fault scenario, as its own process so that the fault
// interposer can be preloaded into it (and not into the driver): a login as
// login(1) or sshd runs one through the real libpam (pam_start_confdir):
// pam_authenticate (break the glass: reason, incident, TOTP code),
// pam_acct_mgmt, pam_open_session, the session, pam_close_session, pam_end.
//   fault_pam_client CONFDIR SERVICE USER REASON INCIDENT CODE
// Prints "session=1" if the session was opened (the user got in), and the
// first PAM code that was not PAM_SUCCESS. Exit 0 when the user got in, 1 when
// refused, 2 on a usage error.
#include <cstdio>
#include <exception>

#include "tests/pam/pam_harness.hpp"

int main(int argc, char** argv) {
    if (argc != 7) {
        std::fprintf(stderr, "usage: %s CONFDIR SERVICE USER REASON INCIDENT CODE\n", argv[0]);
        return 2;
    }
    try {
        bg::test::Conversation conv;
        conv.answers = {argv[4], argv[5], argv[6]};
        bool in_session = false;
        const int rc = bg::test::run_pam_login(argv[1], argv[2], argv[3], conv, [&] { in_session = true; });
        std::printf("session=%d rc=%d\n", in_session ? 1 : 0, rc);
        std::fflush(stdout);
        return in_session ? 0 : 1;
    } catch (const std::exception& e) {
        std::printf("session=0 exception=%s\n", e.what());
        return 1;
    }
}
