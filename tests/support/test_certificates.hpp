// SPDX-License-Identifier: ISC
// Certificates for the tests of the remote sinks (issue 11), made at run time
// with the `openssl` command in a directory of the test, so no key is ever in
// the repository: a CA, a server certificate for localhost and 127.0.0.1
// (subjectAltName), a client certificate, and a second, unrelated CA with a
// server certificate of its own, for "the sink presents a wrong certificate".
// Keys are ECDSA P-256 (quick to make), PEM, mode 0600; certificates 0644,
// valid from now for two days.
// No gtest in here: failures throw std::runtime_error.
#pragma once

#include <string>

namespace bg::test {

// One certificate and its private key, as file paths.
struct CertificateFiles {
    std::string cert;  // PEM certificate
    std::string key;   // PEM private key (PKCS#8), mode 0600
};

struct TestCertificates {
    std::string dir;
    CertificateFiles ca;            // self-signed CA (CN "breakglass test CA")
    CertificateFiles server;        // signed by ca: CN localhost, SAN DNS:localhost, IP:127.0.0.1, serverAuth
    CertificateFiles client;        // signed by ca: CN "breakglass test client", clientAuth
    CertificateFiles other_ca;      // a second self-signed CA that nothing here trusts
    CertificateFiles other_server;  // signed by other_ca, same names as `server`: the wrong certificate
};

// Makes all of the above in `dir` (which must exist; files are replaced).
// Takes a fraction of a second.
TestCertificates make_test_certificates(const std::string& dir);

}  // namespace bg::test
