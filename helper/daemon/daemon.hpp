// SPDX-License-Identifier: ISC
// breakglassd's decisions: the handlers behind the permission table, the
// grant lifecycle and expiry. No sockets and no event loop here
// (breakglassd.cpp owns those), so tests can drive it directly.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/protocol.hpp"
#include "helper/audit/audit_log.hpp"
#include "helper/mfa/failure_limiter.hpp"
#include "helper/daemon/grant_store.hpp"
#include "helper/daemon/peer_identity.hpp"
#include "helper/revocation/hook_run.hpp"
#include "helper/revocation/process_scan.hpp"
#include "helper/mfa/totp_store.hpp"
#include "helper/mfa/yubikey_store.hpp"
#include "policy/policy.hpp"

namespace bg {

struct DaemonConfig {
    std::string state_dir;
    std::string policy_path;
    std::string host;           // for records; gethostname() when empty
    bool send_to_journal = true;
    // Seconds before each retry of a failed on_revoke hook; after the last
    // retry fails the daemon gives up (and records that). Shortened by tests.
    std::vector<std::int64_t> hook_retry_delays = {5, 30, 120};
};

// A change the systemd timer layer must make: start a transient timer for a
// grant at expires_at, or stop the grant's timer.
struct TimerChange {
    std::string grant_id;
    std::int64_t expires_at = 0;
    bool start = true;
};

class Daemon {
public:
    // Opens the audit log, the factor store and the grant checkpoint, re-applies
    // records the checkpoint has not seen, loads the policy (a bad policy is
    // recorded and leaves nothing grantable) and records the start.
    static Result<std::unique_ptr<Daemon>> create(const DaemonConfig& config, std::int64_t now);

    proto::Message handle(const PeerIdentity& peer, const proto::Message& request, std::int64_t now);

    // Work that may follow the answer: syncing the sealing key's update and
    // writing the grant checkpoint. The
    // audit record is durable before any answer; the checkpoint is a cache of
    // the log, so it need not delay the requester. If it cannot be written,
    // the grants made since the last checkpoint are revoked (fail closed).
    // Also syncs the audit key's last update. Returns a problem to log, if any.
    std::optional<std::string> after_answer(std::int64_t now);

    // Ends every active grant whose expires_at has passed, each with an
    // expire record. `why` goes into the record's detail. Returns false if a
    // record could not be written (the caller retries soon; an unrecorded
    // expired grant is still never honoured, see active_for()).
    bool expire_due(std::int64_t now, const std::string& why);
    // The earliest expires_at among active grants.
    std::optional<std::int64_t> next_expiry() const;

    // Revocation, second half. end_grant sends SIGTERM to what runs under the
    // grant and remembers it; at the gate's termination_grace deadline this
    // SIGKILLs the survivors and whatever appeared with the group since, and
    // writes one terminate record when anything needed SIGKILL. Returns false
    // if that record could not be written.
    bool finish_terminations(std::int64_t now);
    // At startup: a daemon that stopped between a grant's end record and the
    // end of its termination (a crash, a kill during the grace) left that
    // termination undone. For each user and gate whose grants have all ended,
    // whatever of the user still runs with the gate's group gets SIGTERM now,
    // with a terminate record listing it, and SIGKILL after the grace.
    // Returns false if a record could not be written.
    bool sweep_leftover_processes(std::int64_t now);
    std::optional<std::int64_t> next_termination_deadline() const;

    // Timers for the systemd layer to start or stop, oldest first: a start
    // for each grant recorded (and, after create(), for each grant still
    // active), a stop for each grant ended.
    std::vector<TimerChange> take_timer_changes();

    // Hooks due by `now`, for breakglassd to start. Each record they follow is
    // already durable.
    std::vector<HookRun> take_hook_runs(std::int64_t now);
    // When the next queued hook (a retry) is due.
    std::optional<std::int64_t> next_hook_retry() const;
    // Records how a hook ended: wait_status as from waitpid(); `problem` is
    // set when it could not be started or was killed after its timeout. A
    // failed on_revoke is queued again (DaemonConfig::hook_retry_delays).
    // Returns the alert text to log when the hook failed.
    std::optional<std::string> hook_finished(const HookRun& run, int wait_status, std::int64_t now,
                                             const std::string& problem = "");

    // Loads the policy file; on success it replaces the policy in force.
    // Either way the outcome is recorded. Returns the error text on failure.
    std::optional<std::string> reload_policy(std::int64_t now);

    const GrantStore& grants() const { return grants_; }
    // Root, or a user the policy names in trusted_frontends: may act for
    // another user and report sessions.
    bool is_trusted(const PeerIdentity& peer) const;
    bool policy_loaded() const { return policy_.has_value(); }

private:
    Daemon(DaemonConfig config, std::unique_ptr<audit::AuditLog> log, mfa::TotpStore totp, mfa::YubikeyStore yubikeys,
           GrantStore grants);

    // The second factor of a request: a 6-digit TOTP code or a YubiKey OTP,
    // checked against the user's enrolled secrets and the last accepted counter.
    struct FactorCheck {
        std::optional<std::uint64_t> counter;  // accepted: the counter to record
        std::string label;                     // "totp" or "yubikey:<public id>" ("" when malformed)
        std::string failure;                   // why not, safe to show
        bool counts_as_failure = false;        // against the rate limit (not for "nothing enrolled")
    };
    FactorCheck verify_factor(const std::string& user, const std::string& code, std::int64_t now) const;

    proto::Message on_check(const PeerIdentity& peer, const proto::CheckRequest& m, std::int64_t now);
    proto::Message on_grant(const PeerIdentity& peer, proto::GrantRequest m, std::int64_t now);
    proto::Message on_status(const PeerIdentity& peer, const proto::StatusRequest& m);
    proto::Message on_revoke(const PeerIdentity& peer, const proto::RevokeRequest& m, std::int64_t now);
    proto::Message on_expire(const PeerIdentity& peer, const proto::ExpireRequest& m, std::int64_t now);
    proto::Message on_log(const proto::LogRequest& m);
    proto::Message on_verify();
    proto::Message on_policy_check();
    proto::Message on_policy_reload(std::int64_t now);
    proto::Message on_enroll_totp(const PeerIdentity& peer, const proto::EnrollTotpRequest& m, std::int64_t now);
    proto::Message on_enroll_yubikey(const PeerIdentity& peer, proto::EnrollYubikeyRequest m, std::int64_t now);
    bool record_enrolment(const PeerIdentity& peer, const std::string& user, const std::string& factor,
                          const std::string& detail, std::int64_t now);
    proto::Message on_session(const PeerIdentity& peer, const proto::SessionRequest& m, std::int64_t now);

    // Appends a record and applies it to the grant store. nullopt on failure.
    std::optional<audit::Record> record(const audit::RecordFields& fields, std::int64_t now);
    // A refused break-glass request: recorded, then answered.
    proto::Message refuse(proto::ErrorCode code, const std::string& message, audit::RecordFields fields,
                          std::int64_t now);
    // Ends an active grant with a revoke or expire record, then checkpoints.
    std::optional<audit::Record> end_grant(const Grant& g, const std::string& event, const std::string& actor,
                                           const PeerIdentity* peer, const std::string& detail, std::int64_t now);

    DaemonConfig config_;
    std::unique_ptr<audit::AuditLog> log_;
    mfa::TotpStore totp_;
    mfa::YubikeyStore yubikeys_;
    mfa::FailureLimiter failures_;
    GrantStore grants_;
    std::optional<policy::Policy> policy_;
    std::string policy_error_;  // why the last load failed, "" when it succeeded
    std::vector<std::string> unsaved_grants_;  // granted since the last checkpoint

    // Processes sent SIGTERM when a grant ended, until their grace is over.
    struct PendingTermination {
        std::string grant_id;
        std::string user;
        std::string gate;
        std::string group;
        uid_t uid = 0;
        gid_t gid = 0;
        std::string incident;
        std::int64_t expires_at = 0;
        std::int64_t deadline = 0;
        std::vector<GrantProcess> processes;
    };
    // What end_grant found to terminate and how to say it in the record.
    struct TerminationPlan {
        std::optional<PendingTermination> pending;  // nullopt: nothing can be terminated
        std::string note;                           // "; terminating pids ..." etc.
    };
    TerminationPlan plan_termination(const Grant& g, std::int64_t now) const;
    // A terminate record for t's grant. False if it could not be written.
    bool record_termination(const PendingTermination& t, const std::string& detail, std::int64_t now);
    void queue_hook(const Grant& g, const std::string& hook, const std::string& path, const std::string& event,
                    std::int64_t due);
    const policy::Gate* gate_in_force(const std::string& name) const;

    std::vector<PendingTermination> terminations_;
    std::vector<TimerChange> timer_changes_;
    std::vector<std::pair<std::int64_t, HookRun>> hook_queue_;  // {due, run}
};

// A bounded, escaped copy of untrusted text for a record's field (for
// refusals whose input failed validation and so cannot be stored as is).
std::string bounded_for_record(std::string_view text, std::size_t max_bytes);

}  // namespace bg
