// SPDX-License-Identifier: ISC
// The daemon's lifecycle: start-up and replay, recording, what follows a
// record (terminations, hooks, timers), maintenance and expiry. The request
// handlers are in *_handlers.cpp and session_handler.cpp.
#include "helper/daemon/daemon.hpp"
#include "common/utc_time.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/callback_guard.hpp"
#include "common/file_io.hpp"
#include "common/text.hpp"
#include "helper/daemon/state_directory.hpp"
#include "helper/revocation/session_scopes.hpp"

namespace bg {
namespace {

std::string local_host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
    return escape_for_display(buf);
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) {
        if (!out.empty()) out += ", ";
        out += s;
    }
    return out.empty() ? "none" : out;
}

}  // namespace

std::string bounded_for_record(std::string_view text, std::size_t max_bytes) {
    std::string escaped = escape_for_display(text);
    if (escaped.size() <= max_bytes) return escaped;
    std::size_t cut = max_bytes;
    // Back up to a UTF-8 boundary (escaped text is valid UTF-8).
    while (cut > 0 && (static_cast<unsigned char>(escaped[cut]) & 0xC0) == 0x80) --cut;
    escaped.resize(cut);
    return escaped;
}

Daemon::Daemon(DaemonConfig config, std::unique_ptr<audit::AuditLog> log, mfa::TotpStore totp,
               mfa::YubikeyStore yubikeys, GrantStore grants)
    : config_(std::move(config)),
      log_(std::move(log)),
      recorder_(*log_),
      totp_(std::move(totp)),
      yubikeys_(std::move(yubikeys)),
      grants_(std::move(grants)),
      factors_(totp_, yubikeys_, failures_,
               [this](const std::string& user, const std::string& label) {
                   return grants_.last_factor_counter(user, label);
               }),
      hooks_(config_.hook_retry_delays),
      refusals_(config_.refusal_window_seconds) {
    // The grant store follows every record first: a handler's next step
    // sees the record's effect. journald gets its copy on its own thread.
    recorder_.subscribe(grants_);
    recorder_.subscribe(pending_);
    recorder_.subscribe(metrics_);
    recorder_.subscribe(reviews_);
    if (config_.send_to_journal) {
        journal_ = std::make_unique<audit::JournalMirror>();
        recorder_.subscribe(*journal_);
    }
    // The remote sinks read the log themselves, from their cursors: they
    // learn only how far it is durable (after_answer, maintain).
    ack_event_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    shipper_ = std::make_unique<ship::Shipper>(log_->path(), config_.state_dir + "/sinks", [fd = ack_event_.get()] {
        const std::uint64_t one = 1;
        if (fd >= 0) (void)!::write(fd, &one, sizeof one);
    });
    // The alert channels read the log the same way, from their own cursors.
    alerts_ = std::make_unique<alerts::AlertDelivery>(log_->path(), config_.state_dir + "/alerts", [fd = ack_event_.get()] {
        const std::uint64_t one = 1;
        if (fd >= 0) (void)!::write(fd, &one, sizeof one);
    });
}

Daemon::~Daemon() {
    verify_cancelled_.store(true);
    if (verify_thread_.joinable()) verify_thread_.join();
    (void)maintain(wall_clock_seconds(), /*final=*/true);
    writer_.drain();
    if (journal_) journal_->stop();
}

Result<std::unique_ptr<Daemon>> Daemon::create(const DaemonConfig& cfg, std::int64_t now) {
    DaemonConfig config = cfg;
    if (config.host.empty()) config.host = local_host_name();
    if (auto checked = check_state_directory(config.state_dir); !checked) return checked.error();
    auto log = audit::AuditLog::open(config.state_dir, config.host);
    if (!log) return make_error("audit log: " + log.error().message);
    auto totp = mfa::TotpStore::open(config.state_dir);
    if (!totp) return make_error("factor store: " + totp.error().message);
    auto yubikeys = mfa::YubikeyStore::open(config.state_dir);
    if (!yubikeys) return make_error("YubiKey store: " + yubikeys.error().message);

    std::string rebuilt;
    GrantStore grants = GrantStore::load(config.state_dir, &rebuilt);
    std::unique_ptr<Daemon> d(new Daemon(config, std::move(log).value(), std::move(totp).value(),
                                         std::move(yubikeys).value(), std::move(grants)));
    d->started_at_ = now;

    // Re-apply what the checkpoint has not seen: the log is the truth.
    std::uint64_t after = d->grants_.applied_seq();
    if (after > d->log_->last_seq())
        return make_error("state.json is ahead of the audit log (applied seq " + std::to_string(after) + ", log ends at " +
                          std::to_string(d->log_->last_seq()) + "); run breakglassctl verify");
    bool more = true;
    while (more) {
        std::uint64_t last = after;
        auto lines = d->log_->read_after(after, 0, 256, &last, &more);
        if (!lines) return make_error("audit log: " + lines.error().message);
        for (const std::string& line : *lines) {
            auto rec = audit::parse_record(line);
            if (!rec) return make_error("audit log record after seq " + std::to_string(after) + ": " + rec.error().message);
            d->grants_.recorded(*rec);
        }
        if (last == after) break;
        after = last;
    }
    // Requests waiting for approval survive a restart: rebuilt from the log.
    if (auto replayed = d->replay_requests(now); !replayed) return replayed.error();
    // Open reviews, however old, and which overdue records exist already.
    if (auto replayed = d->replay_reviews(); !replayed) return replayed.error();
    // Only a shortcut for the next start: a full disk must not keep the
    // daemon (the only thing that ends grants) from starting.
    if (auto saved = d->grants_.checkpoint(); !saved)
        d->problems_.push_back({3, "the grant checkpoint could not be written (" + saved.error().message +
                                       "); the next start replays more of the audit log"});
    d->checkpointed_seq_ = d->grants_.applied_seq();
    d->checkpointed_at_ = now;
    auto key_fd = d->log_->duplicate_key_fd();
    if (!key_fd) return make_error(key_fd.error().message);
    d->key_fd_ = std::make_shared<UniqueFd>(std::move(key_fd).value());

    // The space kept for closing records, and the ends a stopped daemon had
    // not recorded yet (which the log alone would bring back to life).
    auto reserve = audit::DiskReserve::open(config.state_dir);
    if (!reserve) return make_error("audit reserve: " + reserve.error().message);
    d->reserve_.emplace(std::move(reserve).value());
    if (auto filled = d->reserve_->refill(); !filled)
        d->problems_.push_back({1, "the audit reserve is not whole (" + filled.error().message +
                                       "): no grant is given until the disk has room for it"});
    auto unrecorded = UnrecordedEnds::open(config.state_dir);
    if (!unrecorded) return make_error(unrecorded.error().message);
    d->unrecorded_ends_.emplace(std::move(unrecorded).value());
    if (!d->unrecorded_ends_->has_file())
        d->problems_.push_back({1, std::string(UnrecordedEnds::kFileName) +
                                       " could not be created (a full disk?): until it is, a grant ended while "
                                       "nothing can be written would be active again after a restart"});
    d->resume_unrecorded_ends(now);
    // A restarted daemon re-ensures the systemd timer of every grant still active.
    for (const Grant& g : d->grants_.active()) d->timer_changes_.push_back({g.event_id, g.expires_at, true});

    // The story index (`show` without reading the log): brought up to the log
    // now, then one slot per record. Only an accelerator: without it the
    // daemon runs and `show` reads the log (docs/ARCHITECTURE.md, "After the glass").
    audit::StoryIndexCatchUp caught_up;
    if (auto index = audit::StoryIndexWriter::open(config.state_dir, &caught_up); index) {
        d->story_index_ = std::move(index).value();
        d->recorder_.subscribe(*d->story_index_);
        if (caught_up.rebuilt && d->log_->last_seq() > 0)
            d->problems_.push_back({6, "rebuilt the story index " + config.state_dir + "/" +
                                           std::string(audit::kStoryIndexFileName) + " (" + caught_up.why_rebuilt +
                                           "): " + std::to_string(caught_up.records) + " records"});
    } else {
        d->problems_.push_back({4, "no story index (" + index.error().message +
                                       "): breakglassctl show reads the log to its end"});
    }

    // On a full disk the daemon still starts, to end grants: its own records wait.
    audit::RecordFields start;
    start.event = "daemon_start";
    start.actor = "breakglassd";
    start.detail = rebuilt.empty() ? "started" : "started; grant state rebuilt from the audit log: " + rebuilt;
    (void)d->record_closing(start, now, audit::Durability::Synced, /*use_reserve=*/false);
    d->reload_policy(now);
    // After the policy: every alert channel, a new one too, starts before its record.
    d->verify_at_start();
    // The signed checkpoints' host key: created at the first start. Without
    // it the daemon still starts (it is what ends grants), and says so.
    bool created = false;
    if (auto key = audit::open_checkpoint_key(config.state_dir, &created); key) {
        d->checkpoint_key_.emplace(std::move(key).value());
        if (created)
            d->problems_.push_back({5, "created the checkpoint signing key " + config.state_dir + "/" +
                                           std::string(audit::kCheckpointKeyFileName) +
                                           "; copy its public key off the host (breakglassctl checkpoint-key)"});
    } else {
        d->problems_.push_back({1, "no signed checkpoints are written: " + key.error().message});
    }
    d->record_signed_checkpoint(now);
    d->resume_held_grants(now);
    if (auto synced = d->log_->sync_key(); !synced) return make_error(synced.error().message);
    return d;
}

namespace {

// The log's hash chain from its start, read in bounded chunks (memory does
// not grow with the log): each line a canonical record (parse_record), seqs
// gap-free from 1, each prev_hash the hash before it, each hash its
// record's, and `last_seq` records in all. "" when it verifies.
std::string verify_chain(int fd, std::uint64_t size, std::uint64_t last_seq, const std::atomic<bool>& cancelled,
                         bool* finished) {
    constexpr std::size_t kChunk = 4 * 1024 * 1024;
    std::string pending;
    std::vector<char> buf(kChunk);
    std::uint64_t offset = 0, expected = 1;
    std::string prev_hash(audit::kGenesisPrevHash);
    const auto at = [&](const std::string& why) {
        return "record " + std::to_string(expected) + ": " + why;
    };
    while (offset < size) {
        if (cancelled.load()) return "";
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, size - offset));
        const ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return "the audit log could not be read to verify it: " + std::string(n < 0 ? std::strerror(errno) : "it shrank");
        offset += static_cast<std::uint64_t>(n);
        pending.append(buf.data(), static_cast<std::size_t>(n));
        std::size_t start = 0;
        for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
            const std::string_view line(pending.data() + start, nl - start);
            auto r = audit::parse_record(line);
            if (!r) return at(r.error().message);
            if (r->seq != expected)
                return at("seq " + std::to_string(r->seq) + " found where " + std::to_string(expected) +
                          " was expected (record deleted, duplicated or reordered)");
            if (r->prev_hash != prev_hash) return at("prev_hash does not match the previous record's hash (chain broken)");
            if (audit::compute_hash(*r) != r->hash) return at("hash mismatch (record modified)");
            prev_hash = r->hash;
            ++expected;
        }
        pending.erase(0, start);
        if (pending.size() > audit::kMaxLineBytes) return at("a line longer than any record");
    }
    *finished = true;
    if (!pending.empty()) return at("torn last line (no trailing newline)");
    if (expected - 1 != last_seq)
        return "the log ends at seq " + std::to_string(expected - 1) + " but the daemon found seq " +
               std::to_string(last_seq) + " at its end";
    return "";
}

}  // namespace

void Daemon::verify_at_start() {
    // What `breakglassctl verify` checks without the initial key: every
    // record canonical with its own hash, the chain, gap-free seqs, and that
    // the log ends where the daemon found it ending. Seals need
    // audit.key.initial, which is not kept on the host. On a thread of its
    // own, over the log as it was at start (records written meanwhile are not
    // part of it), in bounded chunks: the daemon serves at once, and a large
    // log costs time on that thread, not memory.
    struct stat st {};
    UniqueFd fd(::open(log_->path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    const std::uint64_t last_seq = log_->last_seq();
    const int wake_fd = ack_event_.get();
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
        std::lock_guard lock(verify_mutex_);
        verify_problem_ = "the audit log could not be opened to verify it at start: " + std::string(std::strerror(errno));
        return;
    }
    verify_thread_ = std::thread([this, fd = std::move(fd), size = static_cast<std::uint64_t>(st.st_size), last_seq,
                                  wake_fd]() mutable {
        // Out of memory, the log is neither good nor bad: no verify_failed
        // record (a false alarm of tampering), only the line guarded() writes.
        guarded(
            "verifying the audit log at start",
            [&] {
                const auto t0 = std::chrono::steady_clock::now();
                bool finished = false;
                std::string problem = verify_chain(fd.get(), size, last_seq, verify_cancelled_, &finished);
                if (!problem.empty())
                    problem = "the audit log does not verify at start: " + problem + "; run breakglassctl verify";
                const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                std::lock_guard lock(verify_mutex_);
                verify_problem_ = std::move(problem);
                verify_done_ = true;
                char took[32];
                std::snprintf(took, sizeof took, "%.2f", seconds);
                if (finished)
                    verify_note_ = "the audit log verified at start: " + std::to_string(last_seq) + " records, " +
                                   std::to_string(size) + " bytes in " + took + " s";
            },
            [&] {
                std::lock_guard lock(verify_mutex_);
                verify_done_ = true;
            });
        const std::uint64_t one = 1;
        if (wake_fd >= 0) (void)!::write(wake_fd, &one, sizeof one);
    });
}

void Daemon::record_verify_result(std::int64_t now) {
    std::string problem;
    {
        std::lock_guard lock(verify_mutex_);
        if (!verify_done_ && verify_problem_.empty()) return;
        if (verify_recorded_) return;
        verify_recorded_ = true;
        problem = verify_problem_;
        if (problem.empty() && !verify_note_.empty()) problems_.push_back({6, verify_note_});
    }
    if (verify_thread_.joinable()) verify_thread_.join();
    if (problem.empty()) return;
    audit::RecordFields f;
    f.event = "verify_failed";
    f.actor = "breakglassd";
    f.actor_role = "daemon";
    f.target = bounded_for_record(log_->path(), 1024);
    f.detail = bounded_for_record(problem, audit::kMaxFieldBytes);
    problems_.push_back({1, f.detail});
    (void)record_closing(f, now, audit::Durability::Synced, /*use_reserve=*/false);
}

bool Daemon::is_trusted(const PeerIdentity& peer) const {
    if (peer.uid == 0) return true;
    if (!policy_) return false;
    const auto& trusted = policy_->trusted_frontends;
    return std::find(trusted.begin(), trusted.end(), peer.user) != trusted.end();
}

// Only what this daemon does: the front-ends promise nothing else.
std::string Daemon::notice() const {
    const std::size_t sinks = shipper_ ? shipper_->status().size() : 0;
    const std::string remote = sinks == 0 ? std::string()
                                          : "shipped to " + std::to_string(sinks) + " remote log" + (sinks == 1 ? "" : "s");
    if (config_.send_to_journal)
        return "Each record is also sent to the system journal" + (remote.empty() ? "" : " and " + remote) + ".";
    return remote.empty() ? "" : "Each record is also " + remote + ".";
}

const policy::Gate* Daemon::gate_in_force(const std::string& name) const {
    if (!policy_) return nullptr;
    const auto it = policy_->gates.find(name);
    return it == policy_->gates.end() ? nullptr : &it->second;
}

std::optional<std::string> Daemon::reload_policy(std::int64_t now) {
    auto loaded = policy::load_policy(config_.policy_path);
    audit::RecordFields f;
    f.actor = "breakglassd";
    f.target = bounded_for_record(config_.policy_path, 1024);
    if (!loaded) {
        policy_error_ = loaded.error().message;
        f.event = "policy_error";
        f.detail = bounded_for_record(policy_error_ + (policy_ ? "; the last valid policy stays in force"
                                                                : "; no gate is grantable"),
                                      audit::kMaxFieldBytes);
        (void)record_closing(f, now, audit::Durability::Synced, /*use_reserve=*/false);
        return policy_error_;
    }
    policy_ = std::move(loaded).value();
    policy_error_.clear();
    configure_sinks();
    configure_alerts();
    std::vector<std::string> names;
    for (const auto& [name, _] : policy_->gates) names.push_back(name);
    f.event = "policy_load";
    f.detail = bounded_for_record("gates: " + join(names), audit::kMaxFieldBytes);
    (void)record_closing(f, now, audit::Durability::Synced, /*use_reserve=*/false);
    return std::nullopt;
}

// ---- what follows the answer

std::vector<Problem> Daemon::after_answer(std::int64_t now) {
    // Grants that ended together are terminated together: one scan of /proc,
    // every SIGTERM before any record or sweep. The ended grants leave
    // ended_ only once their terminations have begun: out of memory before
    // that (found by the system test's allocation faults) leaves them for
    // settle()'s next try, rather than a grant ended with its processes running.
    std::vector<Terminator::Ending> endings;
    endings.reserve(ended_.size());
    for (const EndedGrant& e : ended_) endings.push_back({termination_target(e.grant), "after the " + e.event});
    const std::vector<TerminationReport> reports = terminator_.begin(endings, now);
    std::vector<EndedGrant> ended = std::move(ended_);
    ended_.clear();
    for (std::size_t i = 0; i < ended.size(); ++i) {
        const EndedGrant& e = ended[i];
        // A terminate record that cannot be written now is queued (record_closing).
        (void)record_termination(reports[i], now);
        // A PostgreSQL gate's role: NOLOGIN, its backends ended, dropped (db_gate.cpp).
        db_grant_ended(e.grant, e.event, now);
        // A voided grant never took effect: its on_grant hook never ran, nor does on_revoke.
        if (const policy::Gate* gate = gate_in_force(e.grant.gate);
            gate && !gate->on_revoke.empty() && e.event != "grant_void")
            queue_hook(e.grant, "on_revoke", gate->on_revoke, e.event, now);
    }
    if (shipper_) shipper_->durable(log_->last_seq() - log_->deferred_records());
    if (alerts_) alerts_->durable(log_->last_seq() - log_->deferred_records());
    update_metrics(now);
    std::vector<Problem> problems = std::move(problems_);
    problems_.clear();
    kill_finished_scopes();
    if (journal_) {
        journal_->wake();
        const std::uint64_t dropped = journal_->dropped();
        if (dropped != journal_dropped_reported_) {
            problems.push_back({3, std::to_string(dropped - journal_dropped_reported_) +
                                       " records were not copied to journald (its queue was full); they are in the "
                                       "audit log"});
            journal_dropped_reported_ = dropped;
        }
    }
    return problems;
}

bool Daemon::signed_checkpoint_due(std::int64_t now) const {
    return checkpoint_key_ && log_->last_seq() > signed_checkpoint_seq_ &&
           now - signed_checkpoint_at_ >= audit::kCheckpointEverySeconds;
}

void Daemon::record_signed_checkpoint(std::int64_t now) {
    if (!checkpoint_key_ || log_->last_seq() == 0 || log_->last_seq() == signed_checkpoint_seq_) return;
    // The space a short disk has left is for closing records.
    if (!late_.empty() || (reserve_ && !reserve_->whole())) return;
    auto signed_cp = audit::sign_checkpoint(*checkpoint_key_, config_.host, log_->last_seq(), log_->last_hash(), now);
    // A failure is tried again at the next interval, not at every maintenance.
    if (!signed_cp) {
        problems_.push_back({3, "the signed checkpoint could not be made: " + signed_cp.error().message});
        signed_checkpoint_at_ = now;
        return;
    }
    audit::RecordFields f;
    f.event = std::string(audit::kCheckpointEvent);
    f.actor = std::string(audit::kCheckpointActor);
    f.detail = audit::render_checkpoint_detail(*signed_cp);
    auto rec = recorder_.append(f, now, audit::Durability::Deferred);
    if (!rec) {
        problems_.push_back({3, "the signed checkpoint could not be recorded: " + rec.error().message});
        signed_checkpoint_at_ = now;
        return;
    }
    signed_checkpoint_seq_ = rec->seq;
    signed_checkpoint_at_ = now;
}

bool Daemon::maintenance_pending(std::int64_t now) const {
    return signed_checkpoint_due(now) || log_->deferred_records() > 0 || log_->key_sync_pending() || !late_.empty() || refusals_.counting() ||
           (reserve_ && !reserve_->whole()) || (unrecorded_ends_ && !unrecorded_ends_->has_file()) ||
           (grants_.applied_seq() != checkpointed_seq_ && now - checkpointed_at_ >= kCheckpointIntervalSeconds);
}

bool Daemon::maintenance_urgent() const {
    return log_->deferred_records() >= kMaintenanceRecords || log_->records_since_key_sync() >= kMaintenanceRecords;
}

std::vector<Problem> Daemon::maintain(std::int64_t now, bool final) {
    // Closing records that waited for the disk come first, in the order
    // things happened; then the space kept for the next ones.
    if (!late_.empty()) {
        write_late_records(now);
        if (!late_.empty() && now - late_alerted_at_ >= kLateRecordAlertSeconds) {
            const LateRecord& oldest = late_.front();
            problems_.push_back({1, std::to_string(late_.size()) +
                                        " closing record(s) are still not in the audit log (the oldest: " +
                                        oldest.fields.event +
                                        (oldest.fields.grant_id.empty() ? std::string() : " of " + oldest.fields.grant_id) +
                                        " at " + audit::format_utc(oldest.at) + "): " + oldest.why});
            late_alerted_at_ = now;
        }
    }
    if (refusals_.counting()) record_refusal_summaries(now);
    if (signed_checkpoint_due(now)) record_signed_checkpoint(now);
    if (reserve_ && !reserve_->whole() && reserve_->refill())
        problems_.push_back({5, "the audit reserve (" + reserve_->path() + ") is whole again; grants are given again"});
    if (unrecorded_ends_ && !unrecorded_ends_->has_file() && unrecorded_ends_->ensure_file())
        problems_.push_back({5, std::string(UnrecordedEnds::kFileName) + " is in place now"});

    std::vector<Problem> problems = std::move(problems_);
    problems_.clear();
    for (std::string& failure : writer_.take_failures()) {
        // A checkpoint that failed (a full disk) is written again at the next interval.
        if (failure.rfind("checkpoint", 0) == 0) checkpointed_seq_ = 0;
        problems.push_back({3, std::move(failure)});
    }
    // Deferred records first: the key file and the checkpoint may only
    // describe records that are on the disk.
    if (auto flushed = log_->flush(); !flushed) {
        problems.push_back({3, "deferred audit records could not be synced: " + flushed.error().message});
        return problems;
    }
    if (shipper_) shipper_->durable(log_->last_seq());
    if (alerts_) alerts_->durable(log_->last_seq());
    if (log_->key_sync_pending() && key_fd_) {
        writer_.post("seal key sync", [fd = key_fd_] {
            if (::fdatasync(fd->get()) != 0) return Status{make_error(std::string("fdatasync: ") + std::strerror(errno))};
            return Status{Ok{}};
        });
        log_->key_sync_handed_off();
    }
    if (grants_.applied_seq() != checkpointed_seq_ && (final || now - checkpointed_at_ >= kCheckpointIntervalSeconds)) {
        writer_.checkpoint(grants_.path(), grants_.serialize());
        checkpointed_seq_ = grants_.applied_seq();
        checkpointed_at_ = now;
    }
    return problems;
}

// ---- ending grants

TerminationTarget Daemon::termination_target(const Grant& g) const {
    TerminationTarget t;
    t.grant_id = g.event_id;
    t.user = g.user;
    t.gate = g.gate;
    t.incident = g.incident;
    t.granted_at = g.granted_at;
    t.scopes = static_cast<bool>(kill_scope_);
    t.expires_at = g.expires_at;
    if (const policy::Gate* gate = gate_in_force(g.gate)) {
        t.group = gate->sudo_runas_group;
        t.grace_seconds = gate->termination_grace.count();
        if (t.group.empty()) t.why_no_group = "the gate names no sudo_runas_group";
    } else {
        t.why_no_group = "the gate is not in the policy in force";
    }
    return t;
}

void Daemon::use_session_scopes(StartScope start, KillScope kill) {
    start_scope_ = std::move(start);
    kill_scope_ = std::move(kill);
}

std::string Daemon::start_session_scope(const PeerIdentity& peer, const std::string& grant_id, std::uint64_t seq,
                                 const std::string& what) {
    if (!start_scope_ || peer.pid <= 1) return "";
    const auto unit = scopes::unit_name(grant_id, seq);
    if (!unit) return "";
    scopes::ScopeRequest r;
    r.grant_id = grant_id;
    r.unit = *unit;
    r.pid = peer.pid;
    // The peer waits for the answer: the pidfd opened now is that process.
    r.pidfd = std::make_shared<UniqueFd>(static_cast<int>(::syscall(SYS_pidfd_open, peer.pid, 0)));
    if (!r.pidfd->valid()) return "";
    r.description = "breakglass: " + what + " under grant " + grant_id;
    start_scope_(std::move(r));
    return *unit;
}

void Daemon::kill_finished_scopes() {
    for (const std::string& unit : terminator_.take_scope_kills())
        if (kill_scope_) kill_scope_(unit);
}

bool Daemon::expire_due(std::int64_t now, const std::string& why) {
    bool all_recorded = expire_requests(now);
    const std::optional<std::int64_t> next = grants_.earliest_expiry();
    if (!next || *next > now) return all_recorded;
    std::vector<Grant> due;
    for (const Grant& g : grants_.active())
        if (g.expires_at <= now) due.push_back(g);
    // Grants given together expire together: one fsync for the batch (the
    // last record's sync makes the earlier ones durable), not one each, so
    // their terminations (after this) do not wait for twenty syncs.
    for (std::size_t i = 0; i < due.size(); ++i) {
        const auto durability = i + 1 < due.size() ? audit::Durability::Deferred : audit::Durability::Synced;
        if (!end_grant(due[i], "expire", "breakglassd", nullptr, why, now, durability)) all_recorded = false;
    }
    return all_recorded;
}

std::optional<std::int64_t> Daemon::next_expiry() const {
    const auto grant = grants_.earliest_expiry();
    const auto request = pending_.earliest_expiry();
    if (grant && request) return std::min(*grant, *request);
    return grant ? grant : request;
}

bool Daemon::finish_terminations(std::int64_t now) {
    bool all_recorded = true;
    const auto granted_again = [&](const std::string& user, const std::string& gate) {
        return grants_.active_for(user, gate, now) != nullptr;
    };
    for (const TerminationReport& report : terminator_.finish_due(now, granted_again))
        if (!record_termination(report, now)) all_recorded = false;
    kill_finished_scopes();
    return all_recorded;
}

bool Daemon::sweep_leftover_processes(std::int64_t now) {
    // The most recently ended grant of each user and gate with nothing active.
    std::map<std::pair<std::string, std::string>, Grant> ended;
    for (const Grant& g : grants_.list(true, std::string())) {
        if (g.state == GrantState::Active || grants_.active_for(g.user, g.gate, now)) continue;
        auto [it, inserted] = ended.try_emplace({g.user, g.gate}, g);
        if (!inserted && g.ended_at > it->second.ended_at) it->second = g;
    }
    bool all_recorded = true;
    for (const auto& entry : ended) {
        const Grant& g = entry.second;  // clang 14 cannot capture a structured binding
        // Ended just now (the startup expiry sweep): its termination follows.
        const bool queued = std::any_of(ended_.begin(), ended_.end(), [&](const EndedGrant& e) {
            return e.grant.user == g.user && e.grant.gate == g.gate;
        });
        if (queued || terminator_.pending_for(g.user, g.gate)) continue;
        const auto report = terminator_.begin_if_running(termination_target(g), now,
                                                         "found at startup, still running after the grant ended");
        if (report && !record_termination(*report, now)) all_recorded = false;
    }
    kill_finished_scopes();
    return all_recorded;
}

std::vector<TimerChange> Daemon::take_timer_changes() {
    std::vector<TimerChange> out = std::move(timer_changes_);
    timer_changes_.clear();
    return out;
}

// ---- hooks

void Daemon::queue_hook(const Grant& g, const std::string& hook, const std::string& path, const std::string& event,
                        std::int64_t due) {
    HookRun run;
    run.hook = hook;
    run.path = path;
    run.event = event;
    run.grant_id = g.event_id;
    run.user = g.user;
    run.gate = g.gate;
    run.expires_at = g.expires_at;
    hooks_.queue(std::move(run), due);
}

std::optional<std::string> Daemon::hook_finished(const HookRun& run, int wait_status, std::int64_t now,
                                                 const std::string& problem) {
    const HookScheduler::Outcome outcome = hooks_.finished(run, wait_status, problem, now);
    audit::RecordFields f;
    f.event = outcome.ok ? "hook" : "hook_failed";
    f.action = run.hook;
    f.actor = "breakglassd";
    f.actor_role = "daemon";
    f.target = run.path;
    f.gate_bypassed = run.gate;
    f.expires_at = run.expires_at;
    f.grant_id = run.grant_id;
    f.detail = bounded_for_record(outcome.detail, audit::kMaxFieldBytes);
    // A closing record: queued when it cannot be written now (with its own alert).
    const bool recorded = record_closing(f, now, audit::Durability::Deferred).has_value();
    if (outcome.ok) return std::nullopt;
    return outcome.detail + (recorded ? "" : " (its record follows once the audit log can take it)");
}

}  // namespace bg
