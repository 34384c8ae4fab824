// SPDX-License-Identifier: ISC
// One sink's HTTP(S) connection (libcurl easy handle, kept alive between
// batches). TLS is always verified (peer and host name) against ca_file or
// the system's store; only plain http:// needs the sink's insecure = true.
// Bounded in every direction: connect (5 s), the whole transfer (the sink's
// timeout), the answer (kMaxAnswerBytes, more aborts the transfer), no
// redirects, http(s) only. cancel() ends a transfer in progress from
// another thread within about a second (the daemon's stop).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace bg::ship {

struct HttpOptions {
    std::string ca_file, client_cert, client_key;
    bool allow_plain_http = false;
    std::chrono::seconds timeout{30};
};

struct HttpAnswer {
    long status = 0;
    std::string body;  // at most kMaxAnswerBytes (payload.hpp)
};

class HttpClient {
public:
    explicit HttpClient(HttpOptions options);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // A transport failure (refused, TLS, timeout, an answer too large) is an
    // Error naming it; any HTTP status is an answer.
    Result<HttpAnswer> post(const std::string& url, const std::vector<std::string>& headers, std::string_view body);
    void cancel() { cancelled_.store(true); }

private:
    HttpOptions options_;
    void* curl_ = nullptr;  // CURL*
    std::atomic<bool> cancelled_{false};
};

// curl_global_init, once per process, before any thread uses libcurl.
void init_http();

}  // namespace bg::ship
