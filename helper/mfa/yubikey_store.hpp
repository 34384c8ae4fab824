// SPDX-License-Identifier: ISC
// Enrolled YubiKeys (Yubico OTP mode), persisted in <state_dir>/yubikeys.json
// under the same rules as totp.json (helper/mfa/secret_file.hpp). Each token is
// keyed by its public id and belongs to exactly one user. Only secrets live
// here: the last accepted counter per token is the daemon's audit-backed
// state, so this file changes only on enroll/remove.
#pragma once

#include "common/result.hpp"
#include "helper/mfa/totp_store.hpp"  // SecretBytes

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <utility>

namespace bg::mfa {

struct YubikeyToken {
    std::string public_id;    // 12 lower-case modhex characters
    SecretBytes aes_key;      // exactly 16 bytes: aes_key.view().first<16>() feeds yubikey::verify
    SecretBytes private_uid;  // exactly 6 bytes: private_uid.view().first<6>()
};

// Hard cap on yubikeys.json, checked before reading it.
inline constexpr std::size_t kMaxYubikeyStoreFileBytes = 1024 * 1024;

// Not thread safe: the daemon calls it from its single event loop.
class YubikeyStore {
public:
    // Missing file = empty store. Fails closed, with what to do in the message,
    // when the file is not a regular file, is not owned by this process's uid,
    // is readable or writable by group or others, is too large, or does not
    // parse (bad JSON, unknown version, invalid user name, public id, key or
    // uid).
    static Result<YubikeyStore> open(const std::string& state_dir);

    // Registers (or replaces) the token `public_id` for `user`. The public id
    // must be 12 lower-case modhex characters, the key 16 bytes, the private
    // uid 6 bytes. A public id already enrolled for another user is an error
    // (remove it there first). Written durably before the memory copy
    // changes, so on error the in-memory store is unchanged.
    Status enroll(const std::string& user, const std::string& public_id, std::span<const unsigned char> aes_key,
                  std::span<const unsigned char> private_uid);
    // nullptr when `public_id` is not enrolled for `user` (unknown, or another
    // user's). Valid until the next enroll/remove or the store's end.
    const YubikeyToken* find(const std::string& user, const std::string& public_id) const;
    bool has_any(const std::string& user) const;
    // Removing a token not enrolled for `user` succeeds and writes nothing.
    Status remove(const std::string& user, const std::string& public_id);

    std::size_t size() const { return tokens_.size(); }
    const std::string& file_path() const { return path_; }

private:
    YubikeyStore(std::string state_dir, std::string path) : dir_(std::move(state_dir)), path_(std::move(path)) {}
    struct Entry {
        std::string user;
        YubikeyToken token;
    };
    // Writes the current tokens with `public_id` replaced by `replacement`,
    // or left out when `replacement` is null.
    Status persist(const std::string& public_id, const Entry* replacement) const;

    std::string dir_;
    std::string path_;
    std::map<std::string, Entry, std::less<>> tokens_;  // by public id
};

}  // namespace bg::mfa
