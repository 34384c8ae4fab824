// SPDX-License-Identifier: ISC
#include "helper/ctl/commands.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/nss.hpp"
#include "common/text.hpp"
#include "common/utc_time.hpp"
#include "common/transport.hpp"
#include "helper/audit/audit_verify.hpp"
#include "helper/audit/remote_copy.hpp"
#include "helper/audit/remote_verify.hpp"
#include "helper/audit/signed_checkpoint.hpp"
#include "helper/ctl/approval_commands.hpp"
#include "helper/ctl/exit_code.hpp"
#include "helper/ctl/output.hpp"
#include "helper/ctl/secret_input.hpp"
#include "helper/audit/seal_key.hpp"
#include "policy/policy.hpp"

namespace bg::ctl {
namespace {

// The daemon answers a grant request only once the grant is durable; the CLI
// waits for its answer (Ctrl-C gives up).
constexpr int kWaitForever = -1;
// Bound on audit.log read by verify (nothing rotates the log; past this,
// verify refuses rather than reading it into memory).
constexpr std::size_t kMaxLogBytes = std::size_t{4} * 1024 * 1024 * 1024;
// A base32 TOTP secret: 160 bits are 32 characters; allow longer ones.
constexpr std::size_t kMaxTotpSecretBytes = 128;
constexpr std::size_t kMaxYubikeySecretLine = 32 + 1 + 12;

std::int64_t now_seconds() { return wall_clock_seconds(); }

void print_line(const std::string& s) { std::cout << s << '\n' << std::flush; }

// Sends `request`, returns the expected answer, or prints why not and sets
// `exit_code` (1 refused, 3 unreachable / no answer).
template <typename Answer>
std::optional<Answer> answer_of(const CommonOptions& o, proto::CallResult r, int& exit_code) {
    if (!r.answer) {
        // r.error already says "breakglassd is not reachable (…)" or "no answer from breakglassd: …".
        print_error(escape_for_display(r.error) + "; is breakglassd running? (systemctl status breakglassd.socket)");
        if (o.json) print_line(error_json("unreachable", r.error));
        exit_code = kExitUnreachable;
        return std::nullopt;
    }
    if (const auto* refused = std::get_if<proto::ErrorAnswer>(&*r.answer)) {
        print_error(describe_error(*refused));
        if (o.json) print_line(error_json(proto::error_code_name(refused->code), refused->message));
        exit_code = kExitRefused;
        return std::nullopt;
    }
    exit_code = kExitOk;
    return std::get<Answer>(std::move(*r.answer));
}

template <typename Answer>
std::optional<Answer> call_daemon(const CommonOptions& o, const proto::Message& request, proto::MessageType expected,
                                  int& exit_code, int timeout_ms = proto::kDefaultTimeoutMs) {
    return answer_of<Answer>(o, proto::call(o.socket, request, expected, timeout_ms), exit_code);
}

int usage_error(const std::string& message) {
    print_error(message + " (see --help)");
    return kExitUsage;
}

// A whole regular file (common/file_io.hpp), with a hint when permissions stop us.
Result<std::string> read_state_file(const std::string& path, std::size_t max_bytes, bool* missing = nullptr) {
    int open_errno = 0;
    auto bytes = read_regular_file(path, max_bytes, &open_errno);
    if (missing != nullptr) *missing = open_errno == ENOENT;
    if (!bytes && open_errno == EACCES)
        return make_error(bytes.error().message + " (run as root, or on a copy of the state directory)");
    return bytes;
}
std::vector<std::string> gate_names(const policy::Policy& p) {
    std::vector<std::string> names;
    for (const auto& [name, gate] : p.gates) names.push_back(name);
    return names;
}

}  // namespace

void print_error(const std::string& message) { std::cerr << "breakglassctl: " << message << '\n' << std::flush; }

namespace {

// The grant of `request` and `psql`: the one-time code read, the request
// sent and, for a gate with approvals, the wait for them (wait_for_approval).
// nullopt with `exit_code` set when nothing was granted.
std::optional<proto::Granted> ask_for_grant(const CommonOptions& o, const RequestArguments& a, int& exit_code) {
    auto built = build_grant_request(a);
    if (!built) {
        exit_code = usage_error(built.error().message);
        return std::nullopt;
    }
    make_process_undumpable();

    // The factor goes straight into the message (reserved so no reallocation
    // leaves a copy behind) and is wiped after sending.
    proto::Message message{std::in_place_type<proto::GrantRequest>, std::move(built.value())};
    std::string& factor = std::get<proto::GrantRequest>(message).factor;
    factor.reserve(Secret::kCapacity + 1);
    {
        Secret code;
        const Status read = read_secret("One-time code: ", kMaxFactorBytes, code);
        if (!read) {
            print_error("reading the one-time code: " + read.error().message +
                        (isatty(STDIN_FILENO) == 1 ? std::string()
                                                   : std::string("; pipe exactly one line with the code on stdin")));
            exit_code = read.error().message == "interrupted" ? kExitRefused : kExitUsage;
            return std::nullopt;
        }
        factor.assign(code.view());
    }
    proto::CallResult r = proto::call(o.socket, message, proto::MessageType::Granted, kWaitForever);
    wipe_string(factor);
    // A gate with approvals answers RequestState: wait for them.
    if (r.answer)
        if (auto* pending = std::get_if<proto::RequestState>(&*r.answer))
            return wait_for_approval(o, std::move(*pending), exit_code);
    return answer_of<proto::Granted>(o, std::move(r), exit_code);
}

}  // namespace

int run_request(const CommonOptions& o, const RequestArguments& a) {
    int exit_code = kExitOk;
    const auto granted = ask_for_grant(o, a, exit_code);
    if (!granted) return exit_code;
    print_line(o.json ? granted_json(a.gate, *granted) : format_granted(a.gate, *granted, now_seconds()));
    return kExitOk;
}

int run_psql(const CommonOptions& o, const RequestArguments& a, const std::vector<std::string>& psql_args) {
    int exit_code = kExitOk;
    const auto granted = ask_for_grant(o, a, exit_code);
    if (!granted) return exit_code;
    std::cerr << format_granted(a.gate, *granted, now_seconds()) << '\n' << std::flush;
    // The role's name and password, once, for this user only.
    auto creds = call_daemon<proto::DbCredentials>(o, proto::DbCredentialsRequest{granted->event_id},
                                                   proto::MessageType::DbCredentials, exit_code);
    if (!creds) {
        print_error("no PostgreSQL credentials for " + escape_for_display(granted->event_id) +
                    "; is gate '" + escape_for_display(a.gate) + "' a PostgreSQL gate? (breakglassctl revoke " +
                    escape_for_display(granted->event_id) + " ends the grant)");
        return exit_code;
    }
    std::cerr << "breakglass: psql as PostgreSQL role " << escape_for_display(creds->role) << " until "
              << format_utc(creds->expires_at) << " (grant " << escape_for_display(creds->event_id)
              << "). At that time the session is terminated and the role dropped; every statement is logged.\n"
              << std::flush;
    const std::string appname = "breakglass:" + creds->event_id;
    const struct {
        const char* name;
        const std::string& value;
    } env[] = {{"PGUSER", creds->role}, {"PGAPPNAME", appname},  {"PGHOST", creds->host},
               {"PGPORT", creds->port}, {"PGDATABASE", creds->dbname}};
    for (const auto& e : env)
        if (!e.value.empty()) ::setenv(e.name, e.value.c_str(), 1);
    // In the environment only (never argv): psql reads PGPASSWORD itself.
    ::setenv("PGPASSWORD", creds->password.c_str(), 1);
    wipe_string(creds->password);
    std::vector<std::string> args{"psql"};
    args.insert(args.end(), psql_args.begin(), psql_args.end());
    std::vector<char*> argv;
    for (std::string& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    ::execvp("psql", argv.data());
    const int err = errno;
    print_error(std::string("cannot run psql: ") + std::strerror(err) +
                " (install postgresql-client); the grant stays until it ends or is revoked");
    return kExitUnreachable;
}

// --key FILE: the initial sealing key into `into` (the file's copy wiped);
// false, having said why, when it cannot be read.
template <class Key>
bool read_initial_key(const std::string& path, Key& into) {
    auto key = audit::read_key_file(path);
    if (!key) {
        print_error("--key: " + key.error().message);
        return false;
    }
    into = key.value();
    OPENSSL_cleanse(key.value().data(), key.value().size());
    return true;
}

// The user this process runs as ("" when unknown), to tell the caller's own pending requests apart.
static std::string caller_name() {
    const nss::Lookup<nss::User> u = nss::user_by_uid(::getuid());
    return u.found() ? u.value.name : std::string();
}

int run_status(const CommonOptions& o, bool all) {
    proto::StatusRequest request;
    request.all = all;
    // The daemon answers a page at a time (each answer fits a frame).
    proto::StatusAnswer listed;
    for (;;) {
        int exit_code = kExitOk;
        auto page = call_daemon<proto::StatusAnswer>(o, request, proto::MessageType::StatusAnswer, exit_code);
        if (!page) return exit_code;
        for (proto::GrantInfo& g : page->grants) listed.grants.push_back(std::move(g));
        if (request.after.empty()) {
            listed.sinks = std::move(page->sinks);
            listed.channels = std::move(page->channels);
            listed.pending = std::move(page->pending);
        }
        if (!page->truncated) break;
        if (page->grants.empty() || listed.grants.back().event_id == request.after) {
            print_error("protocol error: breakglassd's status answer did not advance");
            return kExitUnreachable;
        }
        request.after = listed.grants.back().event_id;
    }
    if (o.json) print_line(status_json(listed));
    else std::cout << format_grant_table(listed, all, now_seconds())
                   << format_pending(listed.pending, caller_name(), now_seconds()) << format_sinks(listed.sinks, now_seconds())
                   << format_channels(listed.channels, now_seconds()) << std::flush;
    return kExitOk;
}

int run_revoke(const CommonOptions& o, const std::string& event_id, const std::string& reason) {
    const auto request = build_revoke_request(event_id, reason);
    if (!request) return usage_error(request.error().message);
    int exit_code = kExitOk;
    const auto answer = call_daemon<proto::Revoked>(o, *request, proto::MessageType::Revoked, exit_code);
    if (!answer) return exit_code;
    if (o.json) print_line(revoked_json(*answer));
    else if (answer->record_event_id.empty())
        // Closing never waits: the grant has ended; its record follows.
        print_line("revoked: " + escape_for_display(answer->event_id) +
                   " (its record is not written yet: the audit log cannot take it now; breakglassd writes it, with "
                   "the time of this revocation, as soon as it can)");
    else
        print_line("revoked: " + escape_for_display(answer->event_id) + " (record " +
                   escape_for_display(answer->record_event_id) + ")");
    return kExitOk;
}

int run_expire(const CommonOptions& o, const std::string& event_id) {
    const auto request = build_expire_request(event_id);
    if (!request) return usage_error(request.error().message);
    int exit_code = kExitOk;
    const auto answer = call_daemon<proto::Expired>(o, *request, proto::MessageType::Expired, exit_code);
    if (!answer) return exit_code;
    if (o.json) print_line(expired_json(*answer));
    else if (answer->record_event_id.empty())
        print_line(escape_for_display(answer->event_id) +
                   " has ended (it had ended already, or its expire record is not written yet and follows as soon as "
                   "the audit log can take it)");
    else
        print_line("expired: " + escape_for_display(answer->event_id) + " (record " +
                   escape_for_display(answer->record_event_id) + ")");
    return kExitOk;
}

int run_log(const CommonOptions& o, const std::string& since) {
    proto::LogRequest request;
    if (!since.empty()) {
        const auto t = parse_since(since, now_seconds());
        if (!t) return usage_error(t.error().message);
        request.since = *t;
    }
    for (;;) {
        int exit_code = kExitOk;
        const auto page = call_daemon<proto::LogAnswer>(o, request, proto::MessageType::LogAnswer, exit_code);
        if (!page) return exit_code;
        for (const std::string& record : page->records)
            std::cout << (o.json ? export_log_record(record) : format_log_record(record)) << '\n';
        if (!page->more) break;
        if (page->last_seq <= request.after_seq) {
            print_error("protocol error: breakglassd's log answer did not advance past seq " +
                        std::to_string(request.after_seq));
            return kExitUnreachable;
        }
        request.after_seq = page->last_seq;
    }
    std::cout << std::flush;
    return kExitOk;
}

namespace {

// Reads all of stdin, bounded.
Result<std::string> read_stdin(std::size_t max_bytes) {
    std::string out;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return make_error(std::string("cannot read stdin: ") + std::strerror(errno));
        }
        if (n == 0) break;
        if (out.size() + static_cast<std::size_t>(n) > max_bytes) return make_error("stdin is too large");
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

Result<std::vector<audit::RemoteLine>> read_remote_copy(const VerifyArguments& a) {
    if (!a.journal_files.empty()) return audit::record_lines_from_journal_files(a.journal_files);
    const bool exported = !a.journal_export.empty();
    const std::string& path = exported ? a.journal_export : a.json_lines;
    auto bytes = path == "-" ? read_stdin(audit::kMaxRemoteCopyBytes)
                             : read_regular_file(path, audit::kMaxRemoteCopyBytes);
    if (!bytes) return bytes.error();
    const std::string name = path == "-" ? "stdin" : escape_for_display(path);
    return exported ? audit::record_lines_from_export(*bytes, name) : audit::record_lines_from_json_lines(*bytes, name);
}

// Each line escaped for a terminal; the newlines between them kept.
std::string escape_lines(const std::string& text) {
    std::string out;
    std::size_t i = 0;
    while (i <= text.size()) {
        std::size_t nl = text.find('\n', i);
        if (nl == std::string::npos) nl = text.size();
        if (!out.empty()) out += '\n';
        out += escape_for_display(std::string_view(text).substr(i, nl - i));
        i = nl + 1;
    }
    return out;
}

std::vector<std::string> split_lines(const std::string& log) {
    std::vector<std::string> lines;
    std::size_t i = 0;
    while (i < log.size()) {
        std::size_t nl = log.find('\n', i);
        if (nl == std::string::npos) nl = log.size();
        lines.emplace_back(log, i, nl - i);
        i = nl + 1;
    }
    return lines;
}

int run_verify_remote(const CommonOptions& o, const VerifyArguments& a) {
    if (a.pubkey_file.empty()) return usage_error("a remote copy is verified with --pubkey FILE (breakglassctl checkpoint-key)");
    if (!a.expect_head.empty()) return usage_error("--expect-head applies to the local log only");
    audit::RemoteVerifyOptions options;
    auto pub = audit::read_ed25519_public_key_file(a.pubkey_file);
    if (!pub) {
        print_error("--pubkey: " + escape_for_display(pub.error().message));
        return kExitRefused;
    }
    options.public_key = *pub;
    if (!a.key_file.empty() && !read_initial_key(a.key_file, options.initial_key)) return kExitRefused;
    auto copy = read_remote_copy(a);
    if (!copy) {
        print_error(escape_for_display(copy.error().message));
        return kExitRefused;
    }
    const audit::RemoteVerifyResult r = audit::verify_remote(*copy, options);
    if (options.initial_key) OPENSSL_cleanse(options.initial_key->data(), options.initial_key->size());
    std::string text = "remote copy: " + audit::format_remote_verify(r);
    bool ok = r.ok;
    nlohmann::json j = {{"ok", r.ok},
                        {"records", r.records},
                        {"duplicates", r.duplicates},
                        {"first_seq", r.first_seq},
                        {"last_seq", r.last_seq},
                        {"first_bad_seq", r.first_bad_seq},
                        {"problems", r.problems},
                        {"notes", r.notes},
                        {"seals_checked", r.seals_checked}};
    if (r.last_checkpoint) {
        j["checkpoint"] = {{"record_seq", r.last_checkpoint_record_seq},
                           {"covers_seq", r.last_checkpoint->seq},
                           {"time", format_utc(r.last_checkpoint->time)},
                           {"uncovered", r.uncovered}};
    }
    if (a.against_remote) {
        const std::string log_path = o.state_dir + "/audit.log";
        const auto log = read_state_file(log_path, kMaxLogBytes);
        if (!log) {
            print_error(log.error().message);
            return kExitRefused;
        }
        audit::VerifyOptions local_options;
        if (!a.key_file.empty()) {
            auto key = audit::read_key_file(a.key_file);
            if (key) local_options.initial_key = key.value();
        }
        const audit::VerifyResult local = audit::verify_log(*log, local_options);
        if (local_options.initial_key) OPENSSL_cleanse(local_options.initial_key->data(), local_options.initial_key->size());
        const auto cmp = audit::compare_with_remote(split_lines(*log), r);
        text += "\nlocal log: " + std::string(local.ok ? "OK: " : "FAILED: ") + local.message;
        if (cmp.diverged) {
            text += "\nDIVERGED: first divergent seq: " + std::to_string(cmp.first_divergent_seq) + ": " + cmp.divergence;
        } else {
            text += "\nthe local log and the remote copy agree on every record the copy holds";
            if (cmp.not_yet_shipped > 0)
                text += "; " + std::to_string(cmp.not_yet_shipped) + " local record(s) not yet shipped";
        }
        ok = ok && local.ok && !cmp.diverged;
        j["local"] = {{"ok", local.ok}, {"message", local.message}, {"first_bad_seq", local.first_bad_seq}};
        j["diverged"] = cmp.diverged;
        j["first_divergent_seq"] = cmp.first_divergent_seq;
        j["divergence"] = cmp.divergence;
        j["not_yet_shipped"] = cmp.not_yet_shipped;
        j["ok"] = ok;
    }
    print_line(o.json ? j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : escape_lines(text));
    return ok ? kExitOk : kExitVerifyFailed;
}

}  // namespace

int run_checkpoint_key(const CommonOptions& o) {
    const std::string path = o.state_dir + "/" + std::string(audit::kCheckpointKeyFileName);
    auto key = audit::Ed25519PrivateKey::load(path);
    if (!key) {
        print_error(escape_for_display(key.error().message) +
                    (key.error().system_errno == EACCES ? " (run as root)" : "") +
                    (key.error().system_errno == ENOENT ? " (breakglassd creates it at its first start)" : ""));
        return kExitRefused;
    }
    const std::string line = audit::format_ed25519_public_key(key->public_key());
    print_line(o.json ? nlohmann::json{{"public_key", line}}.dump() : line);
    return kExitOk;
}

std::optional<VerifyOutcome> verify_state_log(const CommonOptions& o, const std::string& log,
                                              audit::VerifyOptions options, int* exit_code) {
    const std::string key_path = o.state_dir + "/" + std::string(audit::kKeyFileName);
    bool key_missing = false;
    auto key_bytes = read_state_file(key_path, audit::kKeyFileBytes, &key_missing);
    if (key_bytes) {
        const auto state = audit::decode_key_file(*key_bytes);
        OPENSSL_cleanse(key_bytes->data(), key_bytes->size());  // the live key: it seals the next record
        if (!state) {
            VerifyOutcome bad;
            bad.message = escape_for_display(key_path) + " is corrupt: " + state.error().message;
            return bad;
        }
        // With --key, verify_log checks that this is the initial key evolved
        // to the index: the index alone is no evidence of where the log ends.
        options.key_file = *state;
    } else if (!key_missing) {
        print_error(key_bytes.error().message);
        if (options.initial_key) OPENSSL_cleanse(options.initial_key->data(), options.initial_key->size());
        *exit_code = kExitRefused;
        return std::nullopt;
    }
    const audit::VerifyResult r = audit::verify_log(log, options);
    if (options.initial_key) OPENSSL_cleanse(options.initial_key->data(), options.initial_key->size());
    options.key_file.reset();  // KeyState wipes its key
    VerifyOutcome outcome;
    outcome.ok = r.ok;
    outcome.records = r.records;
    outcome.first_bad_seq = r.first_bad_seq;
    outcome.message = r.message;
    outcome.seals_checked = r.seals_checked;
    return outcome;
}

Result<std::string> read_state_log(const CommonOptions& o) { return read_state_file(o.state_dir + "/audit.log", kMaxLogBytes); }

int run_verify(const CommonOptions& o, const VerifyArguments& a) {
    if (!a.journal_files.empty() || !a.journal_export.empty() || !a.json_lines.empty()) return run_verify_remote(o, a);
    if (a.against_remote) return usage_error("--against-remote needs a remote copy (--journal-file, --journal-export or --json-lines)");
    if (!a.pubkey_file.empty()) return usage_error("--pubkey applies to a remote copy");
    audit::VerifyOptions options;
    if (!a.expect_head.empty()) {
        const auto head = parse_expected_head(a.expect_head);
        if (!head) return usage_error(head.error().message);
        options.expect_last_seq = head->seq;
        if (!head->hash.empty()) options.expect_head_hash = head->hash;
    }
    if (!a.key_file.empty() && !read_initial_key(a.key_file, options.initial_key)) return kExitRefused;
    const auto log = read_state_log(o);
    if (!log) {
        if (options.initial_key) OPENSSL_cleanse(options.initial_key->data(), options.initial_key->size());
        print_error(log.error().message);
        return kExitRefused;
    }
    int exit_code = kExitOk;
    const auto outcome = verify_state_log(o, *log, std::move(options), &exit_code);
    if (!outcome) return exit_code;
    print_line(o.json ? verify_json(*outcome) : (outcome->ok || outcome->records > 0 || outcome->first_bad_seq > 0
                                                      ? format_verify(*outcome)
                                                      : "FAILED: " + outcome->message));
    return outcome->ok ? kExitOk : kExitVerifyFailed;
}

int run_policy_check(const CommonOptions& o, const std::string& file, bool verbose) {
    if (!file.empty()) {
        // A draft is checked before it is installed, so it need not be root's
        // yet; breakglassd itself insists on a root-owned file.
        policy::LoadOptions load;
        load.require_root_owner = false;
        const auto loaded = policy::load_policy(file, load);
        proto::PolicyCheckAnswer local;
        local.path = file;
        local.ok = loaded.ok();
        if (loaded) local.gates = gate_names(*loaded);
        else local.error = loaded.error().message;
        if (o.json) print_line(policy_check_json(local));
        if (!loaded) {
            print_error(escape_for_display(loaded.error().message));
            return kExitRefused;
        }
        if (!o.json) {
            print_line(format_policy_ok(file, local.gates));
            if (verbose) std::cout << escape_lines(policy::dump_policy(*loaded)) << std::flush;
        }
        return kExitOk;
    }
    int exit_code = kExitOk;
    const auto answer = call_daemon<proto::PolicyCheckAnswer>(o, proto::PolicyCheckRequest{},
                                                              proto::MessageType::PolicyCheckAnswer, exit_code);
    if (!answer) return exit_code;
    if (o.json) print_line(policy_check_json(*answer));
    if (!answer->ok) {
        print_error(escape_for_display(answer->error) +
                    (answer->active ? "; breakglassd keeps its current policy until the file is fixed"
                                    : "; breakglassd has no valid policy: every break-glass request is refused"));
        return kExitRefused;
    }
    if (!o.json) {
        print_line(format_policy_ok(answer->path, answer->gates));
        if (!answer->active)
            print_line("note: breakglassd has not loaded it yet; run 'breakglassctl policy reload'");
    }
    // What the daemon found beyond the file (a PostgreSQL gate's admin role).
    for (const std::string& p : answer->problems) print_error(escape_for_display(p));
    return answer->problems.empty() ? kExitOk : kExitRefused;
}

int run_policy_reload(const CommonOptions& o) {
    int exit_code = kExitOk;
    const auto answer = call_daemon<proto::PolicyReloaded>(o, proto::PolicyReloadRequest{},
                                                           proto::MessageType::PolicyReloaded, exit_code);
    if (!answer) return exit_code;
    if (o.json) print_line(policy_reloaded_json(*answer));
    if (!answer->ok) {
        print_error("policy rejected: " + escape_for_display(answer->error) +
                    (answer->gates.empty()
                         ? std::string("; no policy is in force: every break-glass request is refused")
                         : "; breakglassd keeps the last good policy (gates: " + format_gate_list(answer->gates) + ")"));
        return kExitRefused;
    }
    if (!o.json) print_line("policy reloaded, gates: " + format_gate_list(answer->gates));
    return kExitOk;
}

int run_alert_test(const CommonOptions& o, const std::string& channel) {
    int exit_code = kExitOk;
    // The daemon answers once the channel did, within its 20 s request timeout.
    const auto answer = call_daemon<proto::AlertTestAnswer>(o, proto::AlertTestRequest{channel},
                                                            proto::MessageType::AlertTestAnswer, exit_code, 40'000);
    if (!answer) return exit_code;
    if (o.json) {
        print_line(nlohmann::json{{"channel", answer->channel},
                                  {"type", answer->type},
                                  {"delivered", answer->delivered},
                                  {"http_status", answer->http_status},
                                  {"answer", answer->answer},
                                  {"error", answer->error}}
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } else {
        std::string line = "alert " + escape_for_display(answer->channel) + " (" + escape_for_display(answer->type) +
                           "): " + (answer->delivered ? "delivered" : "NOT delivered");
        if (answer->http_status != 0) line += ", HTTP " + std::to_string(answer->http_status);
        if (!answer->error.empty() && !answer->delivered) line += ": " + escape_for_display(answer->error);
        print_line(line);
        if (!answer->answer.empty()) print_line("answer: " + escape_for_display(answer->answer));
    }
    return answer->delivered ? kExitOk : kExitRefused;
}

int run_enroll_totp(const CommonOptions& o, const std::string& user, bool secret_from_stdin) {
    auto built = build_enroll_request(user);
    if (!built) return usage_error(built.error().message);
    make_process_undumpable();
    proto::Message message{std::in_place_type<proto::EnrollTotpRequest>, std::move(built.value())};
    std::string& secret = std::get<proto::EnrollTotpRequest>(message).secret_base32;
    secret.reserve(Secret::kCapacity + 1);
    if (secret_from_stdin) {
        Secret typed;
        const Status read = read_secret("TOTP secret (base32): ", kMaxTotpSecretBytes, typed);
        if (!read) {
            print_error("reading the secret: " + read.error().message + "; give one line of base32 on stdin");
            return kExitUsage;
        }
        secret.assign(typed.view());
    }
    int exit_code = kExitOk;
    auto answer = call_daemon<proto::Enrolled>(o, message, proto::MessageType::Enrolled, exit_code);
    wipe_string(secret);
    if (!answer) return exit_code;
    // The URI alone on stdout, so it can be piped to a QR encoder; the advice on stderr.
    print_line(o.json ? enrolled_json(*answer) : escape_for_display(answer->otpauth_uri));
    std::cerr << "breakglassctl: this URI contains " << escape_for_display(answer->user)
              << "'s TOTP secret: show it once as a QR code (e.g. qrencode -t ansiutf8), store it safely, "
                 "and clear the terminal\n";
    wipe_string(answer->otpauth_uri);
    return kExitOk;
}

int run_enroll_yubikey(const CommonOptions& o, const std::string& user, const std::string& public_id) {
    if (!is_valid_name(user, kMaxUserBytes)) return usage_error("'" + escape_for_display(user) + "' is not a user name");
    if (public_id.size() != 12 || public_id.find_first_not_of("cbdefghijklnrtuv") != std::string::npos)
        return usage_error("--public-id must be the 12 modhex characters the YubiKey's OTPs start with");
    make_process_undumpable();
    Secret typed;
    const Status read =
        read_secret("AES key (32 hex) and private id (12 hex), separated by a space: ", kMaxYubikeySecretLine, typed);
    if (!read) {
        print_error("reading the key: " + read.error().message +
                    "; give one line on stdin: the 32-hex AES key, a space, the 12-hex private id");
        return kExitUsage;
    }
    const std::string_view line = typed.view();
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos || line.find(' ', space + 1) != std::string_view::npos) {
        print_error("expected the AES key and the private id separated by one space");
        return kExitUsage;
    }
    proto::Message message{std::in_place_type<proto::EnrollYubikeyRequest>};
    auto& request = std::get<proto::EnrollYubikeyRequest>(message);
    request.user = user;
    request.public_id = public_id;
    request.aes_key_hex.assign(line.substr(0, space));
    request.private_uid_hex.assign(line.substr(space + 1));
    int exit_code = kExitOk;
    auto answer = call_daemon<proto::YubikeyEnrolled>(o, message, proto::MessageType::YubikeyEnrolled, exit_code);
    wipe_string(request.aes_key_hex);
    wipe_string(request.private_uid_hex);
    if (!answer) return exit_code;
    if (o.json)
        print_line(nlohmann::json{{"user", answer->user}, {"public_id", answer->public_id}}.dump());
    else
        print_line("enrolled YubiKey " + escape_for_display(answer->public_id) + " for " + escape_for_display(answer->user));
    return kExitOk;
}

}  // namespace bg::ctl
