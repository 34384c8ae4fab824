// SPDX-License-Identifier: ISC
// The forward-evolving sealing key of the audit log.
//
// key_1 is 32 random bytes (RAND_bytes); key_{n+1} = SHA-256(key_n); record n
// is sealed with HMAC-SHA256(key_n, hash_n as 64 hex chars). After sealing
// record n the daemon keeps only key_{n+1}, so an intruder who takes the host
// later cannot reseal anything already written (forward security).
//
// Files in the state directory:
//   audit.key.initial  key_1 as 64 lowercase hex + "\n", mode 0400, created
//                      once with O_CREAT|O_EXCL when the log is created. The
//                      operator copies it off the host (it is what
//                      `breakglassctl verify --key` needs) and deletes it; the
//                      daemon never reads it again.
//   audit.key          the current key and its index (the seq it seals next),
//                      mode 0600, a fixed-size file of kKeyFileBytes bytes
//                      overwritten in place (pwrite + fdatasync) after every
//                      append, so the old key is overwritten on disk rather
//                      than left behind in an unlinked inode:
//                        "bgaudit-key-v1 " <index: 20 decimal digits> " "
//                        <key: 64 lowercase hex> " " <check: 16 lowercase hex> "\n"
//                      check = first 8 bytes of SHA-256 over everything before
//                      it, so a torn or corrupted write is detected (and the
//                      daemon then fails closed rather than guessing a key).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/file_io.hpp"
#include "common/result.hpp"

namespace bg::audit {

inline constexpr std::size_t kKeyBytes = 32;
using KeyBytes = std::array<unsigned char, kKeyBytes>;
inline constexpr std::size_t kKeyFileBytes = 118;
inline constexpr std::string_view kKeyFileName = "audit.key";
inline constexpr std::string_view kInitialKeyFileName = "audit.key.initial";

// A key and the seq it seals next; zeroed on destruction.
struct KeyState {
    KeyBytes key{};
    std::uint64_t index = 0;

    KeyState() = default;
    KeyState(const KeyBytes& k, std::uint64_t i) : key(k), index(i) {}
    KeyState(const KeyState&) = default;
    KeyState& operator=(const KeyState&) = default;
    ~KeyState();
};


// Overwrites `key` in place with SHA-256(key). False only on an OpenSSL failure.
bool evolve_key(KeyBytes& key);
// Hex HMAC-SHA256(key, hash_hex). "" only on an OpenSSL failure.
std::string seal_hex(const KeyBytes& key, std::string_view hash_hex);
// 32 bytes from RAND_bytes.
Result<KeyBytes> generate_key();

std::string key_to_hex(const KeyBytes& key);
// Exactly 64 hex digits (either case).
Result<KeyBytes> key_from_hex(std::string_view hex);

// audit.key contents (pure).
std::string encode_key_file(const KeyState& state);
Result<KeyState> decode_key_file(std::string_view bytes);

// Creates the initial-key file (O_CREAT|O_EXCL|O_NOFOLLOW, 0400), fsync'd.
Status write_initial_key_file(const std::string& path, const KeyBytes& key);
// Reads a hex key file (64 hex digits, optional trailing "\n"), opened with
// O_NOFOLLOW, regular file, size-capped.
Result<KeyBytes> read_hex_key_file(const std::string& path);

// audit.key, held open for in-place rewrites.
class KeyFile {
public:
    // Creates it (O_CREAT|O_EXCL, 0600) with `state`, fsync'd.
    static Result<KeyFile> create(const std::string& path, const KeyState& state);
    // Opens an existing one: O_RDWR|O_NOFOLLOW, regular, owned by the
    // effective uid, no group/other access, exactly kKeyFileBytes long.
    static Result<KeyFile> open(const std::string& path);

    Result<KeyState> read() const;
    // pwrite at offset 0, then fdatasync unless `sync` is false (the caller
    // then calls sync() soon: AuditLog::sync_key()).
    Status write(const KeyState& state, bool sync = true);
    Status sync();
    // A second descriptor of the same file, for a thread that syncs it.
    Result<UniqueFd> duplicate() const;

private:
    explicit KeyFile(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

// fsync a directory so new entries in it are durable.
Status fsync_directory(const std::string& dir);

}  // namespace bg::audit
