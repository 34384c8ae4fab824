// SPDX-License-Identifier: ISC
// Signed checkpoints (docs/ARCHITECTURE.md, "Signed checkpoints"): a
// `checkpoint` record whose detail states the seq and hash of the record
// before it and the time, signed with the host's Ed25519 checkpoint key. A
// remote copy that holds a checkpoint proves, with the public key alone, what
// the host's log held up to that seq: a later rewrite (even with the chain
// recomputed and resealed) or a truncation shows.
//
// The detail (pure render and a strict, bounded parse):
//   "seq=<decimal, no leading zero, >= 1> head=<64 lowercase hex>
//    time=<YYYY-MM-DDTHH:MM:SSZ> sig=<base64 of the 64-byte signature>"
//   (one space between the four fields, nothing else).
// The signature is over checkpoint_message(): a fixed, versioned text that
// also binds the host the record names, so one host's checkpoint cannot be
// passed off as another's:
//   "breakglass-checkpoint-v1\nhost=<host>\nseq=<seq>\nhead=<head>\ntime=<time>\n"
//
// Files in the state directory: checkpoint.key (PKCS#8 PEM, 0600, created at
// the daemon's first start) and checkpoint.pub (its public key text,
// "ed25519:<base64>\n", 0644), what `breakglassctl checkpoint-key` prints.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "helper/audit/ed25519.hpp"

namespace bg::audit {

inline constexpr std::string_view kCheckpointEvent = "checkpoint";
inline constexpr std::string_view kCheckpointActor = "breakglassd";
inline constexpr std::string_view kCheckpointKeyFileName = "checkpoint.key";
inline constexpr std::string_view kCheckpointPublicKeyFileName = "checkpoint.pub";
inline constexpr std::string_view kCheckpointMessageVersion = "breakglass-checkpoint-v1";
// A rendered detail is 4+20 + 6+64 + 6+20 + 5+88 + 3 spaces at most.
inline constexpr std::size_t kMaxCheckpointDetailBytes = 256;
// At least this often while other records are being written.
inline constexpr std::int64_t kCheckpointEverySeconds = 300;

struct SignedCheckpoint {
    std::uint64_t seq = 0;   // the record the checkpoint covers (the one before it)
    std::string head;        // that record's hash
    std::int64_t time = 0;   // unix seconds
    Ed25519Signature signature{};
};

// The signed bytes (pure).
std::string checkpoint_message(std::string_view host, std::uint64_t seq, std::string_view head, std::int64_t time);
// The record's detail (pure).
std::string render_checkpoint_detail(const SignedCheckpoint& c);
// Strict inverse of render_checkpoint_detail (pure, never throws).
Result<SignedCheckpoint> parse_checkpoint_detail(std::string_view detail);

Result<SignedCheckpoint> sign_checkpoint(const Ed25519PrivateKey& key, std::string_view host, std::uint64_t seq,
                                         std::string_view head, std::int64_t time);
bool checkpoint_signature_valid(const Ed25519PublicKey& key, std::string_view host, const SignedCheckpoint& c);

// Loads <state_dir>/checkpoint.key, or creates it (and checkpoint.pub) when
// it does not exist. *created (if given) says which. An existing key that
// fails the file checks is an error, never replaced.
Result<Ed25519PrivateKey> open_checkpoint_key(const std::string& state_dir, bool* created = nullptr);

}  // namespace bg::audit
