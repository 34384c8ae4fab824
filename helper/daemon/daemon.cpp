// SPDX-License-Identifier: ISC
#include "helper/daemon/daemon.hpp"

#include <algorithm>
#include <map>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/wait.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <unistd.h>

#include "common/hex.hpp"
#include "common/nss.hpp"
#include "common/text.hpp"
#include "common/transport.hpp"
#include "helper/audit/audit_verify.hpp"
#include "helper/audit/seal_key.hpp"
#include "helper/mfa/totp.hpp"
#include "helper/mfa/yubikey.hpp"

namespace bg {
namespace {

using proto::ErrorAnswer;
using proto::ErrorCode;

constexpr std::size_t kTotpSecretBytes = 20;  // 160 bits, RFC 4226's recommendation
// Answers must fit a frame; leave room for the envelope.
constexpr std::size_t kLogAnswerBudget = proto::kMaxFrameBytes - 4096;
// The daemon's own verify reads the log whole; past this it says to verify offline.
constexpr std::size_t kMaxAuditLogBytes = std::size_t{4} * 1024 * 1024 * 1024;

// Erases a string's bytes before it is released.
struct SecretGuard {
    std::string& s;
    ~SecretGuard() { OPENSSL_cleanse(s.data(), s.size()); }
};

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

ReplayedEvent replayed_from(const audit::Record& r) {
    ReplayedEvent e;
    e.seq = r.seq;
    e.event = r.event;
    e.event_id = r.event_id;
    e.grant_id = r.grant_id;
    e.actor = r.actor;
    e.gate = r.gate_bypassed;
    e.reason = r.reason;
    e.incident = r.incident_ref;
    e.timestamp = r.timestamp;
    e.expires_at = r.expires_at;
    e.factor = r.factor;
    e.factor_counter = r.factor_counter;
    return e;
}

// "1234 (sleep), 1240 (bash)"
std::string describe_processes(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

std::string describe_process(const GrantProcess& p) { return std::to_string(p.pid) + " (" + p.name + ")"; }

// How a hook ended, for its record.
std::string describe_wait_status(int wait_status) {
    if (WIFEXITED(wait_status)) return "exit status " + std::to_string(WEXITSTATUS(wait_status));
    if (WIFSIGNALED(wait_status)) {
        const char* abbrev = ::sigabbrev_np(WTERMSIG(wait_status));
        return "killed by signal " + std::to_string(WTERMSIG(wait_status)) +
               (abbrev ? std::string(" (SIG") + abbrev + ")" : std::string());
    }
    return "wait status " + std::to_string(wait_status);
}

// Why `user` cannot be enrolled (not a name, no such user, the look-up failed), or nullopt.
std::optional<ErrorAnswer> enrollable_user_problem(const std::string& user) {
    if (!is_valid_name(user, kMaxUserBytes))
        return ErrorAnswer{ErrorCode::BadRequest, "'" + escape_for_display(user) + "' is not a user on this host"};
    const nss::Lookup<nss::User> found = nss::user_by_name(user);
    if (found.failed())
        return ErrorAnswer{ErrorCode::Unavailable,
                           "cannot look up user '" + user + "': " + escape_for_display(found.error)};
    if (found.not_found())
        return ErrorAnswer{ErrorCode::BadRequest, "'" + escape_for_display(user) + "' is not a user on this host"};
    return std::nullopt;
}

// What the front-ends may tell the user happens to the records beyond the
// audit log (CheckAnswer/Granted `notice`): only what this daemon does.
std::string beyond_the_audit_log(const DaemonConfig& config) {
    return config.send_to_journal ? "Each record is also sent to the system journal." : "";
}

bool is_totp_code(std::string_view s) {
    return s.size() == 6 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
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
      totp_(std::move(totp)),
      yubikeys_(std::move(yubikeys)),
      grants_(std::move(grants)) {}

Result<std::unique_ptr<Daemon>> Daemon::create(const DaemonConfig& cfg, std::int64_t now) {
    DaemonConfig config = cfg;
    if (config.host.empty()) config.host = local_host_name();
    auto log = audit::AuditLog::open(config.state_dir, config.host, config.send_to_journal);
    if (!log) return make_error("audit log: " + log.error().message);
    auto totp = mfa::TotpStore::open(config.state_dir);
    if (!totp) return make_error("factor store: " + totp.error().message);
    auto yubikeys = mfa::YubikeyStore::open(config.state_dir);
    if (!yubikeys) return make_error("YubiKey store: " + yubikeys.error().message);

    std::string rebuilt;
    GrantStore grants = GrantStore::load(config.state_dir, &rebuilt);
    std::unique_ptr<Daemon> d(new Daemon(config, std::move(log).value(), std::move(totp).value(),
                                         std::move(yubikeys).value(), std::move(grants)));

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
            d->grants_.apply(replayed_from(*rec));
        }
        if (last == after) break;
        after = last;
    }
    if (auto saved = d->grants_.checkpoint(); !saved) return make_error(saved.error().message);
    // A restarted daemon re-ensures the systemd timer of every grant still active.
    for (const Grant& g : d->grants_.active()) d->timer_changes_.push_back({g.event_id, g.expires_at, true});

    audit::RecordFields start;
    start.event = "daemon_start";
    start.actor = "breakglassd";
    start.detail = rebuilt.empty() ? "started" : "started; grant state rebuilt from the audit log: " + rebuilt;
    if (!d->record(start, now)) return make_error("cannot append to the audit log");
    d->reload_policy(now);
    if (auto synced = d->log_->sync_key(); !synced) return make_error(synced.error().message);
    return d;
}

std::optional<audit::Record> Daemon::record(const audit::RecordFields& fields, std::int64_t now) {
    auto rec = log_->append(fields, now);
    if (!rec) return std::nullopt;
    grants_.apply(replayed_from(*rec));
    return std::move(rec).value();
}

proto::Message Daemon::refuse(ErrorCode code, const std::string& message, audit::RecordFields fields,
                              std::int64_t now) {
    fields.detail = bounded_for_record(message, audit::kMaxFieldBytes);
    if (!record(fields, now))
        return ErrorAnswer{ErrorCode::Unavailable, message + " (and the refusal could not be recorded)"};
    return ErrorAnswer{code, message};
}

bool Daemon::is_trusted(const PeerIdentity& peer) const {
    if (peer.uid == 0) return true;
    if (!policy_) return false;
    const auto& trusted = policy_->trusted_frontends;
    return std::find(trusted.begin(), trusted.end(), peer.user) != trusted.end();
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
        record(f, now);
        return policy_error_;
    }
    policy_ = std::move(loaded).value();
    policy_error_.clear();
    std::vector<std::string> names;
    for (const auto& [name, _] : policy_->gates) names.push_back(name);
    f.event = "policy_load";
    f.detail = bounded_for_record("gates: " + join(names), audit::kMaxFieldBytes);
    record(f, now);
    return std::nullopt;
}

proto::Message Daemon::handle(const PeerIdentity& peer, const proto::Message& request, std::int64_t now) {
    try {
        if (const auto* m = std::get_if<proto::CheckRequest>(&request)) return on_check(peer, *m, now);
        if (const auto* m = std::get_if<proto::GrantRequest>(&request)) return on_grant(peer, *m, now);
        if (const auto* m = std::get_if<proto::StatusRequest>(&request)) return on_status(peer, *m);
        if (const auto* m = std::get_if<proto::RevokeRequest>(&request)) return on_revoke(peer, *m, now);
        if (const auto* m = std::get_if<proto::ExpireRequest>(&request)) return on_expire(peer, *m, now);
        if (const auto* m = std::get_if<proto::LogRequest>(&request)) return on_log(*m);
        if (std::holds_alternative<proto::VerifyRequest>(request)) return on_verify();
        if (std::holds_alternative<proto::PolicyCheckRequest>(request)) return on_policy_check();
        if (std::holds_alternative<proto::PolicyReloadRequest>(request)) return on_policy_reload(now);
        if (const auto* m = std::get_if<proto::EnrollTotpRequest>(&request)) return on_enroll_totp(peer, *m, now);
        if (const auto* m = std::get_if<proto::EnrollYubikeyRequest>(&request)) return on_enroll_yubikey(peer, *m, now);
        if (const auto* m = std::get_if<proto::SessionRequest>(&request)) return on_session(peer, *m, now);
    } catch (const std::exception& e) {
        return ErrorAnswer{ErrorCode::Internal, std::string("internal error; the request was refused: ") + e.what()};
    }
    return ErrorAnswer{ErrorCode::BadRequest, "not a request"};
}

proto::Message Daemon::on_check(const PeerIdentity& peer, const proto::CheckRequest& m, std::int64_t now) {
    const std::string user = m.user.empty() ? peer.user : m.user;
    if (user != peer.user && !is_trusted(peer))
        return ErrorAnswer{ErrorCode::NotPermitted, "only root or a trusted front-end may ask about another user"};
    proto::CheckAnswer a;
    if (const Grant* g = grants_.active_for(user, m.gate, now)) {
        a.active = true;
        a.event_id = g->event_id;
        a.expires_at = g->expires_at;
    }
    // The front-ends do not read the policy: this is how they know to ask for a severity.
    if (const policy::Gate* gate = gate_in_force(m.gate)) a.severities = gate->severities;
    if (!a.active) a.notice = beyond_the_audit_log(config_);
    return a;
}

proto::Message Daemon::on_grant(const PeerIdentity& peer, proto::GrantRequest m, std::int64_t now) {
    SecretGuard erase_factor{m.factor};
    const std::string user = m.user.empty() ? peer.user : m.user;

    // Everything a refusal records; user text is escaped and bounded until validated.
    audit::RecordFields f;
    f.event = "deny";
    f.action = "break_glass";
    f.actor = bounded_for_record(user, kMaxUserBytes);
    f.actor_loginuid = peer.loginuid;
    f.actor_role = "requester";
    f.peer_uid = static_cast<std::int64_t>(peer.uid);
    f.gate_bypassed = bounded_for_record(m.gate, kMaxGateBytes);
    f.reason = bounded_for_record(m.reason, kMaxReasonBytes);
    f.incident_ref = bounded_for_record(m.incident, kMaxIncidentBytes);
    f.source = bounded_for_record(m.tty, kMaxTtyBytes);
    f.target = bounded_for_record(m.command, kMaxCommandBytes);

    if (user != peer.user && !is_trusted(peer))
        return refuse(ErrorCode::NotPermitted,
                      "user " + peer.user + " (uid " + std::to_string(peer.uid) + ") may not request a grant for " +
                          escape_for_display(user) + "; only root or a trusted front-end may",
                      f, now);
    if (!is_valid_name(user, kMaxUserBytes))
        return refuse(ErrorCode::BadRequest, "user name '" + escape_for_display(user) + "' is not valid", f, now);
    if (!is_valid_name(m.gate, kMaxGateBytes))
        return refuse(ErrorCode::BadRequest, "gate name '" + escape_for_display(m.gate) + "' is not valid", f, now);
    const struct {
        const char* what;
        const std::string& value;
        std::size_t max;
        bool may_be_empty;
    } texts[] = {{"reason", m.reason, kMaxReasonBytes, false},
                 {"incident reference", m.incident, kMaxIncidentBytes, false},
                 {"severity", m.severity, kMaxGateBytes, true},
                 {"PAM service", m.pam_service, kMaxGateBytes, true},
                 {"tty", m.tty, kMaxTtyBytes, true},
                 {"command", m.command, kMaxCommandBytes, true}};
    for (const auto& t : texts)
        if (auto bad = validate_text(t.value, t.max, t.may_be_empty))
            return refuse(ErrorCode::BadRequest, std::string("the ") + t.what + " " + *bad, f, now);
    if (m.ttl_seconds < 0) return refuse(ErrorCode::BadRequest, "the requested ttl is negative", f, now);

    if (!policy_)
        return refuse(ErrorCode::Unavailable,
                      "no valid policy is loaded, so no gate is grantable (" + escape_for_display(policy_error_) +
                          "); fix the policy and run breakglassctl policy reload",
                      f, now);
    const nss::Lookup<std::vector<std::string>> groups = nss::group_names_of(user);
    if (groups.failed())
        return refuse(ErrorCode::Unavailable,
                      "cannot look up the groups of user '" + user + "' (" + escape_for_display(groups.error) +
                          "), so nothing was granted; check the name service (nsswitch.conf)",
                      f, now);
    if (groups.not_found()) return refuse(ErrorCode::Denied, "user '" + user + "' does not exist on this host", f, now);

    policy::EvalRequest eval;
    eval.user = user;
    eval.groups = groups.value;
    eval.gate = m.gate;
    eval.incident = m.incident;
    eval.severity = m.severity;
    eval.ttl = std::chrono::seconds(m.ttl_seconds);
    // The factor's kind from its shape; a malformed code is judged after the
    // policy, as a failed factor, so evaluate it as the gate's first kind.
    std::string factor_kind = is_totp_code(m.factor) ? "totp" : yubikey::looks_like_otp(m.factor) ? "yubikey" : "";
    if (factor_kind.empty()) {
        const auto gate = policy_->gates.find(m.gate);
        if (gate != policy_->gates.end() && !gate->second.factors.empty()) factor_kind = gate->second.factors.front();
    }
    eval.factor_kind = factor_kind;
    const policy::Decision decision =
        policy::evaluate(*policy_, eval, std::chrono::system_clock::time_point(std::chrono::seconds(now)));
    if (decision.verdict != policy::Verdict::Allow) return refuse(ErrorCode::Denied, decision.why, f, now);
    // The sudo plugin names the run-as group/user that made it gate the
    // command; its configuration must agree with the policy's mapping.
    if (!m.runas_group.empty() || !m.runas_user.empty()) {
        const policy::Gate& gate = policy_->gates.at(m.gate);
        const bool group_ok = m.runas_group.empty() || m.runas_group == gate.sudo_runas_group;
        const bool user_ok = m.runas_user.empty() || m.runas_user == gate.sudo_runas_user;
        if (!group_ok || !user_ok)
            return refuse(ErrorCode::Denied,
                          "the sudo plugin maps run-as " +
                              (m.runas_group.empty() ? "user '" + escape_for_display(m.runas_user) + "'"
                                                     : "group '" + escape_for_display(m.runas_group) + "'") +
                              " to gate '" + m.gate +
                              "', but the policy does not; fix the gates= option in sudo.conf or the policy",
                          f, now);
    }
    // pam_breakglass names its PAM service; a gate the policy binds to another
    // service (pam_service) is not opened from this one.
    if (!m.pam_service.empty()) {
        const policy::Gate& gate = policy_->gates.at(m.gate);
        if (!gate.pam_service.empty() && gate.pam_service != m.pam_service)
            return refuse(ErrorCode::Denied,
                          "gate '" + m.gate + "' is bound to PAM service '" + gate.pam_service + "'; service '" +
                              escape_for_display(m.pam_service) +
                              "' may not open it; fix the gate= argument of its pam_breakglass line or the policy",
                          f, now);
    }
    if (decision.approvals > 0)
        return refuse(ErrorCode::Denied,
                      "gate '" + m.gate + "' requires " + std::to_string(decision.approvals) +
                          " approval(s) and this version of breakglassd has no approval flow; nothing was granted",
                      f, now);
    if (const Grant* existing = grants_.active_for(user, m.gate, now))
        return refuse(ErrorCode::Denied,
                      user + " already holds " + existing->event_id + " for gate '" + m.gate + "' until " +
                          audit::format_utc(existing->expires_at),
                      f, now);

    // The second factor.
    f.factor = factor_kind;
    if (failures_.is_limited(user, now)) {
        f.event = "rate_limited";
        return refuse(ErrorCode::RateLimited,
                      "too many failed codes for " + user + "; try again in " +
                          std::to_string(failures_.retry_after(user, now)) + " s",
                      f, now);
    }
    const FactorCheck factor = verify_factor(user, m.factor, now);
    if (!factor.counter) {
        if (factor.counts_as_failure) failures_.record_failure(user, now);
        f.event = "auth_failed";
        if (!factor.label.empty()) f.factor = factor.label;
        return refuse(ErrorCode::AuthFailed, factor.failure, f, now);
    }
    failures_.reset(user);
    f.factor = factor.label;

    // Log before acting: the grant record (with the accepted step, so replay
    // state survives a crash) is durable before anything is answered.
    const std::int64_t expires_at = now + decision.ttl.count();
    f.event = "grant";
    f.factor_counter = *factor.counter;
    f.expires_at = expires_at;
    f.review_status = "pending";
    f.detail = "ttl " + policy::format_duration(decision.ttl) + (m.severity.empty() ? "" : ", severity " + m.severity);
    const auto rec = record(f, now);
    if (!rec)
        return ErrorAnswer{ErrorCode::Unavailable,
                           "the grant could not be recorded in the audit log, so nothing was granted"};
    unsaved_grants_.push_back(rec->event_id);
    timer_changes_.push_back({rec->event_id, expires_at, true});
    if (const Grant* granted = grants_.find(rec->event_id))
        if (const policy::Gate* gate = gate_in_force(granted->gate); gate && !gate->on_grant.empty())
            queue_hook(*granted, "on_grant", gate->on_grant, "grant", now);
    return proto::Granted{rec->event_id, expires_at, beyond_the_audit_log(config_)};
}

Daemon::FactorCheck Daemon::verify_factor(const std::string& user, const std::string& code, std::int64_t now) const {
    FactorCheck check;
    if (is_totp_code(code)) {
        check.label = "totp";
        const auto secret = totp_.secret_for(user);
        if (!secret) {
            check.failure = "no TOTP secret is enrolled for " + user +
                            "; an administrator enrolls one with: breakglassctl enroll totp " + user;
            return check;
        }
        const totp::VerifyOutcome outcome =
            totp::verify(*secret, code, now, grants_.last_factor_counter(user, check.label));
        check.counter = outcome.step;
        check.counts_as_failure = true;
        if (!outcome.step)
            check.failure = outcome.failure == totp::Failure::Replayed
                                ? "that one-time code was already used; wait for the next one"
                                : "wrong one-time code";
        return check;
    }
    if (const auto otp = yubikey::split_otp(code)) {
        check.label = "yubikey:" + otp->public_id;
        const mfa::YubikeyToken* token = yubikeys_.find(user, otp->public_id);
        check.counts_as_failure = true;
        if (token == nullptr) {
            check.failure = "YubiKey " + otp->public_id + " is not enrolled for " + user +
                            "; an administrator enrolls it with: breakglassctl enroll yubikey " + user +
                            " --public-id " + otp->public_id;
            return check;
        }
        const auto key = token->aes_key.view();
        const auto uid = token->private_uid.view();
        if (key.size() != 16 || uid.size() != 6) {
            check.failure = "the enrolled YubiKey " + otp->public_id + " is damaged; enrol it again";
            return check;
        }
        const yubikey::VerifyOutcome outcome =
            yubikey::verify(key.first<16>(), uid.first<6>(), *otp, grants_.last_factor_counter(user, check.label));
        check.counter = outcome.counter;
        if (!outcome.counter) check.failure = "YubiKey OTP refused: " + yubikey::failure_text(outcome.failure);
        return check;
    }
    check.counts_as_failure = true;
    check.failure = "the one-time code must be 6 digits (TOTP) or a 44-character YubiKey OTP";
    return check;
}

std::optional<std::string> Daemon::after_answer(std::int64_t now) {
    std::optional<std::string> problem;
    if (auto synced = log_->sync_key(); !synced) problem = synced.error().message;
    if (unsaved_grants_.empty()) return problem;
    std::vector<std::string> grants = std::move(unsaved_grants_);
    unsaved_grants_.clear();
    const Status saved = grants_.checkpoint();
    if (saved) return problem;
    problem = "grant state could not be saved (" + saved.error().message + "); revoked the new grants";
    // Fail closed: a grant whose state cannot be kept does not stay.
    for (const std::string& id : grants)
        if (const Grant* g = grants_.find(id); g && g->state == GrantState::Active) {
            const Grant grant = *g;
            end_grant(grant, "revoke", "breakglassd", nullptr,
                      "grant state could not be saved (" + saved.error().message + "); revoked at once", now);
        }
    (void)log_->sync_key();  // the revoke records' key updates
    return problem;
}

proto::Message Daemon::on_status(const PeerIdentity& peer, const proto::StatusRequest& m) {
    proto::StatusAnswer a;
    const auto list = grants_.list(m.all, peer.uid == 0 ? std::string() : peer.user);
    for (const Grant& g : list) {
        if (a.grants.size() == proto::kMaxListEntries) {
            a.truncated = true;
            break;
        }
        a.grants.push_back({g.event_id, g.user, g.gate, std::string(grant_state_name(g.state)), g.granted_at,
                            g.expires_at, g.ended_at, g.reason, g.incident});
    }
    // A frame holds at most 64 KiB; long reasons could overflow it.
    while (!a.grants.empty() && !proto::encode(a)) {
        a.grants.pop_back();
        a.truncated = true;
    }
    return a;
}

const policy::Gate* Daemon::gate_in_force(const std::string& name) const {
    if (!policy_) return nullptr;
    const auto it = policy_->gates.find(name);
    return it == policy_->gates.end() ? nullptr : &it->second;
}

Daemon::TerminationPlan Daemon::plan_termination(const Grant& g, std::int64_t now) const {
    const policy::Gate* gate = gate_in_force(g.gate);
    if (!gate) return {std::nullopt, "; the gate is not in the policy in force, so no process was terminated"};
    if (gate->sudo_runas_group.empty())
        return {std::nullopt, "; the gate names no sudo_runas_group, so no process was terminated"};
    // A failed look-up is said as such: "does not exist" would hide that
    // processes may still run under the grant.
    const nss::Lookup<nss::User> user = nss::user_by_name(g.user);
    if (user.failed())
        return {std::nullopt, "; cannot look up user " + g.user + " (" + escape_for_display(user.error) +
                                  "), so no process was terminated: check by hand"};
    if (user.not_found()) return {std::nullopt, "; user " + g.user + " does not exist, so no process was terminated"};
    const nss::Lookup<nss::Group> group = nss::group_by_name(gate->sudo_runas_group);
    if (group.failed())
        return {std::nullopt, "; cannot look up group " + gate->sudo_runas_group + " (" +
                                  escape_for_display(group.error) + "), so no process was terminated: check by hand"};
    if (group.not_found())
        return {std::nullopt, "; group " + gate->sudo_runas_group + " does not exist, so no process was terminated"};
    PendingTermination t;
    t.grant_id = g.event_id;
    t.user = g.user;
    t.gate = g.gate;
    t.group = gate->sudo_runas_group;
    t.uid = user.value.uid;
    t.gid = group.value.gid;
    t.expires_at = g.expires_at;
    t.incident = g.incident;
    // `now` is truncated to the second: one more keeps the grace at least as long as configured.
    t.deadline = now + gate->termination_grace.count() + 1;
    t.processes = find_grant_processes(t.uid, t.gid);
    std::vector<std::string> pids;
    for (const GrantProcess& p : t.processes) pids.push_back(describe_process(p));
    std::string note = pids.empty() ? "; no process ran under group " + t.group
                                    : "; terminating pids " + describe_processes(pids);
    return {std::move(t), std::move(note)};
}

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
    hook_queue_.emplace_back(due, std::move(run));
}

std::optional<audit::Record> Daemon::end_grant(const Grant& g, const std::string& event, const std::string& actor,
                                               const PeerIdentity* peer, const std::string& detail, std::int64_t now) {
    // Find what runs under the grant before the record, so the record can
    // name it; signal only once the record is durable.
    TerminationPlan plan = plan_termination(g, now);
    audit::RecordFields f;
    f.event = event;
    f.action = "break_glass";
    f.actor = actor;
    if (peer) {
        f.actor_loginuid = peer->loginuid;
        f.peer_uid = static_cast<std::int64_t>(peer->uid);
    }
    f.actor_role = actor == g.user ? "requester" : (actor == "breakglassd" ? "daemon" : "administrator");
    f.target = "user=" + g.user;
    f.gate_bypassed = g.gate;
    f.incident_ref = g.incident;
    f.expires_at = g.expires_at;
    f.grant_id = g.event_id;
    f.detail = bounded_for_record(detail + plan.note, audit::kMaxFieldBytes);
    auto rec = record(f, now);
    if (!rec) return rec;  // the grant stays active; nothing is signalled
    (void)grants_.checkpoint();  // the record is the truth; a failed checkpoint is rebuilt on start
    timer_changes_.push_back({g.event_id, 0, false});
    if (plan.pending) {
        for (const GrantProcess& p : plan.pending->processes) (void)signal_process(p, SIGTERM);
        terminations_.push_back(std::move(*plan.pending));
    }
    if (const policy::Gate* gate = gate_in_force(g.gate); gate && !gate->on_revoke.empty())
        queue_hook(g, "on_revoke", gate->on_revoke, event, now);
    return rec;
}

bool Daemon::finish_terminations(std::int64_t now) {
    bool all_recorded = true;
    for (auto it = terminations_.begin(); it != terminations_.end();) {
        if (it->deadline > now) {
            ++it;
            continue;
        }
        const PendingTermination t = std::move(*it);
        it = terminations_.erase(it);
        std::set<pid_t> known;
        std::vector<std::string> killed, late;
        for (const GrantProcess& p : t.processes) {
            known.insert(p.pid);
            if (!has_exited(p) && signal_process(p, SIGKILL)) killed.push_back(describe_process(p));
        }
        // A process forked while the first scan ran is not in it. Unless the
        // user holds a new grant of the gate by now, whatever runs with the
        // group is left over from this one.
        const bool granted_again = grants_.active_for(t.user, t.gate, now) != nullptr;
        if (!granted_again)
            for (const GrantProcess& p : find_grant_processes(t.uid, t.gid))
                if (known.count(p.pid) == 0 && signal_process(p, SIGKILL)) late.push_back(describe_process(p));
        if (killed.empty() && late.empty()) continue;  // everything ended on SIGTERM
        std::string detail = "grace over";
        if (!killed.empty()) detail += "; SIGKILL to pids " + describe_processes(killed) + " that survived SIGTERM";
        if (!late.empty())
            detail += "; SIGKILL to pids " + describe_processes(late) + " that appeared with group " + t.group +
                      " after the grant ended";
        if (!record_termination(t, detail, now)) all_recorded = false;
        (void)log_->sync_key();
    }
    return all_recorded;
}

bool Daemon::record_termination(const PendingTermination& t, const std::string& detail, std::int64_t now) {
    audit::RecordFields f;
    f.event = "terminate";
    f.action = "break_glass";
    f.actor = "breakglassd";
    f.actor_role = "daemon";
    f.target = "user=" + t.user;
    f.gate_bypassed = t.gate;
    f.incident_ref = t.incident;
    f.expires_at = t.expires_at;
    f.grant_id = t.grant_id;
    f.detail = bounded_for_record(detail, audit::kMaxFieldBytes);
    return record(f, now).has_value();
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
    for (const auto& [key, g] : ended) {
        // Ended just now (the startup expiry sweep): already being terminated.
        const bool pending = std::any_of(terminations_.begin(), terminations_.end(), [&](const PendingTermination& t) {
            return t.user == g.user && t.gate == g.gate;
        });
        if (pending) continue;
        TerminationPlan plan = plan_termination(g, now);
        if (!plan.pending || plan.pending->processes.empty()) continue;
        const std::string detail =
            "found at startup, still running after the grant ended" + plan.note + " (SIGTERM now, SIGKILL after the grace)";
        if (!record_termination(*plan.pending, detail, now)) {
            all_recorded = false;
            continue;  // log before acting
        }
        for (const GrantProcess& p : plan.pending->processes) (void)signal_process(p, SIGTERM);
        terminations_.push_back(std::move(*plan.pending));
    }
    (void)log_->sync_key();
    return all_recorded;
}

std::optional<std::int64_t> Daemon::next_termination_deadline() const {
    std::optional<std::int64_t> next;
    for (const PendingTermination& t : terminations_)
        if (!next || t.deadline < *next) next = t.deadline;
    return next;
}

std::vector<TimerChange> Daemon::take_timer_changes() {
    std::vector<TimerChange> out = std::move(timer_changes_);
    timer_changes_.clear();
    return out;
}

std::vector<HookRun> Daemon::take_hook_runs(std::int64_t now) {
    std::vector<HookRun> due;
    for (auto it = hook_queue_.begin(); it != hook_queue_.end();) {
        if (it->first <= now) {
            due.push_back(std::move(it->second));
            it = hook_queue_.erase(it);
        } else {
            ++it;
        }
    }
    return due;
}

std::optional<std::int64_t> Daemon::next_hook_retry() const {
    std::optional<std::int64_t> next;
    for (const auto& [due, _] : hook_queue_)
        if (!next || due < *next) next = due;
    return next;
}

std::optional<std::string> Daemon::hook_finished(const HookRun& run, int wait_status, std::int64_t now,
                                                 const std::string& problem) {
    const bool ok = problem.empty() && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
    std::string detail = run.hook + " " + run.path + " after the " + run.event + ": " +
                         (problem.empty() ? describe_wait_status(wait_status) : problem) + " (attempt " +
                         std::to_string(run.attempt) + ")";
    if (!ok) {
        const std::size_t retries = config_.hook_retry_delays.size();
        if (run.hook != "on_revoke") {
            detail += "; the grant stays (its record is durable): check the side effect by hand";
        } else if (static_cast<std::size_t>(run.attempt) <= retries) {
            const std::int64_t delay = config_.hook_retry_delays[static_cast<std::size_t>(run.attempt) - 1];
            HookRun again = run;
            again.attempt = run.attempt + 1;
            hook_queue_.emplace_back(now + delay, std::move(again));
            detail += "; retrying in " + std::to_string(delay) + "s";
        } else {
            detail += "; gave up after " + std::to_string(run.attempt) +
                      " attempts: the side effect must be undone by hand";
        }
    }
    audit::RecordFields f;
    f.event = ok ? "hook" : "hook_failed";
    f.action = run.hook;
    f.actor = "breakglassd";
    f.actor_role = "daemon";
    f.target = run.path;
    f.gate_bypassed = run.gate;
    f.expires_at = run.expires_at;
    f.grant_id = run.grant_id;
    f.detail = bounded_for_record(detail, audit::kMaxFieldBytes);
    const bool recorded = record(f, now).has_value();
    (void)log_->sync_key();
    if (ok) return recorded ? std::nullopt : std::optional<std::string>("could not record: " + detail);
    return detail + (recorded ? "" : " (and this could not be recorded)");
}

proto::Message Daemon::on_revoke(const PeerIdentity& peer, const proto::RevokeRequest& m, std::int64_t now) {
    if (auto bad = validate_text(m.reason, kMaxReasonBytes, true))
        return ErrorAnswer{ErrorCode::BadRequest, "the reason " + *bad};
    const Grant* g = grants_.find(m.event_id);
    if (!g || g->state != GrantState::Active)
        return ErrorAnswer{ErrorCode::NotFound, "no active grant " + escape_for_display(m.event_id)};
    if (peer.uid != 0 && peer.user != g->user)
        return ErrorAnswer{ErrorCode::NotPermitted, "only root or the grant's own user may revoke it"};
    const Grant grant = *g;
    const auto rec = end_grant(grant, "revoke", peer.user, &peer, m.reason.empty() ? "revoked" : "revoked: " + m.reason, now);
    if (!rec) return ErrorAnswer{ErrorCode::Unavailable, "the revocation could not be recorded; the grant is still active"};
    return proto::Revoked{grant.event_id, rec->event_id};
}

proto::Message Daemon::on_expire(const PeerIdentity& peer, const proto::ExpireRequest& m, std::int64_t now) {
    const Grant* g = grants_.find(m.event_id);
    if (!g) return ErrorAnswer{ErrorCode::NotFound, "no grant " + escape_for_display(m.event_id)};
    if (g->state != GrantState::Active) return proto::Expired{g->event_id, ""};  // already ended: nothing to do
    if (now < g->expires_at)
        return ErrorAnswer{ErrorCode::Denied, g->event_id + " is not due until " + audit::format_utc(g->expires_at) +
                                                  "; use breakglassctl revoke to end it early"};
    const Grant grant = *g;
    const auto rec = end_grant(grant, "expire", "breakglassd", &peer, "expired (requested by the expiry timer)", now);
    if (!rec) return ErrorAnswer{ErrorCode::Unavailable, "the expiry could not be recorded; retry"};
    return proto::Expired{grant.event_id, rec->event_id};
}

bool Daemon::expire_due(std::int64_t now, const std::string& why) {
    bool all_recorded = true;
    for (const Grant& g : grants_.active())
        if (g.expires_at <= now && !end_grant(g, "expire", "breakglassd", nullptr, why, now)) all_recorded = false;
    return all_recorded;
}

std::optional<std::int64_t> Daemon::next_expiry() const {
    std::optional<std::int64_t> next;
    for (const Grant& g : grants_.active())
        if (!next || g.expires_at < *next) next = g.expires_at;
    return next;
}

proto::Message Daemon::on_log(const proto::LogRequest& m) {
    const std::size_t limit =
        m.limit == 0 || m.limit > proto::kMaxLogRecordsPerAnswer ? proto::kMaxLogRecordsPerAnswer : m.limit;
    proto::LogAnswer a;
    std::uint64_t last = m.after_seq;
    bool more = false;
    auto lines = log_->read_after(m.after_seq, m.since, limit, &last, &more);
    if (!lines) return ErrorAnswer{ErrorCode::Unavailable, "cannot read the audit log: " + lines.error().message};
    std::size_t bytes = 0;
    a.last_seq = m.after_seq;
    for (std::string& line : *lines) {
        if (bytes + line.size() + 8 > kLogAnswerBudget) {
            more = true;
            break;
        }
        auto rec = audit::parse_record(line);
        if (!rec) return ErrorAnswer{ErrorCode::Unavailable, "audit log record is damaged: " + rec.error().message};
        bytes += line.size() + 8;
        a.last_seq = rec->seq;
        a.records.push_back(std::move(line));
    }
    if (a.records.size() == lines->size()) a.last_seq = std::max(a.last_seq, last);
    a.more = more;
    return a;
}

proto::Message Daemon::on_verify() {
    auto bytes = read_regular_file(log_->path(), kMaxAuditLogBytes);
    if (!bytes) return ErrorAnswer{ErrorCode::Unavailable, bytes.error().message};
    audit::VerifyOptions opts;
    // The current sealing key's index must be last_seq + 1; a lower log tail means truncation.
    if (auto key_bytes = read_regular_file(config_.state_dir + "/" + std::string(audit::kKeyFileName), audit::kKeyFileBytes)) {
        if (auto state = audit::decode_key_file(*key_bytes)) opts.key_index = state->index;
        OPENSSL_cleanse(key_bytes->data(), key_bytes->size());
    }
    const audit::VerifyResult r = audit::verify_log(*bytes, opts);
    return proto::VerifyAnswer{r.ok, r.records, r.first_bad_seq, r.message};
}

proto::Message Daemon::on_policy_check() {
    proto::PolicyCheckAnswer a;
    a.path = config_.policy_path;
    a.active = policy_.has_value();
    auto loaded = policy::load_policy(config_.policy_path);
    if (!loaded) {
        a.error = loaded.error().message;
        return a;
    }
    a.ok = true;
    for (const auto& [name, _] : loaded->gates) a.gates.push_back(name);
    return a;
}

proto::Message Daemon::on_policy_reload(std::int64_t now) {
    proto::PolicyReloaded a;
    if (auto error = reload_policy(now)) {
        a.error = *error + (policy_ ? "; the last valid policy stays in force" : "; no gate is grantable");
    } else {
        a.ok = true;
    }
    if (policy_)
        for (const auto& [name, _] : policy_->gates) a.gates.push_back(name);
    return a;
}

bool Daemon::record_enrolment(const PeerIdentity& peer, const std::string& user, const std::string& factor,
                              const std::string& detail, std::int64_t now) {
    audit::RecordFields f;
    f.event = "enroll";
    f.actor = peer.user;
    f.actor_loginuid = peer.loginuid;
    f.actor_role = "administrator";
    f.peer_uid = static_cast<std::int64_t>(peer.uid);
    f.target = "user=" + user;
    f.factor = factor;
    f.detail = detail;
    return record(f, now).has_value();
}

proto::Message Daemon::on_enroll_totp(const PeerIdentity& peer, const proto::EnrollTotpRequest& m, std::int64_t now) {
    std::string secret_text = m.secret_base32;
    SecretGuard erase_text{secret_text};
    if (auto bad = enrollable_user_problem(m.user)) return std::move(*bad);
    std::vector<unsigned char> secret;
    if (secret_text.empty()) {
        secret.resize(kTotpSecretBytes);
        if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1)
            return ErrorAnswer{ErrorCode::Internal, "the random generator failed"};
    } else {
        auto decoded = totp::base32_decode(secret_text);
        if (!decoded || decoded->size() < 16)
            return ErrorAnswer{ErrorCode::BadRequest, "the secret must be base32 of at least 128 bits"};
        secret = std::move(*decoded);
    }
    std::string encoded = totp::base32_encode(secret);
    SecretGuard erase_encoded{encoded};
    const Status stored = totp_.enroll(m.user, secret);
    OPENSSL_cleanse(secret.data(), secret.size());
    if (!stored) return ErrorAnswer{ErrorCode::Unavailable, "cannot store the secret: " + stored.error().message};
    if (!record_enrolment(peer, m.user, "totp", "TOTP secret enrolled", now))
        return ErrorAnswer{ErrorCode::Unavailable, "the enrolment could not be recorded"};
    proto::Enrolled a{m.user, totp::otpauth_uri(m.user, encoded)};
    return a;
}


proto::Message Daemon::on_enroll_yubikey(const PeerIdentity& peer, proto::EnrollYubikeyRequest m, std::int64_t now) {
    SecretGuard erase_key{m.aes_key_hex};
    SecretGuard erase_uid{m.private_uid_hex};
    if (auto bad = enrollable_user_problem(m.user)) return std::move(*bad);
    if (m.public_id.size() != yubikey::kPublicIdChars || !yubikey::is_modhex(m.public_id))
        return ErrorAnswer{ErrorCode::BadRequest, "the public id must be 12 modhex characters (cbdefghijklnrtuv)"};
    auto key = hex_decode(m.aes_key_hex, 16);
    auto uid = hex_decode(m.private_uid_hex, 6);
    if (!key || !uid) {
        if (key) OPENSSL_cleanse(key->data(), key->size());
        return ErrorAnswer{ErrorCode::BadRequest,
                           "the AES key must be 32 hex characters and the private id 12 hex characters"};
    }
    const Status stored = yubikeys_.enroll(m.user, m.public_id, *key, *uid);
    OPENSSL_cleanse(key->data(), key->size());
    OPENSSL_cleanse(uid->data(), uid->size());
    if (!stored) return ErrorAnswer{ErrorCode::BadRequest, "cannot enrol the YubiKey: " + stored.error().message};
    if (!record_enrolment(peer, m.user, "yubikey:" + m.public_id, "YubiKey enrolled", now))
        return ErrorAnswer{ErrorCode::Unavailable, "the enrolment could not be recorded"};
    return proto::YubikeyEnrolled{m.user, m.public_id};
}

proto::Message Daemon::on_session(const PeerIdentity& peer, const proto::SessionRequest& m, std::int64_t now) {
    if (m.event != "session_open" && m.event != "session_close" && m.event != "command")
        return ErrorAnswer{ErrorCode::BadRequest, "event must be session_open, session_close or command"};
    if (!is_valid_name(m.user, kMaxUserBytes) || !is_valid_name(m.gate, kMaxGateBytes))
        return ErrorAnswer{ErrorCode::BadRequest, "user and gate must be valid names"};
    const struct {
        const char* what;
        const std::string& value;
        std::size_t max;
    } texts[] = {{"service", m.service, kMaxGateBytes},
                 {"tty", m.tty, kMaxTtyBytes},
                 {"remote host", m.remote_host, kMaxTtyBytes},
                 {"command", m.command, kMaxCommandBytes},
                 {"detail", m.detail, kMaxReasonBytes}};
    for (const auto& t : texts)
        if (auto bad = validate_text(t.value, t.max, true))
            return ErrorAnswer{ErrorCode::BadRequest, std::string("the ") + t.what + " " + *bad};
    const Grant* grant = grants_.active_for(m.user, m.gate, now);
    audit::RecordFields f;
    f.event = m.event;
    f.action = m.service.empty() ? "session" : m.service;
    f.actor = m.user;
    f.actor_loginuid = peer.loginuid;
    f.actor_role = "requester";
    f.peer_uid = static_cast<std::int64_t>(peer.uid);
    f.gate_bypassed = m.gate;
    f.target = m.command.empty() ? "service=" + m.service : m.command;
    f.source = m.remote_host.empty() ? m.tty : m.tty + " from " + m.remote_host;
    f.grant_id = grant ? grant->event_id : std::string();
    if (grant) {
        f.incident_ref = grant->incident;
        f.expires_at = grant->expires_at;
    }
    f.detail = bounded_for_record("pid " + std::to_string(m.pid) + (m.detail.empty() ? "" : "; " + m.detail) +
                                      (grant ? "" : "; no active grant"),
                                  audit::kMaxFieldBytes);
    const auto rec = record(f, now);
    if (!rec) return ErrorAnswer{ErrorCode::Unavailable, "the session could not be recorded"};
    return proto::SessionRecorded{rec->event_id, f.grant_id};
}

}  // namespace bg
