// SPDX-License-Identifier: ISC
#include "helper/mfa/yubikey_store.hpp"

#include "common/hex.hpp"

#include "common/json_build.hpp"
#include "common/text.hpp"
#include "helper/mfa/secret_file.hpp"
#include "helper/mfa/yubikey.hpp"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

namespace bg::mfa {
namespace {

constexpr int kFormatVersion = 1;
constexpr const char* kFileName = "yubikeys.json";
const std::string kLabel = "YubiKey store";

Error file_error(const std::string& path, const std::string& what) {
    return make_error(kLabel + " " + path + ": " + what);
}

struct WipedBytes {
    std::vector<unsigned char> bytes;
    ~WipedBytes() {
        if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
    }
};

Status validate(const std::string& user, const std::string& public_id, std::size_t key_size,
                std::size_t uid_size) {
    if (!is_valid_name(user, kMaxUserBytes)) return make_error("invalid user name \"" + escape_for_display(user) + "\"");
    if (!yubikey::is_public_id(public_id)) {
        return make_error("invalid YubiKey public id \"" + escape_for_display(public_id) + "\" (expected " +
                          std::to_string(yubikey::kPublicIdChars) + " lower-case modhex characters)");
    }
    if (key_size != yubikey::kAesKeyBytes) {
        return make_error("YubiKey AES key must be " + std::to_string(yubikey::kAesKeyBytes) + " bytes, got " +
                          std::to_string(key_size));
    }
    if (uid_size != yubikey::kPrivateUidBytes) {
        return make_error("YubiKey private id must be " + std::to_string(yubikey::kPrivateUidBytes) +
                          " bytes, got " + std::to_string(uid_size));
    }
    return Ok{};
}

}  // namespace

Result<YubikeyStore> YubikeyStore::open(const std::string& state_dir) {
    YubikeyStore store(state_dir, state_dir + "/" + kFileName);
    const std::string& path = store.path_;

    const std::string restore_hint = "; restore it from backup or move it aside and re-enroll every YubiKey";
    nlohmann::json doc;
    // Every exit below wipes the parsed secrets before `doc` is freed.
    ScopedWipe<nlohmann::json> doc_wiper(doc);
    const auto read = read_secret_document(kLabel, path, kMaxYubikeyStoreFileBytes, kFormatVersion, "tokens", restore_hint, doc);
    if (!read) return read.error();
    if (*read == SecretFileState::Missing) return store;  // nothing enrolled yet
    const auto tokens = doc.find("tokens");
    for (const auto& [public_id, entry] : tokens->items()) {
        const std::string shown_id = "token \"" + escape_for_display(public_id) + "\"";
        if (!yubikey::is_public_id(public_id)) {
            return file_error(path, "has an invalid public id in " + shown_id + " (expected " +
                                        std::to_string(yubikey::kPublicIdChars) + " lower-case modhex characters)" +
                                        restore_hint);
        }
        if (!entry.is_object()) return file_error(path, shown_id + " is not an object" + restore_hint);
        const auto user = entry.find("user");
        const auto key = entry.find("aes_key");
        const auto uid = entry.find("private_uid");
        if (user == entry.end() || !user->is_string() || key == entry.end() || !key->is_string() ||
            uid == entry.end() || !uid->is_string()) {
            return file_error(path, shown_id + " needs \"user\", \"aes_key\" and \"private_uid\" strings" +
                                        restore_hint);
        }
        const std::string& user_name = user->get_ref<const std::string&>();
        if (!is_valid_name(user_name, kMaxUserBytes)) {
            return file_error(path, shown_id + " has an invalid user name \"" + escape_for_display(user_name) + "\"" +
                                        restore_hint);
        }
        WipedBytes key_bytes{hex_decode(key->get_ref<const std::string&>(), yubikey::kAesKeyBytes)
                                 .value_or(std::vector<unsigned char>{})};
        WipedBytes uid_bytes{hex_decode(uid->get_ref<const std::string&>(), yubikey::kPrivateUidBytes)
                                 .value_or(std::vector<unsigned char>{})};
        if (key_bytes.bytes.empty() || uid_bytes.bytes.empty()) {
            return file_error(path, shown_id + " has an invalid key or private id (expected " +
                                        std::to_string(yubikey::kAesKeyBytes) + " and " +
                                        std::to_string(yubikey::kPrivateUidBytes) +
                                        " bytes in hex); re-enroll that YubiKey");
        }
        store.tokens_.insert_or_assign(
            public_id, Entry{user_name, YubikeyToken{public_id, SecretBytes(key_bytes.bytes), SecretBytes(uid_bytes.bytes)}});
    }
    return store;
}

Status YubikeyStore::enroll(const std::string& user, const std::string& public_id,
                            std::span<const unsigned char> aes_key, std::span<const unsigned char> private_uid) {
    if (auto valid = validate(user, public_id, aes_key.size(), private_uid.size()); !valid) return valid;
    if (const auto it = tokens_.find(public_id); it != tokens_.end() && it->second.user != user) {
        return make_error("YubiKey " + public_id + " is already enrolled for user \"" + it->second.user +
                          "\"; a YubiKey belongs to one user, remove it there first");
    }
    Entry entry{user, YubikeyToken{public_id, SecretBytes(aes_key), SecretBytes(private_uid)}};
    if (auto written = persist(public_id, &entry); !written) return written;
    tokens_.insert_or_assign(public_id, std::move(entry));
    return Ok{};
}

const YubikeyToken* YubikeyStore::find(const std::string& user, const std::string& public_id) const {
    const auto it = tokens_.find(public_id);
    if (it == tokens_.end() || it->second.user != user) return nullptr;
    return &it->second.token;
}

bool YubikeyStore::has_any(const std::string& user) const {
    for (const auto& [public_id, entry] : tokens_) {
        if (entry.user == user) return true;
    }
    return false;
}

Status YubikeyStore::remove(const std::string& user, const std::string& public_id) {
    const auto it = tokens_.find(public_id);
    if (it == tokens_.end() || it->second.user != user) return Ok{};
    if (auto written = persist(public_id, nullptr); !written) return written;
    tokens_.erase(it);
    return Ok{};
}

Status YubikeyStore::persist(const std::string& public_id, const Entry* replacement) const {
    // Built member by member, wiped and emptied on every path
    // (common/json_build.hpp).
    nlohmann::json tokens = nlohmann::json::object();
    ScopedWipe<nlohmann::json> tokens_wiper(tokens);
    const auto add = [&tokens](const Entry& e) {
        nlohmann::json& token = tokens[e.token.public_id];
        token = JsonObject()("user", e.user)("aes_key", hex_encode(e.token.aes_key.view()))(
                    "private_uid", hex_encode(e.token.private_uid.view()))
                    .take();
    };
    for (const auto& [id, entry] : tokens_) {
        if (id != public_id) add(entry);
    }
    if (replacement != nullptr) add(*replacement);
    nlohmann::json doc = JsonObject()("version", kFormatVersion)("tokens", std::move(tokens)).take();
    ScopedWipe<nlohmann::json> doc_wiper(doc);
    return write_secret_json(kLabel, dir_, kFileName, doc);
}

}  // namespace bg::mfa
