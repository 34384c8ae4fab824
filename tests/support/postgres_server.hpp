// SPDX-License-Identifier: ISC
// A real PostgreSQL 15 for the PostgreSQL gate's tests and benchmarks (issue
// 15): initdb in a scratch directory, run by an unprivileged user unique to
// the run, a Unix socket in that directory and no TCP. pg_hba: the run's OS
// user is the superuser `pgsu` (peer), root is `breakglass_admin` (peer, an
// ident map, so breakglassd connects without a password), every other role
// logs in with its SCRAM password. The admin role is made with exactly the
// SQL breakglass-policy(5) gives. Statements are logged with the role and
// application name in each line. No gtest in here: failures throw.
#pragma once

#include <memory>
#include <string>

#include "tests/support/process.hpp"
#include "tests/support/run_directory.hpp"
#include "tests/support/test_accounts.hpp"

namespace bg::test {

// Where Debian installs PostgreSQL 15's server programs.
inline constexpr const char* kPostgresBin = "/usr/lib/postgresql/15/bin";
// Whether they are installed (else the tests skip, saying so).
bool postgres_available();

// The admin role's SQL (breakglass-policy(5)), with `emergency_dba` as the
// gate's member_of role.
inline constexpr const char* kAdminRoleSql =
    "CREATE ROLE breakglass_admin LOGIN CREATEROLE;\n"
    "GRANT SET ON PARAMETER log_statement TO breakglass_admin;\n"
    "GRANT pg_signal_backend TO breakglass_admin;\n"
    "CREATE ROLE emergency_dba NOLOGIN;\n"
    "GRANT emergency_dba TO breakglass_admin WITH ADMIN OPTION;\n";

class PostgresServer {
public:
    // initdb, configure and start; `admin_sql` runs as the superuser.
    explicit PostgresServer(const std::string& admin_sql = kAdminRoleSql);
    ~PostgresServer();
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    void start();
    void stop();  // fast shutdown, waits
    const std::string& socket_dir() const { return dir_.path(); }
    std::string port() const { return "5432"; }
    // The conninfo breakglassd (root) uses: the admin role over the socket.
    std::string admin_conninfo() const;
    // A query as the superuser: psql -XAt output (rows, '|' between columns).
    std::string query(const std::string& sql) const;
    // The server's log so far.
    std::string log() const;
    // psql's path (the client programs).
    static std::string psql();

private:
    TestUser owner_{"pg"};
    ScratchDir dir_{"postgres"};
    std::string data_;
    bool running_ = false;
};

}  // namespace bg::test
