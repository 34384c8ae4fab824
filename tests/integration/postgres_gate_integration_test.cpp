// SPDX-License-Identifier: ISC
// The PostgreSQL gate (issue 15) against a real PostgreSQL 15 started by the
// test (tests/support/postgres_server.hpp), the real breakglassd and
// `breakglassctl psql` run on a pty as a user unique to the run: the session
// runs as the grant's own role, ends at expiry or revoke with the role
// dropped, survives neither a killed daemon nor a database outage, and the
// password is nowhere but the actor's psql. Needs root. Skips (saying so)
// only when PostgreSQL 15's binaries are absent.
#include <gtest/gtest.h>

#include <dirent.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/protocol.hpp"
#include "common/transport.hpp"
#include "common/utc_time.hpp"
#include "helper/audit/audit_record.hpp"
#include "helper/audit/journal.hpp"
#include "helper/dbgate/postgres_roles.hpp"
#include "helper/mfa/totp.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/https_receiver.hpp"
#include "tests/support/files.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/pty_session.hpp"
#include "tests/support/test_accounts.hpp"
#include "tests/support/test_daemon.hpp"

namespace bg::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// The psql a user's session runs, found by its environment (root reads it).
struct PsqlProcess {
    pid_t pid = 0;
    std::string password;
    std::string appname;
};
std::optional<PsqlProcess> find_psql(uid_t uid) {
    DIR* d = ::opendir("/proc");
    if (!d) return std::nullopt;
    std::optional<PsqlProcess> found;
    while (dirent* e = ::readdir(d)) {
        const std::string pid = e->d_name;
        if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
        struct stat st {};
        if (::stat(("/proc/" + pid).c_str(), &st) != 0 || st.st_uid != uid) continue;
        std::string comm;
        try {
            comm = read_file("/proc/" + pid + "/comm");
        } catch (...) {
            continue;
        }
        if (comm != "psql\n") continue;
        std::string env;
        try {
            env = read_file("/proc/" + pid + "/environ");
        } catch (...) {
            continue;
        }
        PsqlProcess p;
        p.pid = static_cast<pid_t>(std::stoi(pid));
        for (std::size_t at = 0; at < env.size();) {
            const auto end = env.find('\0', at);
            const std::string kv = env.substr(at, end == std::string::npos ? std::string::npos : end - at);
            if (kv.rfind("PGPASSWORD=", 0) == 0) p.password = kv.substr(11);
            if (kv.rfind("PGAPPNAME=", 0) == 0) p.appname = kv.substr(10);
            if (end == std::string::npos) break;
            at = end + 1;
        }
        found = p;
    }
    ::closedir(d);
    return found;
}

class PostgresGateTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!postgres_available())
            GTEST_SKIP() << "PostgreSQL 15 is not installed (" << kPostgresBin
                         << "/initdb missing): apt-get install postgresql-15 to run the PostgreSQL gate's tests";
        pg_ = std::make_unique<PostgresServer>();
        dba_ = std::make_unique<TestUser>("dba");
        const std::string policy = "[defaults]\nincident_pattern = '^INC-[0-9]+$'\nfactors = [\"totp\"]\n\n"
                                   "[gate.db-emergency]\nrequesters = [\"" + dba_->name() + "\"]\nttl = \"30m\"\n"
                                   "termination_grace = \"1s\"\n" + approval_lines() + "\n"
                                   "[gate.db-emergency.postgres]\nconninfo = \"" + pg_->admin_conninfo() + "\"\n"
                                   "member_of = [\"emergency_dba\"]\nconnection_limit = 2\n" + extra_tables();
        daemon_ = std::make_unique<TestDaemon>(policy);
        ASSERT_EQ(daemon_->log().find("no valid policy"), std::string::npos) << daemon_->log();
        secret_ = random_totp_secret();
        const auto r = run(daemon_->ctl({"enroll", "totp", dba_->name(), "--secret-stdin"}),
                           totp::base32_encode(secret_) + "\n");
        ASSERT_EQ(r.exit_code, 0) << r.err;
        enroll_others();
    }
    // What a fixture with approvals adds to the gate, and whom it enrols.
    virtual std::string approval_lines() const { return ""; }
    virtual std::string extra_tables() const { return ""; }
    virtual void enroll_others() {}
    void TearDown() override {
        if (HasFailure() && daemon_) std::fprintf(stderr, "daemon log:\n%s\n", daemon_->log().c_str());
        if (HasFailure() && pg_) std::fprintf(stderr, "postgres log:\n%s\n", pg_->log().c_str());
    }
    // `breakglassctl psql` on a pty as the DBA, typing the code at its prompt.
    PtySession psql_on_pty(const std::string& ttl, const std::vector<std::string>& psql_args,
                           std::chrono::milliseconds timeout = 60s) {
        // breakglassctl's own options (--socket last) before "--", psql's after it.
        std::vector<std::string> argv = daemon_->ctl(
            {"psql", "--gate", "db-emergency", "--reason", "replica lag", "--incident", "INC-15", "--ttl", ttl});
        argv.push_back("--");
        argv.insert(argv.end(), psql_args.begin(), psql_args.end());
        PtyOptions options;
        options.user = dba_->name();
        // No pager: the pty has no size, so psql would page every answer.
        options.environment = {"PATH=" + std::string(kPostgresBin) + ":/usr/bin:/bin", "LANG=C.UTF-8", "PAGER="};
        options.timeout = timeout;
        return run_on_pty(argv, {{"One-time code: ", totp_code_now(secret_)}}, options);
    }
    std::string role_of(const json& grant) const {
        const std::string id = grant["event_id"].get<std::string>();
        return dbgate::role_name(dba_->name(), std::stoull(id.substr(id.rfind('-') + 1)));
    }
    bool role_exists(const std::string& role) const {
        return pg_->query("SELECT count(*) FROM pg_roles WHERE rolname = '" + role + "'") == "1";
    }
    // Whatever leaves the daemon about the grant: the audit log, each record's
    // journal message, the PostgreSQL log, the daemon's own log.
    void expect_nowhere(const std::string& password) const {
        ASSERT_GE(password.size(), 40u);
        EXPECT_EQ(read_file(daemon_->state_dir() + "/audit.log").find(password), std::string::npos);
        const std::string lines = read_file(daemon_->state_dir() + "/audit.log");
        std::size_t checked = 0;
        for (std::size_t at = 0; at < lines.size();) {
            const auto end = lines.find('\n', at);
            auto rec = audit::parse_record(lines.substr(at, end - at));
            if (rec) {
                ++checked;
                EXPECT_EQ(audit::journal_message(*rec).find(password), std::string::npos);
            }
            if (end == std::string::npos) break;
            at = end + 1;
        }
        EXPECT_GT(checked, 3u) << "the journal messages were not checked";
        EXPECT_EQ(daemon_->log().find(password), std::string::npos);
        EXPECT_EQ(pg_->log().find(password), std::string::npos);
    }

    std::unique_ptr<PostgresServer> pg_;
    std::unique_ptr<TestUser> dba_;
    std::unique_ptr<TestDaemon> daemon_;
    std::vector<unsigned char> secret_;
};

// The grant on a pty: psql runs as the grant's role (VALID UNTIL = expires_at,
// application name breakglass:<grant id>); a pg_sleep(1000) is terminated at
// expiry and the role is dropped; the password appears in no argv, record,
// journal message or log.
TEST_F(PostgresGateTest, PsqlOnAPtyRunsAsTheGrantsRoleUntilExpiry) {
    std::string password, appname;
    std::string ps_output;
    std::thread watcher([&] {
        // While psql runs: its environment (root may read it) and everyone's argv.
        if (eventually([&] { return find_psql(dba_->uid()).has_value(); }, 30s)) {
            std::this_thread::sleep_for(500ms);
            if (auto p = find_psql(dba_->uid())) {
                password = p->password;
                appname = p->appname;
            }
            ps_output = run({"/bin/ps", "-eo", "pid,user,args"}).out;
        }
    });
    const PtySession s = psql_on_pty(
        "8s", {"-X", "-A", "-t", "-c", "select current_user", "-c",
               "select extract(epoch from rolvaliduntil)::bigint from pg_roles where rolname = current_user", "-c",
               "select current_setting('application_name')", "-c", "select pg_sleep(1000)"});
    const std::int64_t ended_at = unix_now();
    watcher.join();
    const auto grants = daemon_->audit().records_of("grant");
    ASSERT_EQ(grants.size(), 1u) << s.output;
    const json& grant = grants[0];
    const std::string role = role_of(grant);
    const std::int64_t expires_at = parse_utc(grant["expires_at"].get<std::string>()).value_or(0);
    EXPECT_NE(s.output.find(role), std::string::npos) << s.output;                       // current_user
    EXPECT_NE(s.output.find(std::to_string(expires_at)), std::string::npos) << s.output;  // rolvaliduntil
    EXPECT_NE(s.output.find("breakglass:" + grant["event_id"].get<std::string>()), std::string::npos) << s.output;
    EXPECT_NE(s.output.find("session is terminated"), std::string::npos) << "the banner: " << s.output;
    EXPECT_NE(s.output.find("terminating connection"), std::string::npos) << s.output;
    EXPECT_FALSE(s.timed_out) << s.output;
    EXPECT_LE(ended_at - expires_at, 4) << "psql ended " << ended_at - expires_at << " s after expires_at";
    EXPECT_NE(grant["detail"].get<std::string>().find(role), std::string::npos) << grant.dump();
    const json created = daemon_->audit().wait_for_record("db_role", "grant_id", grant["event_id"], 5s);
    ASSERT_FALSE(created.is_null());
    EXPECT_EQ(created["target"], "role=" + role);
    const json dropped = daemon_->audit().wait_for_record("db_role_drop", "grant_id", grant["event_id"], 10s);
    ASSERT_FALSE(dropped.is_null()) << daemon_->log();
    EXPECT_NE(dropped["detail"].get<std::string>().find("terminated backends: pids"), std::string::npos) << dropped.dump();
    EXPECT_FALSE(role_exists(role));
    // Statements were logged, attributable to the grant.
    EXPECT_NE(pg_->log().find("user=" + role + " app=breakglass:" + grant["event_id"].get<std::string>() +
                              " LOG:  statement: select pg_sleep(1000)"),
              std::string::npos)
        << pg_->log();
    // The password: in psql's environment only.
    ASSERT_FALSE(password.empty()) << "psql was not seen running";
    EXPECT_EQ(appname, "breakglass:" + grant["event_id"].get<std::string>());
    EXPECT_EQ(ps_output.find(password), std::string::npos);
    EXPECT_EQ(s.output.find(password), std::string::npos);
    expect_nowhere(password);
}

// Revoke ends the running session at once and drops the role.
TEST_F(PostgresGateTest, RevokeTerminatesTheSessionAndDropsTheRole) {
    PtySession s;
    std::thread session([&] { s = psql_on_pty("30m", {"-X", "-c", "select pg_sleep(1000)"}); });
    const auto granted = daemon_->audit().wait_for("grant", 1, 30s);
    if (granted.size() != 1u) {
        session.join();
        FAIL() << "no grant: " << s.output;
    }
    const std::string role = role_of(granted[0]);
    const bool sleeping = eventually(
        [&] { return pg_->query("SELECT count(*) FROM pg_stat_activity WHERE usename = '" + role + "'") == "1"; }, 30s);
    EXPECT_TRUE(sleeping);
    const auto t0 = std::chrono::steady_clock::now();
    daemon_->revoke(granted[0]["event_id"]);
    session.join();
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, 5s);
    EXPECT_NE(s.output.find("terminating connection"), std::string::npos) << s.output;
    // psql ends with its backend; the drop follows on the daemon's side.
    const json dropped = daemon_->audit().wait_for_record("db_role_drop", "grant_id", granted[0]["event_id"], 5s);
    ASSERT_FALSE(dropped.is_null());
    EXPECT_NE(dropped["detail"].get<std::string>().find("pids"), std::string::npos) << dropped.dump();
    EXPECT_FALSE(role_exists(role));
}

// A daemon SIGKILLed during the grant: VALID UNTIL stops logins after
// expires_at, and the next start drops the role. A role with breakglass's
// comment whose grant was never recorded (a kill between the role and the
// grant record) is dropped by the startup sweep.
TEST_F(PostgresGateTest, KilledDaemonLeavesARoleThatCannotLogInAndIsDroppedAtTheNextStart) {
    const proto::Message answer = daemon_->grant(dba_->name(), "db-emergency", totp_code_now(secret_), 4);
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(answer));
    const std::string id = std::get<proto::Granted>(answer).event_id;
    const std::int64_t expires_at = std::get<proto::Granted>(answer).expires_at;
    // The DBA's credentials, fetched as the DBA (root may not have them).
    const proto::Message as_root = daemon_->call(proto::DbCredentialsRequest{id}, proto::MessageType::DbCredentials);
    EXPECT_TRUE(std::holds_alternative<proto::ErrorAnswer>(as_root)) << "root is not the grant's actor";
    // Another local user, knowing the id (ids are sequential), gets nothing,
    // and takes nothing from the DBA.
    TestUser mallory("mallory");
    const int by_mallory = run_function_as(mallory.name(), [&] {
        const auto r = proto::call(daemon_->socket(), proto::DbCredentialsRequest{id}, proto::MessageType::DbCredentials, 5000);
        return r.answer && std::holds_alternative<proto::ErrorAnswer>(*r.answer) ? 0 : 1;
    });
    EXPECT_EQ(by_mallory, 0) << "another user must not get the grant's password";
    const std::string creds_file = daemon_->dir() + "/creds";
    write_file(creds_file, "", 0600);
    ASSERT_EQ(::chown(creds_file.c_str(), dba_->uid(), dba_->gid()), 0);
    const int fetched = run_function_as(dba_->name(), [&] {
        const auto r = proto::call(daemon_->socket(), proto::DbCredentialsRequest{id}, proto::MessageType::DbCredentials, 5000);
        if (!r.answer || !std::holds_alternative<proto::DbCredentials>(*r.answer)) return 1;
        const auto again = proto::call(daemon_->socket(), proto::DbCredentialsRequest{id}, proto::MessageType::DbCredentials, 5000);
        if (!again.answer || !std::holds_alternative<proto::ErrorAnswer>(*again.answer)) return 2;  // once only
        const auto& c = std::get<proto::DbCredentials>(*r.answer);
        std::FILE* f = std::fopen(creds_file.c_str(), "w");
        if (!f) return 3;
        std::fprintf(f, "%s\n%s\n", c.role.c_str(), c.password.c_str());
        std::fclose(f);
        return 0;
    });
    ASSERT_EQ(fetched, 0);
    const std::string creds = read_file(creds_file);
    const std::string role = creds.substr(0, creds.find('\n'));
    const std::string password = creds.substr(role.size() + 1, creds.size() - role.size() - 2);
    const auto login = [&] {
        return run_as(dba_->name(), {PostgresServer::psql(), "-X", "-At", "-h", pg_->socket_dir(), "-U", role, "-d",
                                     "postgres", "-c", "select current_user"},
                      "")
            .exit_code;
    };
    // Logs in while the grant runs (password from the environment of a child).
    const ProcessResult before = run({"/usr/bin/env", "PGPASSWORD=" + password, PostgresServer::psql(), "-X", "-At", "-h",
                                      pg_->socket_dir(), "-U", role, "-d", "postgres", "-c", "select current_user"});
    EXPECT_EQ(before.exit_code, 0) << before.err;
    daemon_->kill();
    wait_until_unix_time(expires_at + 1);
    const ProcessResult after = run({"/usr/bin/env", "PGPASSWORD=" + password, PostgresServer::psql(), "-X", "-At", "-h",
                                     pg_->socket_dir(), "-U", role, "-d", "postgres", "-c", "select current_user"});
    EXPECT_NE(after.exit_code, 0) << "VALID UNTIL must stop the login: " << after.out;
    EXPECT_TRUE(role_exists(role)) << "nothing dropped it while the daemon was down";
    (void)login;
    // A role breakglass made for a grant that was never recorded.
    pg_->query("CREATE ROLE orphan_role LOGIN; COMMENT ON ROLE orphan_role IS 'breakglass grant bg-2026-999999'");
    pg_->query("CREATE ROLE not_ours LOGIN; COMMENT ON ROLE not_ours IS 'the DBA team''s own'");
    daemon_->start();
    EXPECT_TRUE(eventually([&] { return !role_exists(role); }, 10s)) << daemon_->log();
    EXPECT_FALSE(role_exists("orphan_role"));
    EXPECT_TRUE(role_exists("not_ours")) << "the sweep drops only what breakglass made";
    EXPECT_FALSE(daemon_->audit().wait_for_record("db_role_drop", "grant_id", id, 5s).is_null());
    expect_nowhere(password);
}

// The database down at the grant: refused, nothing granted, the record says why.
TEST_F(PostgresGateTest, DatabaseDownAtTheGrantRefusesIt) {
    pg_->stop();
    const proto::Message answer = daemon_->grant(dba_->name(), "db-emergency", totp_code_now(secret_));
    ASSERT_TRUE(std::holds_alternative<proto::ErrorAnswer>(answer));
    EXPECT_EQ(std::get<proto::ErrorAnswer>(answer).code, proto::ErrorCode::Unavailable);
    EXPECT_TRUE(daemon_->audit().records_of("grant").empty());
    EXPECT_FALSE(daemon_->active(dba_->name(), "db-emergency"));
    const auto denied = daemon_->audit().records_of("deny");
    ASSERT_EQ(denied.size(), 1u);
    EXPECT_NE(denied[0]["detail"].get<std::string>().find("could not be created"), std::string::npos) << denied[0].dump();
    EXPECT_NE(denied[0]["detail"].get<std::string>().find("nothing was granted"), std::string::npos) << denied[0].dump();
    pg_->start();
}

// The database down at the end: retried with backoff, a db_revoke_failed
// record (the alerts' trigger), and dropped once it is back.
TEST_F(PostgresGateTest, DatabaseDownAtTheEndIsRetriedUntilTheRoleIsDropped) {
    const proto::Message answer = daemon_->grant(dba_->name(), "db-emergency", totp_code_now(secret_));
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(answer));
    const std::string id = std::get<proto::Granted>(answer).event_id;
    const std::string role = role_of(daemon_->audit().records_of("grant")[0]);
    pg_->stop();
    daemon_->revoke(id);
    const json failed = daemon_->audit().wait_for_record("db_revoke_failed", "grant_id", id, 10s);
    ASSERT_FALSE(failed.is_null());
    EXPECT_NE(failed["detail"].get<std::string>().find("VALID UNTIL"), std::string::npos) << failed.dump();
    pg_->start();
    const json dropped = daemon_->audit().wait_for_record("db_role_drop", "grant_id", id, 20s);
    ASSERT_FALSE(dropped.is_null()) << daemon_->log();
    EXPECT_FALSE(role_exists(role));
}

// Another session holds a lock on a table the role owns (the DBA's everyday
// login, say, to which the emergency role granted it): REASSIGN OWNED would
// wait for that session, and the daemon's loop with it. lock_timeout ends the
// attempt; the daemon keeps answering, says why, and drops the role once the
// lock is gone.
TEST_F(PostgresGateTest, ALockOnWhatTheRoleOwnsDelaysTheDropButNotTheDaemon) {
    const proto::Message answer = daemon_->grant(dba_->name(), "db-emergency", totp_code_now(secret_));
    ASSERT_TRUE(std::holds_alternative<proto::Granted>(answer));
    const std::string id = std::get<proto::Granted>(answer).event_id;
    const std::string role = role_of(daemon_->audit().records_of("grant")[0]);
    pg_->query("CREATE TABLE bg_locked (x int); ALTER TABLE bg_locked OWNER TO \"" + role + "\"");
    std::thread holder([&] {
        try {
            pg_->query("LOCK TABLE bg_locked IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(15)");
        } catch (const std::exception&) {
        }
    });
    struct Join {
        std::thread& t;
        ~Join() {
            if (t.joinable()) t.join();
        }
    } join{holder};
    const bool locked = eventually(
        [&] {
            return pg_->query("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                              "WHERE c.relname = 'bg_locked' AND l.mode = 'AccessExclusiveLock' AND l.granted") == "1";
        },
        10s);
    ASSERT_TRUE(locked) << "the lock was never taken";
    daemon_->revoke(id);
    // The first drop attempt runs on the loop right after the revoke's answer.
    const auto t0 = std::chrono::steady_clock::now();
    try {
        (void)daemon_->status(false);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "no status while the drop waited: " << e.what();
    }
    const auto answered = std::chrono::steady_clock::now() - t0;
    const json failed = daemon_->audit().wait_for_record("db_revoke_failed", "grant_id", id, 10s);
    holder.join();
    EXPECT_LT(answered, 8s) << "the lock is held for 15 s; the drop gives up after lock_timeout (2 s)";
    ASSERT_FALSE(failed.is_null()) << daemon_->log();
    EXPECT_NE(failed["detail"].get<std::string>().find("lock timeout"), std::string::npos) << failed.dump();
    const json dropped = daemon_->audit().wait_for_record("db_role_drop", "grant_id", id, 40s);
    ASSERT_FALSE(dropped.is_null()) << daemon_->log();
    EXPECT_FALSE(role_exists(role));
    EXPECT_EQ(pg_->query("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'bg_locked'"),
              "breakglass_admin")
        << "REASSIGN OWNED keeps what the role made, under the admin role";
}

// policy check with the daemon running names the admin role's missing privilege.
TEST_F(PostgresGateTest, PolicyCheckNamesTheMissingPrivilege) {
    const auto fine = run(daemon_->ctl({"policy", "check"}));
    EXPECT_EQ(fine.exit_code, 0) << fine.out << fine.err;
    pg_->query("REVOKE pg_signal_backend FROM breakglass_admin");
    const auto lacking = run(daemon_->ctl({"policy", "check"}));
    EXPECT_EQ(lacking.exit_code, 1) << lacking.out << lacking.err;
    EXPECT_NE(lacking.err.find("lacks membership in pg_signal_backend"), std::string::npos) << lacking.err;
}

// Hostile names through the SQL builder, executed by the real server: each
// role is created and dropped with exactly its name, and nothing else runs.
TEST_F(PostgresGateTest, HostileNamesCannotInjectSql) {
    pg_->query("CREATE ROLE victim NOLOGIN");
    const std::string names[] = {"x\"; DROP ROLE victim; --", "a'b", "robert'); DROP ROLE victim;--",
                                 "Ünïcødé \"quoted\" 'both'", "bg_$$; DROP ROLE victim; $$", "back\\slash"};
    for (const std::string& name : names) {
        dbgate::RoleSpec spec{name, unix_now() + 60, 1, {"emergency_dba"}, "bg-2026-'; DROP ROLE victim; --"};
        const auto created = dbgate::create_role(pg_->admin_conninfo(), spec, "pa'ss\"word; DROP ROLE victim");
        ASSERT_TRUE(created.ok()) << name << ": " << created.error().message;
        EXPECT_EQ(pg_->query("SELECT count(*) FROM pg_roles WHERE rolname = $q$" + name + "$q$"), "1") << name;
        const auto dropped = dbgate::drop_role(pg_->admin_conninfo(), name);
        ASSERT_TRUE(dropped.ok()) << name << ": " << dropped.error().message;
        EXPECT_TRUE(dropped->existed);
        EXPECT_EQ(pg_->query("SELECT count(*) FROM pg_roles WHERE rolname = $q$" + name + "$q$"), "0") << name;
    }
    EXPECT_EQ(pg_->query("SELECT count(*) FROM pg_roles WHERE rolname = 'victim'"), "1");
    // A member_of name is quoted the same way.
    dbgate::RoleSpec bad{"bg_member_test", unix_now() + 60, 1, {"emergency_dba\", victim; --"}, "bg-2026-000001"};
    EXPECT_FALSE(dbgate::create_role(pg_->admin_conninfo(), bad, "pw").ok());
    EXPECT_EQ(pg_->query("SELECT count(*) FROM pg_roles WHERE rolname = 'bg_member_test'"), "0");
}

// The gate with `approvals = 1` (issue 15 with issue 13): `breakglassctl psql`
// waits for a lead's approval on its terminal; the grant the approval
// completes gets its role as a direct grant does.
class PostgresApprovalGateTest : public PostgresGateTest {
protected:
    std::string approval_lines() const override {
        return "approvals = 1\napprovers = [\"" + lead_.name() + "\"]\napproval_timeout = \"5m\"\n";
    }
    void enroll_others() override {
        lead_secret_ = random_totp_secret();
        const auto r = run(daemon_->ctl({"enroll", "totp", lead_.name(), "--secret-stdin"}),
                           totp::base32_encode(lead_secret_) + "\n");
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    // `breakglassctl psql` on a pty, on a thread of its own (it waits for the approval).
    std::thread psql_waiting(PtySession& session, const std::vector<std::string>& psql_args) {
        return std::thread([this, &session, psql_args] { session = psql_on_pty("30m", psql_args, 90s); });
    }
    // The request `psql` recorded; "" (the session joined) when none came.
    std::string request_of(std::thread& session, const PtySession& s) {
        const auto requests = daemon_->audit().wait_for("request", 1, 30s);
        if (requests.size() != 1u) {
            session.join();
            ADD_FAILURE() << "no request record: " << s.output;
            return "";
        }
        return requests[0]["event_id"].get<std::string>();
    }
    ProcessResult approve_as(const TestUser& u, const std::vector<unsigned char>& secret, const std::string& id) {
        return run_as(u.name(), daemon_->ctl({"approve", id, "--note", "seen"}), totp_code_now(secret) + "\n");
    }
    // The roles the daemon made (their comment names a grant), whoever for.
    std::string count_breakglass_roles() const {
        return pg_->query("SELECT count(*) FROM pg_catalog.pg_roles r JOIN pg_catalog.pg_shdescription d "
                          "ON d.objoid = r.oid WHERE d.description LIKE 'breakglass grant %'");
    }

    TestUser lead_{"lead"};
    std::vector<unsigned char> lead_secret_;
};

// psql waits (its waiting line on the terminal) until the lead approves; the
// requester's own approval is refused; then psql runs as the grant's role,
// VALID UNTIL the grant's expires_at; the grant record names the approver and
// the db_role record follows it.
TEST_F(PostgresApprovalGateTest, PsqlWaitsForTheApprovalThenRunsAsTheGrantsRole) {
    PtySession s;
    std::thread session = psql_waiting(
        s, {"-X", "-A", "-t", "-c", "select current_user", "-c",
            "select extract(epoch from rolvaliduntil)::bigint from pg_roles where rolname = current_user"});
    const std::string request_id = request_of(session, s);
    ASSERT_FALSE(request_id.empty());
    // Waiting: no grant, no role, until someone else approves.
    EXPECT_TRUE(daemon_->audit().records_of("grant").empty());
    EXPECT_EQ(count_breakglass_roles(), "0");
    const ProcessResult own = approve_as(*dba_, secret_, request_id);
    EXPECT_EQ(own.exit_code, 1) << own.out << own.err;
    EXPECT_NE(own.err.find("may not approve their own request"), std::string::npos) << own.err;
    EXPECT_TRUE(daemon_->audit().records_of("grant").empty()) << "a self-approval granted";
    const ProcessResult approved = approve_as(lead_, lead_secret_, request_id);
    EXPECT_EQ(approved.exit_code, 0) << approved.out << approved.err;
    EXPECT_NE(approved.out.find("granted as"), std::string::npos) << approved.out;
    session.join();
    EXPECT_FALSE(s.timed_out) << s.output;
    EXPECT_EQ(s.exit_code, 0) << s.output;
    EXPECT_NE(s.output.find("waiting for approval by " + lead_.name()), std::string::npos) << s.output;
    const auto grants = daemon_->audit().records_of("grant");
    ASSERT_EQ(grants.size(), 1u) << s.output;
    const json& grant = grants[0];
    EXPECT_EQ(grant["approver"], lead_.name());
    EXPECT_EQ(grant["grant_id"], request_id);
    const std::string role = role_of(grant);
    const std::int64_t expires_at = parse_utc(grant["expires_at"].get<std::string>()).value_or(0);
    EXPECT_NE(s.output.find(role), std::string::npos) << "current_user: " << s.output;
    EXPECT_NE(s.output.find(std::to_string(expires_at)), std::string::npos) << "rolvaliduntil: " << s.output;
    EXPECT_EQ(count_breakglass_roles(), "1");
    EXPECT_NE(s.output.find("session is terminated"), std::string::npos) << "the banner: " << s.output;
    EXPECT_NE(grant["detail"].get<std::string>().find(role), std::string::npos) << grant.dump();
    const json created = daemon_->audit().wait_for_record("db_role", "grant_id", grant["event_id"], 5s);
    ASSERT_FALSE(created.is_null());
    EXPECT_EQ(created["target"], "role=" + role);
    EXPECT_GT(created["seq"].get<std::uint64_t>(), grant["seq"].get<std::uint64_t>()) << "db_role follows the grant";
    EXPECT_EQ(parse_utc(created["expires_at"].get<std::string>()).value_or(0), expires_at);
    EXPECT_TRUE(role_exists(role));
    // Its end drops it, as a direct grant's.
    daemon_->revoke(grant["event_id"]);
    EXPECT_FALSE(daemon_->audit().wait_for_record("db_role_drop", "grant_id", grant["event_id"], 10s).is_null());
    EXPECT_FALSE(role_exists(role));
}

// The database stopped before the approval: nothing granted, no role; the
// request ends with a deny record naming it and saying why (so a restart
// agrees: it is not pending again); the approver is told the approval was
// recorded but nothing granted; the waiting psql ends non-zero with the reason.
TEST_F(PostgresApprovalGateTest, DatabaseDownAtTheApprovalEndsTheRequestWithNothingGranted) {
    PtySession s;
    std::thread session = psql_waiting(s, {"-X", "-c", "select 1"});
    const std::string request_id = request_of(session, s);
    ASSERT_FALSE(request_id.empty());
    pg_->stop();
    const ProcessResult approved = approve_as(lead_, lead_secret_, request_id);
    session.join();
    pg_->start();
    EXPECT_EQ(approved.exit_code, 1) << approved.out << approved.err;
    EXPECT_NE(approved.err.find("the approval is recorded"), std::string::npos) << approved.err;
    EXPECT_NE(approved.err.find("could not be created"), std::string::npos) << approved.err;
    EXPECT_NE(approved.err.find("request " + request_id + " has ended"), std::string::npos) << approved.err;
    EXPECT_FALSE(s.timed_out) << s.output;
    EXPECT_NE(s.exit_code, 0) << s.output;
    EXPECT_NE(s.output.find("request " + request_id + " refused"), std::string::npos) << s.output;
    EXPECT_NE(s.output.find("could not be created"), std::string::npos) << s.output;
    EXPECT_TRUE(daemon_->audit().records_of("grant").empty());
    EXPECT_TRUE(daemon_->audit().records_of("db_role").empty());
    EXPECT_FALSE(daemon_->active(dba_->name(), "db-emergency"));
    EXPECT_EQ(count_breakglass_roles(), "0");
    const json ended = daemon_->audit().wait_for_record("deny", "grant_id", request_id, 5s);
    ASSERT_FALSE(ended.is_null());
    EXPECT_EQ(ended["actor"], dba_->name());
    EXPECT_EQ(ended["approver"], lead_.name());
    EXPECT_NE(ended["detail"].get<std::string>().find("could not be created"), std::string::npos) << ended.dump();
    EXPECT_NE(ended["detail"].get<std::string>().find("nothing was granted"), std::string::npos) << ended.dump();
    // Rebuilt from the log, the request has ended: a restarted daemon does
    // not take an approval for it.
    daemon_->kill();
    daemon_->start();
    const ProcessResult again = run_as(lead_.name(), daemon_->ctl({"approve", request_id}), "000000\n");
    EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
    EXPECT_NE(again.err.find("it is refused"), std::string::npos) << again.err;
    EXPECT_TRUE(daemon_->audit().records_of("grant").empty());
}

// remote_ack = "required" (issue 11) on the same gate: the last approval
// creates the role and records the grant, which is held until a sink has its
// record; meanwhile the waiting psql keeps waiting and nobody gets the
// password; once the sink acknowledges, psql runs as the role.
class PostgresHeldApprovalGateTest : public PostgresApprovalGateTest {
protected:
    PostgresHeldApprovalGateTest() { sink_.set_behaviour(ReceiverBehaviour::answer(503, "not now")); }
    std::string approval_lines() const override {
        return PostgresApprovalGateTest::approval_lines() + "remote_ack = \"required\"\nremote_ack_timeout = \"30s\"\n";
    }
    std::string extra_tables() const override {
        return "\n[sink.central]\ntype = \"http-json\"\nurl = \"" + sink_.url() + "/in\"\ninsecure = true\n";
    }
    HttpsReceiver sink_{ReceiverOptions{}};
};

TEST_F(PostgresHeldApprovalGateTest, TheHeldGrantHasItsRoleButNoPasswordUntilTheSinkHasItsRecord) {
    PtySession s;
    std::thread session = psql_waiting(s, {"-X", "-A", "-t", "-c", "select current_user"});
    const std::string request_id = request_of(session, s);
    ASSERT_FALSE(request_id.empty());
    const ProcessResult approved = approve_as(lead_, lead_secret_, request_id);
    EXPECT_EQ(approved.exit_code, 0) << approved.out << approved.err;
    const auto grants = daemon_->audit().wait_for("grant", 1, 10s);
    if (grants.size() != 1u) {
        sink_.set_behaviour(ReceiverBehaviour::answer(200));
        session.join();
        FAIL() << "no grant: " << s.output;
    }
    const std::string grant_id = grants[0]["event_id"].get<std::string>();
    const std::string role = role_of(grants[0]);
    EXPECT_FALSE(daemon_->audit().wait_for_record("db_role", "grant_id", grant_id, 5s).is_null());
    EXPECT_TRUE(role_exists(role)) << "the role is made with the grant record, held or not";
    // Held: the grant's own user gets no password (and the one request does
    // not spend it).
    const int refused = run_function_as(dba_->name(), [&] {
        const auto r = proto::call(daemon_->socket(), proto::DbCredentialsRequest{grant_id},
                                   proto::MessageType::DbCredentials, 5000);
        if (!r.answer) return 2;
        const auto* e = std::get_if<proto::ErrorAnswer>(&*r.answer);
        return e && e->message.find("acknowledgement") != std::string::npos ? 0 : 1;
    });
    EXPECT_EQ(refused, 0) << "a held grant's password must not be handed out";
    sink_.set_behaviour(ReceiverBehaviour::answer(200));
    session.join();
    EXPECT_FALSE(s.timed_out) << s.output;
    EXPECT_EQ(s.exit_code, 0) << s.output;
    EXPECT_NE(s.output.find("psql as PostgreSQL role " + role), std::string::npos) << s.output;
    EXPECT_NE(s.output.find(role + "\r\n"), std::string::npos) << "current_user: " << s.output;
}

}  // namespace
}  // namespace bg::test
