// SPDX-License-Identifier: ISC
#include "helper/audit/seal_key.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "helper/audit/audit_record.hpp"

namespace bg::audit {
namespace {

constexpr std::string_view kKeyFileMagic = "bgaudit-key-v1 ";
constexpr std::size_t kIndexDigits = 20;
constexpr std::size_t kCheckHexChars = 16;
// magic + index + ' ' + key + ' ' : the bytes covered by the check.
constexpr std::size_t kCheckedBytes = kKeyFileMagic.size() + kIndexDigits + 1 + 2 * kKeyBytes + 1;
static_assert(kCheckedBytes + kCheckHexChars + 1 == kKeyFileBytes);
constexpr std::size_t kMaxHexKeyFileBytes = 256;

std::string errno_text(int err) { return std::strerror(err); }

// Wipes a std::string holding key material before it is freed.
struct CleansedString {
    std::string text;
    ~CleansedString() {
        if (!text.empty()) OPENSSL_cleanse(text.data(), text.size());
    }
};

std::string check_of(std::string_view covered) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(covered.data(), covered.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) return {};
    return to_hex(md.data(), kCheckHexChars / 2);
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Reads the whole (small) file at the current offset 0; `cap` bounds it.
Result<std::string> read_small(int fd, std::size_t cap) {
    std::string out(cap + 1, '\0');
    std::size_t got = 0;
    while (got < out.size()) {
        const ssize_t n = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(got));
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error{"read failed: " + errno_text(errno)};
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    return out;
}

}  // namespace

KeyState::~KeyState() { OPENSSL_cleanse(key.data(), key.size()); }


bool evolve_key(KeyBytes& key) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    const bool ok = EVP_Digest(key.data(), key.size(), md.data(), &len, EVP_sha256(), nullptr) == 1 && len == 32;
    if (ok) std::memcpy(key.data(), md.data(), key.size());
    OPENSSL_cleanse(md.data(), md.size());
    return ok;
}

std::string seal_hex(const KeyBytes& key, std::string_view hash_hex) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(hash_hex.data()), hash_hex.size(), mac.data(),
             &len) == nullptr ||
        len != 32) {
        return {};
    }
    return to_hex(mac.data(), len);
}

Result<KeyBytes> generate_key() {
    KeyBytes key{};
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
        return Error{"cannot generate the audit sealing key: RAND_bytes failed"};
    }
    return key;
}

std::string key_to_hex(const KeyBytes& key) { return to_hex(key.data(), key.size()); }

Result<KeyBytes> key_from_hex(std::string_view hex) {
    if (hex.size() != 2 * kKeyBytes) return Error{"key is not 64 hex digits"};
    KeyBytes key{};
    for (std::size_t i = 0; i < kKeyBytes; ++i) {
        const int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            OPENSSL_cleanse(key.data(), key.size());
            return Error{"key is not 64 hex digits"};
        }
        key[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    return key;
}

std::string encode_key_file(const KeyState& state) {
    std::array<char, 32> index{};
    std::snprintf(index.data(), index.size(), "%020llu", static_cast<unsigned long long>(state.index));
    std::string out;
    out.reserve(kKeyFileBytes);
    out.append(kKeyFileMagic);
    out.append(index.data(), kIndexDigits);
    out.push_back(' ');
    CleansedString hex{key_to_hex(state.key)};
    out.append(hex.text);
    out.push_back(' ');
    out.append(check_of(out));
    out.push_back('\n');
    return out;
}

Result<KeyState> decode_key_file(std::string_view bytes) {
    if (bytes.size() != kKeyFileBytes) {
        return Error{"audit key file has the wrong size (" + std::to_string(bytes.size()) + " bytes, expected " +
                     std::to_string(kKeyFileBytes) + ")"};
    }
    if (bytes.substr(0, kKeyFileMagic.size()) != kKeyFileMagic) return Error{"audit key file has a bad header"};
    if (check_of(bytes.substr(0, kCheckedBytes)) != bytes.substr(kCheckedBytes, kCheckHexChars) ||
        bytes.back() != '\n') {
        return Error{"audit key file is corrupt (checksum mismatch: torn write?)"};
    }
    const std::string_view digits = bytes.substr(kKeyFileMagic.size(), kIndexDigits);
    std::uint64_t index = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9') return Error{"audit key file has a bad index"};
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (index > (UINT64_MAX - d) / 10) return Error{"audit key file has a bad index"};
        index = index * 10 + d;
    }
    if (index == 0) return Error{"audit key file has index 0"};
    auto key = key_from_hex(bytes.substr(kKeyFileMagic.size() + kIndexDigits + 1, 2 * kKeyBytes));
    if (!key) return Error{"audit key file: " + key.error().message};
    KeyState state(*key, index);
    OPENSSL_cleanse(key->data(), key->size());
    return state;
}

Status write_initial_key_file(const std::string& path, const KeyBytes& key) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400));
    if (!fd.valid()) return Error{"cannot create " + path + ": " + errno_text(errno)};
    CleansedString text{key_to_hex(key) + "\n"};
    const ssize_t n = ::write(fd.get(), text.text.data(), text.text.size());
    if (n != static_cast<ssize_t>(text.text.size())) {
        const int err = n < 0 ? errno : EIO;
        ::unlink(path.c_str());
        return Error{"cannot write " + path + ": " + errno_text(err)};
    }
    if (::fsync(fd.get()) != 0) {
        const int err = errno;
        ::unlink(path.c_str());
        return Error{"cannot fsync " + path + ": " + errno_text(err)};
    }
    return Ok{};
}

Result<KeyBytes> read_hex_key_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return Error{"cannot open key file " + path + ": " + errno_text(errno)};
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Error{"cannot stat key file " + path + ": " + errno_text(errno)};
    if (!S_ISREG(st.st_mode)) return Error{"key file " + path + " is not a regular file"};
    if (st.st_size > static_cast<off_t>(kMaxHexKeyFileBytes)) return Error{"key file " + path + " is too large"};
    auto content = read_small(fd.get(), kMaxHexKeyFileBytes);
    if (!content) return Error{"key file " + path + ": " + content.error().message};
    CleansedString text{std::move(*content)};
    std::string_view view = text.text;
    if (!view.empty() && view.back() == '\n') view.remove_suffix(1);
    auto key = key_from_hex(view);
    if (!key) return Error{"key file " + path + ": " + key.error().message};
    return key;
}

Result<KeyFile> KeyFile::create(const std::string& path, const KeyState& state) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) return Error{"cannot create " + path + ": " + errno_text(errno)};
    KeyFile file(std::move(fd));
    if (auto st = file.write(state); !st) {
        ::unlink(path.c_str());
        return Error{st.error().message};
    }
    return file;
}

Result<KeyFile> KeyFile::open(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) return Error{"cannot open " + path + ": " + errno_text(errno)};
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Error{"cannot stat " + path + ": " + errno_text(errno)};
    if (!S_ISREG(st.st_mode)) return Error{path + " is not a regular file"};
    if (st.st_uid != ::geteuid()) return Error{path + " is not owned by the daemon's user"};
    if ((st.st_mode & 077) != 0) return Error{path + " is accessible by group or others (expected mode 0600)"};
    if (st.st_size != static_cast<off_t>(kKeyFileBytes)) {
        return Error{path + " has the wrong size (" + std::to_string(st.st_size) + " bytes, expected " +
                     std::to_string(kKeyFileBytes) + ")"};
    }
    return KeyFile(std::move(fd));
}

Result<KeyState> KeyFile::read() const {
    auto content = read_small(fd_.get(), kKeyFileBytes);
    if (!content) return Error{"audit key file: " + content.error().message};
    CleansedString text{std::move(*content)};
    return decode_key_file(text.text);
}

Status KeyFile::write(const KeyState& state, bool sync_now) {
    CleansedString text{encode_key_file(state)};
    std::size_t done = 0;
    while (done < text.text.size()) {
        const ssize_t n = ::pwrite(fd_.get(), text.text.data() + done, text.text.size() - done,
                                   static_cast<off_t>(done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error{"cannot write the audit key file: " + errno_text(errno)};
        }
        done += static_cast<std::size_t>(n);
    }
    return sync_now ? sync() : Status{Ok{}};
}

Status KeyFile::sync() {
    if (::fdatasync(fd_.get()) != 0) return Error{"cannot fdatasync the audit key file: " + errno_text(errno)};
    return Ok{};
}

Result<UniqueFd> KeyFile::duplicate() const {
    UniqueFd copy(::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
    if (!copy.valid()) return Error{"cannot duplicate the audit key file's descriptor: " + errno_text(errno)};
    return copy;
}

Status fsync_directory(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return Error{"cannot open directory " + dir + ": " + errno_text(errno)};
    if (::fsync(fd.get()) != 0) return Error{"cannot fsync directory " + dir + ": " + errno_text(errno)};
    return Ok{};
}

}  // namespace bg::audit
