// SPDX-License-Identifier: ISC
// Verification of a remote copy of the audit log with the checkpoint public
// key alone (what `breakglassctl verify --journal-file/--journal-export/
// --json-lines` runs), and its comparison with the host's own log
// (`verify --against-remote`). Pure: the callers read the bytes
// (remote_copy.hpp).
//
// The copy is shipped at least once, so a suffix may arrive again: a
// duplicate identical to the first copy of its seq is fine, but first
// occurrences must ascend by seq (else a reordering is named). Every record
// must be canonical, its hash must match its bytes, prev_hash must be the
// hash of the record before it, seals must hold (with the initial key), seq
// must have no gap (from 1, or from the first seq present, with a note), and
// every `checkpoint` record's signature must hold for its host and its head
// must be the hash of the copy's record at that seq. The first bad seq is the
// lowest seq any problem names.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "helper/audit/ed25519.hpp"
#include "helper/audit/remote_copy.hpp"
#include "helper/audit/seal_key.hpp"
#include "helper/audit/signed_checkpoint.hpp"

namespace bg::audit {

struct RemoteVerifyOptions {
    Ed25519PublicKey public_key{};
    std::optional<KeyBytes> initial_key;  // seals are checked only with it
};

struct RemoteVerifyResult {
    bool ok = false;
    std::uint64_t first_bad_seq = 0;   // 0: none (or no seq to name)
    std::vector<std::string> problems; // in the order found, each naming its seq
    std::vector<std::string> notes;    // not failures
    std::uint64_t records = 0;         // distinct seqs
    std::uint64_t duplicates = 0;      // identical re-sends
    std::uint64_t first_seq = 0, last_seq = 0;
    // The last checkpoint record whose signature and head hold.
    std::optional<SignedCheckpoint> last_checkpoint;
    std::uint64_t last_checkpoint_record_seq = 0;
    // Records after the seq the last checkpoint covers (the checkpoint record included).
    std::uint64_t uncovered = 0;
    bool seals_checked = false;
    // The copy's line for each seq (the first occurrence).
    std::map<std::uint64_t, std::string> lines;
};

RemoteVerifyResult verify_remote(const std::vector<RemoteLine>& copy, const RemoteVerifyOptions& options);

struct RemoteComparison {
    bool diverged = false;
    std::uint64_t first_divergent_seq = 0;
    std::string divergence;  // what differs at that seq
    // Local records the copy does not hold yet (local_last - remote_last), not an error.
    std::uint64_t not_yet_shipped = 0;
};

// `local` is the host's log, one canonical line per record, seq 1..n in order
// (verify_log checks that). Records are compared byte for byte by seq.
RemoteComparison compare_with_remote(const std::vector<std::string>& local, const RemoteVerifyResult& remote);

// Text for people: verdict, checkpoint, coverage, problems, notes.
std::string format_remote_verify(const RemoteVerifyResult& r);

}  // namespace bg::audit
