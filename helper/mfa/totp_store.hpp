// SPDX-License-Identifier: ISC
// Per-user TOTP secrets, persisted in <state_dir>/totp.json. Only the daemon
// uses this; the replay state (last accepted step) is not kept here but in the
// daemon's audit-backed state, so this file changes only on enroll/remove.
#pragma once

#include "common/result.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace bg::mfa {

// Secret bytes whose storage is wiped (OPENSSL_cleanse) when it is released:
// on destruction, before being overwritten by assignment, and in a moved-from
// source. Not copyable, so no stray copy outlives the owner.
class SecretBytes {
public:
    SecretBytes() = default;
    explicit SecretBytes(std::span<const unsigned char> bytes);
    ~SecretBytes();
    SecretBytes(const SecretBytes&) = delete;
    SecretBytes& operator=(const SecretBytes&) = delete;
    SecretBytes(SecretBytes&& other) noexcept;
    SecretBytes& operator=(SecretBytes&& other) noexcept;

    std::span<const unsigned char> view() const { return bytes_; }
    std::size_t size() const { return bytes_.size(); }
    bool empty() const { return bytes_.empty(); }

private:
    void wipe() noexcept;
    std::vector<unsigned char> bytes_;
};

// Secret sizes accepted on enroll and on load. RFC 4226 section 4 requires at
// least 128 bits; 160 (20 bytes) is what the daemon generates.
inline constexpr std::size_t kMinSecretBytes = 16;
inline constexpr std::size_t kMaxSecretBytes = 64;
// Hard cap on totp.json, checked before reading it.
inline constexpr std::size_t kMaxStoreFileBytes = 1024 * 1024;

// Not thread safe: the daemon calls it from its single event loop.
class TotpStore {
public:
    // Missing file = empty store. Fails closed, with what to do in the message,
    // when the file is not a regular file, is not owned by this process's uid,
    // is readable or writable by group or others, is too large, or does not
    // parse (bad JSON, unknown version, invalid user name or secret).
    static Result<TotpStore> open(const std::string& state_dir);

    // Adds or replaces `user`'s secret. The file is written durably (temp file,
    // fsync, rename, fsync of the directory) before the memory copy changes, so
    // on error the in-memory store is unchanged (if only the final directory
    // fsync failed, the renamed file may still reach the disk).
    Status enroll(const std::string& user, std::span<const unsigned char> secret);
    bool has(const std::string& user) const;
    // Valid until the next enroll/remove of the same user or the store's end.
    std::optional<std::span<const unsigned char>> secret_for(const std::string& user) const;
    // Removing a user without a secret succeeds and writes nothing.
    Status remove(const std::string& user);

    std::size_t size() const { return secrets_.size(); }
    const std::string& file_path() const { return path_; }

private:
    TotpStore(std::string state_dir, std::string path) : dir_(std::move(state_dir)), path_(std::move(path)) {}
    // Writes the current secrets with `user` replaced by `replacement`, or
    // left out when `replacement` is empty.
    Status persist(const std::string& user, std::optional<std::span<const unsigned char>> replacement) const;

    std::string dir_;
    std::string path_;
    std::map<std::string, SecretBytes, std::less<>> secrets_;
};

}  // namespace bg::mfa
