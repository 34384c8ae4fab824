// SPDX-License-Identifier: ISC
// The dispatch table against PROTOCOL.md and against a real Daemon: every
// message type of the code has its row in PROTOCOL.md with the same name,
// the same fields (from the encoder) and the same permission (from the
// table); every request type behaves as its row says for an unprivileged
// peer; answer types, repeats of once-only requests and malformed frames
// close the connection.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/protocol.hpp"
#include "helper/daemon/daemon.hpp"
#include "helper/daemon/dispatch.hpp"

namespace bg {
namespace {

using proto::MessageType;

constexpr std::uint16_t kLastType = static_cast<std::uint16_t>(MessageType::StoryAnswer);

// One default-constructed message of each type, in type order.
template <std::size_t... I>
std::vector<proto::Message> every_message(std::index_sequence<I...>) {
    return {proto::Message(std::in_place_index<I>)...};
}
std::vector<proto::Message> every_message() {
    return every_message(std::make_index_sequence<std::variant_size_v<proto::Message>>());
}

std::string trim(std::string s) {
    const auto a = s.find_first_not_of(" \t");
    const auto b = s.find_last_not_of(" \t");
    return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

struct DocRow {
    std::string name;
    std::set<std::string> fields;
    std::string who;
    std::string once;
};

// The message table of PROTOCOL.md: "| N | Name | fields | who | once |".
// Field names are the `backticked` words outside parentheses and braces
// (those hold notes and nested fields), without a trailing "[]".
std::map<int, DocRow> read_protocol_table() {
    std::ifstream in(BG_PROTOCOL_MD);
    EXPECT_TRUE(in) << "cannot read " << BG_PROTOCOL_MD;
    std::map<int, DocRow> rows;
    std::string line;
    while (std::getline(in, line)) {
        if (line.size() < 3 || line[0] != '|' || !std::isdigit(static_cast<unsigned char>(line[2]))) continue;
        std::vector<std::string> cols;
        std::stringstream ss(line.substr(1));
        std::string col;
        while (std::getline(ss, col, '|')) cols.push_back(trim(col));
        if (cols.size() < 5) continue;
        DocRow row{cols[1], {}, cols[3], cols[4]};
        int depth = 0;
        for (std::size_t i = 0; i < cols[2].size(); ++i) {
            const char c = cols[2][i];
            if (c == '(' || c == '{') ++depth;
            if (c == ')' || c == '}') --depth;
            if (c == '`' && depth == 0) {
                const auto end = cols[2].find('`', i + 1);
                if (end == std::string::npos) break;
                std::string name = cols[2].substr(i + 1, end - i - 1);
                if (name.size() > 2 && name.ends_with("[]")) name.resize(name.size() - 2);
                row.fields.insert(name);
                i = end;
            }
        }
        rows[std::stoi(cols[0])] = row;
    }
    return rows;
}

// The JSON field names the encoder writes for a message.
std::set<std::string> encoded_fields(const proto::Message& m) {
    auto frame = proto::encode(m);
    EXPECT_TRUE(frame.ok());
    const std::string body(frame->begin() + proto::kHeaderBytes, frame->end());
    const nlohmann::json parsed = nlohmann::json::parse(body);
    std::set<std::string> out;
    for (auto it = parsed.begin(); it != parsed.end(); ++it) out.insert(it.key());
    return out;
}

TEST(ProtocolDocument, EveryMessageTypeHasItsRowWithTheSameNameFieldsAndPermission) {
    const auto doc = read_protocol_table();
    EXPECT_EQ(doc.size(), kLastType) << "PROTOCOL.md lists " << doc.size() << " types, the code " << kLastType;
    for (const proto::Message& m : every_message()) {
        const MessageType type = proto::type_of(m);
        const int number = static_cast<int>(type);
        const auto it = doc.find(number);
        ASSERT_NE(it, doc.end()) << "PROTOCOL.md has no row for type " << number;
        const DocRow& row = it->second;
        EXPECT_EQ(row.name, proto::type_name(type)) << "type " << number;
        EXPECT_EQ(row.fields, encoded_fields(m)) << "fields of " << row.name;
        const auto permission = permission_for(type);
        if (!proto::is_request(type)) {
            EXPECT_FALSE(permission) << row.name << " is an answer: no client may send it";
            EXPECT_EQ(row.who, "daemon") << row.name;
            continue;
        }
        ASSERT_TRUE(permission) << row.name << " has no row in the dispatch table";
        switch (permission->peers) {
            case AllowedPeers::Anyone: EXPECT_EQ(row.who.rfind("anyone", 0), 0u) << row.name << ": " << row.who; break;
            case AllowedPeers::Root: EXPECT_EQ(row.who, "root") << row.name; break;
            case AllowedPeers::Trusted: EXPECT_EQ(row.who, "root or a trusted front-end") << row.name; break;
        }
        EXPECT_EQ(row.once == "yes" || row.once == "**yes**", permission->once) << row.name << ": " << row.once;
    }
}

// And the approval requests, whose handlers allow the requester (wait,
// cancel) or an approver of the gate who is not the requester (approve,
// reject); the review requests; and the log and the story's seqs, whose
// handlers allow root and the policy's auditors.
TEST(DispatchTable, AnUnprivilegedPeerMaySendOnlyCheckGrantStatusRevokeTheApprovalAndReviewRequestsAndLog) {
    std::set<MessageType> anyone;
    for (const Permission& p : permission_table())
        if (p.peers == AllowedPeers::Anyone) anyone.insert(p.type);
    EXPECT_EQ(anyone, (std::set<MessageType>{MessageType::CheckRequest, MessageType::GrantRequest,
                                             MessageType::StatusRequest, MessageType::RevokeRequest,
                                             MessageType::WaitRequest, MessageType::CancelRequest,
                                             MessageType::PendingRequest, MessageType::ApproveRequest,
                                             MessageType::RejectRequest, MessageType::SubmitTokenRequest,
                                             MessageType::LogRequest, MessageType::ReviewRequest,
                                             MessageType::ReviewsRequest, MessageType::DbCredentialsRequest,
                                             MessageType::StoryRequest}));
}

// A real Daemon on a temporary state directory; the peer is an unprivileged uid.
class DispatchTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/bg-dispatch-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        ASSERT_EQ(::mkdir((dir_ + "/state").c_str(), 0700), 0);
        std::ofstream(dir_ + "/policy.toml") << "[defaults]\nmax_ttl = \"1h\"\nincident_pattern = '^INC-[0-9]+$'\n"
                                                "factors = [\"totp\"]\n[gate.g]\nrequesters = [\"root\"]\n";
        ::chmod((dir_ + "/policy.toml").c_str(), 0644);
        DaemonConfig config;
        config.state_dir = dir_ + "/state";
        config.policy_path = dir_ + "/policy.toml";
        config.send_to_journal = false;
        auto d = Daemon::create(config, 1'800'000'000);
        ASSERT_TRUE(d.ok()) << d.error().message;
        daemon_ = std::move(d).value();
        peer_.pid = ::getpid();
        peer_.uid = 65534;
        peer_.user = "nobody";
    }
    void TearDown() override {
        daemon_.reset();
        if (std::system(("rm -rf '" + dir_ + "'").c_str()) != 0) ADD_FAILURE() << "cannot remove " << dir_;
    }
    DispatchOutcome send(ConnectionState& state, proto::Message m) {
        proto::Received r;
        r.message = std::move(m);
        return dispatch(state, peer_, std::move(r), *daemon_, 1'800'000'010);
    }

    std::string dir_;
    std::unique_ptr<Daemon> daemon_;
    PeerIdentity peer_;
};

TEST_F(DispatchTest, EveryTypeDoesWhatItsRowSaysForAnUnprivilegedPeer) {
    for (const proto::Message& m : every_message()) {
        const MessageType type = proto::type_of(m);
        const std::string name(proto::type_name(type));
        ConnectionState state;
        const DispatchOutcome out = send(state, m);
        const auto permission = permission_for(type);
        if (!permission) {
            EXPECT_TRUE(out.close) << name;
            EXPECT_FALSE(out.answer) << name << ": an answer type gets no answer";
            EXPECT_NE(out.why.find("unexpected " + name), std::string::npos) << out.why;
            continue;
        }
        if (permission->peers == AllowedPeers::Anyone) {
            EXPECT_FALSE(out.close) << name << ": " << out.why;
            ASSERT_TRUE(out.answer) << name;
            // The handler ran: whatever it said, it is not the table's refusal.
            if (const auto* e = std::get_if<proto::ErrorAnswer>(&*out.answer)) {
                EXPECT_EQ(e->message.find("needs root"), std::string::npos) << name << ": " << e->message;
            }
            continue;
        }
        EXPECT_TRUE(out.close) << name;
        ASSERT_TRUE(out.answer) << name;
        const auto* e = std::get_if<proto::ErrorAnswer>(&*out.answer);
        ASSERT_NE(e, nullptr) << name;
        EXPECT_EQ(e->code, proto::ErrorCode::NotPermitted) << name;
        EXPECT_TRUE(state.closed) << name;
        // Nothing more is taken on that connection.
        EXPECT_TRUE(send(state, proto::CheckRequest{"", "g"}).close) << name;
    }
}

TEST_F(DispatchTest, OnceOnlyRequestsCloseTheConnectionTheSecondTime) {
    peer_.uid = 0;
    peer_.user = "root";
    peer_.trusted = true;
    int once_types = 0;
    for (const proto::Message& m : every_message()) {
        const auto permission = permission_for(proto::type_of(m));
        if (!permission) continue;
        ConnectionState state;
        const DispatchOutcome first = send(state, m);
        EXPECT_FALSE(first.close) << proto::type_name(proto::type_of(m)) << ": " << first.why;
        const DispatchOutcome second = send(state, m);
        EXPECT_EQ(second.close, permission->once) << proto::type_name(proto::type_of(m));
        if (permission->once) {
            ++once_types;
            EXPECT_FALSE(second.answer);
            EXPECT_NE(second.why.find("sent twice"), std::string::npos) << second.why;
        }
    }
    EXPECT_GE(once_types, 1);
}

TEST_F(DispatchTest, AMalformedFrameClosesWithoutAnAnswerAndSoDoesAnythingAfter) {
    ConnectionState state;
    proto::Received bad;
    bad.failure = proto::ReceiveFailure::Malformed;
    bad.error = "malformed GrantRequest: field 'gate' is not a string";
    const DispatchOutcome out = dispatch(state, peer_, std::move(bad), *daemon_, 1'800'000'010);
    EXPECT_TRUE(out.close);
    EXPECT_FALSE(out.answer);
    EXPECT_EQ(out.why, "malformed GrantRequest: field 'gate' is not a string");
    const DispatchOutcome after = send(state, proto::CheckRequest{"", "g"});
    EXPECT_TRUE(after.close);
    EXPECT_FALSE(after.answer);
}

TEST_F(DispatchTest, ATrustedOnlyRequestFromAnUntrustedRootlessPeerIsRefused) {
    ConnectionState state;
    const DispatchOutcome out = send(state, proto::SessionRequest{"nobody", "g", "command", "sudo", "", "", 1, "id", ""});
    EXPECT_TRUE(out.close);
    ASSERT_TRUE(out.answer);
    EXPECT_NE(std::get<proto::ErrorAnswer>(*out.answer).message.find("trusted front-end"), std::string::npos);
    peer_.trusted = true;  // a trusted front-end (root sets this from the policy)
    ConnectionState trusted;
    const DispatchOutcome ok = send(trusted, proto::SessionRequest{"nobody", "g", "command", "sudo", "", "", 1, "id", ""});
    EXPECT_FALSE(ok.close) << ok.why;
    ASSERT_TRUE(ok.answer);
    EXPECT_TRUE(std::holds_alternative<proto::SessionRecorded>(*ok.answer));
}

}  // namespace
}  // namespace bg
