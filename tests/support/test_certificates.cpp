// SPDX-License-Identifier: ISC
#include "tests/support/test_certificates.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "tests/support/files.hpp"
#include "tests/support/process.hpp"

namespace bg::test {
namespace {

constexpr const char* kOpenssl = "/usr/bin/openssl";

void openssl(const std::vector<std::string>& arguments) {
    std::vector<std::string> argv{kOpenssl};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    const ProcessResult r = run(argv);
    if (r.exit_code != 0) {
        std::string line;
        for (const auto& a : argv) line += a + " ";
        throw std::runtime_error("openssl failed (" + std::to_string(r.exit_code) + "): " + line + "\n" + r.err);
    }
}

// The key file exists, empty and 0600, before openssl writes into it, so the
// key is never readable by others, not even for a moment.
std::string make_key(const std::string& path) {
    ::unlink(path.c_str());
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw std::runtime_error("creating " + path + ": " + std::strerror(errno));
    ::close(fd);
    openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path});
    if (::chmod(path.c_str(), 0600) != 0) throw std::runtime_error("chmod " + path + ": " + std::strerror(errno));
    return path;
}

std::string random_serial() {
    unsigned char bytes[8];
    if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
        throw std::runtime_error(std::string("getrandom: ") + std::strerror(errno));
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "0x";
    for (unsigned char b : bytes) {
        out += kHex[(b >> 4) & 0x7];  // first nibble < 8: a positive serial
        out += kHex[b & 0xf];
    }
    return out;
}

CertificateFiles make_ca(const std::string& dir, const std::string& name, const std::string& common_name) {
    CertificateFiles ca{dir + "/" + name + ".pem", make_key(dir + "/" + name + ".key")};
    openssl({"req", "-x509", "-new", "-key", ca.key, "-subj", "/CN=" + common_name, "-days", "2", "-set_serial",
             random_serial(), "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
             "keyUsage=critical,keyCertSign,cRLSign", "-out", ca.cert});
    return ca;
}

// A certificate signed by `ca` with the extensions in `extensions` (one per line, x509v3 config syntax).
CertificateFiles make_leaf(const std::string& dir, const std::string& name, const std::string& common_name,
                           const CertificateFiles& ca, const std::string& extensions) {
    CertificateFiles leaf{dir + "/" + name + ".pem", make_key(dir + "/" + name + ".key")};
    const std::string request = dir + "/" + name + ".csr";
    const std::string extension_file = dir + "/" + name + ".ext";
    write_file(extension_file, extensions, 0644);
    openssl({"req", "-new", "-key", leaf.key, "-subj", "/CN=" + common_name, "-out", request});
    openssl({"x509", "-req", "-in", request, "-CA", ca.cert, "-CAkey", ca.key, "-set_serial", random_serial(),
             "-days", "2", "-extfile", extension_file, "-out", leaf.cert});
    ::unlink(request.c_str());
    ::unlink(extension_file.c_str());
    return leaf;
}

const char* const kServerExtensions =
    "basicConstraints=critical,CA:FALSE\n"
    "keyUsage=critical,digitalSignature,keyEncipherment\n"
    "extendedKeyUsage=serverAuth\n"
    "subjectAltName=DNS:localhost,IP:127.0.0.1\n";

const char* const kClientExtensions =
    "basicConstraints=critical,CA:FALSE\n"
    "keyUsage=critical,digitalSignature\n"
    "extendedKeyUsage=clientAuth\n";

}  // namespace

TestCertificates make_test_certificates(const std::string& dir) {
    TestCertificates t;
    t.dir = dir;
    t.ca = make_ca(dir, "ca", "breakglass test CA");
    t.server = make_leaf(dir, "server", "localhost", t.ca, kServerExtensions);
    t.client = make_leaf(dir, "client", "breakglass test client", t.ca, kClientExtensions);
    t.other_ca = make_ca(dir, "other-ca", "unrelated test CA");
    t.other_server = make_leaf(dir, "other-server", "localhost", t.other_ca, kServerExtensions);
    return t;
}

}  // namespace bg::test
