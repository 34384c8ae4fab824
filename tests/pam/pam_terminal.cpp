// SPDX-License-Identifier: ISC
// A login-like program for the PAM approval tests: pam_authenticate of
// SERVICE (from CONFDIR, pam_start_confdir) for USER with libpam_misc's
// terminal conversation (misc_conv, as login(1) and su(1) converse), on the
// terminal it was started on. Prints "pam_authenticate: <pam_strerror>" and
// exits 0 on PAM_SUCCESS, else 1 (2: bad usage or pam_start failed).
// Usage: pam_terminal CONFDIR SERVICE USER
#include <security/pam_appl.h>
#include <security/pam_misc.h>

#include <cstdio>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: pam_terminal CONFDIR SERVICE USER\n");
        return 2;
    }
    const pam_conv conv{misc_conv, nullptr};
    pam_handle_t* pamh = nullptr;
    int rc = pam_start_confdir(argv[2], argv[3], &conv, argv[1], &pamh);
    if (rc != PAM_SUCCESS) {
        std::fprintf(stderr, "pam_start_confdir: %d\n", rc);
        return 2;
    }
    const char* tty = ::ttyname(STDIN_FILENO);
    if (tty != nullptr) (void)pam_set_item(pamh, PAM_TTY, tty);
    rc = pam_authenticate(pamh, 0);
    std::printf("pam_authenticate: %s\n", pam_strerror(pamh, rc));
    std::fflush(stdout);
    pam_end(pamh, rc);
    return rc == PAM_SUCCESS ? 0 : 1;
}
