// SPDX-License-Identifier: ISC
// Signed checkpoints and verification from the remote copy, against the real
// thing: a real breakglassd (tests/support) grants and revokes and writes its
// checkpoints; its records, rendered as journal export entries
// (journal_export_entry, what the journal-remote sink sends), are turned into
// a journal file by the real systemd-journal-remote (offline:
// --split-mode=none -o OUT.journal IN.export); breakglassctl verify reads that
// file (sd-journal) and `journalctl --file OUT -o export`. The tamper matrix
// changes the copy (delete, change, reorder, truncate an entry) or the local
// log after it was shipped (a rewrite with the chain recomputed, a
// truncation), and each is named by its first bad seq with exit status 4.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/protocol.hpp"
#include "helper/audit/audit_record.hpp"
#include "helper/audit/journal.hpp"
#include "helper/audit/signed_checkpoint.hpp"
#include "tests/support/factor_codes.hpp"
#include "tests/support/files.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_daemon.hpp"

namespace bg::test {
namespace {

using json = nlohmann::json;

constexpr const char* kJournalRemote = "/lib/systemd/systemd-journal-remote";

const char* const kPolicy = R"(
[defaults]
max_ttl = "1h"
incident_pattern = '^INC-[0-9]+$'
factors = ["totp"]

[gate.db]
requesters = ["root"]
ttl = "10m"

[gate.web]
requesters = ["root"]
ttl = "10m"
)";

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t nl = text.find('\n', i);
        if (nl == std::string::npos) nl = text.size();
        out.push_back(text.substr(i, nl - i));
        i = nl + 1;
    }
    return out;
}

// One export entry per record line, as the journal-remote sink renders them.
std::vector<std::string> export_entries(const std::vector<std::string>& lines) {
    std::vector<std::string> out;
    for (const auto& line : lines) {
        auto rec = audit::parse_record(line);
        if (!rec) throw std::runtime_error("not a record: " + line);
        out.push_back(audit::journal_export_entry(*rec, line));
    }
    return out;
}

// The same record with other text in its detail (still canonical).
std::string tampered(const std::string& line) {
    auto rec = audit::parse_record(line);
    if (!rec) throw std::runtime_error("not a record: " + line);
    rec->detail += " (edited)";
    return audit::canonical_json(*rec);
}

class RemoteCopyTest : public ::testing::Test {
protected:
    void SetUp() override {
        // Not skipped when missing: a test that cannot run must not pass.
        ASSERT_EQ(::access(kJournalRemote, X_OK), 0) << kJournalRemote << " is not installed (scripts/install-deps.sh)";
        daemon_ = std::make_unique<TestDaemon>(kPolicy);
        const auto secret = daemon_->enroll_totp("root");
        for (std::int64_t step : {0, 1}) {
            const auto answer = daemon_->grant("root", step == 0 ? "db" : "web", totp_code_now(secret, step));
            const auto* granted = std::get_if<proto::Granted>(&answer);
            const auto* refused = std::get_if<proto::ErrorAnswer>(&answer);
            ASSERT_NE(granted, nullptr) << (refused ? refused->message : "") << daemon_->log();
            grants_.push_back(granted->event_id);
        }
        daemon_->revoke(grants_[0]);
        pubkey_ = daemon_->dir() + "/checkpoint.pub.copy";
        const auto printed = run(daemon_->ctl({"checkpoint-key", "--state-dir", daemon_->state_dir()}));
        ASSERT_EQ(printed.exit_code, 0) << printed.err;
        write_file(pubkey_, printed.out, 0644);
    }
    void TearDown() override {
        if (HasFailure() && daemon_) std::fprintf(stderr, "daemon log:\n%s\n", daemon_->log().c_str());
    }

    std::vector<std::string> local_lines() const { return split_lines(read_file(daemon_->state_dir() + "/audit.log")); }

    // The entries through systemd-journal-remote into a journal file.
    std::string ship(const std::vector<std::string>& entries, const std::string& name) {
        std::string stream;
        for (const auto& e : entries) stream += e;
        const std::string in = daemon_->dir() + "/" + name + ".export";
        const std::string out = daemon_->dir() + "/" + name + ".journal";
        write_file(in, stream, 0600);
        const auto r = run({kJournalRemote, "--split-mode=none", "-o", out, in});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return out;
    }
    ProcessResult verify_file(const std::string& journal, std::vector<std::string> extra = {}) const {
        std::vector<std::string> args = {"verify", "--journal-file", journal, "--pubkey", pubkey_,
                                         "--state-dir", daemon_->state_dir()};
        args.insert(args.end(), extra.begin(), extra.end());
        return run(daemon_->ctl(args));
    }
    static void expect_first_bad(const ProcessResult& r, std::uint64_t seq) {
        EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
        EXPECT_NE(r.out.find("first bad seq: " + std::to_string(seq) + "\n"), std::string::npos) << r.out;
    }

    std::unique_ptr<TestDaemon> daemon_;
    std::vector<std::string> grants_;
    std::string pubkey_;
};

TEST_F(RemoteCopyTest, DaemonWritesItsKeyAndASignedCheckpointAtStartAndAfterEachGrant) {
    struct stat st {};
    ASSERT_EQ(::stat((daemon_->state_dir() + "/checkpoint.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((daemon_->state_dir() + "/checkpoint.pub").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
    EXPECT_EQ(read_file(daemon_->state_dir() + "/checkpoint.pub"), read_file(pubkey_));
    auto pub = audit::parse_ed25519_public_key(read_file(pubkey_));
    ASSERT_TRUE(pub) << read_file(pubkey_);

    const auto lines = local_lines();
    std::vector<audit::Record> recs;
    for (const auto& l : lines) recs.push_back(*audit::parse_record(l));
    std::size_t checkpoints = 0;
    for (std::size_t i = 0; i < recs.size(); ++i) {
        if (recs[i].event == "grant") {
            ASSERT_LT(i + 1, recs.size());
            EXPECT_EQ(recs[i + 1].event, "checkpoint") << "a checkpoint follows each grant";
        }
        if (recs[i].event != "checkpoint") continue;
        ++checkpoints;
        auto c = audit::parse_checkpoint_detail(recs[i].detail);
        ASSERT_TRUE(c) << recs[i].detail;
        EXPECT_EQ(c->seq, recs[i].seq - 1);
        EXPECT_EQ(c->head, recs[i - 1].hash);
        EXPECT_TRUE(audit::checkpoint_signature_valid(*pub, recs[i].host, *c));
        EXPECT_EQ(recs[i].actor, "breakglassd");
    }
    // At start-up (after daemon_start and policy_load) and after each grant.
    EXPECT_EQ(checkpoints, 3u);
    EXPECT_EQ(recs[2].event, "checkpoint");
    // A restart: daemon_start, policy_load, and the start-up checkpoint over them.
    daemon_->restart();
    const auto after = local_lines();
    ASSERT_EQ(after.size(), lines.size() + 3);
    EXPECT_EQ(audit::parse_record(after.back())->event, "checkpoint");
}

TEST_F(RemoteCopyTest, JournalRemoteCopyVerifiesFromTheFileAndFromJournalctlExport) {
    const auto lines = local_lines();
    const std::string journal = ship(export_entries(lines), "all");
    const auto r = verify_file(journal);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("OK: " + std::to_string(lines.size()) + " records"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("last signed checkpoint: seq "), std::string::npos) << r.out;

    const auto exported = run({"/usr/bin/journalctl", "--file", journal, "-o", "export"});
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    const auto piped = run(daemon_->ctl({"verify", "--journal-export", "-", "--pubkey", pubkey_, "--key",
                                         daemon_->state_dir() + "/audit.key.initial"}),
                           exported.out);
    EXPECT_EQ(piped.exit_code, 0) << piped.out << piped.err;
    EXPECT_NE(piped.out.find("seals verified"), std::string::npos) << piped.out;

    // The copy as the daemon's log is now: it agrees, nothing is missing.
    const auto against = verify_file(journal, {"--against-remote"});
    EXPECT_EQ(against.exit_code, 0) << against.out << against.err;
    EXPECT_NE(against.out.find("agree on every record"), std::string::npos) << against.out;
}

TEST_F(RemoteCopyTest, TamperedRemoteCopiesAreNamedByTheirFirstBadSeq) {
    const auto lines = local_lines();
    ASSERT_GE(lines.size(), 8u);
    const auto entries = export_entries(lines);
    {
        auto deleted = entries;
        deleted.erase(deleted.begin() + 4);  // seq 5
        expect_first_bad(verify_file(ship(deleted, "deleted")), 5);
    }
    {
        auto changed_lines = lines;
        changed_lines[5] = tampered(lines[5]);  // seq 6
        expect_first_bad(verify_file(ship(export_entries(changed_lines), "changed")), 6);
    }
    {
        auto reordered = entries;
        std::swap(reordered[3], reordered[4]);  // seq 5 before seq 4
        expect_first_bad(verify_file(ship(reordered, "reordered")), 4);
    }
    {
        auto rec = audit::parse_record(lines[6]);  // seq 7, its record line cut short
        ASSERT_TRUE(rec);
        auto truncated = entries;
        truncated[6] = audit::journal_export_entry(*rec, lines[6].substr(0, lines[6].size() / 2));
        expect_first_bad(verify_file(ship(truncated, "truncated")), 7);
    }
    {
        auto resent = entries;  // at-least-once: a suffix sent again is fine
        resent.insert(resent.end(), entries.end() - 3, entries.end());
        const auto r = verify_file(ship(resent, "resent"));
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
        EXPECT_NE(r.out.find("3 identical duplicates"), std::string::npos) << r.out;
    }
}

TEST_F(RemoteCopyTest, LocalLogRewrittenOrTruncatedAfterShippingDiverges) {
    const auto lines = local_lines();
    const std::string shipped = ship(export_entries(lines), "shipped");
    daemon_->stop();
    const std::string log_path = daemon_->state_dir() + "/audit.log";
    const std::string original = read_file(log_path);

    // A rewrite of seq 4 with every hash after it recomputed: the local log's
    // own chain holds, the remote copy names the record.
    std::string rewritten;
    std::string prev(audit::kGenesisPrevHash);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto rec = audit::parse_record(i == 3 ? tampered(lines[i]) : lines[i]);
        ASSERT_TRUE(rec);
        rec->prev_hash = prev;
        rec->hash = audit::compute_hash(*rec);
        prev = rec->hash;
        rewritten += audit::canonical_json(*rec) + "\n";
    }
    write_file(log_path, rewritten, 0600);
    const auto chain_only = run(daemon_->ctl({"verify", "--state-dir", daemon_->state_dir()}));
    EXPECT_EQ(chain_only.exit_code, 0) << "the rewrite keeps the chain: " << chain_only.out << chain_only.err;
    const auto r = verify_file(shipped, {"--against-remote"});
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_NE(r.out.find("first divergent seq: 4:"), std::string::npos) << r.out;

    // The local log cut after its records were shipped.
    std::string cut;
    for (std::size_t i = 0; i + 2 < lines.size(); ++i) cut += lines[i] + "\n";
    write_file(log_path, cut, 0600);
    const auto t = verify_file(shipped, {"--against-remote"});
    EXPECT_EQ(t.exit_code, 4) << t.out << t.err;
    EXPECT_NE(t.out.find("first divergent seq: " + std::to_string(lines.size() - 1) + ":"), std::string::npos) << t.out;
    EXPECT_NE(t.out.find("truncated"), std::string::npos) << t.out;

    // A copy that lags behind the log is not an error.
    write_file(log_path, original, 0600);
    std::vector<std::string> behind(lines.begin(), lines.end() - 2);
    const auto lag = verify_file(ship(export_entries(behind), "behind"), {"--against-remote"});
    EXPECT_EQ(lag.exit_code, 0) << lag.out << lag.err;
    EXPECT_NE(lag.out.find("2 local record(s) not yet shipped"), std::string::npos) << lag.out;
}

TEST_F(RemoteCopyTest, JsonLinesCopyAndAWrongPublicKey) {
    const auto lines = local_lines();
    std::string body;
    for (std::size_t i = 0; i < lines.size(); ++i)
        body += (i % 2 ? json{{"record_line", lines[i]}, {"host", "h"}}.dump() : lines[i]) + "\n";
    const std::string path = daemon_->dir() + "/copy.jsonl";
    write_file(path, body, 0600);
    const auto ok = run(daemon_->ctl({"verify", "--json-lines", path, "--pubkey", pubkey_}));
    EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;

    const std::string other = daemon_->dir() + "/other.pub";
    auto key = audit::Ed25519PrivateKey::generate();
    ASSERT_TRUE(key);
    write_file(other, audit::format_ed25519_public_key(key->public_key()) + "\n", 0644);
    const auto wrong = run(daemon_->ctl({"verify", "--json-lines", path, "--pubkey", other}));
    EXPECT_EQ(wrong.exit_code, 4) << wrong.out << wrong.err;
    EXPECT_NE(wrong.out.find("signature does not verify"), std::string::npos) << wrong.out;
    const auto no_key = run(daemon_->ctl({"verify", "--json-lines", path}));
    EXPECT_EQ(no_key.exit_code, 2) << no_key.out << no_key.err;
}

}  // namespace
}  // namespace bg::test
