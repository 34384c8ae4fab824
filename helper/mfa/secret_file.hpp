// SPDX-License-Identifier: ISC
// The on-disk rules every MFA secret store shares (totp.json, yubikeys.json):
// a file in the daemon's state directory, read only when it is a regular file
// owned by this process's uid with no group/other access and below a size cap,
// and replaced durably (temp file 0600, fsync, rename, fsync of the directory).
// Nothing here logs; errors carry the store's label and path and never the
// file's contents.
#pragma once

#include "common/result.hpp"

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace bg::mfa {

// Overwrites a string's characters (its buffer is freed by its owner).
void wipe(std::string& s) noexcept;
// Overwrites every string inside a JSON document and empties it (freeing
// nothing through nlohmann's allocating destructor) before it is freed.
void wipe(nlohmann::json& j) noexcept;

// Wipes the referenced document (or string) when the scope ends, on every path.
template <typename T>
class ScopedWipe {
public:
    explicit ScopedWipe(T& target) : target_(target) {}
    ~ScopedWipe() { wipe(target_); }
    ScopedWipe(const ScopedWipe&) = delete;
    ScopedWipe& operator=(const ScopedWipe&) = delete;

private:
    T& target_;
};

enum class SecretFileState { Missing, Read };

// Reads `path` into `text` (which the caller wipes). Missing file: Missing and
// `text` untouched. Every refusal is a distinct error "<label> <path>: ..."
// that says what to do: symbolic link, not a regular file, wrong owner, group
// or other access (chmod 0600), larger than max_bytes, grew while read.
Result<SecretFileState> read_secret_file(const std::string& label, const std::string& path,
                                         std::size_t max_bytes, std::string& text);

// Replaces `dir`/`file_name` with `text`: a 0600 temp file in the same
// directory, written, fsync'd, closed, renamed over the target, then the
// directory fsync'd. On error the temp file is removed; if only the final
// directory fsync failed the new file may still reach the disk.
// Reads a secret store shaped {"version": VERSION, "<collection>": {...}} into
// `doc` (which the caller wipes: it holds secrets). A missing file is Missing
// and leaves `doc` alone. Every error names the file and ends with restore_hint.
Result<SecretFileState> read_secret_document(const std::string& label, const std::string& path,
                                             std::size_t max_bytes, int version, const char* collection,
                                             const std::string& restore_hint, nlohmann::json& doc);

Status write_secret_file(const std::string& label, const std::string& dir, const std::string& file_name,
                         std::string_view text);

// write_secret_file() of doc.dump(2) and a newline; every serialized copy is
// wiped, `doc` is left to its owner.
Status write_secret_json(const std::string& label, const std::string& dir, const std::string& file_name,
                         const nlohmann::json& doc);

}  // namespace bg::mfa
