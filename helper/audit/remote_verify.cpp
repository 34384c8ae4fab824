// SPDX-License-Identifier: ISC
#include "helper/audit/remote_verify.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/utc_time.hpp"
#include "helper/audit/audit_record.hpp"

namespace bg::audit {
namespace {

constexpr std::size_t kMaxProblems = 20;

struct Checker {
    RemoteVerifyResult& r;
    std::size_t dropped = 0;
    void problem(std::uint64_t seq, const std::string& text) {
        if (seq != 0 && (r.first_bad_seq == 0 || seq < r.first_bad_seq)) r.first_bad_seq = seq;
        if (r.problems.size() < kMaxProblems) r.problems.push_back(text);
        else ++dropped;
    }
};

// The seq a line claims, when it is JSON with an unsigned "seq", for naming a
// line that is not a canonical record.
std::optional<std::uint64_t> claimed_seq(const std::string& line) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    const auto seq = j.find("seq");
    if (seq == j.end() || !seq->is_number_unsigned()) return std::nullopt;
    return seq->get<std::uint64_t>();
}

std::string seq_text(std::uint64_t seq) { return "seq " + std::to_string(seq); }

}  // namespace

RemoteVerifyResult verify_remote(const std::vector<RemoteLine>& copy, const RemoteVerifyOptions& o) {
    RemoteVerifyResult r;
    Checker c{r};
    std::map<std::uint64_t, Record> records;
    std::uint64_t highest_first = 0;
    std::uint64_t previous_seq = 0;
    for (const RemoteLine& entry : copy) {
        auto rec = parse_record(entry.line);
        if (!rec) {
            const auto claimed = claimed_seq(entry.line);
            const std::uint64_t seq = claimed.value_or(previous_seq + 1);
            c.problem(seq, entry.where + " (" + (claimed ? seq_text(seq) : "seq unknown, after " + seq_text(previous_seq)) +
                               ") is not a canonical record: " + rec.error().message);
            previous_seq = seq;
            continue;
        }
        const std::uint64_t seq = rec->seq;
        previous_seq = seq;
        const auto known = r.lines.find(seq);
        if (known != r.lines.end()) {
            if (known->second == entry.line) ++r.duplicates;
            else c.problem(seq, seq_text(seq) + ": " + entry.where + " differs from an earlier copy of the same record");
            continue;
        }
        if (seq < highest_first) {
            c.problem(seq, seq_text(seq) + ": " + entry.where + " arrives after " + seq_text(highest_first) +
                               " (the copy is reordered)");
        }
        highest_first = std::max(highest_first, seq);
        r.lines.emplace(seq, entry.line);
        records.emplace(seq, std::move(rec).value());
    }
    r.records = records.size();
    if (records.empty()) {
        c.problem(0, "the copy holds no breakglass records");
        r.ok = false;
        return r;
    }
    r.first_seq = records.begin()->first;
    r.last_seq = records.rbegin()->first;
    if (r.first_seq != 1)
        r.notes.push_back("the copy starts at " + seq_text(r.first_seq) + ": records before it are not in it");

    // Chain, gaps and seals, in seq order.
    std::optional<KeyBytes> key = o.initial_key;
    std::uint64_t key_index = 1;
    r.seals_checked = key.has_value();
    const Record* previous = nullptr;
    for (const auto& [seq, rec] : records) {
        if (compute_hash(rec) != rec.hash) c.problem(seq, seq_text(seq) + ": its hash does not match its contents");
        if (seq == 1 && rec.prev_hash != kGenesisPrevHash)
            c.problem(seq, seq_text(seq) + ": the first record does not start the chain");
        if (previous) {
            if (seq != previous->seq + 1) {
                c.problem(previous->seq + 1, seq_text(previous->seq + 1) +
                                                 (seq == previous->seq + 2 ? "" : ".." + std::to_string(seq - 1)) +
                                                 " missing from the copy (a gap)");
            } else if (rec.prev_hash != previous->hash) {
                c.problem(seq, seq_text(seq) + ": prev_hash is not the hash of " + seq_text(previous->seq) +
                                   " (the chain is broken)");
            }
        }
        if (key) {
            while (key_index < seq) {
                if (!evolve_key(*key)) break;
                ++key_index;
            }
            if (key_index != seq || seal_hex(*key, rec.hash) != rec.seal)
                c.problem(seq, seq_text(seq) + ": the seal does not verify with the initial key");
        }
        previous = &rec;
    }
    if (key) OPENSSL_cleanse(key->data(), key->size());

    // Checkpoints.
    for (const auto& [seq, rec] : records) {
        if (rec.event != kCheckpointEvent) continue;
        auto cp = parse_checkpoint_detail(rec.detail);
        if (!cp) {
            c.problem(seq, seq_text(seq) + ": checkpoint " + cp.error().message);
            continue;
        }
        if (rec.actor != kCheckpointActor || cp->seq >= seq) {
            c.problem(seq, seq_text(seq) + ": checkpoint does not cover a record before it");
            continue;
        }
        if (!checkpoint_signature_valid(o.public_key, rec.host, *cp)) {
            c.problem(seq, seq_text(seq) + ": checkpoint signature does not verify with the public key");
            continue;
        }
        const auto covered = records.find(cp->seq);
        if (covered == records.end()) {
            // A copy that starts later cannot show it; a gap is named above.
            if (cp->seq >= r.first_seq) continue;
            r.notes.push_back("the checkpoint at " + seq_text(seq) + " covers " + seq_text(cp->seq) +
                              ", before this copy starts");
        } else if (covered->second.hash != cp->head) {
            c.problem(cp->seq, seq_text(cp->seq) + ": its hash is not the head the checkpoint at " + seq_text(seq) +
                                   " signed (the record was rewritten)");
            continue;
        }
        r.last_checkpoint = *cp;
        r.last_checkpoint_record_seq = seq;
    }
    if (!r.last_checkpoint) {
        c.problem(0, "no valid signed checkpoint in the copy: nothing in it is signed by the host");
    } else {
        r.uncovered = static_cast<std::uint64_t>(
            std::count_if(records.begin(), records.end(), [&](const auto& kv) { return kv.first > r.last_checkpoint->seq; }));
    }
    if (c.dropped > 0) r.problems.push_back("... and " + std::to_string(c.dropped) + " more problems");
    r.ok = r.problems.empty();
    return r;
}

RemoteComparison compare_with_remote(const std::vector<std::string>& local, const RemoteVerifyResult& remote) {
    RemoteComparison out;
    const std::uint64_t local_last = local.size();
    for (const auto& [seq, line] : remote.lines) {
        if (seq > local_last) {
            out.diverged = true;
            out.first_divergent_seq = seq;
            out.divergence = seq_text(seq) + " is in the remote copy but no longer in the local log (it ends at " +
                             seq_text(local_last) + "): the local log was truncated";
            return out;
        }
        if (local[seq - 1] != line) {
            out.diverged = true;
            out.first_divergent_seq = seq;
            out.divergence = seq_text(seq) + " differs between the local log and the remote copy";
            return out;
        }
    }
    if (local_last > remote.last_seq) out.not_yet_shipped = local_last - remote.last_seq;
    return out;
}

std::string format_remote_verify(const RemoteVerifyResult& r) {
    std::string out = r.ok ? "OK: " : "FAILED: ";
    out += std::to_string(r.records) + " records (" + seq_text(r.first_seq) + ".." + std::to_string(r.last_seq) + ")";
    if (r.duplicates) out += ", " + std::to_string(r.duplicates) + " identical duplicates";
    out += r.seals_checked ? ", seals verified" : ", seals not checked (no --key)";
    out += "\n";
    if (r.last_checkpoint) {
        out += "last signed checkpoint: " + seq_text(r.last_checkpoint_record_seq) + " covers " +
               seq_text(r.last_checkpoint->seq) + " at " + format_utc(r.last_checkpoint->time) + "; " +
               std::to_string(r.uncovered) + " record(s) after it are not yet covered by a signature\n";
    }
    if (!r.ok && r.first_bad_seq != 0) out += "first bad seq: " + std::to_string(r.first_bad_seq) + "\n";
    for (const auto& p : r.problems) out += "problem: " + p + "\n";
    for (const auto& n : r.notes) out += "note: " + n + "\n";
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

}  // namespace bg::audit
