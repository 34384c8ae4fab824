// SPDX-License-Identifier: ISC
// delivery.hpp: one thread per channel, its cursor, its connection or its
// sendmail(8).
#include "helper/alerts/delivery.hpp"
#include "common/callback_guard.hpp"
#include "common/utc_time.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <optional>
#include <random>
#include <thread>

#include <openssl/crypto.h>

#include "common/file_io.hpp"
#include "common/text.hpp"
#include "helper/alerts/alerts.hpp"
#include "helper/ship/cursor.hpp"
#include "helper/ship/http_client.hpp"
#include "helper/ship/log_tail.hpp"
#include "helper/ship/shipper.hpp"

extern char** environ;

namespace bg::alerts {
namespace {

constexpr std::size_t kBatchRecords = 256;
constexpr std::size_t kBatchBytes = 1024 * 1024;
constexpr std::size_t kMaxErrorBytes = 300;

std::int64_t now_unix() { return wall_clock_seconds(); }

// What the cursor file names: a channel whose identity changed is a new
// channel (it starts at the end of the log).
std::string identity_of(const policy::AlertChannel& c) {
    std::string id = std::string(policy::alert_type_name(c.type)) + ":";
    if (c.type == policy::AlertType::Email) {
        for (const auto& to : c.to) id += to + ",";
        return id;
    }
    return id + (c.url_file.empty() ? c.url : "file:" + c.url_file);
}

std::string first_bytes(std::string_view s) { return escape_for_display(s.substr(0, kMaxErrorBytes)); }

// sendmail -t with the message on standard input; its exit status decides.
Status run_sendmail(const std::string& sendmail, const std::string& message, const std::atomic<bool>& cancelled) {
    int in[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return Error{std::string("pipe: ") + std::strerror(errno)};
    if (::pipe2(err, O_CLOEXEC) != 0) {
        ::close(in[0]);
        ::close(in[1]);
        return Error{std::string("pipe: ") + std::strerror(errno)};
    }
    UniqueFd in_read(in[0]), in_write(in[1]), err_read(err[0]), err_write(err[1]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in_read.get(), 0);
    posix_spawn_file_actions_adddup2(&fa, err_write.get(), 1);
    posix_spawn_file_actions_adddup2(&fa, err_write.get(), 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::string arg0 = sendmail, arg1 = "-t";
    char* argv[] = {arg0.data(), arg1.data(), nullptr};
    std::string path = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    char* envp[] = {path.data(), nullptr};
    pid_t pid = -1;
    const int spawned = ::posix_spawn(&pid, sendmail.c_str(), &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (spawned != 0) return Error{"cannot run " + sendmail + ": " + std::strerror(spawned)};
    in_read.reset();
    err_write.reset();
    // The message is small (bounded fields); a sendmail that does not read it
    // is killed at the deadline like one that does not exit.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kRequestTimeoutSeconds);
    (void)::fcntl(in_write.get(), F_SETFL, O_NONBLOCK);
    (void)::fcntl(err_read.get(), F_SETFL, O_NONBLOCK);
    std::size_t written = 0;
    std::string output;
    int status = 0;
    bool exited = false;
    while (!exited) {
        if (written < message.size() && in_write.valid()) {
            const ssize_t n = ::write(in_write.get(), message.data() + written, message.size() - written);
            if (n > 0) written += static_cast<std::size_t>(n);
            else if (n < 0 && errno != EAGAIN && errno != EINTR) in_write.reset();
        }
        if (written == message.size() && in_write.valid()) in_write.reset();
        char buf[512];
        const ssize_t r = ::read(err_read.get(), buf, sizeof buf);
        if (r > 0 && output.size() < kMaxErrorBytes) output.append(buf, static_cast<std::size_t>(r));
        const pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            exited = true;
            break;
        }
        if (cancelled.load() || std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            (void)::waitpid(pid, &status, 0);
            return Error{sendmail + (cancelled.load() ? " was stopped" : " did not finish within " +
                                                                             std::to_string(kRequestTimeoutSeconds) + " s")};
        }
        pollfd p{err_read.get(), POLLIN, 0};
        (void)::poll(&p, 1, 50);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok{};
    const std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                              : "was killed by signal " + std::to_string(WTERMSIG(status));
    return Error{sendmail + " -t " + how + (output.empty() ? std::string() : ": " + first_bytes(output))};
}

// The request an alert is to an HTTPS channel: body and headers.
void http_request(const policy::AlertChannel& c, const Alert& a, const std::string& line, const std::string& secret,
                  std::string& body, std::vector<std::string>& headers) {
    headers = {"Content-Type: application/json"};
    switch (c.type) {
        case policy::AlertType::PagerDuty: body = pagerduty_body(a, secret); break;
        case policy::AlertType::Slack: body = slack_body(a); break;
        case policy::AlertType::Webhook:
            body = webhook_body(a, line);
            if (!secret.empty()) headers.push_back("Authorization: Bearer " + secret);
            break;
        case policy::AlertType::Email: break;
    }
}

// The test alert of `breakglassctl alert test NAME`: a problem of severity
// info, with a key of its own (never a grant's), that says what it is.
Alert test_alert(const policy::AlertChannel& c, const std::string& host, std::int64_t now) {
    Alert a;
    a.kind = Kind::Problem;
    a.event = "alert_test";
    unsigned char random[8];
    std::random_device rd;
    for (unsigned char& b : random) b = static_cast<unsigned char>(rd());
    std::string hex;
    for (const unsigned char b : random) {
        static const char* digits = "0123456789abcdef";
        hex += digits[b >> 4];
        hex += digits[b & 15];
    }
    a.event_id = "alert-test-" + hex;
    a.dedup_key = a.event_id;
    a.severity = "info";
    a.host = escape_for_display(host.substr(0, 255));
    a.summary = "break-glass: test alert for channel '" + c.name + "' from " + a.host + " at " + format_utc(now) +
                " (breakglassctl alert test); nothing happened";
    a.details = {{"event", "alert_test"}, {"channel", c.name}, {"host", a.host}};
    a.channels = {c.name};
    return a;
}

struct TestSpec {
    policy::AlertChannel channel;
    std::string secret, url, type;
    ~TestSpec() {
        OPENSSL_cleanse(secret.data(), secret.size());
        OPENSSL_cleanse(url.data(), url.size());
    }
};

// A test alert, sent with a client of its own on the caller's thread (the
// channel's worker and its client go on with the log meanwhile).
TestOutcome run_test(const TestSpec& t, const std::string& host, const std::atomic<bool>& cancelled,
                     ship::HttpClient& client) {
    TestOutcome out;
    out.channel = t.channel.name;
    out.type = t.type;
    const Alert a = test_alert(t.channel, host, now_unix());
    if (t.channel.type == policy::AlertType::Email) {
        const Status sent = run_sendmail(t.channel.sendmail, email_message(a, t.channel.to, now_unix()), cancelled);
        out.delivered = static_cast<bool>(sent);
        if (!sent) out.error = sent.error().message;
        return out;
    }
    std::string body;
    std::vector<std::string> headers;
    http_request(t.channel, a, "", t.secret, body, headers);
    auto answer = client.post(t.url, headers, body);
    OPENSSL_cleanse(body.data(), body.size());
    for (std::string& h : headers) OPENSSL_cleanse(h.data(), h.size());
    if (!answer) {
        out.error = answer.error().message;
        return out;
    }
    out.http_status = answer->status;
    out.answer = first_bytes(answer->body);
    out.delivered = answer->status >= 200 && answer->status <= 299;
    if (!out.delivered) out.error = "HTTP " + std::to_string(answer->status);
    return out;
}

}  // namespace

class ChannelWorker {
public:
    ChannelWorker(policy::AlertChannel channel, std::shared_ptr<const policy::Policy> policy, std::string log_path,
                  std::string cursor_path, std::string secret, std::string url, std::function<void()> wake,
                  std::uint64_t durable)
        : channel_(std::move(channel)),
          policy_(std::move(policy)),
          log_path_(std::move(log_path)),
          cursor_path_(std::move(cursor_path)),
          secret_(std::move(secret)),
          url_(std::move(url)),
          wake_(std::move(wake)),
          client_(ship::HttpOptions{channel_.ca_file, "", "", false, std::chrono::seconds(kRequestTimeoutSeconds)}),
          durable_(durable) {
        status_.name = channel_.name;
        status_.type = std::string(policy::alert_type_name(channel_.type));
        if (channel_.type == policy::AlertType::Email) {
            for (const auto& to : channel_.to) status_.target += (status_.target.empty() ? "" : ", ") + to;
        } else {
            status_.target = channel_.url_file.empty() ? channel_.url : "(url_file " + channel_.url_file + ")";
        }
    }
    ~ChannelWorker() {
        stop();
        OPENSSL_cleanse(secret_.data(), secret_.size());
        OPENSSL_cleanse(url_.data(), url_.size());
    }

    Status start(std::uint64_t log_end, bool* fresh) {
        bool reset = false;
        struct stat st {};
        const bool exists = ::stat(cursor_path_.c_str(), &st) == 0;
        auto cursor = ship::load_cursor(cursor_path_, identity_of(channel_), &reset);
        if (!cursor) return Error{cursor.error().message};
        std::uint64_t at = cursor->acked_seq;
        if (!exists || reset) {
            at = log_end;
            *fresh = true;
            if (auto stored = ship::store_cursor(cursor_path_, ship::Cursor{identity_of(channel_), at}); !stored)
                return Error{stored.error().message};
        }
        cursor_.store(at);
        thread_ = std::thread([this] { run_guarded("delivering alerts", [this] { run(); }); });
        return Ok{};
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cancelled_.store(true);
        client_.cancel();
        wake_cv_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

    void durable(std::uint64_t seq) {
        {
            std::lock_guard lock(mutex_);
            if (seq <= durable_) return;
            durable_ = seq;
        }
        wake_cv_.notify_all();
    }

    ChannelStatus status() const {
        std::lock_guard lock(mutex_);
        ChannelStatus s = status_;
        s.cursor_seq = cursor_.load();
        s.backlog = durable_ > s.cursor_seq ? durable_ - s.cursor_seq : 0;
        return s;
    }

    void take_events(std::vector<ChannelEvent>& out) {
        std::lock_guard lock(mutex_);
        for (auto& e : events_) out.push_back(std::move(e));
        events_.clear();
    }

private:
    void note(ChannelEvent e) {
        {
            std::lock_guard lock(mutex_);
            if (events_.size() >= kMaxPendingEvents) events_.pop_front();
            events_.push_back(std::move(e));
        }
        if (wake_) wake_();
    }

    bool wait_for(std::chrono::milliseconds d) {
        std::unique_lock lock(mutex_);
        wake_cv_.wait_for(lock, d, [&] { return stopping_; });
        return !stopping_;
    }

    void run() {
        std::optional<ship::LogTail> tail;
        BurstCounter bursts;
        std::mt19937_64 rng(std::random_device{}());
        int failures = 0;
        bool alarmed = false;
        for (;;) {
            std::uint64_t through = 0;
            {
                std::unique_lock lock(mutex_);
                wake_cv_.wait(lock, [&] { return stopping_ || durable_ > cursor_.load(); });
                if (stopping_) return;
                through = durable_;
            }
            if (!tail) {
                auto opened = ship::LogTail::open(log_path_);
                if (!opened) {
                    if (!wait_for(std::chrono::milliseconds(kMaxRetryMs))) return;
                    continue;
                }
                tail.emplace(std::move(opened).value());
            }
            auto batch = tail->read(cursor_.load(), through, kBatchRecords, kBatchBytes);
            if (!batch || batch->empty()) {
                tail.reset();
                if (!wait_for(std::chrono::milliseconds(kFirstRetryMs))) return;
                continue;
            }
            for (const ship::Entry& e : *batch) {
                const std::vector<Alert> alerts = alerts_for(e.record, *policy_, bursts);
                bool mine = false;
                for (const Alert& alert : alerts) {
                    if (std::find(alert.channels.begin(), alert.channels.end(), channel_.name) == alert.channels.end())
                        continue;
                    mine = true;
                    // The same alert, sent until it is delivered: the burst memory is fed once.
                    if (!deliver(alert, e, rng, failures, alarmed)) return;
                }
                // Past this record: remembered before the next one is sent.
                cursor_.store(e.record.seq);
                if (mine) (void)ship::store_cursor(cursor_path_, ship::Cursor{identity_of(channel_), e.record.seq});
            }
            (void)ship::store_cursor(cursor_path_, ship::Cursor{identity_of(channel_), cursor_.load()});
        }
    }

    // Sends `alert` until it is delivered (true) or the worker stops (false).
    bool deliver(const Alert& alert, const ship::Entry& e, std::mt19937_64& rng, int& failures, bool& alarmed) {
        for (;;) {
            const Status sent = send(alert, e.line);
            if (sent) {
                failures = 0;
                alarmed = false;
                std::lock_guard lock(mutex_);
                ++status_.delivered;
                status_.last_delivery_at = now_unix();
                status_.last_error.clear();
                status_.failing_since = 0;
                return true;
            }
            ++failures;
            const std::int64_t now = now_unix();
            std::int64_t since = 0;
            {
                std::lock_guard lock(mutex_);
                if (status_.failing_since == 0) status_.failing_since = now;
                since = status_.failing_since;
                status_.last_error = sent.error().message;
            }
            if (cancelled_.load()) return false;
            const std::int64_t ceiling = std::min<std::int64_t>(kMaxRetryMs, kFirstRetryMs << std::min(failures - 1, 16));
            std::uniform_int_distribution<std::int64_t> jitter(ceiling / 2, ceiling);
            const std::int64_t delay = jitter(rng);
            note({channel_.name, false, e.record.event_id,
                  "the " + std::string(kind_name(alert.kind)) + " alert of " + e.record.event_id + " (" +
                      e.record.event + ") to channel '" + channel_.name + "' (" + status_.type +
                      ") failed (attempt " + std::to_string(failures) + "): " + sent.error().message +
                      "; next attempt in " + std::to_string((delay + 999) / 1000) + " s",
                  now});
            if (!alarmed && now - since >= policy_->alert_fail_alarm.count()) {
                alarmed = true;
                note({channel_.name, true, e.record.event_id,
                      "alert channel '" + channel_.name + "' (" + status_.type + ") has failed since " +
                          format_utc(since) + ", longer than alert_fail_alarm " +
                          policy::format_duration(policy_->alert_fail_alarm) +
                          ": break-glass use is not being alerted there; last error: " + sent.error().message,
                      now});
            }
            if (!wait_for(std::chrono::milliseconds(delay))) return false;
        }
    }

public:
    // What a test alert needs, copied: the worker may be replaced by a
    // reload while the test runs.
    TestSpec spec() const { return TestSpec{channel_, secret_, url_, status_.type}; }

private:
    Status send(const Alert& a, const std::string& line) {
        if (channel_.type == policy::AlertType::Email)
            return run_sendmail(channel_.sendmail, email_message(a, channel_.to, now_unix()), cancelled_);
        std::string body;
        std::vector<std::string> headers;
        http_request(channel_, a, line, secret_, body, headers);
        auto answer = client_.post(url_, headers, body);
        OPENSSL_cleanse(body.data(), body.size());
        if (!answer) return Error{answer.error().message};
        if (answer->status >= 200 && answer->status <= 299) return Ok{};
        return Error{"HTTP " + std::to_string(answer->status) +
                     (answer->body.empty() ? std::string() : ": " + first_bytes(answer->body))};
    }

    const policy::AlertChannel channel_;
    const std::shared_ptr<const policy::Policy> policy_;
    const std::string log_path_, cursor_path_;
    std::string secret_, url_;
    std::function<void()> wake_;
    ship::HttpClient client_;
    mutable std::mutex mutex_;
    std::condition_variable wake_cv_;
    bool stopping_ = false;
    std::atomic<bool> cancelled_{false};
    std::uint64_t durable_ = 0;
    std::atomic<std::uint64_t> cursor_{0};
    ChannelStatus status_;
    std::deque<ChannelEvent> events_;
    std::thread thread_;
};

AlertDelivery::AlertDelivery(std::string log_path, std::string cursor_dir, std::function<void()> wake)
    : log_path_(std::move(log_path)), cursor_dir_(std::move(cursor_dir)), wake_(std::move(wake)) {
    ship::init_http();
}

AlertDelivery::~AlertDelivery() {
    stopping_->store(true);
    std::vector<Test> tests;
    {
        std::lock_guard lock(mutex_);
        tests.swap(tests_);
    }
    for (Test& t : tests) {
        if (t.client) t.client->cancel();
        if (t.thread.joinable()) t.thread.join();
    }
    std::map<std::string, std::unique_ptr<ChannelWorker>> workers;
    {
        std::lock_guard lock(mutex_);
        workers.swap(workers_);
    }
    workers.clear();
}

std::vector<std::string> AlertDelivery::configure(const policy::Policy& p, std::uint64_t log_end) {
    std::vector<std::string> notes;
    const std::string text = policy::dump_policy(p);
    std::map<std::string, std::unique_ptr<ChannelWorker>> stopping;
    std::uint64_t durable = 0;
    {
        std::lock_guard lock(mutex_);
        if (text == policy_text_ && !workers_.empty()) return notes;
        policy_text_ = text;
        stopping.swap(workers_);
        durable = durable_;
    }
    stopping.clear();  // joins their threads, outside the lock
    if (p.alerts.empty()) return notes;
    if (::mkdir(cursor_dir_.c_str(), 0700) != 0 && errno != EEXIST) {
        notes.push_back("cannot create " + cursor_dir_ + ": " + std::strerror(errno) + "; no alert is sent");
        return notes;
    }
    auto shared = std::make_shared<const policy::Policy>(p);
    for (const auto& [name, c] : p.alerts) {
        std::string secret, url = c.url;
        const std::string channel = name;  // clang 14 cannot capture a structured binding
        const auto refuse = [&](const std::string& why) {
            notes.push_back("alert channel '" + channel + "' not started: " + why);
        };
        if (!c.routing_key_file.empty() || !c.token_file.empty()) {
            const bool pd = !c.routing_key_file.empty();
            auto s = ship::read_secret_file(pd ? c.routing_key_file : c.token_file, pd ? "routing_key_file" : "token_file");
            if (!s) {
                refuse(s.error().message);
                continue;
            }
            secret = std::move(s).value();
        }
        if (!c.url_file.empty()) {
            auto u = ship::read_secret_file(c.url_file, "url_file");
            if (!u) {
                refuse(u.error().message);
                continue;
            }
            url = std::move(u).value();
            if (url.rfind("https://", 0) != 0) {
                refuse("url_file " + c.url_file + " does not hold an https:// URL");
                continue;
            }
        }
        auto worker = std::make_unique<ChannelWorker>(c, shared, log_path_, cursor_dir_ + "/" + name + ".cursor",
                                                      std::move(secret), std::move(url), wake_, durable);
        bool fresh = false;
        if (auto started = worker->start(log_end, &fresh); !started) {
            refuse(started.error().message);
            continue;
        }
        if (fresh) notes.push_back("alert channel '" + name + "' is new: it alerts from seq " + std::to_string(log_end + 1));
        std::lock_guard lock(mutex_);
        workers_.emplace(name, std::move(worker));
    }
    return notes;
}

void AlertDelivery::durable(std::uint64_t seq) {
    std::lock_guard lock(mutex_);
    durable_ = std::max(durable_, seq);
    for (auto& [name, w] : workers_) w->durable(durable_);
}

std::vector<ChannelStatus> AlertDelivery::status() const {
    std::lock_guard lock(mutex_);
    std::vector<ChannelStatus> out;
    for (const auto& [name, w] : workers_) out.push_back(w->status());
    return out;
}

std::vector<ChannelEvent> AlertDelivery::take_events() {
    std::lock_guard lock(mutex_);
    std::vector<ChannelEvent> out;
    for (auto& [name, w] : workers_) w->take_events(out);
    return out;
}

bool AlertDelivery::test(const std::string& name, const std::string& host, std::uint64_t ticket) {
    std::lock_guard lock(mutex_);
    // Finished ones first: at most a few tests are ever in flight.
    for (auto it = tests_.begin(); it != tests_.end();) {
        if (it->done->load()) {
            it->thread.join();
            it = tests_.erase(it);
        } else {
            ++it;
        }
    }
    const auto w = workers_.find(name);
    if (w == workers_.end()) return false;
    Test t;
    t.done = std::make_shared<std::atomic<bool>>(false);
    auto spec = std::make_shared<TestSpec>(w->second->spec());
    t.client = std::make_shared<ship::HttpClient>(
        ship::HttpOptions{spec->channel.ca_file, "", "", false, std::chrono::seconds(kRequestTimeoutSeconds)});
    // The worker may be replaced by a reload meanwhile: the thread works on
    // a copy of what it needs, never on the worker.
    t.thread = std::thread([this, spec, host, ticket, done = t.done, client = t.client, stopping = stopping_]() mutable {
        TestOutcome out = run_test(*spec, host, *stopping, *client);
        out.ticket = ticket;
        spec.reset();
        {
            std::lock_guard inner(mutex_);
            outcomes_.push_back(std::move(out));
        }
        done->store(true);
        if (wake_) wake_();
    });
    tests_.push_back(std::move(t));
    return true;
}

std::vector<TestOutcome> AlertDelivery::take_tests() {
    std::lock_guard lock(mutex_);
    std::vector<TestOutcome> out = std::move(outcomes_);
    outcomes_.clear();
    return out;
}

}  // namespace bg::alerts
