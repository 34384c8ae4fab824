// SPDX-License-Identifier: ISC
#include "helper/dbgate/postgres_roles.hpp"

#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/mman.h>

#include <array>
#include <cstring>
#include <ctime>

#include "common/utc_time.hpp"

namespace bg::dbgate {
namespace {

// libpq's text, without its trailing newline.
std::string error_of(const PGconn* c) {
    std::string e = c ? PQerrorMessage(c) : "out of memory";
    while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
    return e;
}

struct ResultDeleter {
    void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// A statement without parameters; its error says which step.
Status exec(PGconn* c, const std::string& sql, const char* step) {
    PgResult r(PQexec(c, sql.c_str()));
    const ExecStatusType s = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) return make_error(std::string(step) + ": " + error_of(c));
    return Ok{};
}

// A query with text parameters.
Result<PgResult> query(PGconn* c, const char* sql, const std::vector<std::string>& params, const char* step) {
    std::vector<const char*> values;
    for (const std::string& p : params) values.push_back(p.c_str());
    PgResult r(PQexecParams(c, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
    if (!r || PQresultStatus(r.get()) != PGRES_TUPLES_OK) return make_error(std::string(step) + ": " + error_of(c));
    return r;
}

// PQescapeIdentifier / PQescapeLiteral, into a std::string.
Result<std::string> escaped(PGconn* c, std::string_view text, bool identifier) {
    char* e = identifier ? PQescapeIdentifier(c, text.data(), text.size()) : PQescapeLiteral(c, text.data(), text.size());
    if (!e) return make_error("cannot quote " + std::string(identifier ? "a name" : "a value") + ": " + error_of(c));
    std::string out(e);
    PQfreemem(e);
    return out;
}

}  // namespace

void ConnDeleter::operator()(pg_conn* c) const { PQfinish(c); }

std::string role_name(const std::string& user, std::uint64_t seq) {
    const std::string tail = "_" + std::to_string(seq);
    const std::size_t room = kMaxRoleBytes - 3 - tail.size();
    return "bg_" + user.substr(0, room) + tail;
}

Result<std::string> random_password() {
    std::array<unsigned char, 32> raw{};
    if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) return make_error("RAND_bytes failed");
    std::array<unsigned char, 48> b64{};
    const int n = EVP_EncodeBlock(b64.data(), raw.data(), static_cast<int>(raw.size()));
    OPENSSL_cleanse(raw.data(), raw.size());
    std::string out;
    out.reserve(64);
    for (int i = 0; i < n; ++i) {
        const char ch = static_cast<char>(b64[static_cast<std::size_t>(i)]);
        if (ch == '=') break;
        out.push_back(ch == '+' ? '-' : (ch == '/' ? '_' : ch));
    }
    OPENSSL_cleanse(b64.data(), b64.size());
    return out;
}

std::string valid_until_text(std::int64_t unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::array<char, 32> buf{};
    std::strftime(buf.data(), buf.size(), "%Y-%m-%d %H:%M:%S+00", &tm);
    return buf.data();
}

Password::Password() {
    void* p = ::mmap(nullptr, kCapacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    (void)::madvise(p, kCapacity, MADV_DONTDUMP);
    (void)::mlock(p, kCapacity);
    data_ = static_cast<char*>(p);
}

Password::~Password() {
    if (!data_) return;
    OPENSSL_cleanse(data_, kCapacity);
    (void)::munlock(data_, kCapacity);
    (void)::munmap(data_, kCapacity);
}

void Password::assign(std::string_view text) {
    wipe();
    if (!data_ || text.size() >= kCapacity) return;
    std::memcpy(data_, text.data(), text.size());
    size_ = text.size();
}

std::string_view Password::view() const { return data_ ? std::string_view(data_, size_) : std::string_view(); }

void Password::wipe() {
    if (data_) OPENSSL_cleanse(data_, kCapacity);
    size_ = 0;
}

Result<Conn> connect(const std::string& conninfo) {
    const std::string timeout = std::to_string(kConnectTimeoutSeconds);
    // Later values override earlier ones: the conninfo (expanded from
    // dbname) may set its own connect_timeout.
    const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {timeout.c_str(), "breakglassd", conninfo.c_str(), nullptr};
    Conn c(PQconnectdbParams(keys, values, 1));
    if (!c || PQstatus(c.get()) != CONNECTION_OK) return make_error("cannot connect: " + error_of(c.get()));
    // SET, not the conninfo's options: those belong to the administrator.
    const std::string limits = "SET lock_timeout = " + std::to_string(kLockTimeoutMs) +
                               "; SET statement_timeout = " + std::to_string(kStatementTimeoutMs);
    if (auto set = exec(c.get(), limits, "setting lock_timeout and statement_timeout"); !set) return set.error();
    return c;
}

Result<std::vector<std::string>> create_role_statements(pg_conn* conn, const RoleSpec& spec, std::string_view password) {
    auto role = escaped(conn, spec.role, true);
    if (!role) return role.error();
    const std::string pw(password);
    char* verifier = PQencryptPasswordConn(conn, pw.c_str(), spec.role.c_str(), "scram-sha-256");
    if (!verifier) return make_error("cannot compute the password verifier: " + error_of(conn));
    auto verifier_literal = escaped(conn, verifier, false);
    PQfreemem(verifier);
    if (!verifier_literal) return verifier_literal.error();
    auto until = escaped(conn, valid_until_text(spec.valid_until), false);
    if (!until) return until.error();
    std::string create = "CREATE ROLE " + *role +
                         " WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
                         " CONNECTION LIMIT " +
                         std::to_string(spec.connection_limit) + " PASSWORD " + *verifier_literal + " VALID UNTIL " +
                         *until;
    for (std::size_t i = 0; i < spec.member_of.size(); ++i) {
        auto member = escaped(conn, spec.member_of[i], true);
        if (!member) return member.error();
        create += (i == 0 ? " IN ROLE " : ", ") + *member;
    }
    auto comment = escaped(conn, std::string(kCommentPrefix) + spec.grant_id, false);
    if (!comment) return comment.error();
    return std::vector<std::string>{create, "ALTER ROLE " + *role + " SET log_statement = 'all'",
                                     "COMMENT ON ROLE " + *role + " IS " + *comment};
}

Status create_role(const std::string& conninfo, const RoleSpec& spec, std::string_view password) {
    auto c = connect(conninfo);
    if (!c) return c.error();
    auto statements = create_role_statements(c->get(), spec, password);
    if (!statements) return statements.error();
    if (auto begun = exec(c->get(), "BEGIN", "BEGIN"); !begun) return begun;
    for (const std::string& s : *statements)
        if (auto done = exec(c->get(), s, "creating the role"); !done) return done;  // PQfinish rolls back
    return exec(c->get(), "COMMIT", "COMMIT");
}

Result<DropReport> drop_role(const std::string& conninfo, const std::string& role) {
    auto c = connect(conninfo);
    if (!c) return c.error();
    PGconn* conn = c->get();
    DropReport report;
    auto found = query(conn, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", {role}, "looking up the role");
    if (!found) return found.error();
    if (PQntuples(found->get()) == 0) return report;
    report.existed = true;
    auto ident = escaped(conn, role, true);
    if (!ident) return ident.error();
    // No new session from here on (VALID UNTIL already stops them at expiry).
    if (auto s = exec(conn, "ALTER ROLE " + *ident + " NOLOGIN", "ALTER ROLE NOLOGIN"); !s) return s.error();
    // Every backend of the role, again until none is left (one may have
    // been starting while the first were ended).
    for (int round = 0; round < 20; ++round) {
        auto ended = query(conn,
                           "SELECT pid, pg_catalog.pg_terminate_backend(pid, 2000) FROM pg_catalog.pg_stat_activity "
                           "WHERE usename = $1 AND pid <> pg_catalog.pg_backend_pid()",
                           {role}, "terminating the role's backends");
        if (!ended) return ended.error();
        const int n = PQntuples(ended->get());
        if (n == 0) break;
        for (int i = 0; i < n; ++i) report.terminated_pids.push_back(std::atoi(PQgetvalue(ended->get(), i, 0)));
    }
    // PostgreSQL 15: REASSIGN/DROP OWNED need the role's privileges, which
    // CREATEROLE alone does not give.
    const std::pair<std::string, const char*> steps[] = {
        {"GRANT " + *ident + " TO CURRENT_USER", "GRANT the role to the admin role"},
        {"REASSIGN OWNED BY " + *ident + " TO CURRENT_USER", "REASSIGN OWNED"},
        {"DROP OWNED BY " + *ident, "DROP OWNED"},
        {"DROP ROLE " + *ident, "DROP ROLE"}};
    for (const auto& [sql, step] : steps)
        if (auto s = exec(conn, sql, step); !s) return s.error();
    return report;
}

Result<std::vector<OwnedRole>> list_roles(const std::string& conninfo) {
    auto c = connect(conninfo);
    if (!c) return c.error();
    auto r = query(c->get(),
                   "SELECT r.rolname, d.description FROM pg_catalog.pg_roles r JOIN pg_catalog.pg_shdescription d "
                   "ON d.objoid = r.oid AND d.classoid = 'pg_catalog.pg_authid'::pg_catalog.regclass "
                   "WHERE pg_catalog.starts_with(d.description, $1)",
                   {kCommentPrefix}, "listing breakglass's roles");
    if (!r) return r.error();
    std::vector<OwnedRole> out;
    const std::size_t prefix = std::strlen(kCommentPrefix);
    for (int i = 0; i < PQntuples(r->get()); ++i)
        out.push_back({PQgetvalue(r->get(), i, 0), std::string(PQgetvalue(r->get(), i, 1)).substr(prefix)});
    return out;
}

Result<std::vector<std::string>> missing_privileges(const std::string& conninfo,
                                                    const std::vector<std::string>& member_of) {
    auto c = connect(conninfo);
    if (!c) return c.error();
    PGconn* conn = c->get();
    auto r = query(conn,
                   "SELECT rolsuper, rolcreaterole, "
                   "pg_catalog.has_parameter_privilege('log_statement', 'SET'), "
                   "pg_catalog.pg_has_role('pg_signal_backend', 'MEMBER'), current_user "
                   "FROM pg_catalog.pg_roles WHERE rolname = current_user",
                   {}, "reading the admin role's privileges");
    if (!r) return r.error();
    std::vector<std::string> missing;
    if (PQntuples(r->get()) != 1) return make_error("the admin role is not in pg_roles");
    const auto yes = [&](int col) { return std::string(PQgetvalue(r->get(), 0, col)) == "t"; };
    if (yes(0)) return missing;  // a superuser lacks nothing
    const std::string admin = PQgetvalue(r->get(), 0, 4);
    if (!yes(1)) missing.push_back("CREATEROLE (ALTER ROLE " + admin + " CREATEROLE)");
    if (!yes(2)) missing.push_back("SET on parameter log_statement (GRANT SET ON PARAMETER log_statement TO " + admin + ")");
    if (!yes(3)) missing.push_back("membership in pg_signal_backend (GRANT pg_signal_backend TO " + admin + ")");
    for (const std::string& role : member_of) {
        auto m = query(conn,
                       "SELECT pg_catalog.pg_has_role(oid, 'MEMBER WITH ADMIN OPTION') FROM pg_catalog.pg_roles "
                       "WHERE rolname = $1",
                       {role}, "reading the admin option");
        if (!m) return m.error();
        if (PQntuples(m->get()) == 0) missing.push_back("role " + role + " (member_of) does not exist");
        else if (std::string(PQgetvalue(m->get(), 0, 0)) != "t")
            missing.push_back("ADMIN OPTION on " + role + " (GRANT " + role + " TO " + admin + " WITH ADMIN OPTION)");
    }
    return missing;
}

Result<Target> target_of(const std::string& conninfo) {
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
    if (!opts) {
        std::string why = err ? err : "out of memory";
        if (err) PQfreemem(err);
        while (!why.empty() && why.back() == '\n') why.pop_back();
        return make_error("conninfo: " + why);
    }
    Target t;
    for (PQconninfoOption* o = opts; o->keyword; ++o) {
        if (!o->val) continue;
        const std::string k = o->keyword;
        if (k == "host") t.host = o->val;
        else if (k == "port") t.port = o->val;
        else if (k == "dbname") t.dbname = o->val;
    }
    PQconninfoFree(opts);
    return t;
}

}  // namespace bg::dbgate
