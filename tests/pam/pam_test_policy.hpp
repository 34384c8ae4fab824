// SPDX-License-Identifier: ISC
// The policy the PAM tests and bench_pam give their daemon (the fixture's
// TestDaemon, tests/support/test_daemon.hpp). Users: accounts every Debian
// system has, so these tests create none — kRequester ("daemon") is a
// requester of kGate, kOutsider ("nobody") is not. Each test has its own
// daemon, so TOTP replay state and the failure limiter start empty.
#pragma once

namespace bg::test {

inline constexpr const char* kGate = "pam-test";
inline constexpr const char* kRequester = "daemon";
inline constexpr const char* kOutsider = "nobody";

// kGate: requesters = [kRequester], incident '^INC-[0-9]+$', ttl 10m, TOTP.
inline constexpr const char* kPamTestPolicy = R"(# pam_breakglass test policy
[defaults]
max_ttl = "1h"
incident_pattern = '^INC-[0-9]+$'
factors = ["totp"]

[gate.pam-test]
description = "gate guarded by pam_breakglass in the tests"
pam_service = "bg-pam-test"
requesters = ["daemon"]
ttl = "10m"
)";

}  // namespace bg::test
