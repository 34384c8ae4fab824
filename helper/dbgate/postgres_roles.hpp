// SPDX-License-Identifier: ISC
// A PostgreSQL gate's temporary role (issue 15; docs/ARCHITECTURE.md,
// "Folders"): created at the grant with a random password, VALID UNTIL the
// grant's expires_at, statement logging and a comment naming the grant;
// dropped at its end (NOLOGIN, every backend terminated, REASSIGN/DROP OWNED,
// DROP ROLE). Every identifier and literal goes through libpq's
// PQescapeIdentifier/PQescapeLiteral, values through parameters where SQL
// takes them; the password never reaches the server: only its SCRAM verifier
// (PQencryptPasswordConn) is in the statement.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"

struct pg_conn;

namespace bg::dbgate {

// The comment every role of breakglass carries: the sweep drops only those.
inline constexpr const char* kCommentPrefix = "breakglass grant ";
// How long a connection attempt may take (the event loop waits for it).
inline constexpr int kConnectTimeoutSeconds = 3;
// Every statement of the admin connection gives up after these (the event
// loop waits for it too): a lock held by another session on something the
// role owns would otherwise hold DROP OWNED, and the daemon, until that
// session lets go. A drop that gives up is retried with backoff.
inline constexpr int kLockTimeoutMs = 2000;
inline constexpr int kStatementTimeoutMs = 10000;
// PostgreSQL's NAMEDATALEN - 1.
inline constexpr std::size_t kMaxRoleBytes = 63;

// "bg_<user>_<seq>", the user cut so that the name fits kMaxRoleBytes.
std::string role_name(const std::string& user, std::uint64_t seq);
// 32 random bytes (OpenSSL RAND_bytes), base64url without padding: 43 characters.
Result<std::string> random_password();
// "2026-12-01 17:40:00+00" for VALID UNTIL.
std::string valid_until_text(std::int64_t unix_seconds);

// A secret string wiped when released, in memory excluded from core dumps.
class Password {
public:
    Password();
    ~Password();
    Password(const Password&) = delete;
    Password& operator=(const Password&) = delete;
    void assign(std::string_view text);
    std::string_view view() const;
    bool empty() const { return size_ == 0; }
    void wipe();

private:
    static constexpr std::size_t kCapacity = 4096;
    char* data_ = nullptr;
    std::size_t size_ = 0;
};

struct ConnDeleter {
    void operator()(pg_conn* c) const;
};
using Conn = std::unique_ptr<pg_conn, ConnDeleter>;

// Connects with `conninfo` (connect_timeout kConnectTimeoutSeconds unless it
// sets one; application_name "breakglassd") and sets the session's
// lock_timeout and statement_timeout (above). The error says why, without
// the conninfo's secrets.
Result<Conn> connect(const std::string& conninfo);

struct RoleSpec {
    std::string role;
    std::int64_t valid_until = 0;  // unix seconds
    int connection_limit = 1;
    std::vector<std::string> member_of;
    std::string grant_id;           // for the comment
};
// The statements that create the role, in order (the password only as its
// SCRAM verifier). Pure but for libpq's escaping, which needs the connection
// (its encoding). Exposed for the tests that feed it hostile names.
Result<std::vector<std::string>> create_role_statements(pg_conn* conn, const RoleSpec& spec, std::string_view password);
// Creates the role in one transaction; nothing is left on failure.
Status create_role(const std::string& conninfo, const RoleSpec& spec, std::string_view password);

struct DropReport {
    bool existed = false;
    std::vector<int> terminated_pids;  // the role's backends ended by pg_terminate_backend
};
// NOLOGIN, pg_terminate_backend for every backend of the role until none is
// left, REASSIGN OWNED BY it TO the admin role, DROP OWNED, DROP ROLE. A
// role that does not exist is no error (existed = false).
Result<DropReport> drop_role(const std::string& conninfo, const std::string& role);

struct OwnedRole {
    std::string role;
    std::string grant_id;  // from its comment
};
// The roles whose comment says breakglass made them (the startup sweep).
Result<std::vector<OwnedRole>> list_roles(const std::string& conninfo);

// What the admin role lacks for the gate, one line each ("CREATEROLE",
// "SET on parameter log_statement", ...); empty when it has everything.
Result<std::vector<std::string>> missing_privileges(const std::string& conninfo,
                                                    const std::vector<std::string>& member_of);

// The host, port and database a client should use, from the conninfo
// (PQconninfoParse); "" when it does not say.
struct Target {
    std::string host, port, dbname;
};
Result<Target> target_of(const std::string& conninfo);

}  // namespace bg::dbgate
