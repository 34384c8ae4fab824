// SPDX-License-Identifier: ISC
#include "helper/audit/ed25519.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/file_io.hpp"

namespace bg::audit {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
using UniqueBio = std::unique_ptr<BIO, BioFree>;
struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using UniqueMdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using UniquePkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

struct CleansedString {
    std::string text;
    ~CleansedString() {
        if (!text.empty()) OPENSSL_cleanse(text.data(), text.size());
    }
};

bool raw_public_key(EVP_PKEY* key, Ed25519PublicKey& out) {
    std::size_t len = out.size();
    return EVP_PKEY_get_raw_public_key(key, out.data(), &len) == 1 && len == out.size();
}

Status write_all(int fd, std::string_view bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error{errno_text(errno), errno};
        }
        done += static_cast<std::size_t>(n);
    }
    return Ok{};
}

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

}  // namespace

void Ed25519PrivateKey::Free::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

Result<Ed25519PrivateKey> Ed25519PrivateKey::generate() {
    UniquePkeyCtx ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) return Error{"cannot generate an Ed25519 key: OpenSSL failed"};
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_keygen(ctx.get(), &raw) != 1 || raw == nullptr) {
        return Error{"cannot generate an Ed25519 key: OpenSSL failed"};
    }
    Ed25519PrivateKey key(raw);
    if (!raw_public_key(raw, key.public_)) return Error{"cannot read the generated Ed25519 public key"};
    return key;
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::from_pem(std::string_view pem) {
    if (pem.size() > kMaxEd25519PrivateKeyFileBytes) return Error{"private key PEM is too large"};
    UniqueBio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return Error{"cannot read the private key: OpenSSL failed"};
    EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    if (raw == nullptr) return Error{"not a PEM private key"};
    std::unique_ptr<EVP_PKEY, PkeyFree> holder(raw);
    if (EVP_PKEY_get_base_id(raw) != EVP_PKEY_ED25519) return Error{"the private key is not an Ed25519 key"};
    Ed25519PrivateKey key(holder.release());
    if (!raw_public_key(raw, key.public_)) return Error{"cannot derive the Ed25519 public key"};
    return key;
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::load(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return Error{"cannot open " + path + ": " + errno_text(errno), errno};
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Error{"cannot stat " + path + ": " + errno_text(errno), errno};
    if (!S_ISREG(st.st_mode)) return Error{path + " is not a regular file"};
    if (st.st_uid != ::geteuid()) return Error{path + " is not owned by the daemon's user"};
    if ((st.st_mode & 077) != 0) return Error{path + " is accessible by group or others (expected mode 0600)"};
    if (st.st_size > static_cast<off_t>(kMaxEd25519PrivateKeyFileBytes)) return Error{path + " is too large"};
    CleansedString text;
    text.text.resize(kMaxEd25519PrivateKeyFileBytes + 1);
    std::size_t got = 0;
    while (got < text.text.size()) {
        const ssize_t n = ::read(fd.get(), text.text.data() + got, text.text.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error{"cannot read " + path + ": " + errno_text(errno), errno};
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    if (got > kMaxEd25519PrivateKeyFileBytes) return Error{path + " is too large"};
    auto key = from_pem(std::string_view(text.text).substr(0, got));
    if (!key) return Error{path + ": " + key.error().message};
    return key;
}

Status Ed25519PrivateKey::write(const std::string& path) const {
    UniqueBio bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        return Error{"cannot encode the private key: OpenSSL failed"};
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    if (len <= 0 || data == nullptr) return Error{"cannot encode the private key: OpenSSL failed"};
    const std::string_view pem(data, static_cast<std::size_t>(len));

    const std::string tmp = path + ".tmp";
    // A stale temporary file from a crash before the rename holds no key
    // anyone uses; O_EXCL below then refuses anything raced into its place.
    if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) {
        return Error{"cannot remove " + tmp + ": " + errno_text(errno), errno};
    }
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) return Error{"cannot create " + tmp + ": " + errno_text(errno), errno};
    auto fail = [&](const std::string& what, int err) -> Status {
        ::unlink(tmp.c_str());
        return Error{what + ": " + errno_text(err), err};
    };
    if (::fchmod(fd.get(), 0600) != 0) return fail("cannot chmod " + tmp, errno);
    if (auto st = write_all(fd.get(), pem); !st) return fail("cannot write " + tmp, st.error().system_errno);
    if (::fsync(fd.get()) != 0) return fail("cannot fsync " + tmp, errno);
    fd.reset();
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) != 0) {
        return fail("cannot rename " + tmp + " to " + path, errno);
    }
    UniqueFd dir(::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid() || ::fsync(dir.get()) != 0) {
        return Error{"cannot fsync the directory of " + path + ": " + errno_text(errno), errno};
    }
    return Ok{};
}

Ed25519PublicKey Ed25519PrivateKey::public_key() const { return public_; }

Result<Ed25519Signature> Ed25519PrivateKey::sign(std::string_view message) const {
    UniqueMdCtx ctx(EVP_MD_CTX_new());
    Ed25519Signature sig{};
    std::size_t len = sig.size();
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), sig.data(), &len, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1 ||
        len != sig.size()) {
        return Error{"cannot sign: OpenSSL failed"};
    }
    return sig;
}

bool ed25519_verify(const Ed25519PublicKey& key, std::string_view message, const Ed25519Signature& signature) {
    std::unique_ptr<EVP_PKEY, PkeyFree> pkey(
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()));
    if (!pkey) return false;
    UniqueMdCtx ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) return false;
    return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

bool ed25519_verify(const Ed25519PublicKey& key, std::string_view message, std::string_view signature) {
    if (signature.size() != kEd25519SignatureBytes) return false;
    Ed25519Signature sig{};
    std::memcpy(sig.data(), signature.data(), sig.size());
    return ed25519_verify(key, message, sig);
}

std::string base64_encode(const unsigned char* bytes, std::size_t size) {
    std::string out(4 * ((size + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes, static_cast<int>(size));
    out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
    return out;
}

Result<std::string> base64_decode_exact(std::string_view text, std::size_t expected_bytes) {
    const std::size_t expected_chars = 4 * ((expected_bytes + 2) / 3);
    if (expected_bytes == 0 || text.size() != expected_chars) {
        return Error{"base64 text has the wrong length (" + std::to_string(text.size()) + " characters, expected " +
                     std::to_string(expected_chars) + ")"};
    }
    const std::size_t padding = (3 - expected_bytes % 3) % 3;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const bool pad_position = i >= text.size() - padding;
        if (pad_position ? text[i] != '=' : !is_base64_char(text[i])) return Error{"base64 text is malformed"};
    }
    std::string out(3 * (text.size() / 4), '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0 || static_cast<std::size_t>(n) != out.size()) return Error{"base64 text is malformed"};
    out.resize(expected_bytes);
    // Only the canonical encoding is accepted (non-zero pad bits would give
    // two texts for one key).
    if (base64_encode(reinterpret_cast<const unsigned char*>(out.data()), out.size()) != text) {
        return Error{"base64 text is not canonical"};
    }
    return out;
}

std::string format_ed25519_public_key(const Ed25519PublicKey& key) {
    return std::string(kEd25519PublicKeyPrefix) + base64_encode(key.data(), key.size());
}

Result<Ed25519PublicKey> parse_ed25519_public_key(std::string_view text) {
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    if (text.substr(0, kEd25519PublicKeyPrefix.size()) != kEd25519PublicKeyPrefix) {
        return Error{"public key does not start with \"ed25519:\""};
    }
    auto raw = base64_decode_exact(text.substr(kEd25519PublicKeyPrefix.size()), kEd25519PublicKeyBytes);
    if (!raw) return Error{"public key: " + raw.error().message};
    Ed25519PublicKey key{};
    std::memcpy(key.data(), raw->data(), key.size());
    return key;
}

Result<Ed25519PublicKey> read_ed25519_public_key_file(const std::string& path) {
    auto text = read_regular_file(path, kMaxEd25519PublicKeyFileBytes);
    if (!text) return Error{"cannot read public key file " + path + ": " + text.error().message};
    auto key = parse_ed25519_public_key(*text);
    if (!key) return Error{path + ": " + key.error().message};
    return key;
}

Result<Ed25519Signature> parse_ed25519_signature(std::string_view base64) {
    auto raw = base64_decode_exact(base64, kEd25519SignatureBytes);
    if (!raw) return Error{"signature: " + raw.error().message};
    Ed25519Signature sig{};
    std::memcpy(sig.data(), raw->data(), sig.size());
    return sig;
}

}  // namespace bg::audit
