// SPDX-License-Identifier: ISC
// The fixtures the remote-sink tests stand on (issue 11), each checked against
// a real client, the `curl` and `openssl` commands: the certificates verify
// with their CA and not with the other; a real systemd-journal-remote takes an
// upload, is read back, stops (connections refused) and starts again on the
// same port and file; the HTTP(S) receiver records what a client sent and
// does what each behaviour says; a process's memory is read from /proc.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "common/file_io.hpp"
#include "tests/support/files.hpp"
#include "tests/support/https_receiver.hpp"
#include "tests/support/journal_remote.hpp"
#include "tests/support/loopback.hpp"
#include "tests/support/polling.hpp"
#include "tests/support/process.hpp"
#include "tests/support/process_memory.hpp"
#include "tests/support/run_directory.hpp"
#include "tests/support/test_certificates.hpp"

namespace bg::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// curl's exit codes that the tests name.
constexpr int kCurlCouldNotConnect = 7;
constexpr int kCurlTimedOut = 28;
constexpr int kCurlPeerCertificateRefused = 60;

class ShipFixtures : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new ScratchDir("ship-fixtures");
        certificates_ = new TestCertificates(make_test_certificates(dir_->path()));
    }
    static void TearDownTestSuite() {
        delete certificates_;
        delete dir_;
        certificates_ = nullptr;
        dir_ = nullptr;
    }
    static const TestCertificates& certs() { return *certificates_; }
    static std::string file(const std::string& name) { return dir_->file(name); }

    // curl with `arguments`; stdout is "%{http_code}" (000 when none came).
    static ProcessResult curl(std::vector<std::string> arguments) {
        std::vector<std::string> argv{"/usr/bin/curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}"};
        argv.insert(argv.end(), arguments.begin(), arguments.end());
        RunOptions options;
        options.timeout = 30s;
        return run(argv, options);
    }

private:
    static inline ScratchDir* dir_ = nullptr;
    static inline TestCertificates* certificates_ = nullptr;
};

// ---- certificates ----

TEST_F(ShipFixtures, KeysAreReadableByTheirOwnerOnly) {
    for (const auto* files : {&certs().ca, &certs().server, &certs().client, &certs().other_ca, &certs().other_server}) {
        struct stat st {};
        ASSERT_EQ(::stat(files->key.c_str(), &st), 0) << files->key;
        EXPECT_EQ(st.st_mode & 07777, 0600u) << files->key;
        ASSERT_EQ(::stat(files->cert.c_str(), &st), 0) << files->cert;
    }
}

TEST_F(ShipFixtures, CertificatesVerifyWithTheirOwnCaOnly) {
    const auto verify = [](const std::string& ca, const std::string& cert, const std::string& purpose) {
        return run({"/usr/bin/openssl", "verify", "-purpose", purpose, "-CAfile", ca, cert}).exit_code;
    };
    EXPECT_EQ(verify(certs().ca.cert, certs().server.cert, "sslserver"), 0);
    EXPECT_EQ(verify(certs().ca.cert, certs().client.cert, "sslclient"), 0);
    EXPECT_EQ(verify(certs().other_ca.cert, certs().other_server.cert, "sslserver"), 0);
    EXPECT_NE(verify(certs().ca.cert, certs().other_server.cert, "sslserver"), 0);
    EXPECT_NE(verify(certs().other_ca.cert, certs().server.cert, "sslserver"), 0);
    EXPECT_NE(verify(certs().ca.cert, certs().client.cert, "sslserver"), 0) << "a client certificate is not a server's";
    const ProcessResult names = run({"/usr/bin/openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", certs().server.cert});
    EXPECT_NE(names.out.find("DNS:localhost"), std::string::npos) << names.out;
    EXPECT_NE(names.out.find("IP Address:127.0.0.1"), std::string::npos) << names.out;
}

TEST_F(ShipFixtures, CurlTrustsTheReceiverWithTheRightCaAndRefusesTheWrongCertificate) {
    HttpsReceiver right(certs().server);
    EXPECT_EQ(curl({"--cacert", certs().ca.cert, right.url() + "/"}).out, "200");
    EXPECT_EQ(curl({"--cacert", certs().ca.cert, "https://127.0.0.1:" + std::to_string(right.port()) + "/"}).out, "200");
    EXPECT_EQ(curl({"--cacert", certs().other_ca.cert, right.url() + "/"}).exit_code, kCurlPeerCertificateRefused);
    EXPECT_TRUE(tls_handshake_verifies(right.port(), certs().ca.cert, "localhost", 5s));
    EXPECT_FALSE(tls_handshake_verifies(right.port(), certs().other_ca.cert, "localhost", 5s));

    HttpsReceiver wrong(certs().other_server);
    EXPECT_EQ(curl({"--cacert", certs().ca.cert, wrong.url() + "/"}).exit_code, kCurlPeerCertificateRefused);
    EXPECT_EQ(wrong.request_count(), 0u);
    // The receiver's thread counts the failed handshake after curl has gone.
    EXPECT_TRUE(eventually([&] { return wrong.failed_handshakes() >= 1u; }, 5s)) << wrong.failed_handshakes();
}

// ---- the receiver ----

TEST_F(ShipFixtures, ReceiverRecordsAPostAsSent) {
    HttpsReceiver receiver(certs().server);
    const std::string body = R"({"event":{"seq":1},"sourcetype":"breakglass"})";
    const ProcessResult r = curl({"--cacert", certs().ca.cert, "-H", "Authorization: Splunk 0123-token", "-H",
                                  "Content-Type: application/json", "-H", "X-Twice: a", "-H", "x-twice: b",
                                  "--data-binary", body, receiver.url() + "/services/collector/event"});
    ASSERT_EQ(r.out, "200") << r.err;
    ASSERT_TRUE(receiver.wait_for_requests(1, 5s));
    const HttpRequest q = receiver.requests().at(0);
    EXPECT_EQ(q.method, "POST");
    EXPECT_EQ(q.target, "/services/collector/event");
    EXPECT_EQ(q.version, "HTTP/1.1");
    EXPECT_EQ(q.headers.at("authorization"), "Splunk 0123-token");
    EXPECT_EQ(q.header("Content-Type"), "application/json");
    EXPECT_EQ(q.header("x-twice"), "a, b");
    EXPECT_EQ(q.header("content-length"), std::to_string(body.size()));
    EXPECT_EQ(q.body, body);
    EXPECT_FALSE(q.chunked);
    EXPECT_EQ(q.client_certificate_subject, "");
}

TEST_F(ShipFixtures, ReceiverReadsChunkedBodiesAndKeepsConnectionsAlive) {
    HttpsReceiver receiver(certs().server);
    std::string big;
    for (int i = 0; big.size() < 300000; ++i) big += "{\"line\":" + std::to_string(i) + "}\n";
    write_file(file("big.jsonl"), big, 0644);
    // Two requests in one curl: the second reuses the connection.
    const ProcessResult r = curl({"--cacert", certs().ca.cert, "-H", "Transfer-Encoding: chunked", "--data-binary",
                                  "@" + file("big.jsonl"), receiver.url() + "/loki/api/v1/push", "--next", "--cacert",
                                  certs().ca.cert, "-o", "/dev/null", receiver.url() + "/second"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_TRUE(receiver.wait_for_requests(2, 5s));
    const auto requests = receiver.requests();
    EXPECT_TRUE(requests[0].chunked);
    EXPECT_EQ(requests[0].header("transfer-encoding"), "chunked");
    EXPECT_TRUE(requests[0].body == big) << "the body read is " << requests[0].body.size() << " bytes, not " << big.size();
    EXPECT_EQ(requests[1].method, "GET");
    EXPECT_EQ(requests[1].target, "/second");
    EXPECT_EQ(requests[1].connection, requests[0].connection);
    EXPECT_EQ(receiver.connections_accepted(), 1u);
}

TEST_F(ShipFixtures, ReceiverNamesTheClientCertificateItVerified) {
    ReceiverOptions options;
    options.tls = certs().server;
    options.client_ca = certs().ca.cert;
    HttpsReceiver receiver(options);
    ASSERT_EQ(curl({"--cacert", certs().ca.cert, "--cert", certs().client.cert, "--key", certs().client.key,
                    receiver.url() + "/with"}).out,
              "200");
    ASSERT_EQ(curl({"--cacert", certs().ca.cert, receiver.url() + "/without"}).out, "200");
    ASSERT_EQ(curl({"--cacert", certs().ca.cert, "--cert", certs().other_server.cert, "--key", certs().other_server.key,
                    receiver.url() + "/unrelated"}).out,
              "200");
    ASSERT_TRUE(receiver.wait_for_requests(3, 5s));
    const auto requests = receiver.requests();
    EXPECT_NE(requests[0].client_certificate_subject.find("CN=breakglass test client"), std::string::npos)
        << requests[0].client_certificate_subject;
    EXPECT_EQ(requests[1].client_certificate_subject, "");
    EXPECT_EQ(requests[2].client_certificate_subject, "") << "a certificate from another CA is not named";
}

TEST_F(ShipFixtures, ReceiverAnswersTheStatusItIsSetAndQueuedOnesFirst) {
    HttpsReceiver receiver(certs().server);
    const std::string url = receiver.url() + "/hook";
    receiver.set_behaviour(ReceiverBehaviour::answer(500, R"({"error":"down"})"));
    EXPECT_EQ(curl({"--cacert", certs().ca.cert, "-d", "x", url}).out, "500");
    receiver.set_behaviour(ReceiverBehaviour::answer(204));
    receiver.queue_behaviour(ReceiverBehaviour::answer(429, "", {{"Retry-After", "1"}}));
    receiver.queue_behaviour(ReceiverBehaviour::answer(202));
    const ProcessResult limited = run({"/usr/bin/curl", "-sS", "-D", "-", "-o", "/dev/null", "--cacert",
                                       certs().ca.cert, "-d", "x", url});
    EXPECT_NE(limited.out.find("HTTP/1.1 429 Too Many Requests\r\n"), std::string::npos) << limited.out;
    EXPECT_NE(limited.out.find("Retry-After: 1\r\n"), std::string::npos) << limited.out;
    EXPECT_EQ(curl({"--cacert", certs().ca.cert, "-d", "x", url}).out, "202");
    EXPECT_EQ(curl({"--cacert", certs().ca.cert, "-d", "x", url}).out, "204");
    EXPECT_EQ(curl({"--cacert", certs().ca.cert, "-d", "x", url}).out, "204");
    EXPECT_EQ(receiver.request_count(), 5u);
}

TEST_F(ShipFixtures, AHangingReceiverTimesOutTheClientAndServesTheNextOne) {
    HttpsReceiver receiver(certs().server);
    receiver.set_behaviour(ReceiverBehaviour::hang());
    const auto started = Clock::now();
    const ProcessResult hung = curl({"--cacert", certs().ca.cert, "--max-time", "1", "-d", "x", receiver.url() + "/"});
    EXPECT_EQ(hung.exit_code, kCurlTimedOut) << hung.err;
    EXPECT_LT(Clock::now() - started, 5s);
    EXPECT_EQ(receiver.request_count(), 1u) << "it read the request, it just never answers";
    receiver.set_behaviour(ReceiverBehaviour::answer(200));
    EXPECT_EQ(curl({"--cacert", certs().ca.cert, "-d", "x", receiver.url() + "/"}).out, "200");
}

TEST_F(ShipFixtures, ATricklingReceiverSendsOneBytePerInterval) {
    HttpsReceiver receiver(certs().server);
    receiver.set_behaviour(ReceiverBehaviour::trickle(1s));
    const std::size_t before = receiver.bytes_sent();
    const ProcessResult slow = curl({"--cacert", certs().ca.cert, "--max-time", "2", "-d", "x", receiver.url() + "/"});
    EXPECT_EQ(slow.exit_code, kCurlTimedOut) << slow.err;
    EXPECT_GE(receiver.bytes_sent() - before, 1u);
    EXPECT_LE(receiver.bytes_sent() - before, 3u);
    // And what it trickles is a whole answer, given the time (a short interval here).
    receiver.set_behaviour(ReceiverBehaviour::trickle(2ms));
    EXPECT_EQ(curl({"--cacert", certs().ca.cert, "--max-time", "10", "-d", "x", receiver.url() + "/"}).out, "200");
}

TEST_F(ShipFixtures, AHugeAnswerArrivesWhole) {
    HttpsReceiver receiver(certs().server);
    receiver.set_behaviour(ReceiverBehaviour::huge_answer());
    const ProcessResult r = run({"/usr/bin/curl", "-sS", "--max-time", "20", "-o", file("huge"), "-w",
                                 "%{http_code} %{size_download}", "--cacert", certs().ca.cert, "-d", "x", receiver.url() + "/"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "200 10485760");
    ::unlink(file("huge").c_str());
}

TEST_F(ShipFixtures, AnAnswerCutShortIsAnErrorForTheClient) {
    HttpsReceiver receiver(certs().server);
    receiver.set_behaviour(ReceiverBehaviour::close_mid_answer());
    const ProcessResult r = run({"/usr/bin/curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                                 "--cacert", certs().ca.cert, "-d", "x", receiver.url() + "/"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.exit_code, kCurlTimedOut);
    EXPECT_EQ(r.out, "200 10") << r.err;
}

TEST_F(ShipFixtures, PlainHttpReceiverRefusesMalformedAndOversizedRequests) {
    ReceiverOptions options;
    options.max_body_bytes = 1000;
    HttpsReceiver receiver(options);
    EXPECT_EQ(receiver.url().rfind("http://127.0.0.1:", 0), 0u);
    EXPECT_EQ(curl({"-d", "small", receiver.url() + "/plain"}).out, "200");
    EXPECT_EQ(curl({"--data-binary", std::string(1001, 'a'), receiver.url() + "/big"}).out, "413");
    EXPECT_EQ(curl({"-H", "Bad Header: x", "-d", "x", receiver.url() + "/bad"}).out, "400");
    EXPECT_EQ(curl({"-H", "X-Long: " + std::string(70000, 'a'), receiver.url() + "/long"}).out, "431");
    EXPECT_EQ(receiver.request_count(), 1u);
    EXPECT_EQ(receiver.refused_requests(), 3u);
}

TEST_F(ShipFixtures, ReceiverSurvivesClientsThatLeaveEarly) {
    HttpsReceiver receiver(certs().server);
    // Before the handshake ends, and in the middle of a request's head and body.
    EXPECT_TRUE(tcp_connects(receiver.port(), 2s));
    EXPECT_NE(curl({"--cacert", certs().other_ca.cert, receiver.url() + "/"}).exit_code, 0);
    const ProcessResult half_body = curl({"--cacert", certs().ca.cert, "--max-time", "1", "-H", "Content-Length: 100",
                                          "--data-binary", "only ten b", receiver.url() + "/"});
    EXPECT_EQ(half_body.exit_code, kCurlTimedOut) << half_body.err;
    // In the middle of a 10 MB answer: curl refuses it once it sees the length and closes.
    receiver.set_behaviour(ReceiverBehaviour::huge_answer());
    EXPECT_NE(curl({"--cacert", certs().ca.cert, "--max-filesize", "1000", "-d", "x", receiver.url() + "/"}).exit_code, 0);
    receiver.set_behaviour(ReceiverBehaviour::answer(202));
    EXPECT_EQ(curl({"--cacert", certs().ca.cert, "-d", "x", receiver.url() + "/after"}).out, "202");
    EXPECT_GE(receiver.failed_handshakes(), 2u);
    EXPECT_EQ(receiver.requests().back().target, "/after");
}

TEST_F(ShipFixtures, ReceiverClosesConnectionsBeyondItsBound) {
    HttpsReceiver receiver(ReceiverOptions{});
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(receiver.port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const auto open_connection = [&] {
        UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) return UniqueFd();
        return fd;
    };
    std::vector<UniqueFd> idle;
    for (int i = 0; i < 512; ++i) idle.push_back(open_connection());
    ASSERT_TRUE(eventually([&] { return receiver.connections_accepted() == 512; }, 10s));
    const UniqueFd one_too_many = open_connection();
    ASSERT_TRUE(one_too_many.valid());
    pollfd p{one_too_many.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1);
    char byte = 0;
    EXPECT_EQ(::recv(one_too_many.get(), &byte, 1, 0), 0) << "closed at once";
    EXPECT_EQ(receiver.refused_connections(), 1u);
    idle.clear();
    EXPECT_TRUE(eventually([&] { return curl({receiver.url() + "/"}).out == "200"; }, 10s, 100ms));
}

TEST_F(ShipFixtures, AStoppedReceiverRefusesConnectionsAndStartsAgainOnItsPort) {
    HttpsReceiver receiver(certs().server);
    const std::uint16_t port = receiver.port();
    receiver.set_behaviour(ReceiverBehaviour::hang());
    auto hung = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/bin/curl", "-sS", "--cacert", certs().ca.cert, "-d", "x", receiver.url() + "/"},
        SpawnOptions{});
    ASSERT_TRUE(receiver.wait_for_requests(1, 5s));
    receiver.stop();  // ends the hung connection too
    EXPECT_TRUE(hung->ended_within(5s));
    EXPECT_EQ(curl({"--cacert", certs().ca.cert, receiver.url() + "/"}).exit_code, kCurlCouldNotConnect);
    receiver.start();
    receiver.set_behaviour(ReceiverBehaviour::answer(200));
    EXPECT_EQ(receiver.port(), port);
    EXPECT_EQ(curl({"--cacert", certs().ca.cert, receiver.url() + "/"}).out, "200");
    EXPECT_EQ(receiver.request_count(), 2u);
}

// ---- systemd-journal-remote ----

std::string export_entry(const std::string& message, const std::string& record) {
    return "__REALTIME_TIMESTAMP=1700000000000000\nMESSAGE=" + message +
           "\nSYSLOG_IDENTIFIER=breakglassd\nBREAKGLASS_SEQ=1\nREPEATED=one\nREPEATED=two\nBREAKGLASS_RECORD=" +
           record + "\n\n";
}

TEST_F(ShipFixtures, JournalRemoteStoresAnUploadAndStartsAgainAfterAnOutage) {
    ScratchDir out("journal-remote");
    JournalRemote remote(out.path(), certs());
    const auto upload = [&](const std::string& body) {
        write_file(out.file("upload.export"), body, 0644);
        return curl({"--cacert", certs().ca.cert, "-H", "Content-Type: application/vnd.fdo.journal", "--data-binary",
                     "@" + out.file("upload.export"), remote.upload_url()});
    };
    EXPECT_EQ(remote.entry_count(), 0u);
    ASSERT_EQ(upload(export_entry("first", R"({"seq":1})") + export_entry("second", R"({"seq":2})")).out, "202");
    ASSERT_TRUE(remote.wait_for_entries(2, 5s));
    EXPECT_EQ(remote.entry_count(), 2u);
    EXPECT_EQ(remote.records(), (std::vector<std::string>{R"({"seq":1})", R"({"seq":2})"}));
    const auto entries = remote.entries();
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(field_of(entries[0], "MESSAGE"), "first");
    EXPECT_EQ(field_of(entries[0], "SYSLOG_IDENTIFIER"), "breakglassd");
    EXPECT_EQ(field_of(entries[0], "__REALTIME_TIMESTAMP"), "1700000000000000");
    EXPECT_EQ(entries[0].at("REPEATED"), (std::vector<std::string>{"one", "two"}));

    remote.stop();
    EXPECT_EQ(upload(export_entry("lost", "{}")).exit_code, kCurlCouldNotConnect);
    const std::uint16_t port = remote.port();
    remote.start();
    EXPECT_EQ(remote.port(), port);
    // A record longer than sd-journal's default 64 KiB field threshold comes back whole.
    const std::string long_record = "{\"seq\":3,\"pad\":\"" + std::string(100000, 'p') + "\"}";
    ASSERT_EQ(upload(export_entry("third", long_record)).out, "202");
    EXPECT_EQ(remote.records(), (std::vector<std::string>{R"({"seq":1})", R"({"seq":2})", long_record}));

    // What journalctl exports says the same.
    const auto exported = parse_journal_export(remote.export_text());
    ASSERT_EQ(exported.size(), 3u);
    EXPECT_EQ(field_of(exported[2], "BREAKGLASS_RECORD"), long_record);
    EXPECT_EQ(field_of(exported[2], "MESSAGE"), "third");
}

TEST_F(ShipFixtures, JournalRemoteOverPlainHttp) {
    ScratchDir out("journal-remote-http");
    JournalRemote remote(out.path(), certs(), JournalRemote::Transport::http);
    EXPECT_EQ(remote.url().rfind("http://127.0.0.1:", 0), 0u);
    write_file(out.file("upload.export"), export_entry("plain", R"({"seq":9})"), 0644);
    EXPECT_EQ(curl({"-H", "Content-Type: application/vnd.fdo.journal", "--data-binary", "@" + out.file("upload.export"),
                    remote.upload_url()}).out,
              "202");
    EXPECT_EQ(remote.records(), std::vector<std::string>{R"({"seq":9})"});
}

TEST(JournalExport, BinarySafeFieldsAndEntryBreaksAreRead) {
    std::string text = "A=1\nB=x=y\n\nMULTI\n";
    const std::string value = "line one\nline two";
    for (int i = 0; i < 8; ++i) text += static_cast<char>(i == 0 ? value.size() : 0);
    text += value + "\nC=3\n\n";
    const auto entries = parse_journal_export(text);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(field_of(entries[0], "B"), "x=y");
    EXPECT_EQ(field_of(entries[1], "MULTI"), value);
    EXPECT_EQ(field_of(entries[1], "C"), "3");
    EXPECT_THROW(parse_journal_export("MULTI\n\x05"), std::runtime_error);
    EXPECT_THROW(parse_journal_export(std::string("MULTI\n\x40\0\0\0\0\0\0\0ab\n", 15)), std::runtime_error);
    EXPECT_THROW(parse_journal_export("A=1"), std::runtime_error);
}

TEST(UnusedLoopbackPort, RefusesConnections) {
    EXPECT_FALSE(tcp_connects(unused_loopback_port(), 2s));
}

// ---- a process's memory ----

TEST(ProcessMemory, ParsesVmRssAndVmHwm) {
    const auto m = parse_process_memory("Name:\tx\nVmPeak:\t  9 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\n");
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->rss_kib, 1024u);
    EXPECT_EQ(m->peak_kib, 2048u);
    EXPECT_FALSE(parse_process_memory("Name:\tkthreadd\nState:\tS\n").has_value());
    EXPECT_FALSE(parse_process_memory("VmHWM:\t2048 kB\nVmRSS:\t 1x24 kB\n").has_value());
    EXPECT_FALSE(parse_process_memory("VmHWM:\t2048 kB\nVmRSSx:\t 1024 kB\n").has_value());
}

TEST(ProcessMemory, SeesThisProcessGrowAndADeadOneGone) {
    const auto before = process_memory(::getpid());
    ASSERT_TRUE(before.has_value());
    std::vector<char> touched(64 * 1024 * 1024, 1);
    const auto after = process_memory(::getpid());
    ASSERT_TRUE(after.has_value());
    EXPECT_GE(after->rss_kib, before->rss_kib + 60 * 1024) << static_cast<int>(touched[12345]);
    EXPECT_GE(after->peak_kib, after->rss_kib);

    ChildProcess child({"/bin/sleep", "60"}, SpawnOptions{});
    const pid_t pid = child.pid();
    EXPECT_TRUE(process_memory(pid).has_value());
    child.stop(SIGKILL);
    EXPECT_FALSE(process_memory(pid).has_value());
}

}  // namespace
}  // namespace bg::test
