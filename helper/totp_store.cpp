#include "helper/totp_store.hpp"

#include "common/text.hpp"
#include "helper/totp.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

namespace bg::mfa {
namespace {

constexpr int kFormatVersion = 1;
constexpr const char* kFileName = "totp.json";

class UniqueFd {
public:
    explicit UniqueFd(int fd) : fd_(fd) {}
    ~UniqueFd() {
        if (fd_ >= 0) ::close(fd_);
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    int get() const { return fd_; }
    // close() reports deferred write errors, so the write path checks it.
    bool close_checked() {
        const int fd = std::exchange(fd_, -1);
        return ::close(fd) == 0;
    }

private:
    int fd_;
};

// Wipes a std::string's characters (the buffer itself is freed by its owner).
void cleanse(std::string& s) {
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}

// Wipes every string inside a parsed or built document before it is freed.
void cleanse(nlohmann::json& j) {
    if (j.is_string()) {
        cleanse(j.get_ref<std::string&>());
    } else if (j.is_structured()) {
        for (auto& child : j) cleanse(child);
    }
}

std::string errno_text(int err) { return std::strerror(err); }

Error file_error(const std::string& path, const std::string& what) {
    return make_error("TOTP store " + path + ": " + what);
}

bool write_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

Status validate_secret_size(std::size_t size) {
    if (size < kMinSecretBytes || size > kMaxSecretBytes) {
        return make_error("TOTP secret must be " + std::to_string(kMinSecretBytes) + ".." +
                          std::to_string(kMaxSecretBytes) + " bytes, got " + std::to_string(size));
    }
    return Ok{};
}

}  // namespace

SecretBytes::SecretBytes(std::span<const unsigned char> bytes) : bytes_(bytes.begin(), bytes.end()) {}

SecretBytes::~SecretBytes() { wipe(); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
    other.wipe();  // a moved-from vector is normally empty; wipe whatever it kept
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
        wipe();
        bytes_ = std::move(other.bytes_);
        other.wipe();
    }
    return *this;
}

void SecretBytes::wipe() noexcept {
    if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
    bytes_.clear();
    bytes_.shrink_to_fit();
}

Result<TotpStore> TotpStore::open(const std::string& state_dir) {
    TotpStore store(state_dir, state_dir + "/" + kFileName);
    const std::string& path = store.path_;

    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) {
        const int err = errno;
        if (err == ENOENT) return store;  // nobody enrolled yet
        if (err == ELOOP) return file_error(path, "is a symbolic link; replace it with a regular file");
        return file_error(path, "cannot open: " + errno_text(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return file_error(path, "cannot stat: " + errno_text(errno));
    if (!S_ISREG(st.st_mode)) return file_error(path, "is not a regular file");
    if (st.st_uid != ::geteuid()) {
        return file_error(path, "is owned by uid " + std::to_string(st.st_uid) + ", expected uid " +
                                    std::to_string(::geteuid()) + "; chown it");
    }
    if ((st.st_mode & 077) != 0) {
        return file_error(path, "is accessible by group or others (mode " +
                                    std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
                                    std::to_string(st.st_mode & 7) +
                                    "); run chmod 0600 on it and consider re-enrolling, the secrets may have leaked");
    }
    if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > kMaxStoreFileBytes) {
        return file_error(path, "is larger than " + std::to_string(kMaxStoreFileBytes) + " bytes");
    }

    std::string text;
    text.resize(static_cast<std::size_t>(st.st_size) + 1);  // +1 notices growth since fstat
    std::size_t used = 0;
    while (used < text.size()) {
        const ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            cleanse(text);
            return file_error(path, "cannot read: " + errno_text(err));
        }
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    if (used > static_cast<std::size_t>(st.st_size)) {
        cleanse(text);
        return file_error(path, "changed while being read; retry");
    }
    text.resize(used);

    nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    cleanse(text);
    // Every exit below wipes the parsed secrets before `doc` is freed.
    struct DocWiper {
        nlohmann::json& doc;
        ~DocWiper() { cleanse(doc); }
    } wiper{doc};

    const std::string restore_hint = "; restore it from backup or move it aside and re-enroll every user";
    if (doc.is_discarded()) return file_error(path, "is not valid JSON" + restore_hint);
    if (!doc.is_object()) return file_error(path, "top level is not an object" + restore_hint);
    const auto version = doc.find("version");
    if (version == doc.end() || !version->is_number_integer() || version->get<int>() != kFormatVersion) {
        return file_error(path, "has no supported \"version\" (expected " + std::to_string(kFormatVersion) + ")" +
                                    restore_hint);
    }
    const auto users = doc.find("users");
    if (users == doc.end() || !users->is_object()) {
        return file_error(path, "has no \"users\" object" + restore_hint);
    }
    for (const auto& [user, entry] : users->items()) {
        if (!is_valid_name(user, kMaxUserBytes)) {
            return file_error(path, "has an invalid user name \"" + escape_for_display(user) + "\"" + restore_hint);
        }
        const auto secret = entry.is_object() ? entry.find("secret") : entry.end();
        if (!entry.is_object() || secret == entry.end() || !secret->is_string()) {
            return file_error(path, "user \"" + user + "\" has no \"secret\" string" + restore_hint);
        }
        auto bytes = totp::base32_decode(secret->get_ref<const std::string&>());
        if (!bytes || bytes->size() < kMinSecretBytes || bytes->size() > kMaxSecretBytes) {
            if (bytes) OPENSSL_cleanse(bytes->data(), bytes->size());
            return file_error(path, "user \"" + user + "\" has an invalid secret (not base32 of " +
                                        std::to_string(kMinSecretBytes) + ".." + std::to_string(kMaxSecretBytes) +
                                        " bytes); re-enroll that user");
        }
        store.secrets_.insert_or_assign(user, SecretBytes(*bytes));
        OPENSSL_cleanse(bytes->data(), bytes->size());
    }
    return store;
}

Status TotpStore::enroll(const std::string& user, std::span<const unsigned char> secret) {
    if (!is_valid_name(user, kMaxUserBytes)) return make_error("invalid user name \"" + escape_for_display(user) + "\"");
    if (auto size_ok = validate_secret_size(secret.size()); !size_ok) return size_ok;
    if (auto written = persist(user, secret); !written) return written;
    secrets_.insert_or_assign(user, SecretBytes(secret));
    return Ok{};
}

bool TotpStore::has(const std::string& user) const { return secrets_.contains(user); }

std::optional<std::span<const unsigned char>> TotpStore::secret_for(const std::string& user) const {
    const auto it = secrets_.find(user);
    if (it == secrets_.end()) return std::nullopt;
    return it->second.view();
}

Status TotpStore::remove(const std::string& user) {
    const auto it = secrets_.find(user);
    if (it == secrets_.end()) return Ok{};
    if (auto written = persist(user, std::nullopt); !written) return written;
    secrets_.erase(it);
    return Ok{};
}

Status TotpStore::persist(const std::string& user,
                          std::optional<std::span<const unsigned char>> replacement) const {
    nlohmann::json users = nlohmann::json::object();
    for (const auto& [name, secret] : secrets_) {
        if (name == user) continue;
        users[name] = {{"secret", totp::base32_encode(secret.view())}};
    }
    if (replacement) users[user] = {{"secret", totp::base32_encode(*replacement)}};
    nlohmann::json doc = {{"version", kFormatVersion}, {"users", std::move(users)}};
    std::string text = doc.dump(2);
    cleanse(doc);
    text.push_back('\n');
    struct TextWiper {
        std::string& text;
        ~TextWiper() { cleanse(text); }
    } wiper{text};

    // mkostemp creates the file 0600, so the secrets are never visible to others.
    std::string temp_path = dir_ + "/." + kFileName + ".XXXXXX";
    UniqueFd fd(::mkostemp(temp_path.data(), O_CLOEXEC));
    if (fd.get() < 0) return file_error(path_, "cannot create a temporary file in " + dir_ + ": " + errno_text(errno));
    const auto fail = [&](const std::string& what) {
        const int err = errno;
        ::unlink(temp_path.c_str());
        return Status(file_error(path_, what + ": " + errno_text(err)));
    };
    if (::fchmod(fd.get(), 0600) != 0) return fail("cannot set mode 0600");
    if (!write_all(fd.get(), text)) return fail("cannot write");
    if (::fsync(fd.get()) != 0) return fail("cannot fsync");
    if (!fd.close_checked()) return fail("cannot close");
    if (::rename(temp_path.c_str(), path_.c_str()) != 0) return fail("cannot rename into place");

    // The rename is durable only once the directory entry is on disk.
    UniqueFd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0) return file_error(path_, "cannot open directory to fsync: " + errno_text(errno));
    if (::fsync(dir.get()) != 0) return file_error(path_, "cannot fsync directory: " + errno_text(errno));
    return Ok{};
}

}  // namespace bg::mfa
