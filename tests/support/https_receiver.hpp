// SPDX-License-Identifier: ISC
// An HTTP/1.1 server on 127.0.0.1 for the tests of the http-json, splunk-hec
// and loki sinks (issue 11): it stands for Splunk HEC, Loki or a webhook, so
// it is a faithful server of the protocol (request line, headers,
// Content-Length or chunked bodies, Expect: 100-continue, keep-alive), not a
// mock of the shipper, and the tests check what it recorded against each
// product's documented API. HTTPS with a certificate of the test
// (test_certificates.hpp), or plain HTTP.
//
// What it does with each request is switchable at run time: answer a status
// (with a body and headers), hang (never answer), trickle the answer one byte
// per interval (slowloris), answer a huge body, or close the connection in
// the middle of its answer. Each connection has its own thread, so a hung
// connection never holds up the next; a client may disconnect at any moment.
// Bounded: at most 512 connections open at once (more are closed as soon as
// accepted), a request head of at most 64 KiB, a body of at most max_body_bytes
// (413 and close beyond it); a malformed request gets 400 and a close.
// No gtest in here: failures throw std::runtime_error.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/file_io.hpp"
#include "tests/support/test_certificates.hpp"

namespace bg::test {

// One complete request as the receiver read it.
struct HttpRequest {
    std::string method;   // "POST"
    std::string target;   // the request target as sent: "/services/collector/event"
    std::string version;  // "HTTP/1.1"
    // Names lower-cased; a repeated header's values joined with ", " in order.
    std::map<std::string, std::string> headers;
    std::string body;      // the body's bytes (de-chunked when chunked)
    bool chunked = false;  // it came with Transfer-Encoding: chunked
    std::size_t connection = 0;  // the connection it came on, numbered from 1 in accept order
    // With ReceiverOptions::client_ca: the subject of the client certificate
    // the client presented and that verified against it; "" when none did.
    std::string client_certificate_subject;
    std::chrono::steady_clock::time_point received_at;  // when its last byte arrived

    // The header's value; "" when absent. `name` in any case.
    std::string header(const std::string& name) const;
};

// What the receiver does with a request once it has read it whole.
struct ReceiverBehaviour {
    enum class Kind {
        answer,            // status, headers, body (Content-Length; none for 1xx/204/304)
        hang,              // never answers; keeps the connection until the client closes it
        trickle,           // the whole answer (status, headers, body) one byte per interval
        huge_answer,       // status with a body of huge_bytes bytes
        close_mid_answer,  // status line and headers promising 1000 bytes, 10 bytes, then closes (no TLS close_notify)
    };
    Kind kind = Kind::answer;
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra answer headers ("Retry-After", "1")
    std::size_t huge_bytes = 10 * 1024 * 1024;
    std::chrono::milliseconds trickle_interval{1000};

    static ReceiverBehaviour answer(int status, std::string body = "",
                                    std::vector<std::pair<std::string, std::string>> headers = {});
    static ReceiverBehaviour hang();
    static ReceiverBehaviour trickle(std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
    static ReceiverBehaviour huge_answer(std::size_t bytes = 10 * 1024 * 1024, int status = 200);
    static ReceiverBehaviour close_mid_answer();
};

struct ReceiverOptions {
    // HTTPS with this certificate and key (certificates.server, or
    // certificates.other_server to present a wrong one); plain HTTP when empty.
    std::optional<CertificateFiles> tls;
    // With tls: ask clients for a certificate and verify it against this CA
    // file (certificates.ca); a client without one is still served, and
    // HttpRequest::client_certificate_subject says what it presented.
    std::string client_ca;
    std::size_t max_body_bytes = 64 * 1024 * 1024;
};

class HttpsReceiver {
public:
    // Listens on 127.0.0.1 and a port the kernel chooses, and serves at once.
    explicit HttpsReceiver(ReceiverOptions options);
    // HTTPS with `certificate`.
    explicit HttpsReceiver(const CertificateFiles& certificate);
    ~HttpsReceiver();  // stop()
    HttpsReceiver(const HttpsReceiver&) = delete;
    HttpsReceiver& operator=(const HttpsReceiver&) = delete;

    // Stops listening and closes every connection (waits for their threads):
    // the sink is down, connections are refused. What was recorded stays.
    void stop();
    // Listens again on the same port. No-op when serving.
    void start();

    std::uint16_t port() const { return port_; }
    // "https://localhost:PORT" or "http://127.0.0.1:PORT"; append the path.
    std::string url() const;

    // The behaviour for every request from now on (default: answer 200, empty body).
    void set_behaviour(ReceiverBehaviour behaviour);
    // A behaviour for one request only: queued ones are used first, in order,
    // then the set_behaviour one again ("500 twice, then 200").
    void queue_behaviour(ReceiverBehaviour behaviour);

    // Every complete request so far, in the order they were read.
    std::vector<HttpRequest> requests() const;
    std::size_t request_count() const;
    // True once at least `n` requests were read; false after `timeout`.
    bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const;
    void clear_requests();

    std::size_t connections_accepted() const { return connections_accepted_.load(); }
    // TLS handshakes that failed (a client refusing the certificate, say).
    std::size_t failed_handshakes() const { return failed_handshakes_.load(); }
    // Connections closed at once because 512 were already open.
    std::size_t refused_connections() const { return refused_connections_.load(); }
    // Requests answered 400, 413 or 431 (malformed or over the bounds).
    std::size_t refused_requests() const { return refused_requests_.load(); }
    // Bytes of answers written to clients so far (all connections).
    std::size_t bytes_sent() const { return bytes_sent_.load(); }

private:
    struct Worker {
        std::thread thread;
        std::shared_ptr<std::atomic<bool>> done;
    };
    class Connection;

    void listen_on(std::uint16_t port);
    void accept_loop();
    void serve(UniqueFd fd, std::size_t number);
    bool serve_one(Connection& c, std::size_t number);
    ReceiverBehaviour next_behaviour();
    void record(HttpRequest request);
    void reap_workers(bool all);

    ReceiverOptions options_;
    void* ssl_ctx_ = nullptr;  // SSL_CTX*, freed in the destructor
    std::uint16_t port_ = 0;
    UniqueFd listen_fd_;
    UniqueFd wake_fd_;  // eventfd: wakes the accept loop to stop
    std::atomic<bool> stopping_{false};
    std::thread accept_thread_;
    std::list<Worker> workers_;  // only the accept thread and stop() touch it, never at once

    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    ReceiverBehaviour behaviour_;
    std::deque<ReceiverBehaviour> queued_;
    std::vector<HttpRequest> requests_;

    std::atomic<std::size_t> connections_accepted_{0};
    std::atomic<std::size_t> failed_handshakes_{0};
    std::atomic<std::size_t> refused_requests_{0};
    std::atomic<std::size_t> refused_connections_{0};
    std::atomic<std::size_t> bytes_sent_{0};
};

}  // namespace bg::test
