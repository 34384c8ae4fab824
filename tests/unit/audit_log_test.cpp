// SPDX-License-Identifier: ISC
// AuditLog: durable append, chain, key evolution, reopen, crash recovery and
// the fail-closed cases.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "helper/audit/audit_log.hpp"
#include "helper/audit/audit_verify.hpp"
#include "helper/audit/seal_key.hpp"
#include "tests/support/scratch_files.hpp"

namespace bg::audit {
namespace {

using test::file_bytes;
using test::TempDir;

constexpr std::int64_t kNow = 1781498047;  // 2026-06-15T04:34:07Z

void write_file(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
}

RecordFields grant_fields(const std::string& actor) {
    RecordFields f;
    f.event = "grant";
    f.actor = actor;
    f.actor_loginuid = 1000;
    f.gate_bypassed = "breakglass";
    f.reason = "disk full on db-1";
    f.incident_ref = "INC-42";
    f.expires_at = kNow + 1800;
    f.review_status = "pending";
    f.factor = "totp";
    f.factor_counter = 59383333;
    f.peer_uid = 0;
    return f;
}

std::unique_ptr<AuditLog> open_log(const TempDir& dir) {
    auto log = AuditLog::open(dir.path(), "bastion-1");
    EXPECT_TRUE(log.ok()) << (log.ok() ? "" : log.error().message);
    return log.ok() ? std::move(*log) : nullptr;
}

KeyState current_key(const TempDir& dir) {
    auto kf = KeyFile::open(dir.file("audit.key"));
    EXPECT_TRUE(kf.ok()) << (kf.ok() ? "" : kf.error().message);
    auto ks = kf->read();
    EXPECT_TRUE(ks.ok()) << (ks.ok() ? "" : ks.error().message);
    return *ks;
}

VerifyResult verify_dir(const TempDir& dir, bool with_key = true) {
    VerifyOptions o;
    if (with_key) {
        auto key = read_key_file(dir.file("audit.key.initial"));
        EXPECT_TRUE(key.ok());
        o.initial_key = *key;
    }
    o.key_file = current_key(dir);
    return verify_log(file_bytes(dir.file("audit.log")), o);
}

TEST(AuditLog, CreatesFilesWithModes) {
    TempDir dir{"audit-test"};
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    EXPECT_EQ(log->last_seq(), 0u);
    EXPECT_EQ(log->last_hash(), std::string(64, '0'));
    EXPECT_EQ(log->path(), dir.file("audit.log"));
    struct stat st {};
    ASSERT_EQ(::stat(dir.file("audit.log").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(dir.file("audit.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_size, static_cast<off_t>(kKeyFileBytes));
    ASSERT_EQ(::stat(dir.file("audit.key.initial").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0400u);
    const std::string initial = file_bytes(dir.file("audit.key.initial"));
    EXPECT_EQ(initial.size(), 65u);
    EXPECT_EQ(initial.back(), '\n');
    auto key = read_key_file(dir.file("audit.key.initial"));
    ASSERT_TRUE(key.ok());
    const KeyState ks = current_key(dir);
    EXPECT_EQ(ks.index, 1u);
    EXPECT_EQ(ks.key, *key);
}

TEST(AuditLog, AppendWritesChainedSealedRecords) {
    TempDir dir{"audit-test"};
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    auto initial = read_key_file(dir.file("audit.key.initial"));
    ASSERT_TRUE(initial.ok());
    KeyBytes key = *initial;

    std::string prev(64, '0');
    for (std::uint64_t i = 1; i <= 5; ++i) {
        const std::string key_file_before = file_bytes(dir.file("audit.key"));
        auto r = log->append(grant_fields("alice"), kNow + static_cast<std::int64_t>(i));
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->seq, i);
        EXPECT_EQ(r->event_id, format_event_id(kNow, i));
        EXPECT_EQ(r->host, "bastion-1");
        EXPECT_EQ(r->prev_hash, prev);
        EXPECT_EQ(r->hash, compute_hash(*r));
        EXPECT_EQ(r->seal, seal_hex(key, r->hash));
        EXPECT_EQ(log->last_seq(), i);
        EXPECT_EQ(log->last_hash(), r->hash);
        // The key evolved on disk, in place, to seal the next seq.
        EXPECT_NE(file_bytes(dir.file("audit.key")), key_file_before);
        ASSERT_TRUE(evolve_key(key));
        const KeyState ks = current_key(dir);
        EXPECT_EQ(ks.index, i + 1);
        EXPECT_EQ(ks.key, key);
        prev = r->hash;
    }
    // The file holds exactly the returned lines.
    const std::string bytes = file_bytes(dir.file("audit.log"));
    EXPECT_EQ(std::count(bytes.begin(), bytes.end(), '\n'), 5);
    const auto v = verify_dir(dir);
    EXPECT_TRUE(v.ok) << v.message;
    EXPECT_EQ(v.records, 5u);
    EXPECT_TRUE(v.seals_checked);
}

TEST(AuditLog, RejectsBadFields) {
    TempDir dir{"audit-test"};
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    RecordFields f = grant_fields("alice");
    f.event = "Not-An-Event";
    EXPECT_FALSE(log->append(f, kNow).ok());
    f = grant_fields("\xff");
    EXPECT_FALSE(log->append(f, kNow).ok());
    f = grant_fields("alice");
    f.detail = std::string(kMaxFieldBytes + 1, 'x');
    EXPECT_FALSE(log->append(f, kNow).ok());
    // Four 4096-byte fields exceed the 16 KiB line cap.
    f = grant_fields("alice");
    f.detail = f.reason = f.target = f.action = std::string(kMaxFieldBytes, 'x');
    EXPECT_FALSE(log->append(f, kNow).ok());
    EXPECT_FALSE(log->append(grant_fields("alice"), -1).ok());
    EXPECT_EQ(log->last_seq(), 0u);
    EXPECT_EQ(file_bytes(dir.file("audit.log")), "");
    EXPECT_TRUE(log->append(grant_fields("alice"), kNow).ok());
}

TEST(AuditLog, ReopenContinuesSeqAndChain) {
    TempDir dir{"audit-test"};
    std::string head;
    {
        auto log = open_log(dir);
        ASSERT_TRUE(log);
        for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->append(grant_fields("alice"), kNow).ok());
        head = log->last_hash();
    }
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    EXPECT_EQ(log->last_seq(), 3u);
    EXPECT_EQ(log->last_hash(), head);
    auto r = log->append(grant_fields("bob"), kNow + 10);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->seq, 4u);
    EXPECT_EQ(r->prev_hash, head);
    const auto v = verify_dir(dir);
    EXPECT_TRUE(v.ok) << v.message;
    EXPECT_EQ(v.records, 4u);
}

TEST(AuditLog, CrashBetweenAppendAndKeyUpdateIsReconciled) {
    TempDir dir{"audit-test"};
    {
        auto log = open_log(dir);
        ASSERT_TRUE(log);
        ASSERT_TRUE(log->append(grant_fields("alice"), kNow).ok());
        ASSERT_TRUE(log->append(grant_fields("alice"), kNow).ok());
        const std::string key_before_third = file_bytes(dir.file("audit.key"));
        ASSERT_TRUE(log->append(grant_fields("alice"), kNow).ok());
        // Simulate the crash: the third record is durable, the key update is not.
        log.reset();
        write_file(dir.file("audit.key"), key_before_third);
        ::chmod(dir.file("audit.key").c_str(), 0600);
    }
    EXPECT_EQ(current_key(dir).index, 3u);
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    EXPECT_EQ(current_key(dir).index, 4u);
    ASSERT_TRUE(log->append(grant_fields("alice"), kNow).ok());
    const auto v = verify_dir(dir);
    EXPECT_TRUE(v.ok) << v.message;
    EXPECT_EQ(v.records, 4u);
}

TEST(AuditLog, KeyAheadOfLogMeansTruncatedTailAndOpenFails) {
    TempDir dir{"audit-test"};
    {
        auto log = open_log(dir);
        ASSERT_TRUE(log);
        for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->append(grant_fields("alice"), kNow).ok());
    }
    std::string bytes = file_bytes(dir.file("audit.log"));
    bytes.erase(bytes.rfind('\n', bytes.size() - 2) + 1);  // drop record 3
    write_file(dir.file("audit.log"), bytes);
    auto log = AuditLog::open(dir.path(), "bastion-1");
    ASSERT_FALSE(log.ok());
    EXPECT_NE(log.error().message.find("truncated"), std::string::npos) << log.error().message;
    // Emptying the log entirely is caught the same way.
    write_file(dir.file("audit.log"), "");
    auto empty = AuditLog::open(dir.path(), "bastion-1");
    ASSERT_FALSE(empty.ok());
    EXPECT_NE(empty.error().message.find("truncated"), std::string::npos) << empty.error().message;
}

TEST(AuditLog, TornLastLineRefusesToOpen) {
    TempDir dir{"audit-test"};
    {
        auto log = open_log(dir);
        ASSERT_TRUE(log);
        for (int i = 0; i < 2; ++i) ASSERT_TRUE(log->append(grant_fields("alice"), kNow).ok());
    }
    const std::string good = file_bytes(dir.file("audit.log"));
    write_file(dir.file("audit.log"), good + "{\"action\":\"\",\"ac");
    auto log = AuditLog::open(dir.path(), "bastion-1");
    ASSERT_FALSE(log.ok());
    EXPECT_NE(log.error().message.find("breakglassctl verify"), std::string::npos) << log.error().message;
    // A complete but corrupt last line is refused too.
    std::string corrupt = good;
    corrupt[corrupt.size() - 3] = 'x';
    write_file(dir.file("audit.log"), corrupt);
    auto log2 = AuditLog::open(dir.path(), "bastion-1");
    ASSERT_FALSE(log2.ok());
    EXPECT_NE(log2.error().message.find("breakglassctl verify"), std::string::npos) << log2.error().message;
}

TEST(AuditLog, MissingOrCorruptKeyFileRefusesToOpen) {
    TempDir dir{"audit-test"};
    {
        auto log = open_log(dir);
        ASSERT_TRUE(log);
        ASSERT_TRUE(log->append(grant_fields("alice"), kNow).ok());
    }
    const std::string key = file_bytes(dir.file("audit.key"));
    std::string corrupt = key;
    corrupt[40] = corrupt[40] == '0' ? '1' : '0';
    write_file(dir.file("audit.key"), corrupt);
    EXPECT_FALSE(AuditLog::open(dir.path(), "h").ok());
    ::unlink(dir.file("audit.key").c_str());
    EXPECT_FALSE(AuditLog::open(dir.path(), "h").ok());
    write_file(dir.file("audit.key"), key);
    ::chmod(dir.file("audit.key").c_str(), 0644);
    EXPECT_FALSE(AuditLog::open(dir.path(), "h").ok());
    ::chmod(dir.file("audit.key").c_str(), 0600);
    EXPECT_TRUE(AuditLog::open(dir.path(), "h").ok());
    ::chmod(dir.file("audit.log").c_str(), 0666);
    EXPECT_FALSE(AuditLog::open(dir.path(), "h").ok());
}

TEST(AuditLog, StaleInitialKeyWithoutKeyFileRefusesToOpen) {
    TempDir dir{"audit-test"};
    write_file(dir.file("audit.key.initial"), std::string(64, 'a') + "\n");
    auto log = AuditLog::open(dir.path(), "h");
    ASSERT_FALSE(log.ok());
    EXPECT_NE(log.error().message.find("audit.key.initial"), std::string::npos);
    EXPECT_FALSE(AuditLog::open(dir.file("missing"), "h").ok());
}

TEST(AuditLog, FailedWriteLeavesNoTornLine) {
    TempDir dir{"audit-test"};
    {
        auto log = open_log(dir);
        ASSERT_TRUE(log);
        ASSERT_TRUE(log->append(grant_fields("alice"), kNow).ok());
    }
    const std::string before = file_bytes(dir.file("audit.log"));
    const std::string key_before = file_bytes(dir.file("audit.key"));
    // In a child: cap the file size just past the current log so the next
    // write() is short (EFBIG), as on a full disk.
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::signal(SIGXFSZ, SIG_IGN);
        auto log = AuditLog::open(dir.path(), "bastion-1");
        if (!log.ok()) ::_exit(2);
        struct rlimit rl {};
        rl.rlim_cur = rl.rlim_max = static_cast<rlim_t>(before.size() + 100);
        if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) ::_exit(3);
        auto r = (*log)->append(grant_fields("alice"), kNow);
        if (r.ok()) ::_exit(4);
        if ((*log)->last_seq() != 1) ::_exit(5);
        ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_EQ(file_bytes(dir.file("audit.log")), before);
    EXPECT_EQ(file_bytes(dir.file("audit.key")), key_before);
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    ASSERT_TRUE(log->append(grant_fields("alice"), kNow).ok());
    const auto v = verify_dir(dir);
    EXPECT_TRUE(v.ok) << v.message;
}

TEST(AuditLog, ReadAfter) {
    TempDir dir{"audit-test"};
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    for (int i = 1; i <= 50; ++i) ASSERT_TRUE(log->append(grant_fields("u" + std::to_string(i)), kNow + i).ok());
    std::uint64_t last = 0;
    bool more = false;
    auto all = log->read_after(0, 0, 1000, &last, &more);
    ASSERT_TRUE(all.ok()) << all.error().message;
    EXPECT_EQ(all->size(), 50u);
    EXPECT_EQ(last, 50u);
    EXPECT_FALSE(more);
    auto first = parse_record(all->front());
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->seq, 1u);

    auto page = log->read_after(10, 0, 5, &last, &more);
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->size(), 5u);
    EXPECT_EQ(parse_record(page->front())->seq, 11u);
    EXPECT_EQ(last, 15u);
    EXPECT_TRUE(more);

    auto since = log->read_after(0, kNow + 45, 100, &last, &more);
    ASSERT_TRUE(since.ok());
    EXPECT_EQ(since->size(), 6u);
    EXPECT_EQ(parse_record(since->front())->seq, 45u);
    EXPECT_EQ(last, 50u);

    auto none = log->read_after(50, 0, 100, &last, &more);
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
    EXPECT_EQ(last, 50u);
    EXPECT_FALSE(more);
}

TEST(AuditLog, ReadAfterOnALargeLogUsesTheSeekHint) {
    TempDir dir{"audit-test"};
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    RecordFields f = grant_fields("alice");
    f.detail = std::string(kMaxFieldBytes, 'd');
    for (int i = 1; i <= 80; ++i) ASSERT_TRUE(log->append(f, kNow).ok());
    for (std::uint64_t after : {0u, 1u, 39u, 40u, 78u, 79u}) {
        std::uint64_t last = 0;
        bool more = false;
        auto lines = log->read_after(after, 0, 1, &last, &more);
        ASSERT_TRUE(lines.ok()) << lines.error().message;
        ASSERT_EQ(lines->size(), 1u);
        EXPECT_EQ(parse_record(lines->front())->seq, after + 1);
        EXPECT_EQ(more, after + 1 < 80);
    }
}

// A deferred (closing) record is written at once, but the key file is only
// rewritten once the record is durable: a crash that loses the unsynced
// record must not leave a key that reads as a truncated log.
TEST(AuditLog, DeferredRecordLeavesTheKeyFileBehindUntilFlushed) {
    TempDir dir{"audit-test"};
    std::string log_on_disk, key_on_disk;
    {
        auto log = open_log(dir);
        ASSERT_TRUE(log);
        ASSERT_TRUE(log->append(grant_fields("alice"), kNow).ok());
        EXPECT_EQ(current_key(dir).index, 2u);
        const std::string durable_log = file_bytes(dir.file("audit.log"));
        RecordFields close = grant_fields("alice");
        close.event = "session_close";
        ASSERT_TRUE(log->append(close, kNow, Durability::Deferred).ok());
        EXPECT_EQ(log->deferred_records(), 1u);
        EXPECT_EQ(current_key(dir).index, 2u) << "the key file moved before its record was durable";
        EXPECT_NE(file_bytes(dir.file("audit.log")), durable_log) << "a deferred record is written at once";
        // What a power loss now could leave: the synced log and this key file.
        log_on_disk = durable_log;
        key_on_disk = file_bytes(dir.file("audit.key"));
    }
    write_file(dir.file("audit.log"), log_on_disk);
    write_file(dir.file("audit.key"), key_on_disk);
    ::chmod(dir.file("audit.key").c_str(), 0600);
    auto reopened = AuditLog::open(dir.path(), "bastion-1");
    ASSERT_TRUE(reopened.ok()) << reopened.error().message;
    EXPECT_EQ((*reopened)->last_seq(), 1u);
    ASSERT_TRUE((*reopened)->append(grant_fields("bob"), kNow).ok());
    reopened->reset();
    const auto v = verify_dir(dir);
    EXPECT_TRUE(v.ok) << v.message;
    EXPECT_EQ(v.records, 2u);
}

TEST(AuditLog, FlushOrASyncedAppendMakesDeferredRecordsDurableAndMovesTheKey) {
    TempDir dir{"audit-test"};
    auto log = open_log(dir);
    ASSERT_TRUE(log);
    RecordFields close = grant_fields("alice");
    close.event = "session_close";
    ASSERT_TRUE(log->append(close, kNow, Durability::Deferred).ok());
    ASSERT_TRUE(log->append(close, kNow, Durability::Deferred).ok());
    EXPECT_EQ(log->deferred_records(), 2u);
    EXPECT_EQ(current_key(dir).index, 1u);
    ASSERT_TRUE(log->flush().ok());
    EXPECT_EQ(log->deferred_records(), 0u);
    EXPECT_EQ(current_key(dir).index, 3u);
    EXPECT_TRUE(log->key_sync_pending());
    ASSERT_TRUE(log->sync_key().ok());
    EXPECT_FALSE(log->key_sync_pending());
    EXPECT_EQ(log->records_since_key_sync(), 0u);

    ASSERT_TRUE(log->append(close, kNow, Durability::Deferred).ok());
    ASSERT_TRUE(log->append(grant_fields("alice"), kNow).ok());  // synced: covers the deferred one
    EXPECT_EQ(log->deferred_records(), 0u);
    EXPECT_EQ(current_key(dir).index, 5u);
    EXPECT_EQ(log->records_since_key_sync(), 2u);
    log.reset();
    const auto v = verify_dir(dir);
    EXPECT_TRUE(v.ok) << v.message;
    EXPECT_EQ(v.records, 4u);
}

}  // namespace
}  // namespace bg::audit
