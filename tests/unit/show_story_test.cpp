// SPDX-License-Identifier: ISC
// `breakglassctl show --state-dir` (issue 14) over a real audit log written
// as breakglassd writes one (AuditLog, the story index kept through the
// Recorder, signed checkpoints after each grant and on a timer, with a key
// made for the test): the story found through the index and verified up to
// its signed checkpoints; the same story without the index (a scan, said);
// an index entry pointing at the wrong line or naming another grant
// (ignored, said); records after the index's end (scanned); and a flipped
// byte in a story record, in a record between it and its checkpoint, a
// story record rewritten with the chain recomputed, or a checkpoint key that
// did not sign the checkpoints: verified NO and the verify-failed code.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "helper/audit/audit_log.hpp"
#include "helper/audit/ed25519.hpp"
#include "helper/audit/recorder.hpp"
#include "helper/audit/signed_checkpoint.hpp"
#include "helper/audit/story_index.hpp"
#include "helper/ctl/commands.hpp"
#include "helper/ctl/exit_code.hpp"
#include "helper/ctl/story_lookup.hpp"
#include "tests/support/scratch_files.hpp"

namespace bg::ctl {
namespace {

using test::file_bytes;
using test::overwrite_at;
using test::TempDir;

using audit::RecordFields;
using nlohmann::json;

constexpr std::int64_t kNow = 1781498047;
const char* const kHost = "bastion-1";

RecordFields base(const std::string& event) {
    RecordFields f;
    f.event = event;
    f.actor = "alice";
    f.gate_bypassed = "db";
    f.peer_uid = 0;
    return f;
}

// A log as breakglassd writes one: filler, then request 6, approve 8,
// grant 10 (checkpoint 11 after it), commands 13 and 15 under it, filler up
// to a timed checkpoint, revoke, filler, review, filler; more filler after
// the last checkpoint unless `closed`.
class StoryLog {
public:
    explicit StoryLog(const TempDir& dir) : dir_(dir) {
        auto log = audit::AuditLog::open(dir.path(), kHost);
        EXPECT_TRUE(log) << (log ? "" : log.error().message);
        log_ = std::move(log).value();
        auto key = audit::Ed25519PrivateKey::generate();
        EXPECT_TRUE(key);
        key_.emplace(std::move(key).value());
        std::ofstream(dir.file(audit::kCheckpointPublicKeyFileName))
            << audit::format_ed25519_public_key(key_->public_key()) << '\n';
        auto index = audit::StoryIndexWriter::open(dir.path(), nullptr);
        EXPECT_TRUE(index) << (index ? "" : index.error().message);
        index_ = std::move(index).value();
        recorder_ = std::make_unique<audit::Recorder>(*log_);
        recorder_->subscribe(*index_);
    }

    std::uint64_t add(RecordFields f) {
        auto r = recorder_->append(f, kNow, audit::Durability::Deferred);
        EXPECT_TRUE(r) << r.error().message;
        return r ? r->seq : 0;
    }
    // Appended without the index's writer (as while no daemon kept it).
    void add_unindexed(const RecordFields& f) {
        auto r = log_->append(f, kNow, audit::Durability::Synced);
        EXPECT_TRUE(r) << r.error().message;
    }
    std::uint64_t checkpoint() {
        auto cp = audit::sign_checkpoint(*key_, kHost, log_->last_seq(), log_->last_hash(), kNow);
        EXPECT_TRUE(cp);
        RecordFields f;
        f.event = std::string(audit::kCheckpointEvent);
        f.actor = std::string(audit::kCheckpointActor);
        f.detail = audit::render_checkpoint_detail(*cp);
        return add(f);
    }
    void filler(int n) {
        for (int i = 0; i < n; ++i) {
            RecordFields f = base("command");
            f.target = "id -u";
            f.grant_id = other_grant;
            add(f);
        }
    }
    void build(bool closed) {
        RecordFields g = base("grant");
        g.reason = "routine";
        g.incident_ref = "INC-1";
        g.expires_at = kNow + 1800;
        g.review_status = "pending";
        other_grant = audit::format_event_id(kNow, add(g));  // seq 1
        checkpoint();                                         // 2
        filler(3);                                            // 3..5
        RecordFields request = base("request");
        request.reason = "disk full";
        request.incident_ref = "INC-9";
        request_id = audit::format_event_id(kNow, add(request));  // 6
        filler(1);
        RecordFields approve = base("approve");
        approve.actor = "bob";
        approve.grant_id = request_id;
        approve_seq = add(approve);  // 8
        filler(1);
        g.reason = "disk full";
        g.incident_ref = "INC-9";
        g.grant_id = request_id;
        grant_seq = add(g);  // 10
        grant_id = audit::format_event_id(kNow, grant_seq);
        grant_checkpoint = checkpoint();  // 11
        filler(1);
        RecordFields command = base("command");
        command.target = "systemctl restart db";
        command.grant_id = grant_id;
        command_seq = add(command);  // 13
        filler(1);
        add(command);  // 15
        filler(4);
        timed_checkpoint = checkpoint();  // 20
        RecordFields revoke = base("revoke");
        revoke.actor = "root";
        revoke.grant_id = grant_id;
        revoke_seq = add(revoke);  // 21
        filler(5);
        RecordFields review = base("review");
        review.actor = "carol";
        review.grant_id = grant_id;
        review_seq = add(review);  // 27
        filler(2);
        last_checkpoint = checkpoint();  // 30
        if (!closed) filler(3);
        EXPECT_TRUE(log_->flush());
    }

    std::string log_path() const { return dir_.file(audit::kLogFileName); }
    // Byte offset of the line of `seq` in the log.
    std::size_t offset_of(std::uint64_t seq) const {
        const std::string log = file_bytes(log_path());
        std::size_t at = 0;
        for (std::uint64_t s = 1; s < seq; ++s) at = log.find('\n', at) + 1;
        return at;
    }
    // Changes one byte inside the detail or target text of record `seq`.
    void flip_byte(std::uint64_t seq) const {
        const std::string log = file_bytes(log_path());
        const std::size_t at = offset_of(seq);
        const std::size_t actor = log.find("\"actor\":\"", at) + 9;
        overwrite_at(log_path(), actor, log[actor] == 'x' ? "y" : "x");
    }

    std::string other_grant, request_id, grant_id;
    std::uint64_t approve_seq = 0, grant_seq = 0, grant_checkpoint = 0, command_seq = 0, timed_checkpoint = 0,
                  revoke_seq = 0, review_seq = 0, last_checkpoint = 0;

private:
    const TempDir& dir_;
    std::unique_ptr<audit::AuditLog> log_;
    std::optional<audit::Ed25519PrivateKey> key_;
    std::unique_ptr<audit::StoryIndexWriter> index_;
    std::unique_ptr<audit::Recorder> recorder_;
};

struct Shown {
    int code = -1;
    json story;
};

Shown show(const TempDir& dir, const std::string& id) {
    CommonOptions o;
    o.state_dir = dir.path();
    o.state_dir_given = true;
    o.json = true;
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    Shown s;
    s.code = run_show(o, id);
    const std::string out = testing::internal::GetCapturedStdout();
    (void)testing::internal::GetCapturedStderr();
    s.story = json::parse(out, nullptr, false);
    return s;
}

std::vector<std::string> events(const Shown& s) {
    std::vector<std::string> out;
    if (!s.story.is_object()) return out;
    for (const char* one : {"request", "grant", "end", "review"})
        if (s.story[one].is_object()) out.push_back(s.story[one]["event"].get<std::string>());
    for (const char* many : {"approvals", "activity"})
        for (const json& e : s.story[many]) out.push_back(e["event"].get<std::string>());
    return out;
}

const std::vector<std::string> kWholeStory = {"request", "grant", "revoke", "review", "approve", "command", "command"};

std::string scope_of(const Shown& s) { return s.story.is_object() ? s.story["verification"]["scope"].get<std::string>() : ""; }
std::string message_of(const Shown& s) {
    return s.story.is_object() ? s.story["verification"]["message"].get<std::string>() : "";
}
bool verified(const Shown& s) { return s.story.is_object() && s.story["verification"]["ok"].get<bool>(); }

TEST(ShowStory, FoundThroughTheIndexAndVerifiedUpToItsSignedCheckpoints) {
    TempDir dir{"show-story-test"};
    StoryLog log(dir);
    log.build(/*closed=*/true);
    const Shown s = show(dir, log.grant_id);
    ASSERT_EQ(s.code, kExitOk) << s.story.dump();
    EXPECT_TRUE(verified(s));
    EXPECT_EQ(events(s), kWholeStory);
    const std::string scope = scope_of(s);
    EXPECT_NE(scope.find("story index (audit.index)"), std::string::npos) << scope;
    // The request's run ends at the grant's checkpoint, the revoke's and review's at the last one.
    EXPECT_NE(scope.find("seq 5..10 (checkpoint at seq 11)"), std::string::npos) << scope;
    EXPECT_NE(scope.find("seq 12..19 (checkpoint at seq 20)"), std::string::npos) << scope;
    EXPECT_NE(scope.find("seq 20..29 (checkpoint at seq 30)"), std::string::npos) << scope;
    EXPECT_NE(scope.find("checkpoint.pub"), std::string::npos) << scope;
    EXPECT_NE(scope.find("breakglassctl verify checks the whole log"), std::string::npos) << scope;
    EXPECT_EQ(scope.find("not yet covered"), std::string::npos) << scope;
    EXPECT_EQ(message_of(s), "27 records verified") << message_of(s);
}

TEST(ShowStory, RecordsAfterTheLastCheckpointAreSaidNotYetCovered) {
    TempDir dir{"show-story-test"};
    StoryLog log(dir);
    log.build(/*closed=*/true);
    // A late record of the story, after the last checkpoint.
    RecordFields late = base("hook");
    late.actor = "breakglassd";
    late.grant_id = log.grant_id;
    log.add_unindexed(late);
    const Shown s = show(dir, log.grant_id);
    ASSERT_EQ(s.code, kExitOk) << s.story.dump();
    EXPECT_EQ(s.story["hooks"].size(), 1u) << s.story.dump();
    // Written without the index's writer: found by the scan after the index's end.
    EXPECT_NE(scope_of(s).find("through seq 30, the log after it scanned"), std::string::npos) << scope_of(s);
    EXPECT_NE(scope_of(s).find("seq 30..31 (linked to the log's end, not yet covered by a checkpoint)"),
              std::string::npos)
        << scope_of(s);
}

TEST(ShowStory, WithoutTheIndexTheLogIsScannedAndTheOutputSaysSo) {
    TempDir dir{"show-story-test"};
    StoryLog log(dir);
    log.build(/*closed=*/false);
    std::filesystem::remove(dir.file(audit::kStoryIndexFileName));
    const Shown s = show(dir, log.grant_id);
    ASSERT_EQ(s.code, kExitOk) << s.story.dump();
    EXPECT_EQ(events(s), kWholeStory);
    EXPECT_NE(message_of(s).find("story index not used"), std::string::npos) << message_of(s);
    EXPECT_NE(scope_of(s).find("a scan of the log from seq 6"), std::string::npos) << scope_of(s);
}

TEST(ShowStory, AnIndexEntryPointingAtTheWrongLineIsIgnoredAndSaid) {
    TempDir dir{"show-story-test"};
    StoryLog log(dir);
    log.build(/*closed=*/true);
    // The grant's slot takes the offset of the line before it.
    const std::string index = file_bytes(dir.file(audit::kStoryIndexFileName));
    const std::size_t slot = audit::kStoryIndexHeaderBytes + (log.grant_seq - 1) * audit::kStoryIndexSlotBytes;
    overwrite_at(dir.file(audit::kStoryIndexFileName), slot, index.substr(slot - audit::kStoryIndexSlotBytes, 8));
    const Shown s = show(dir, log.grant_id);
    ASSERT_EQ(s.code, kExitOk) << s.story.dump();
    EXPECT_EQ(events(s), kWholeStory);
    EXPECT_NE(message_of(s).find("points at the wrong line"), std::string::npos) << message_of(s);
}

TEST(ShowStory, AnIndexEntryNamingAnotherGrantsRecordIsIgnoredAndSaid) {
    TempDir dir{"show-story-test"};
    StoryLog log(dir);
    log.build(/*closed=*/true);
    // Filler record 12 (under another grant) is said to name this grant.
    const std::uint64_t named = log.grant_seq;
    std::string bytes(8, '\0');
    std::memcpy(bytes.data(), &named, 8);
    overwrite_at(dir.file(audit::kStoryIndexFileName),
                 audit::kStoryIndexHeaderBytes + (12 - 1) * audit::kStoryIndexSlotBytes + 8, bytes);
    const Shown s = show(dir, log.grant_id);
    ASSERT_EQ(s.code, kExitOk) << s.story.dump();
    EXPECT_EQ(events(s), kWholeStory);
    EXPECT_NE(message_of(s).find("the index's entry for seq 12 names another grant: ignored"), std::string::npos)
        << message_of(s);
}

TEST(ShowStory, AFlippedByteInAStoryRecordIsVerifiedNo) {
    TempDir dir{"show-story-test"};
    StoryLog log(dir);
    log.build(/*closed=*/true);
    log.flip_byte(log.command_seq);
    const Shown s = show(dir, log.grant_id);
    EXPECT_EQ(s.code, kExitVerifyFailed) << s.story.dump();
    EXPECT_FALSE(verified(s));
    EXPECT_NE(message_of(s).find("seq " + std::to_string(log.command_seq)), std::string::npos) << message_of(s);
}

TEST(ShowStory, AFlippedByteBetweenAStoryRecordAndItsCheckpointIsVerifiedNo) {
    TempDir dir{"show-story-test"};
    StoryLog log(dir);
    log.build(/*closed=*/true);
    log.flip_byte(log.review_seq + 1);  // filler, not in the story
    const Shown s = show(dir, log.grant_id);
    EXPECT_EQ(s.code, kExitVerifyFailed) << s.story.dump();
    EXPECT_FALSE(verified(s));
    EXPECT_NE(message_of(s).find("seq " + std::to_string(log.review_seq + 1)), std::string::npos) << message_of(s);
}

TEST(ShowStory, ACheckpointKeyThatDidNotSignTheCheckpointsIsVerifiedNo) {
    TempDir dir{"show-story-test"};
    StoryLog log(dir);
    log.build(/*closed=*/true);
    // Another key in checkpoint.pub: the signatures no longer hold.
    auto other = audit::Ed25519PrivateKey::generate();
    ASSERT_TRUE(other);
    std::ofstream(dir.file(audit::kCheckpointPublicKeyFileName), std::ios::trunc)
        << audit::format_ed25519_public_key(other->public_key()) << '\n';
    const Shown s = show(dir, log.grant_id);
    EXPECT_EQ(s.code, kExitVerifyFailed) << s.story.dump();
    EXPECT_NE(message_of(s).find("signature does not verify"), std::string::npos) << message_of(s);
}

// What root on the host could do: change a story record and recompute every
// hash after it up to the checkpoint, so the chain holds again; the
// checkpoint's signed head no longer does.
TEST(ShowStory, AStoryRecordRewrittenWithTheChainRecomputedFailsTheSignedHead) {
    TempDir dir{"show-story-test"};
    StoryLog log(dir);
    log.build(/*closed=*/true);
    std::vector<std::string> lines;
    {
        std::istringstream in(file_bytes(log.log_path()));
        for (std::string line; std::getline(in, line);) lines.push_back(line);
    }
    std::string prev;
    for (std::uint64_t seq = log.command_seq; seq <= log.timed_checkpoint; ++seq) {
        auto rec = audit::parse_record(lines[seq - 1]);
        ASSERT_TRUE(rec) << rec.error().message;
        if (seq == log.command_seq) rec->target = "systemctl restart dc";
        if (!prev.empty()) rec->prev_hash = prev;
        rec->hash = audit::compute_hash(*rec);
        prev = rec->hash;
        lines[seq - 1] = audit::canonical_json(*rec);
    }
    std::string rewritten;
    for (const std::string& line : lines) rewritten += line + "\n";
    std::ofstream(log.log_path(), std::ios::binary | std::ios::trunc) << rewritten;
    const Shown s = show(dir, log.grant_id);
    EXPECT_EQ(s.code, kExitVerifyFailed) << s.story.dump();
    EXPECT_NE(message_of(s).find("the head it signs is not the hash of seq " + std::to_string(log.timed_checkpoint - 1)),
              std::string::npos)
        << message_of(s);
}

TEST(ShowStory, ARecordOutsideEveryStoryRunIsNotRead) {
    TempDir dir{"show-story-test"};
    StoryLog log(dir);
    log.build(/*closed=*/true);
    // Seq 3 is before the story's first run (5..10): the scoped check does
    // not see it, which is why the scope names the runs and sends the
    // reader to verify for the whole log.
    log.flip_byte(3);
    const Shown s = show(dir, log.grant_id);
    EXPECT_EQ(s.code, kExitOk) << s.story.dump();
    EXPECT_TRUE(verified(s));
}

TEST(ShowStory, AnUnknownGrantIsRefusedAfterTheVerification) {
    TempDir dir{"show-story-test"};
    StoryLog log(dir);
    log.build(/*closed=*/true);
    const Shown s = show(dir, audit::format_event_id(kNow, 4));  // filler, not a grant
    EXPECT_EQ(s.code, kExitRefused) << s.story.dump();
}

}  // namespace
}  // namespace bg::ctl
