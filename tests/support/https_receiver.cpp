// SPDX-License-Identifier: ISC
#include "tests/support/https_receiver.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <stdexcept>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bg::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxHeadBytes = 64 * 1024;
constexpr std::size_t kMaxChunkLineBytes = 1024;
constexpr int kPollSliceMs = 100;  // how often a blocked connection looks at `stopping`
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
constexpr std::size_t kMaxConnections = 512;  // open at once; more are closed as soon as accepted

std::string lower(std::string s) {
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c)) continue;
        if (std::strchr("!#$%&'*+-.^_`|~", ch) == nullptr || ch == '\0') return false;
    }
    return true;
}

const char* reason_of(int status) {
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 304: return "Not Modified";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 408: return "Request Timeout";
        case 413: return "Content Too Large";
        case 429: return "Too Many Requests";
        case 500: return "Internal Server Error";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        default: return "Status";
    }
}

bool has_no_body(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

std::string answer_head(int status, std::size_t content_length,
                        const std::vector<std::pair<std::string, std::string>>& headers, bool closing) {
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason_of(status) + "\r\n";
    out += "Server: breakglass-test-receiver\r\n";
    if (!has_no_body(status)) out += "Content-Length: " + std::to_string(content_length) + "\r\n";
    bool typed = false;
    for (const auto& [name, value] : headers) {
        out += name + ": " + value + "\r\n";
        if (lower(name) == "content-type") typed = true;
    }
    if (!typed && !has_no_body(status) && content_length > 0) out += "Content-Type: application/json\r\n";
    if (closing) out += "Connection: close\r\n";
    out += "\r\n";
    return out;
}

struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
};

// The SIGPIPE of a write to a closed connection goes to the writing thread;
// blocked there, it never ends the test process.
void block_sigpipe() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace

std::string HttpRequest::header(const std::string& name) const {
    const auto it = headers.find(lower(name));
    return it == headers.end() ? std::string() : it->second;
}

ReceiverBehaviour ReceiverBehaviour::answer(int status, std::string body,
                                            std::vector<std::pair<std::string, std::string>> headers) {
    ReceiverBehaviour b;
    b.kind = Kind::answer;
    b.status = status;
    b.body = std::move(body);
    b.headers = std::move(headers);
    return b;
}
ReceiverBehaviour ReceiverBehaviour::hang() {
    ReceiverBehaviour b;
    b.kind = Kind::hang;
    return b;
}
ReceiverBehaviour ReceiverBehaviour::trickle(std::chrono::milliseconds interval) {
    ReceiverBehaviour b;
    b.kind = Kind::trickle;
    b.trickle_interval = interval;
    b.body = "{\"text\":\"Success\",\"code\":0}";
    return b;
}
ReceiverBehaviour ReceiverBehaviour::huge_answer(std::size_t bytes, int status) {
    ReceiverBehaviour b;
    b.kind = Kind::huge_answer;
    b.huge_bytes = bytes;
    b.status = status;
    return b;
}
ReceiverBehaviour ReceiverBehaviour::close_mid_answer() {
    ReceiverBehaviour b;
    b.kind = Kind::close_mid_answer;
    return b;
}

// One accepted connection: plain or TLS over a non-blocking socket, every
// wait sliced so that the receiver's stop is seen within kPollSliceMs.
class HttpsReceiver::Connection {
public:
    Connection(UniqueFd fd, SSL* ssl, const std::atomic<bool>& stopping, std::atomic<std::size_t>& sent)
        : fd_(std::move(fd)), ssl_(ssl), stopping_(stopping), sent_(sent) {}

    bool tls() const { return ssl_ != nullptr; }
    SSL* ssl() const { return ssl_.get(); }

    bool handshake() {
        const auto deadline = Clock::now() + kHandshakeTimeout;
        for (;;) {
            const int r = SSL_accept(ssl_.get());
            if (r == 1) return true;
            const int e = SSL_get_error(ssl_.get(), r);
            ERR_clear_error();
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return false;
            if (Clock::now() >= deadline || !wait_for(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT)) return false;
        }
    }

    // Appends what arrives to in_; false at the end of the stream, on an error or when stopping.
    bool read_more() {
        char buf[16384];
        for (;;) {
            if (stopping_) return false;
            if (ssl_) {
                const int r = SSL_read(ssl_.get(), buf, sizeof buf);
                if (r > 0) {
                    in_.append(buf, static_cast<std::size_t>(r));
                    return true;
                }
                const int e = SSL_get_error(ssl_.get(), r);
                ERR_clear_error();
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                    if (!wait_for(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT)) return false;
                    continue;
                }
                return false;
            }
            const ssize_t r = ::recv(fd_.get(), buf, sizeof buf, 0);
            if (r > 0) {
                in_.append(buf, static_cast<std::size_t>(r));
                return true;
            }
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (!wait_for(POLLIN)) return false;
                continue;
            }
            return false;
        }
    }

    // A line ending in CRLF (returned without it); false when none of at most `max` bytes comes.
    bool read_line(std::string& line, std::size_t max) {
        for (;;) {
            const std::size_t end = in_.find("\r\n");
            if (end != std::string::npos) {
                if (end > max) return false;
                line = in_.substr(0, end);
                in_.erase(0, end + 2);
                return true;
            }
            if (in_.size() > max || !read_more()) return false;
        }
    }

    bool read_exact(std::size_t n, std::string& out) {
        while (in_.size() < n)
            if (!read_more()) return false;
        out.append(in_, 0, n);
        in_.erase(0, n);
        return true;
    }

    std::string& buffer() { return in_; }

    bool write_all(std::string_view data) {
        while (!data.empty()) {
            if (stopping_) return false;
            const std::size_t piece = std::min<std::size_t>(data.size(), 64 * 1024);
            if (ssl_) {
                const int r = SSL_write(ssl_.get(), data.data(), static_cast<int>(piece));
                if (r > 0) {
                    data.remove_prefix(static_cast<std::size_t>(r));
                    sent_ += static_cast<std::size_t>(r);
                    continue;
                }
                const int e = SSL_get_error(ssl_.get(), r);
                ERR_clear_error();
                if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
                    wait_for(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT))
                    continue;
                return false;
            }
            const ssize_t r = ::send(fd_.get(), data.data(), piece, MSG_NOSIGNAL);
            if (r > 0) {
                data.remove_prefix(static_cast<std::size_t>(r));
                sent_ += static_cast<std::size_t>(r);
                continue;
            }
            if (r < 0 && (errno == EAGAIN || errno == EINTR) && wait_for(POLLOUT)) continue;
            return false;
        }
        return true;
    }

    // Waits `how_long` unless the client closes or the receiver stops first; false then.
    bool pause(std::chrono::milliseconds how_long) {
        const auto until = Clock::now() + how_long;
        while (Clock::now() < until) {
            if (stopping_ || peer_closed()) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(std::min<std::int64_t>(
                kPollSliceMs,
                std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count() + 1)));
        }
        return !stopping_ && !peer_closed();
    }

    // Until the client closes or the receiver stops; whatever the client sends is read and dropped.
    void hold() {
        while (read_more()) in_.clear();
    }

    // A TLS close_notify for an orderly end (not for close_mid_answer).
    void close_cleanly() {
        if (ssl_) {
            SSL_shutdown(ssl_.get());
            ERR_clear_error();
        }
    }

private:
    bool peer_closed() const {
        pollfd p{fd_.get(), POLLRDHUP, 0};
        return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
    }

    // Until the socket is ready for `events`; false when stopping or on a hang-up without data.
    bool wait_for(short events) {
        for (;;) {
            if (stopping_) return false;
            pollfd p{fd_.get(), events, 0};
            const int r = ::poll(&p, 1, kPollSliceMs);
            if (r < 0 && errno != EINTR) return false;
            if (r == 1) {
                if ((p.revents & events) != 0) return true;
                if ((p.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) return false;
            }
        }
    }

    UniqueFd fd_;
    std::unique_ptr<SSL, SslFree> ssl_;
    const std::atomic<bool>& stopping_;
    std::atomic<std::size_t>& sent_;
    std::string in_;
};

HttpsReceiver::HttpsReceiver(const CertificateFiles& certificate) : HttpsReceiver(ReceiverOptions{certificate, "", 64 * 1024 * 1024}) {}

HttpsReceiver::HttpsReceiver(ReceiverOptions options) : options_(std::move(options)) {
    if (options_.tls) {
        SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
        if (ctx == nullptr) throw std::runtime_error("SSL_CTX_new failed");
        ssl_ctx_ = ctx;
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        if (SSL_CTX_use_certificate_chain_file(ctx, options_.tls->cert.c_str()) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, options_.tls->key.c_str(), SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            SSL_CTX_free(ctx);
            ssl_ctx_ = nullptr;
            throw std::runtime_error("the receiver cannot load " + options_.tls->cert + " / " + options_.tls->key);
        }
        if (!options_.client_ca.empty()) {
            if (SSL_CTX_load_verify_locations(ctx, options_.client_ca.c_str(), nullptr) != 1) {
                SSL_CTX_free(ctx);
                ssl_ctx_ = nullptr;
                throw std::runtime_error("the receiver cannot load the client CA " + options_.client_ca);
            }
            // Ask, verify, but serve a client without one: the request says what it presented.
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
        }
    }
    wake_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_fd_.valid()) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
    listen_on(0);
}

HttpsReceiver::~HttpsReceiver() {
    stop();
    if (ssl_ctx_ != nullptr) SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
}

std::string HttpsReceiver::url() const {
    return options_.tls ? "https://localhost:" + std::to_string(port_) : "http://127.0.0.1:" + std::to_string(port_);
}

void HttpsReceiver::listen_on(std::uint16_t port) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof a;
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || ::listen(fd.get(), 1024) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &length) != 0)
        throw std::runtime_error("the receiver cannot listen on 127.0.0.1:" + std::to_string(port) + ": " +
                                 std::strerror(errno));
    port_ = ntohs(a.sin_port);
    listen_fd_ = std::move(fd);
    stopping_ = false;
    accept_thread_ = std::thread([this] { accept_loop(); });
}

void HttpsReceiver::start() {
    if (accept_thread_.joinable()) return;
    // The port may linger for a moment after stop(): SO_REUSEADDR covers TIME_WAIT; retry briefly for the rest.
    for (int attempt = 0;; ++attempt) {
        try {
            listen_on(port_);
            return;
        } catch (const std::exception&) {
            if (attempt >= 25) throw;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    }
}

void HttpsReceiver::stop() {
    if (!accept_thread_.joinable()) return;
    stopping_ = true;
    const std::uint64_t one = 1;
    (void)!::write(wake_fd_.get(), &one, sizeof one);
    accept_thread_.join();
    reap_workers(true);
    listen_fd_.reset();
    std::uint64_t drained = 0;
    (void)!::read(wake_fd_.get(), &drained, sizeof drained);
    changed_.notify_all();
}

void HttpsReceiver::reap_workers(bool all) {
    for (auto it = workers_.begin(); it != workers_.end();) {
        if (all || it->done->load()) {
            it->thread.join();
            it = workers_.erase(it);
        } else {
            ++it;
        }
    }
}

void HttpsReceiver::accept_loop() {
    block_sigpipe();
    while (!stopping_) {
        pollfd p[2] = {{listen_fd_.get(), POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}};
        const int r = ::poll(p, 2, 1000);
        reap_workers(false);
        if (r <= 0 || (p[1].revents & POLLIN) != 0) continue;
        UniqueFd client(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
        if (!client.valid()) continue;
        if (workers_.size() >= kMaxConnections) {
            ++refused_connections_;
            continue;  // closed here: a client leaking connections cannot exhaust the test's threads
        }
        const std::size_t number = ++connections_accepted_;
        auto done = std::make_shared<std::atomic<bool>>(false);
        workers_.push_back(Worker{std::thread([this, fd = std::move(client), number, done]() mutable {
                                      serve(std::move(fd), number);
                                      *done = true;
                                  }),
                                  done});
    }
}

void HttpsReceiver::serve(UniqueFd fd, std::size_t number) {
    SSL* ssl = nullptr;
    if (ssl_ctx_ != nullptr) {
        ssl = SSL_new(static_cast<SSL_CTX*>(ssl_ctx_));
        if (ssl == nullptr || SSL_set_fd(ssl, fd.get()) != 1) {
            SSL_free(ssl);
            return;
        }
    }
    Connection c(std::move(fd), ssl, stopping_, bytes_sent_);
    if (c.tls() && !c.handshake()) {
        ++failed_handshakes_;
        return;
    }
    while (serve_one(c, number)) {
    }
}

ReceiverBehaviour HttpsReceiver::next_behaviour() {
    std::lock_guard lock(mutex_);
    if (!queued_.empty()) {
        ReceiverBehaviour b = std::move(queued_.front());
        queued_.pop_front();
        return b;
    }
    return behaviour_;
}

void HttpsReceiver::record(HttpRequest request) {
    {
        std::lock_guard lock(mutex_);
        requests_.push_back(std::move(request));
    }
    changed_.notify_all();
}

// Reads one request and acts on it; true when the connection stays open for the next.
bool HttpsReceiver::serve_one(Connection& c, std::size_t number) {
    const auto refuse = [&](int status) {
        ++refused_requests_;
        c.write_all(answer_head(status, 0, {}, true));
        c.close_cleanly();
        return false;
    };

    // The head: request line and header fields, at most kMaxHeadBytes in all.
    std::string line;
    // RFC 9112 2.2: empty lines before the request line are ignored.
    do {
        if (!c.read_line(line, kMaxHeadBytes)) return c.buffer().size() > kMaxHeadBytes ? refuse(431) : false;
    } while (line.empty());
    HttpRequest request;
    request.connection = number;
    {
        const std::size_t sp1 = line.find(' ');
        const std::size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
        if (sp2 == std::string::npos || line.find(' ', sp2 + 1) != std::string::npos) return refuse(400);
        request.method = line.substr(0, sp1);
        request.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        request.version = line.substr(sp2 + 1);
        if (!is_token(request.method) || request.target.empty() ||
            (request.version != "HTTP/1.1" && request.version != "HTTP/1.0"))
            return refuse(400);
    }
    std::size_t head_bytes = line.size();
    for (;;) {
        if (!c.read_line(line, kMaxHeadBytes - head_bytes))
            return c.buffer().size() > kMaxHeadBytes - head_bytes ? refuse(431) : false;
        head_bytes += line.size() + 2;
        if (head_bytes > kMaxHeadBytes) return refuse(431);
        if (line.empty()) break;
        const std::size_t colon = line.find(':');
        if (colon == std::string::npos || !is_token(std::string_view(line).substr(0, colon))) return refuse(400);
        const std::string name = lower(line.substr(0, colon));
        const std::string value(trim(std::string_view(line).substr(colon + 1)));
        auto [it, inserted] = request.headers.emplace(name, value);
        if (!inserted) it->second += ", " + value;
    }

    // The body: chunked, or Content-Length bytes, or none.
    const std::string transfer_encoding = lower(request.header("transfer-encoding"));
    const bool has_length = request.headers.count("content-length") != 0;
    if (!transfer_encoding.empty() && (transfer_encoding != "chunked" || has_length)) return refuse(400);
    request.chunked = transfer_encoding == "chunked";
    std::size_t length = 0;
    if (has_length) {
        const std::string& text = request.headers["content-length"];
        if (text.empty() || text.size() > 12 || !std::all_of(text.begin(), text.end(), [](char ch) {
                return ch >= '0' && ch <= '9';
            }))
            return refuse(400);
        length = std::stoull(text);
        if (length > options_.max_body_bytes) return refuse(413);
    }
    if (lower(request.header("expect")) == "100-continue" && (request.chunked || length > 0))
        if (!c.write_all("HTTP/1.1 100 Continue\r\n\r\n")) return false;
    if (request.chunked) {
        for (;;) {
            if (!c.read_line(line, kMaxChunkLineBytes)) return false;
            const std::string size_text = std::string(trim(line.substr(0, line.find(';'))));
            if (size_text.empty() || size_text.size() > 8 ||
                !std::all_of(size_text.begin(), size_text.end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)) != 0; }))
                return refuse(400);
            const std::size_t size = std::stoul(size_text, nullptr, 16);
            if (size == 0) break;
            if (request.body.size() + size > options_.max_body_bytes) return refuse(413);
            std::string crlf;
            if (!c.read_exact(size, request.body) || !c.read_exact(2, crlf)) return false;
            if (crlf != "\r\n") return refuse(400);
        }
        std::size_t trailer_bytes = 0;
        for (;;) {  // trailer fields, dropped
            if (!c.read_line(line, kMaxHeadBytes)) return false;
            trailer_bytes += line.size() + 2;
            if (trailer_bytes > kMaxHeadBytes) return refuse(431);
            if (line.empty()) break;
        }
    } else if (length > 0 && !c.read_exact(length, request.body)) {
        return false;
    }
    request.received_at = Clock::now();
    if (c.tls() && !options_.client_ca.empty()) {
        X509* peer = SSL_get1_peer_certificate(c.ssl());
        if (peer != nullptr) {
            if (SSL_get_verify_result(c.ssl()) == X509_V_OK) {
                char subject[512] = {};
                X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof subject);
                request.client_certificate_subject = subject;
            }
            X509_free(peer);
        }
    }
    const bool client_closes = lower(request.header("connection")) == "close" || request.version == "HTTP/1.0";
    record(std::move(request));

    const ReceiverBehaviour b = next_behaviour();
    switch (b.kind) {
        case ReceiverBehaviour::Kind::answer: {
            const std::string body = has_no_body(b.status) ? std::string() : b.body;
            if (!c.write_all(answer_head(b.status, body.size(), b.headers, client_closes) + body)) return false;
            if (client_closes) c.close_cleanly();
            return !client_closes;
        }
        case ReceiverBehaviour::Kind::hang:
            c.hold();
            return false;
        case ReceiverBehaviour::Kind::trickle: {
            const std::string answer = answer_head(b.status, b.body.size(), b.headers, true) + b.body;
            for (const char ch : answer) {
                if (!c.write_all(std::string_view(&ch, 1)) || !c.pause(b.trickle_interval)) return false;
            }
            c.close_cleanly();
            return false;
        }
        case ReceiverBehaviour::Kind::huge_answer: {
            if (!c.write_all(answer_head(b.status, b.huge_bytes, b.headers, client_closes))) return false;
            const std::string block(64 * 1024, 'x');
            for (std::size_t left = b.huge_bytes; left > 0;) {
                const std::size_t n = std::min(left, block.size());
                if (!c.write_all(std::string_view(block).substr(0, n))) return false;
                left -= n;
            }
            if (client_closes) c.close_cleanly();
            return !client_closes;
        }
        case ReceiverBehaviour::Kind::close_mid_answer:
            c.write_all(answer_head(b.status, 1000, b.headers, false) + std::string(10, '{'));
            return false;  // the socket closes without a TLS close_notify
    }
    return false;
}

void HttpsReceiver::set_behaviour(ReceiverBehaviour behaviour) {
    std::lock_guard lock(mutex_);
    behaviour_ = std::move(behaviour);
}

void HttpsReceiver::queue_behaviour(ReceiverBehaviour behaviour) {
    std::lock_guard lock(mutex_);
    queued_.push_back(std::move(behaviour));
}

std::vector<HttpRequest> HttpsReceiver::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

std::size_t HttpsReceiver::request_count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
}

bool HttpsReceiver::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

void HttpsReceiver::clear_requests() {
    std::lock_guard lock(mutex_);
    requests_.clear();
}

}  // namespace bg::test
