// SPDX-License-Identifier: ISC
#include "tests/support/postgres_server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>

#include "tests/support/files.hpp"

namespace bg::test {
namespace {

std::string bin(const std::string& program) { return std::string(kPostgresBin) + "/" + program; }

void check(const ProcessResult& r, const std::string& what) {
    if (r.exit_code != 0) throw std::runtime_error(what + " failed (" + std::to_string(r.exit_code) + "): " + r.out + r.err);
}

}  // namespace

bool postgres_available() { return ::access(bin("initdb").c_str(), X_OK) == 0 && ::access(bin("postgres").c_str(), X_OK) == 0; }

std::string PostgresServer::psql() { return bin("psql"); }

PostgresServer::PostgresServer(const std::string& admin_sql) {
    if (::chown(dir_.path().c_str(), owner_.uid(), owner_.gid()) != 0) throw std::runtime_error("chown " + dir_.path());
    data_ = dir_.path() + "/data";
    check(run_as(owner_.name(), {bin("initdb"), "-D", data_, "-U", "pgsu", "-A", "reject", "--no-sync", "-E", "UTF8",
                                 "--locale=C.UTF-8"}),
          "initdb");
    const std::string os_user = owner_.name();
    write_file(data_ + "/pg_hba.conf",
               "local all pgsu peer map=su\n"
               "local all breakglass_admin peer map=admin\n"
               "local all all scram-sha-256\n",
               0600);
    write_file(data_ + "/pg_ident.conf", "su " + os_user + " pgsu\nadmin root breakglass_admin\n", 0600);
    write_file(data_ + "/postgresql.auto.conf",
               "listen_addresses = ''\n"
               "unix_socket_directories = '" + dir_.path() + "'\n"
               "port = 5432\n"
               "fsync = off\n"
               "log_line_prefix = '%m [%p] user=%u app=%a '\n"
               "password_encryption = 'scram-sha-256'\n",
               0600);
    for (const char* f : {"/pg_hba.conf", "/pg_ident.conf", "/postgresql.auto.conf"})
        if (::chown((data_ + f).c_str(), owner_.uid(), owner_.gid()) != 0) throw std::runtime_error("chown");
    start();
    if (!admin_sql.empty()) query(admin_sql);
}

PostgresServer::~PostgresServer() {
    if (running_) (void)run_as(owner_.name(), {bin("pg_ctl"), "-D", data_, "-m", "immediate", "-w", "stop"});
}

void PostgresServer::start() {
    check(run_as(owner_.name(), {bin("pg_ctl"), "-D", data_, "-l", dir_.path() + "/server.log", "-w", "-t", "30", "start"}),
          "pg_ctl start");
    running_ = true;
}

void PostgresServer::stop() {
    check(run_as(owner_.name(), {bin("pg_ctl"), "-D", data_, "-m", "fast", "-w", "stop"}), "pg_ctl stop");
    running_ = false;
}

std::string PostgresServer::admin_conninfo() const {
    return "host=" + dir_.path() + " port=5432 dbname=postgres user=breakglass_admin";
}

std::string PostgresServer::query(const std::string& sql) const {
    const ProcessResult r = run_as(owner_.name(), {psql(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", dir_.path(),
                                                   "-p", "5432", "-U", "pgsu", "-d", "postgres", "-c", sql});
    check(r, "psql " + sql);
    std::string out = r.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

std::string PostgresServer::log() const { return read_file(dir_.path() + "/server.log"); }

}  // namespace bg::test
