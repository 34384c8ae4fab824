// SPDX-License-Identifier: ISC
#include "helper/mfa/totp_store.hpp"

#include "common/json_build.hpp"
#include "common/text.hpp"
#include "helper/mfa/secret_file.hpp"
#include "helper/mfa/totp.hpp"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>
#include <utility>

namespace bg::mfa {
namespace {

constexpr int kFormatVersion = 1;
constexpr const char* kFileName = "totp.json";

const std::string kLabel = "TOTP store";

Error file_error(const std::string& path, const std::string& what) {
    return make_error(kLabel + " " + path + ": " + what);
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

    const std::string restore_hint = "; restore it from backup or move it aside and re-enroll every user";
    nlohmann::json doc;
    // Every exit below wipes the parsed secrets before `doc` is freed.
    ScopedWipe<nlohmann::json> doc_wiper(doc);
    const auto read = read_secret_document(kLabel, path, kMaxStoreFileBytes, kFormatVersion, "users", restore_hint, doc);
    if (!read) return read.error();
    if (*read == SecretFileState::Missing) return store;  // nothing enrolled yet
    const auto users = doc.find("users");
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
    // Built member by member, wiped and emptied on every path
    // (common/json_build.hpp).
    nlohmann::json users = nlohmann::json::object();
    ScopedWipe<nlohmann::json> users_wiper(users);
    const auto add = [&users](const std::string& name, std::span<const unsigned char> secret) {
        nlohmann::json& entry = users[name];
        entry = JsonObject()("secret", totp::base32_encode(secret)).take();
    };
    for (const auto& [name, secret] : secrets_) {
        if (name != user) add(name, secret.view());
    }
    if (replacement) add(user, *replacement);
    nlohmann::json doc = JsonObject()("version", kFormatVersion)("users", std::move(users)).take();
    ScopedWipe<nlohmann::json> doc_wiper(doc);
    return write_secret_json(kLabel, dir_, kFileName, doc);
}

}  // namespace bg::mfa
