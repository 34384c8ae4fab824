// SPDX-License-Identifier: ISC
// The permission table and per-connection state machine, without sockets.
#include <gtest/gtest.h>

#include "helper/daemon/dispatch.hpp"

namespace bg {
namespace {

using proto::MessageType;

PeerIdentity peer(uid_t uid) {
    PeerIdentity p;
    p.uid = uid;
    p.user = uid == 0 ? "root" : "alice";
    return p;
}

proto::Received got(proto::Message m) {
    proto::Received r;
    r.message = std::move(m);
    return r;
}

struct CountingHandler {
    int calls = 0;
    Handler fn() {
        return [this](const PeerIdentity&, const proto::Message&) {
            ++calls;
            return proto::Message(proto::CheckAnswer{});
        };
    }
};

TEST(Dispatch, EveryRequestTypeHasExactlyTheIntendedRow) {
    const std::vector<std::tuple<MessageType, AllowedPeers, bool>> expected = {
        {MessageType::CheckRequest, AllowedPeers::Anyone, false},
        {MessageType::GrantRequest, AllowedPeers::Anyone, true},
        {MessageType::StatusRequest, AllowedPeers::Anyone, false},
        {MessageType::RevokeRequest, AllowedPeers::Anyone, false},
        {MessageType::ExpireRequest, AllowedPeers::Root, false},
        {MessageType::LogRequest, AllowedPeers::Root, false},
        {MessageType::VerifyRequest, AllowedPeers::Root, true},
        {MessageType::PolicyCheckRequest, AllowedPeers::Root, true},
        {MessageType::PolicyReloadRequest, AllowedPeers::Root, true},
        {MessageType::EnrollTotpRequest, AllowedPeers::Root, true},
        {MessageType::EnrollYubikeyRequest, AllowedPeers::Root, true},
        {MessageType::SessionRequest, AllowedPeers::Trusted, false},
    };
    for (const auto& [type, peers, once] : expected) {
        const Permission* row = permission_for(type);
        ASSERT_NE(row, nullptr) << proto::type_name(type);
        EXPECT_EQ(row->peers, peers) << proto::type_name(type);
        EXPECT_EQ(row->once, once) << proto::type_name(type);
    }
    // Answers have no row: deny by default.
    for (std::uint16_t t = 1; t <= 25; t += 2) EXPECT_EQ(permission_for(static_cast<MessageType>(t)), nullptr) << t;
}

TEST(Dispatch, AnswerTypeFromClientClosesWithoutCallingTheHandler) {
    CountingHandler h;
    ConnectionState s;
    const auto out = dispatch(s, peer(1000), got(proto::Granted{"bg-2026-000001", 1}), h.fn());
    EXPECT_TRUE(out.close);
    EXPECT_FALSE(out.answer);
    EXPECT_EQ(h.calls, 0);
    EXPECT_TRUE(s.closed);
}

TEST(Dispatch, MalformedFrameCloses) {
    CountingHandler h;
    ConnectionState s;
    proto::Received bad;
    bad.failure = proto::ReceiveFailure::Malformed;
    bad.error = "bad magic";
    const auto out = dispatch(s, peer(0), bad, h.fn());
    EXPECT_TRUE(out.close);
    EXPECT_EQ(out.why, "bad magic");
    EXPECT_EQ(h.calls, 0);
}

TEST(Dispatch, RootOnlyFromUserIsRefusedThenClosed) {
    CountingHandler h;
    ConnectionState s;
    const auto out = dispatch(s, peer(1000), got(proto::EnrollTotpRequest{"alice", ""}), h.fn());
    EXPECT_TRUE(out.close);
    ASSERT_TRUE(out.answer);
    EXPECT_EQ(std::get<proto::ErrorAnswer>(*out.answer).code, proto::ErrorCode::NotPermitted);
    EXPECT_EQ(h.calls, 0);
    // Nothing more is accepted on that connection.
    const auto after = dispatch(s, peer(1000), got(proto::CheckRequest{"", "g"}), h.fn());
    EXPECT_TRUE(after.close);
    EXPECT_EQ(h.calls, 0);
}

TEST(Dispatch, OnceOnlyMessageTwiceCloses) {
    CountingHandler h;
    ConnectionState s;
    const proto::GrantRequest g{"", "g", "r", "INC-1", "", 0, "123456", "", ""};
    EXPECT_FALSE(dispatch(s, peer(1000), got(g), h.fn()).close);
    const auto second = dispatch(s, peer(1000), got(g), h.fn());
    EXPECT_TRUE(second.close);
    EXPECT_FALSE(second.answer);
    EXPECT_EQ(h.calls, 1);
}

TEST(Dispatch, RepeatableMessagesStayOpen) {
    CountingHandler h;
    ConnectionState s;
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(dispatch(s, peer(1000), got(proto::CheckRequest{"", "g"}), h.fn()).close);
    EXPECT_EQ(h.calls, 5);
    EXPECT_FALSE(dispatch(s, peer(0), got(proto::LogRequest{0, 0, 1}), h.fn()).close);
}

}  // namespace
}  // namespace bg
