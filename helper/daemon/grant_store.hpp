// SPDX-License-Identifier: ISC
// Grants and per-user factor replay state, in memory, checkpointed to
// <state_dir>/state.json with write-fsync-rename (by the daemon's state
// writer, at most once a second, off the event loop).
//
// The audit log is the source of truth: every change here follows a durable
// record, and the checkpoint remembers the last record it reflects
// (applied_seq). On start the daemon loads the checkpoint and re-applies the
// records after applied_seq, so a crash between the record and the checkpoint
// loses nothing, and a missing or damaged checkpoint is rebuilt from the log.
// One exception, because closing never waits: a grant ends here at once
// (end()), before its revoke or expire record, which follows as soon as the
// disk allows; until then the daemon's list of unrecorded ends
// (unrecorded_ends.hpp) is what keeps the grant ended across a restart.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol.hpp"
#include "common/result.hpp"
#include "helper/audit/recorder.hpp"

namespace bg {

// Void: a grant whose record was written but which never took effect (its
// gate required a remote acknowledgement that did not come: grant_void).
enum class GrantState { Active, Revoked, Expired, Void };
std::string_view grant_state_name(GrantState s);
// The state an ending record leaves: revoke, expire, grant_void.
GrantState state_after(std::string_view end_event);

struct Grant {
    std::string event_id;  // the grant record's event id
    std::string user;      // the actor: who broke the glass
    std::string gate;
    // The account it opens through PAM: the account entered when the glass
    // was broken through pam_breakglass (the grant record's target). "" = no
    // account was named (sudo, breakglassctl): only the actor's own.
    std::string account;
    std::string reason;
    std::string incident;
    std::int64_t granted_at = 0;  // unix seconds
    std::int64_t expires_at = 0;
    std::int64_t ended_at = 0;    // 0 while active
    GrantState state = GrantState::Active;
};

// A break-glass through pam_breakglass is recorded with action "pam:SERVICE"
// and the account entered as its target; its grant opens that account only.
inline constexpr std::string_view kPamActionPrefix = "pam:";

// Whether a grant opens `account` (a check's or session's target): any when
// `account` is "" (sudo and breakglassctl name none), else the account it
// was taken for, or the actor's own when it was taken for none.
bool opens_account(const Grant& g, const std::string& account);

// What a replayed record contributes; filled from audit records by the daemon.
struct ReplayedEvent {
    std::uint64_t seq = 0;
    std::string event;  // grant, revoke, expire, anything else is ignored except for the factor counter
    std::string event_id;
    std::string grant_id;
    std::string actor;
    std::string gate;
    std::string account;  // a grant's account (Grant::account)
    std::string reason;
    std::string incident;
    std::int64_t timestamp = 0;
    std::int64_t expires_at = 0;
    std::string factor;  // "totp" or "yubikey:<public id>"
    std::uint64_t factor_counter = 0;
};

class GrantStore final : public audit::RecordSubscriber {
public:
    // The record's effect on grants and factor counters (apply()); the
    // daemon subscribes the store to its recorder and replays the log into it.
    void recorded(const audit::Record& r) override;

    // Ended grants kept for `list --all` (which shows at most this many);
    // older ones live only in the audit log.
    static constexpr std::size_t kEndedGrantsKept = proto::kMaxListEntries;

    // Loads <state_dir>/state.json. A missing file is an empty store
    // (applied_seq 0); a damaged one is reported so the caller can rebuild
    // from the log (rebuilt_reason says why).
    static GrantStore load(const std::string& state_dir, std::string* rebuilt_reason);

    // Active grant of (user, gate) at `now`, if any; a held grant is not.
    const Grant* active_for(const std::string& user, const std::string& gate, std::int64_t now) const;
    // The same, only if it opens `account` (opens_account).
    const Grant* active_for(const std::string& user, const std::string& gate, const std::string& account,
                            std::int64_t now) const;
    const Grant* find(const std::string& event_id) const;
    std::vector<Grant> active() const;
    // The earliest expires_at among active grants, without copying them (the
    // loop asks after every request).
    std::optional<std::int64_t> earliest_expiry() const;
    // Most recent first; `user` empty = everyone.
    std::vector<Grant> list(bool include_ended, const std::string& user) const;

    // Record-driven changes. apply() is idempotent for seq <= applied_seq.
    // A revoke or expire record of a grant that already ended changes nothing.
    void apply(const ReplayedEvent& e);
    // Ends an active grant now, before its record: from here on it is not
    // honoured (Check, sessions, expiry, a second revoke). `at` is when it
    // ended. False when no such grant is active.
    bool end(const std::string& grant_id, GrantState state, std::int64_t at);
    // Ends a grant whose record is in the log but not yet here (the store
    // fell behind it: recorder.hpp): when the record is applied, the grant
    // comes in ended. Its own ending record, applied later, changes nothing.
    void end_before_seen(const std::string& grant_id, GrantState state, std::int64_t at) {
        ended_before_seen_[grant_id] = {state, at};
    }
    // A grant recorded but not yet answered (remote_ack): active for expiry
    // and revocation, but not honoured (active_for) until released. In
    // memory only: after a restart the daemon holds such grants again.
    void hold(const std::string& grant_id) { held_.insert(grant_id); }
    void release(const std::string& grant_id) { held_.erase(grant_id); }
    bool held(const std::string& grant_id) const { return held_.count(grant_id) != 0; }
    // The held grant of (user, gate), if any.
    const Grant* held_for(const std::string& user, const std::string& gate) const;
    std::uint64_t applied_seq() const { return applied_seq_; }

    // The last accepted counter of a factor for a user: the TOTP step
    // ("totp") or a YubiKey's combined counter ("yubikey:<public id>"); 0 if none.
    std::uint64_t last_factor_counter(const std::string& user, const std::string& factor) const;

    // The checkpoint's text (JSON with applied_seq), and writing it: temp
    // file, fdatasync, rename. serialize() runs on the event loop; the write
    // may run on another thread (it touches nothing of the store).
    std::string serialize() const;
    static Status write_checkpoint(const std::string& path, const std::string& text);
    // Both at once (at startup).
    Status checkpoint() const;
    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::string dir_;
    std::uint64_t applied_seq_ = 0;
    std::vector<Grant> grants_;  // in grant order; active and recently ended
    std::set<std::string> held_;
    std::map<std::string, std::pair<GrantState, std::int64_t>> ended_before_seen_;
    std::map<std::pair<std::string, std::string>, std::uint64_t> factor_counters_;  // (user, factor)
};

}  // namespace bg
