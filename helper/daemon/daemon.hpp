// SPDX-License-Identifier: ISC
// breakglassd's decisions: the state (policy, factor stores, grants), the
// handlers the dispatch table routes each request to, and what follows a
// record (terminations, hooks, timers, the state writer). No sockets and no
// event loop here (event_loop.cpp owns those), so tests and benchmarks drive
// it directly. docs/ARCHITECTURE.md, "The daemon inside".
//
// The handlers live in files by subject: grant_handlers.cpp (check, grant,
// status, revoke, expire), session_handler.cpp (session, command), enrolment_handlers.cpp,
// log_handler.cpp, policy_handlers.cpp; the lifecycle is in daemon.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <string>
#include <thread>
#include <vector>

#include "common/protocol.hpp"
#include "helper/audit/audit_log.hpp"
#include "helper/audit/disk_reserve.hpp"
#include "helper/audit/journal_mirror.hpp"
#include "helper/audit/recorder.hpp"
#include "helper/audit/signed_checkpoint.hpp"
#include "helper/audit/story_index.hpp"
#include "helper/dbgate/postgres_roles.hpp"
#include "helper/daemon/grant_store.hpp"
#include "helper/daemon/peer_identity.hpp"
#include "helper/daemon/refusal_budget.hpp"
#include "helper/daemon/state_writer.hpp"
#include "helper/daemon/unrecorded_ends.hpp"
#include "helper/mfa/factor_verifier.hpp"
#include "helper/mfa/failure_limiter.hpp"
#include "helper/mfa/totp_store.hpp"
#include "helper/mfa/yubikey_store.hpp"
#include "helper/revocation/hook_run.hpp"
#include "helper/revocation/hook_scheduler.hpp"
#include "helper/revocation/systemd_scopes.hpp"
#include "helper/revocation/terminator.hpp"
#include "helper/alerts/delivery.hpp"
#include "helper/daemon/metrics.hpp"
#include "helper/ship/shipper.hpp"
#include "helper/workflow/pending_store.hpp"
#include "helper/workflow/review_store.hpp"
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
    // The window of the per-requester bound on refusal records
    // (RefusalBudget::kPerWindow per window). Shortened by tests.
    std::int64_t refusal_window_seconds = RefusalBudget::kDefaultWindowSeconds;
};

// Something for the loop to log (only the top layer logs): a syslog
// priority (1 alert: a closing record is not on disk yet; 3 error; 5 notice)
// and the text.
struct Problem {
    int priority = 3;
    std::string text;
};

// How often the daemon repeats, at alert priority, that closing records are
// still waiting for the disk.
inline constexpr std::int64_t kLateRecordAlertSeconds = 60;

// A change the systemd timer layer must make: start a transient timer for a
// grant at expires_at, or stop the grant's timer.
struct TimerChange {
    std::string grant_id;
    std::int64_t expires_at = 0;
    bool start = true;
};

// The bound on what the state writer may leave undone: at most this long, or
// this many records, between a record and the maintenance that flushes
// deferred records, syncs the seal key and writes the checkpoint.
inline constexpr std::int64_t kMaintenanceIntervalMs = 1000;
inline constexpr std::uint64_t kMaintenanceRecords = 64;
// The grant checkpoint is only a shortcut for start-up (the log is replayed
// after it), so it is written at most this often, and at a clean stop.
inline constexpr std::int64_t kCheckpointIntervalSeconds = 30;

struct DispatchTable;

class Daemon {
public:
    // Opens the audit log, the factor stores and the grant checkpoint,
    // re-applies records the checkpoint has not seen, loads the policy (a bad
    // policy is recorded and leaves nothing grantable) and records the start.
    static Result<std::unique_ptr<Daemon>> create(const DaemonConfig& config, std::int64_t now);
    // Flushes, syncs and checkpoints what is pending (maintain()), then stops
    // the state writer and the journald mirror after they finish their queues.
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // After each answer, in this order: the terminations of grants that
    // ended (scan /proc, SIGTERM, a terminate record each), then the
    // on_revoke hooks they queue. Returns problems to log (with those the
    // request itself ran into, such as a record that must wait for the disk).
    std::vector<Problem> after_answer(std::int64_t now);
    // Whether a store is still behind the audit log after one more try to
    // catch up (recorder.hpp): the loop tries again a second later.
    bool behind_the_log_still() { return behind_the_log().has_value(); }
    // A grant whose Granted answer could not be made (out of memory in the
    // event loop): voided at once, as grant_commit does when it cannot answer.
    void void_unanswered_grant(const std::string& grant_id, std::int64_t now);

    // Maintenance: closing records that could not be written when they
    // happened are written now if the disk allows (alerting every
    // kLateRecordAlertSeconds while they wait), the audit reserve is grown
    // back, deferred records fsync'd, the seal key's sync handed to the state
    // writer, and, when the store changed and the last one is
    // kCheckpointIntervalSeconds old (or `final`), the grant checkpoint
    // written by it. Returns problems to log (earlier background failures too).
    std::vector<Problem> maintain(std::int64_t now, bool final = false);
    // Something waits for maintenance (the loop runs it within
    // kMaintenanceIntervalMs), or enough waits that it should run now.
    bool maintenance_pending(std::int64_t now) const;
    bool maintenance_urgent() const;

    // Ends every active grant whose expires_at has passed, each with an
    // expire record. `why` goes into the record's detail. The grants end
    // (and their processes are terminated after this) whether or not the
    // records can be written; false when one must wait for the disk. The
    // batch is synced once, with its last record.
    bool expire_due(std::int64_t now, const std::string& why);
    // The earliest expires_at among active grants.
    std::optional<std::int64_t> next_expiry() const;

    // At each termination deadline: SIGKILL for the survivors and late
    // arrivals, with a terminate record when anything needed it. False if a
    // record could not be written.
    bool finish_terminations(std::int64_t now);
    // At startup: a daemon that stopped between a grant's end record and the
    // end of its termination (a crash, a kill during the grace) left it
    // undone. For each user and gate whose grants have all ended, whatever
    // of the user still runs with the gate's group gets SIGTERM now, with a
    // terminate record, and SIGKILL after the grace.
    bool sweep_leftover_processes(std::int64_t now);
    // ---- PostgreSQL gates (db_gate.cpp, issue 15)
    // At startup: every role breakglass made (by its comment) in the
    // databases of the policy's PostgreSQL gates whose grant is not active
    // any more is dropped (a daemon killed during a grant, or down at its end).
    void sweep_db_roles(std::int64_t now);
    // The drops of ended grants' roles that failed (database unreachable),
    // retried with backoff until they succeed; and when the next is due.
    void retry_db_drops(std::int64_t now);
    std::optional<std::int64_t> next_db_retry() const;
    std::optional<std::int64_t> next_termination_deadline() const { return terminator_.next_deadline(); }

    // Timers for the systemd layer to start or stop, oldest first: a start
    // for each grant recorded (and, after create(), for each grant still
    // active), a stop for each grant ended.
    std::vector<TimerChange> take_timer_changes();
    // The same list in place, for a caller that takes each change off once done.
    std::vector<TimerChange>& timer_changes() { return timer_changes_; }

    // Session scopes (issue 10): with these set (systemd is PID 1), each
    // session_open and command recorded under a grant has its front end (the
    // peer) moved into a scope of the grant, and revocation ends what is in
    // the grant's scopes, then has them killed. Unset: the /proc scan alone.
    using StartScope = std::function<void(scopes::ScopeRequest)>;
    using KillScope = std::function<void(const std::string& unit)>;
    void use_session_scopes(StartScope start, KillScope kill);

    // Hooks due by `now`, for the loop to start. Each record they follow is
    // already in the log.
    std::vector<HookRun> take_hook_runs(std::int64_t now) { return hooks_.take_due(now); }
    std::optional<std::int64_t> next_hook_retry() const { return hooks_.next_due(); }
    // Records how a hook ended (see HookScheduler::finished). Returns the
    // alert text to log when it failed.
    std::optional<std::string> hook_finished(const HookRun& run, int wait_status, std::int64_t now,
                                             const std::string& problem = "");

    // Loads the policy file; on success it replaces the policy in force.
    // Either way the outcome is recorded. Returns the error text on failure.
    std::optional<std::string> reload_policy(std::int64_t now);

    // Root, or a user the policy names in trusted_frontends: may act for
    // another user and report sessions.
    bool is_trusted(const PeerIdentity& peer) const;
    // Whether `peer` may name `actor` as the human who asks (docs/ARCHITECTURE.md,
    // "The actor is the human who asks"): nullopt when it may, else why not. A
    // set-user-ID program (su, sudo: real uid ≠ effective uid) acts only for
    // the user who ran it; otherwise a peer acts for itself, and root or a
    // trusted front-end whose real uid is known also for anyone.
    std::optional<std::string> actor_refusal(const PeerIdentity& peer, const std::string& actor) const;
    bool policy_loaded() const { return policy_.has_value(); }

    // ---- the remote log (remote_log.cpp; docs/ARCHITECTURE.md, "Every record
    // leaves the host").
    // Readable when a sink acknowledged something: the loop then calls
    // settle_remote_acks(). -1 when there is none.
    int ack_event_fd() const { return ack_event_.get(); }
    void clear_ack_event();
    // Set by a handler whose answer must wait for a sink (remote_ack =
    // "required"): the loop keeps the connection and answers it when
    // settle_remote_acks() names the ticket.
    std::optional<std::uint64_t> take_deferred_answer() { return std::exchange(deferred_answer_, std::nullopt); }
    // Grants whose record a sink acknowledged are released and answered;
    // those past their remote_ack_timeout end as grant_void and are refused.
    // Returns the answers for tickets a connection waits on.
    std::vector<std::pair<std::uint64_t, proto::Message>> settle_remote_acks(std::int64_t now);
    // The earliest remote_ack deadline, in milliseconds since the epoch.
    std::optional<std::int64_t> next_ack_deadline_ms() const;
    // Every few seconds while sinks exist: a backlog older than its sink's
    // backlog_limit is a sink_gap record (once per episode).
    void watch_sinks(std::int64_t now);
    // The alert channels' failed attempts and alarms become records (alerting.cpp).
    void watch_alerts(std::int64_t now);
    bool has_sinks() const { return shipper_ && shipper_->has_sinks(); }
    // Every few seconds: each open review past its gate's review_within gets
    // one review_overdue record (review_handlers.cpp).
    void watch_reviews(std::int64_t now);

private:
    friend struct DispatchTable;  // the only way to a handler

    Daemon(DaemonConfig config, std::unique_ptr<audit::AuditLog> log, mfa::TotpStore totp, mfa::YubikeyStore yubikeys,
           GrantStore grants);

    // ---- handlers, one per request type (dispatch.cpp routes to them)
    proto::Message on_check(const PeerIdentity& peer, proto::CheckRequest& m, std::int64_t now);
    proto::Message on_grant(const PeerIdentity& peer, proto::GrantRequest& m, std::int64_t now);
    proto::Message on_status(const PeerIdentity& peer, proto::StatusRequest& m, std::int64_t now);
    proto::Message on_revoke(const PeerIdentity& peer, proto::RevokeRequest& m, std::int64_t now);
    proto::Message on_expire(const PeerIdentity& peer, proto::ExpireRequest& m, std::int64_t now);
    proto::Message on_log(const PeerIdentity& peer, proto::LogRequest& m, std::int64_t now);
    proto::Message on_story(const PeerIdentity& peer, proto::StoryRequest& m, std::int64_t now);
    proto::Message on_policy_check(const PeerIdentity& peer, proto::PolicyCheckRequest& m, std::int64_t now);
    proto::Message on_policy_reload(const PeerIdentity& peer, proto::PolicyReloadRequest& m, std::int64_t now);
    proto::Message on_enroll_totp(const PeerIdentity& peer, proto::EnrollTotpRequest& m, std::int64_t now);
    proto::Message on_enroll_yubikey(const PeerIdentity& peer, proto::EnrollYubikeyRequest& m, std::int64_t now);
    proto::Message on_session(const PeerIdentity& peer, proto::SessionRequest& m, std::int64_t now);
    proto::Message on_command(const PeerIdentity& peer, proto::CommandRequest& m, std::int64_t now);
    // approval_handlers.cpp (issue 13)
    proto::Message on_wait(const PeerIdentity& peer, proto::WaitRequest& m, std::int64_t now);
    proto::Message on_cancel_request(const PeerIdentity& peer, proto::CancelRequest& m, std::int64_t now);
    proto::Message on_pending(const PeerIdentity& peer, proto::PendingRequest& m, std::int64_t now);
    proto::Message on_approve(const PeerIdentity& peer, proto::ApproveRequest& m, std::int64_t now);
    proto::Message on_reject(const PeerIdentity& peer, proto::RejectRequest& m, std::int64_t now);
    proto::Message on_submit_token(const PeerIdentity& peer, proto::SubmitTokenRequest& m, std::int64_t now);
    // alerting.cpp (issue 12)
    proto::Message on_alert_test(const PeerIdentity& peer, proto::AlertTestRequest& m, std::int64_t now);
    // The answers of the alert tests that finished, for their tickets.
    std::vector<std::pair<std::uint64_t, proto::Message>> take_alert_tests();
    // review_handlers.cpp (issue 14)
    proto::Message on_review(const PeerIdentity& peer, proto::ReviewRequest& m, std::int64_t now);
    proto::Message on_reviews(const PeerIdentity& peer, proto::ReviewsRequest& m, std::int64_t now);
    // Root, or one of the policy's auditors: may read the log (LogRequest) and every open review.
    bool may_read_log(const PeerIdentity& peer, std::string* why) const;
    // The gate's review_within in force (the default when the gate is gone).
    std::chrono::seconds review_within(const std::string& gate) const;
    // At start: every grant and review of the log into reviews_.
    Status replay_reviews();
    // db_gate.cpp (issue 15)
    proto::Message on_db_credentials(const PeerIdentity& peer, proto::DbCredentialsRequest& m, std::int64_t now);

    // ---- a GrantRequest, step by step (grant_handlers.cpp). Each step
    // returns the refusal (already recorded) or nullopt to go on.
    struct GrantAttempt;
    std::optional<proto::Message> grant_validate(GrantAttempt& a, std::int64_t now);
    std::optional<proto::Message> grant_evaluate(GrantAttempt& a, std::int64_t now);
    std::optional<proto::Message> grant_check_factor(GrantAttempt& a, std::int64_t now);
    proto::Message grant_commit(GrantAttempt& a, std::int64_t now);
    // A PostgreSQL gate (db_gate.cpp), for a grant made directly
    // (grant_commit) or completed by its last approval (grant_approved):
    // before the grant record, `user`'s role is created for the grant about
    // to be recorded (seq `seq`), VALID UNTIL `expires_at`, and kept in
    // db_creating_. When it cannot be (the database is unreachable, the admin
    // role lacks a privilege), the refusal says why and nothing was created;
    // the caller records the refusal and grants nothing.
    std::optional<proto::ErrorAnswer> db_create_role(const std::string& user, const policy::Gate& gate,
                                                     std::uint64_t seq, std::int64_t expires_at, std::int64_t now);
    // The grant record `f`, and for a role db_create_role made, then its
    // db_role record (the role dropped again when the grant record failed or
    // got another id than planned). nullopt with `refusal` set: nothing granted.
    std::optional<audit::Record> record_grant(const audit::RecordFields& f, std::int64_t now,
                                              proto::ErrorAnswer& refusal);
    // After the grant record: the db_role record naming the role. When the
    // grant record failed (`granted` false): the role is dropped again.
    void db_role_recorded(const std::string& grant_id, bool granted, std::int64_t now);
    // An ended grant's role: dropped now (after the answer), retried when it fails.
    void db_grant_ended(const Grant& g, const std::string& event, std::int64_t now);
    // A gate with approvals (approval_handlers.cpp): before the factor, the
    // bounds on pending requests and whether enough approvers other than the
    // requester exist; after it, the `request` record instead of the grant.
    std::optional<proto::Message> request_evaluate(GrantAttempt& a, const policy::Gate& gate, std::int64_t now);
    proto::Message request_commit(GrantAttempt& a, std::int64_t now);
    // The grant a request's last approval (record `approval`) completes: for
    // a PostgreSQL gate its role first, then its record, timer and hook. Else
    // the approver's answer: the grant record could not be written (the
    // request stays pending, the next approval retries), or the role could
    // not be created (the request ends with a `deny` record naming it and
    // saying why, PendingStore's `refused`; nothing granted).
    std::variant<audit::Record, proto::ErrorAnswer> grant_approved(const workflow::PendingRequest& p,
                                                                   const std::string& approval, std::int64_t now);
    proto::RequestState request_state(const workflow::PendingRequest& p) const;
    // The request code an offline approver signs for (offline_token.hpp),
    // or "" when the policy has no [approver_keys] or `p` has no nonce.
    std::string request_code(const workflow::PendingRequest& p) const;
    // Pending requests whose approval_timeout has passed end with a
    // request_expired record. False when one could not be written.
    bool expire_requests(std::int64_t now);
    // The pending requests `peer` may see, oldest first, within `bytes_left`
    // of a frame: those it may approve (an approver of the gate, not the
    // requester); with own_too its own as well; root (with own_too) all.
    // When the peer's groups cannot be looked up, `error` says why and only
    // its own requests are listed.
    std::vector<proto::PendingInfo> visible_pending(const PeerIdentity& peer, bool own_too, std::size_t bytes_left,
                                                    std::string& error) const;
    // At start: the records of the last kMaxApprovalTimeout into pending_.
    Status replay_requests(std::int64_t now);

    // A signed `checkpoint` record over the record before it
    // (helper/audit/signed_checkpoint.hpp): after every grant, at start-up,
    // and from maintenance every kCheckpointEverySeconds while other records
    // are written. Deferred, and never a reason for anything else to fail:
    // without a key, while the disk is short or when the append fails it is
    // skipped (a problem to log on failure).
    void record_signed_checkpoint(std::int64_t now);
    // The whole audit log checked at start (hash chain, seq, its end) on a
    // thread; record_verify_result() writes a verify_failed record (an
    // alert) when it did not verify, once the thread is done.
    void verify_at_start();
    void record_verify_result(std::int64_t now);
    std::string every_sink_failing() const;
    bool signed_checkpoint_due(std::int64_t now) const;

    bool record_enrolment(const PeerIdentity& peer, const std::string& user, const std::string& factor,
                          const std::string& detail, std::int64_t now);

    // ---- writing records (recording.cpp; docs/ARCHITECTURE.md, "Opening
    // waits, closing does not").
    // An opening record (a grant, a refusal, a session or command about to
    // run, an enrolment): appended through the recorder (the grant store and
    // journald follow) or nothing happens. It fails while closing records
    // wait for the disk or the audit reserve is not whole: that space is for
    // revocations. nullopt on failure, with the reason in last_record_error_.
    std::optional<audit::Record> record(const audit::RecordFields& fields, std::int64_t now,
                                        audit::Durability durability = audit::Durability::Synced);
    // A record of something that has already happened and must not wait
    // (revoke, expire, terminate, hooks, a session's close; and, without the
    // reserve, daemon_start and policy loads). On a full disk the audit
    // reserve is released to it (`use_reserve`); when even that cannot
    // write it, it is queued and written by maintain() as soon as possible,
    // with the time it happened in its detail. nullopt when it was queued.
    std::optional<audit::Record> record_closing(const audit::RecordFields& fields, std::int64_t now,
                                                audit::Durability durability, bool use_reserve = true,
                                                const std::string& ended_grant = "");
    // Appends `fields`, releasing the reserve step by step while the disk is full.
    Result<audit::Record> append_using_reserve(const audit::RecordFields& fields, std::int64_t now,
                                               audit::Durability durability, bool use_reserve);
    // Writes the queued closing records, oldest first, until one fails.
    void write_late_records(std::int64_t now);
    struct LateRecord;
    void queue_late(LateRecord late);
    // A refused break-glass request: recorded (within the requester's
    // RefusalBudget; beyond it only counted), then answered.
    proto::Message refuse(const PeerIdentity& peer, proto::ErrorCode code, const std::string& message,
                          audit::RecordFields fields, std::int64_t now);
    // The refusals_suppressed records of windows that are over.
    void record_refusal_summaries(std::int64_t now);
    // Ends an active grant at once: not honoured from here on, its timer
    // stopped, its termination and on_revoke hook queued for after_answer().
    // Then the revoke or expire record; when it cannot be written now, the
    // end is added to the list of unrecorded ends (so a restart does not
    // bring the grant back) and the record is queued. nullopt when queued.
    // Deferred only when a Synced record follows in the same batch (expire_due).
    std::optional<audit::Record> end_grant(const Grant& g, const std::string& event, const std::string& actor,
                                           const PeerIdentity* peer, const std::string& detail, std::int64_t now,
                                           audit::Durability durability = audit::Durability::Synced);
    audit::RecordFields end_fields(const Grant& g, const std::string& event, const std::string& actor,
                                   std::int64_t peer_uid, std::int64_t loginuid, const std::string& detail) const;
    // A grant record that was written but cannot take effect (its answer or
    // its store's copy failed: out of memory): the grant is voided at once,
    // with a grant_void record, whether or not the grant store took it in.
    void void_recorded_grant(const audit::Record& rec, const std::string& why, std::int64_t now);
    // Why no decision can be made now, or nullopt: a store the recorder could
    // not tell a record (out of memory; recorder.hpp) may lack a grant, a
    // spent one-time code or an approval. Tries to catch up first.
    std::optional<std::string> behind_the_log();
    // At start: the ends a stopped daemon had not recorded yet, applied again.
    void resume_unrecorded_ends(std::int64_t now);
    TerminationTarget termination_target(const Grant& g) const;
    bool record_termination(const TerminationReport& report, std::int64_t now);
    void queue_hook(const Grant& g, const std::string& hook, const std::string& path, const std::string& event,
                    std::int64_t due);
    const policy::Gate* gate_in_force(const std::string& name) const;
    // The shipper follows the policy's [sink.*]; what it says is logged.
    void configure_sinks();
    // A grant recorded for a gate with remote_ack: held until a sink has its
    // record. `ticket` 0 = nobody waits for the answer (after a restart).
    void hold_for_remote_ack(const Grant& g, std::uint64_t seq, const policy::Gate& gate, std::uint64_t ticket,
                             std::int64_t now);
    // The grants of remote_ack gates a restart found active but unacknowledged.
    void resume_held_grants(std::int64_t now);
    // What follows a grant that took effect: its on_grant hook.
    void grant_took_effect(const Grant& g, std::int64_t now);
    std::string notice() const;  // what the front-ends may say happens beyond the audit log
    std::string notice(const std::string& gate) const;  // and who is alerted of this gate's use
    void configure_alerts();
    // [metrics] textfile (metrics.hpp): rewritten when a record was written
    // since the last time, or kMetricsEverySeconds passed (or `force`).
    void update_metrics(std::int64_t now, bool force = false);

    DaemonConfig config_;
    std::unique_ptr<audit::AuditLog> log_;
    audit::Recorder recorder_;
    std::unique_ptr<audit::JournalMirror> journal_;  // null with --no-journal
    std::uint64_t journal_dropped_reported_ = 0;
    mfa::TotpStore totp_;
    mfa::YubikeyStore yubikeys_;
    mfa::FailureLimiter failures_;
    GrantStore grants_;
    workflow::PendingStore pending_;
    workflow::ReviewStore reviews_;
    mfa::FactorVerifier factors_;
    std::optional<policy::Policy> policy_;
    std::string policy_error_;  // why the last load failed, "" when it succeeded

    struct EndedGrant {
        Grant grant;
        std::string event;  // "revoke" or "expire"
    };
    std::vector<EndedGrant> ended_;  // awaiting their termination (after_answer)

    // A closing record that could not be written when it happened.
    struct LateRecord {
        audit::RecordFields fields;
        audit::Durability durability = audit::Durability::Synced;
        std::int64_t at = 0;      // when it happened
        std::string why;          // why it could not be written then
        bool use_reserve = true;
        std::string ended_grant;  // the grant whose end it records, "" for others
    };
    std::deque<LateRecord> late_;
    std::int64_t late_alerted_at_ = 0;
    std::optional<audit::DiskReserve> reserve_;
    std::optional<UnrecordedEnds> unrecorded_ends_;
    std::string last_record_error_;
    std::vector<Problem> problems_;  // for the next after_answer() or maintain()
    Terminator terminator_;
    HookScheduler hooks_;
    RefusalBudget refusals_;
    std::vector<TimerChange> timer_changes_;
    StartScope start_scope_;
    KillScope kill_scope_;
    // The scope's unit name when one is being started, else "".
    std::string start_session_scope(const PeerIdentity& peer, const std::string& grant_id, std::uint64_t seq,
                             const std::string& what);
    void kill_finished_scopes();

    StateWriter writer_;
    std::shared_ptr<UniqueFd> key_fd_;       // the seal key file, for the writer's fdatasync
    std::uint64_t checkpointed_seq_ = 0;     // applied_seq of the last checkpoint handed to the writer
    std::int64_t checkpointed_at_ = 0;

    UniqueFd ack_event_;                      // eventfd the sinks' threads write after an acknowledgement
    std::unique_ptr<ship::Shipper> shipper_;
    std::unique_ptr<alerts::AlertDelivery> alerts_;
    std::thread verify_thread_;
    std::mutex verify_mutex_;
    std::string verify_problem_;  // guarded by verify_mutex_
    bool verify_done_ = false;    // guarded by verify_mutex_
    bool verify_recorded_ = false;
    std::string verify_note_;     // guarded by verify_mutex_: "verified at start: N records in T s"
    std::atomic<bool> verify_cancelled_{false};  // a stop does not wait for the whole log
    MetricsCounter metrics_;
    std::uint64_t metrics_seq_ = 0;     // the log's last seq when the textfile was written
    std::int64_t metrics_at_ = 0;
    std::string metrics_written_to_;    // the textfile it was last written to
    std::string metrics_error_;         // the last failure, logged once
    std::int64_t started_at_ = 0;
    struct AckWait {
        std::uint64_t ticket = 0;  // 0: nobody waits for the answer
        std::uint64_t seq = 0;     // the grant record's
        std::int64_t deadline = 0;  // unix_ms()
        Grant grant;
        std::string timeout_text;
    };
    std::vector<AckWait> ack_waits_;

    // PostgreSQL gates: the role of each active grant that has one, with its
    // password until its actor fetched it (DbCredentialsRequest); the drops
    // that wait for the database.
    struct DbRole {
        std::string grant_id, user, gate, role, conninfo;
        std::int64_t expires_at = 0;
        std::unique_ptr<dbgate::Password> password;
    };
    std::map<std::string, DbRole> db_roles_;
    std::optional<DbRole> db_creating_;  // created, its grant record not written yet
    struct DbDrop {
        std::string grant_id, user, gate, incident, role, conninfo, event;
        std::int64_t expires_at = 0;
        int attempts = 0;
        std::int64_t due = 0;
    };
    std::vector<DbDrop> db_drops_;
    bool db_drop(DbDrop& d, std::int64_t now);  // false: failed, rescheduled
    std::uint64_t next_ticket_ = 1;
    std::optional<std::uint64_t> deferred_answer_;
    std::set<std::string> sink_gaps_;          // sinks with a sink_gap recorded and a backlog not yet cleared
    std::optional<audit::Ed25519PrivateKey> checkpoint_key_;  // none when it could not be opened
    std::uint64_t signed_checkpoint_seq_ = 0;  // seq of the last checkpoint record
    std::int64_t signed_checkpoint_at_ = 0;
    // The story index (StoryRequest); none when it could not be opened.
    std::unique_ptr<audit::StoryIndexWriter> story_index_;
};

// The wall clock in milliseconds since the epoch (remote_ack deadlines).
std::int64_t unix_ms();

// Why the sudo plugin's run-as group/user does not map to `gate` in the
// policy (sudo_runas_group / sudo_runas_user), or nullopt when it does. An
// empty name is not checked.
std::optional<std::string> sudo_mapping_problem(const policy::Gate& gate, const std::string& runas_group,
                                                const std::string& runas_user);

// A bounded, escaped copy of untrusted text for a record's field (for
// refusals whose input failed validation and so cannot be stored as is).
std::string bounded_for_record(std::string_view text, std::size_t max_bytes);

}  // namespace bg
