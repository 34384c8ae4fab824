// SPDX-License-Identifier: ISC
#include "helper/ship/http_client.hpp"

#include <curl/curl.h>

#include <mutex>

#include "common/text.hpp"
#include "helper/ship/payload.hpp"

namespace bg::ship {
namespace {

struct Sink {
    std::string body;
    bool too_large = false;
};

std::size_t on_data(char* data, std::size_t size, std::size_t n, void* user) {
    auto* s = static_cast<Sink*>(user);
    const std::size_t bytes = size * n;
    if (s->body.size() + bytes > kMaxAnswerBytes) {
        s->too_large = true;
        return 0;  // aborts the transfer: a sink does not grow our memory
    }
    s->body.append(data, bytes);
    return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<std::atomic<bool>*>(user)->load() ? 1 : 0;
}

}  // namespace

void init_http() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)) {
    init_http();
    curl_ = curl_easy_init();
}

HttpClient::~HttpClient() {
    if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<HttpAnswer> HttpClient::post(const std::string& url, const std::vector<std::string>& headers,
                                    std::string_view body) {
    CURL* c = static_cast<CURL*>(curl_);
    if (!c) return Error{"libcurl could not be initialised"};
    curl_easy_reset(c);
    Sink answer;
    curl_slist* list = nullptr;
    for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
    const long timeout = static_cast<long>(options_.timeout.count());
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, options_.allow_plain_http ? "http,https" : "https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.client_cert.empty()) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, options_.client_cert.c_str());
        curl_easy_setopt(c, CURLOPT_SSLKEY, options_.client_key.c_str());
    }
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, std::min(5L, timeout));
    curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "breakglassd");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &cancelled_);
    char error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    const CURLcode rc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(list);
    if (answer.too_large) return Error{"the sink's answer was larger than 64 KiB; transfer aborted"};
    if (rc != CURLE_OK) {
        const std::string detail = error[0] ? error : curl_easy_strerror(rc);
        return Error{escape_for_display(detail)};
    }
    HttpAnswer out;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
    out.body = std::move(answer.body);
    return out;
}

}  // namespace bg::ship
