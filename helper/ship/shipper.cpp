// SPDX-License-Identifier: ISC
#include "helper/ship/shipper.hpp"
#include "common/callback_guard.hpp"
#include "common/utc_time.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <future>
#include <random>

#include <openssl/crypto.h>

#include "common/file_io.hpp"
#include "common/text.hpp"
#include "helper/ship/cursor.hpp"
#include "helper/ship/http_client.hpp"
#include "helper/ship/log_tail.hpp"
#include "helper/ship/payload.hpp"

namespace bg::ship {
namespace {

constexpr std::size_t kMaxTokenBytes = 4096;

std::int64_t now_unix() { return wall_clock_seconds(); }

Result<std::string> read_token(const std::string& path) { return read_secret_file(path, "token_file"); }

}  // namespace

Result<std::string> read_secret_file(const std::string& path, std::string_view key) {
    const std::string what(key);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) return Error{"cannot open " + what + " " + path + ": " + std::strerror(errno)};
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return Error{what + " " + path + " is not a regular file"};
    if (st.st_uid != ::geteuid()) return Error{what + " " + path + " is not owned by breakglassd's user"};
    if ((st.st_mode & 077) != 0)
        return Error{what + " " + path + " is readable or writable by group or others; chmod 0600 it"};
    fd.reset();
    auto text = read_regular_file(path, kMaxTokenBytes);
    if (!text) return Error{text.error().message};
    std::string token = std::move(text).value();
    if (const std::size_t nl = token.find('\n'); nl != std::string::npos) token.resize(nl);
    for (const char c : token)
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
            return Error{what + " " + path + " holds a space or a control character in its first line"};
    if (token.empty()) return Error{what + " " + path + " is empty"};
    return token;
}

namespace {

std::optional<std::string> key_file_problem(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return "client_key " + path + ": " + std::strerror(errno);
    if (!S_ISREG(st.st_mode)) return "client_key " + path + " is not a regular file";
    if ((st.st_mode & 077) != 0) return "client_key " + path + " is readable by group or others; chmod 0600 it";
    return std::nullopt;
}

}  // namespace

// One sink: its thread, its cursor, its connection.
class SinkWorker {
public:
    SinkWorker(policy::Sink sink, std::string log_path, std::string cursor_path, std::string token,
               std::function<void()> acked, std::uint64_t durable)
        : sink_(std::move(sink)),
          log_path_(std::move(log_path)),
          cursor_path_(std::move(cursor_path)),
          token_(std::move(token)),
          acked_notify_(std::move(acked)),
          client_(HttpOptions{sink_.ca_file, sink_.client_cert, sink_.client_key, sink_.insecure,
                              std::chrono::seconds(kRequestTimeoutSeconds)}),
          durable_(durable) {
        status_.name = sink_.name;
        status_.type = std::string(policy::sink_type_name(sink_.type));
        status_.url = sink_.url;
        status_.insecure = sink_.insecure;
        status_.backlog_limit = sink_.backlog_limit.count();
    }
    ~SinkWorker() {
        stop();
        OPENSSL_cleanse(token_.data(), token_.size());
    }

    // Loads the cursor and starts the thread. A cursor for another URL starts
    // the sink again from seq 1 (*reset).
    Status start(bool* reset) {
        auto cursor = load_cursor(cursor_path_, sink_.url, reset);
        if (!cursor) return Error{cursor.error().message};
        acked_.store(cursor->acked_seq);
        {
            std::lock_guard lock(mutex_);
            status_.acked_seq = cursor->acked_seq;
        }
        thread_ = std::thread([this] { run_guarded("shipping to a sink", [this] { run(); }); });
        return Ok{};
    }

    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        client_.cancel();
        wake_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

    void durable(std::uint64_t seq) {
        {
            std::lock_guard lock(mutex_);
            if (seq <= durable_) return;
            durable_ = seq;
        }
        wake_.notify_all();
    }

    // A grant waits for `seq` (remote_ack): once it is durable, the next
    // attempt is made at once instead of at the end of the backoff, once per
    // such seq (a sink that stays down is not hammered: only new waits
    // shorten the backoff, and grants are few).
    void awaited(std::uint64_t seq) {
        {
            std::lock_guard lock(mutex_);
            if (seq <= awaited_) return;
            awaited_ = seq;
        }
        wake_.notify_all();
    }

    std::uint64_t acked() const { return acked_.load(); }

    SinkStatus status() const {
        std::lock_guard lock(mutex_);
        SinkStatus s = status_;
        s.acked_seq = acked_.load();
        s.backlog = durable_ > s.acked_seq ? durable_ - s.acked_seq : 0;
        if (s.backlog == 0) s.oldest_unacked_at = 0;
        return s;
    }

    const policy::Sink& sink() const { return sink_; }

private:
    void run() {
        std::optional<LogTail> tail;
        int failures = 0;
        std::mt19937_64 rng(std::random_device{}());
        for (;;) {
            std::uint64_t through = 0;
            {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, [&] { return stopping_ || durable_ > acked_.load(); });
                if (stopping_) return;
                through = durable_;
                tried_through_ = through;
            }
            Status sent = ship_one(tail, through);
            if (sent) {
                failures = 0;
                continue;
            }
            ++failures;
            {
                std::lock_guard lock(mutex_);
                status_.last_error = sent.error().message;
                status_.last_error_at = now_unix();
            }
            // Exponential backoff with jitter: half to all of the doubled delay.
            const std::int64_t ceiling =
                std::min<std::int64_t>(kMaxRetryMs, kFirstRetryMs << std::min(failures - 1, 16));
            std::uniform_int_distribution<std::int64_t> jitter(ceiling / 2, ceiling);
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, std::chrono::milliseconds(jitter(rng)), [&] {
                // A record someone waits for became durable after the last attempt.
                return stopping_ || (awaited_ > tried_through_ && durable_ >= awaited_ && awaited_ > acked_.load());
            });
            if (stopping_) return;
        }
    }

    // A batch read from the log and its body, ready to POST.
    struct Prepared {
        std::uint64_t after = 0;  // the batch starts after this seq
        std::uint64_t first = 0, last = 0;
        std::int64_t first_at = 0;
        std::string body;
    };

    // Reads the records after `after` (through `through`) and builds their
    // body; an empty body when there is none.
    static Result<Prepared> prepare(const policy::Sink& sink, std::optional<LogTail>& tail, const std::string& log_path,
                                    std::uint64_t after, std::uint64_t through) {
        if (!tail) {
            auto opened = LogTail::open(log_path);
            if (!opened) return Error{opened.error().message};
            tail.emplace(std::move(opened).value());
        }
        auto batch = tail->read(after, through, kBatchRecords, kBatchBytes);
        if (!batch) {
            tail.reset();
            return Error{batch.error().message};
        }
        Prepared p;
        p.after = after;
        if (batch->empty()) return p;
        p.first = batch->front().record.seq;
        p.last = batch->back().record.seq;
        p.first_at = batch->front().record.timestamp;
        p.body = body_for(sink.type, *batch);
        return p;
    }

    // One batch: read, POST, and on an acknowledgement the cursor. While the
    // POST is in flight the next batch is read and built on a second thread
    // (at most two batches in memory), so the sink's time and ours overlap;
    // it is used only if this one was acknowledged.
    Status ship_one(std::optional<LogTail>& tail, std::uint64_t through) {
        const std::uint64_t after = acked_.load();
        Prepared batch;
        if (next_ && next_->after == after) {
            batch = std::move(*next_);
        } else {
            auto p = prepare(sink_, tail, log_path_, after, through);
            if (!p) return Error{p.error().message};
            batch = std::move(p).value();
        }
        next_.reset();
        if (batch.body.empty()) return Error{"the audit log has no record after seq " + std::to_string(after) + " yet"};
        {
            std::lock_guard lock(mutex_);
            status_.oldest_unacked_at = batch.first_at;
        }
        std::future<Result<Prepared>> ahead;
        if (batch.last < through)
            ahead = std::async(std::launch::async, [this, &tail, from = batch.last, through] {
                return prepare(sink_, tail, log_path_, from, through);
            });
        auto answer = client_.post(endpoint_for(sink_.type, sink_.url), headers_for(sink_.type, token_), batch.body);
        std::optional<Result<Prepared>> prepared;
        if (ahead.valid()) prepared = ahead.get();
        if (!answer) return Error{answer.error().message};
        const AnswerVerdict verdict = judge_answer(sink_.type, answer->status, answer->body);
        if (!verdict.acknowledged) return Error{verdict.why};
        const std::uint64_t last = batch.last;
        // The cursor first: an acknowledgement that is not remembered is sent
        // again after a crash (at least once), never skipped.
        const Status stored = store_cursor(cursor_path_, Cursor{sink_.url, last});
        acked_.store(last);
        if (prepared && *prepared && !(*prepared)->body.empty()) next_ = std::move(**prepared);
        {
            std::lock_guard lock(mutex_);
            status_.last_ack_at = now_unix();
            if (stored) {
                status_.last_error.clear();
            } else {
                status_.last_error = "acknowledged through seq " + std::to_string(last) +
                                     " but the cursor could not be stored (" + stored.error().message +
                                     "); a restart sends those records again";
                status_.last_error_at = now_unix();
            }
            status_.oldest_unacked_at = next_ ? next_->first_at : 0;
        }
        if (acked_notify_) acked_notify_();
        return Ok{};
    }

    const policy::Sink sink_;
    const std::string log_path_, cursor_path_;
    std::string token_;
    std::function<void()> acked_notify_;
    HttpClient client_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::uint64_t durable_ = 0;
    std::uint64_t awaited_ = 0;        // the highest seq a remote_ack grant waits for
    std::uint64_t tried_through_ = 0;  // the `through` of the last attempt
    std::atomic<std::uint64_t> acked_{0};
    SinkStatus status_;
    std::optional<Prepared> next_;  // the batch read while the last one was in flight
    std::thread thread_;
};

Shipper::Shipper(std::string log_path, std::string cursor_dir, std::function<void()> acked)
    : log_path_(std::move(log_path)), cursor_dir_(std::move(cursor_dir)), acked_(std::move(acked)) {
    init_http();
}

Shipper::~Shipper() {
    std::map<std::string, std::unique_ptr<SinkWorker>> workers;
    {
        std::lock_guard lock(mutex_);
        workers.swap(workers_);
    }
    workers.clear();
}

namespace {

bool same_sink(const policy::Sink& a, const policy::Sink& b) {
    return a.type == b.type && a.url == b.url && a.ca_file == b.ca_file && a.client_cert == b.client_cert &&
           a.client_key == b.client_key && a.token_file == b.token_file && a.insecure == b.insecure &&
           a.backlog_limit == b.backlog_limit;
}

}  // namespace

std::vector<std::string> Shipper::configure(const std::map<std::string, policy::Sink>& sinks) {
    std::vector<std::string> notes;
    if (!sinks.empty() && ::mkdir(cursor_dir_.c_str(), 0700) != 0 && errno != EEXIST)
        notes.push_back("cannot create " + cursor_dir_ + ": " + std::strerror(errno) + "; no record is shipped");
    std::map<std::string, std::unique_ptr<SinkWorker>> stopping;
    std::uint64_t durable = 0;
    {
        std::lock_guard lock(mutex_);
        durable = durable_;
        for (auto it = workers_.begin(); it != workers_.end();) {
            const auto wanted = sinks.find(it->first);
            if (wanted == sinks.end() || !same_sink(wanted->second, it->second->sink())) {
                stopping.emplace(it->first, std::move(it->second));
                it = workers_.erase(it);
            } else {
                ++it;
            }
        }
    }
    stopping.clear();  // joins their threads, outside the lock
    for (const auto& [name, sink] : sinks) {
        {
            std::lock_guard lock(mutex_);
            if (workers_.count(name)) continue;
        }
        if (sink.insecure)
            notes.push_back("sink '" + name + "' is insecure = true: " +
                            (sink.url.rfind("http://", 0) == 0 ? "records go to " + sink.url + " unencrypted and unauthenticated"
                                                               : std::string("plain http would be allowed")));
        std::string token;
        if (!sink.token_file.empty()) {
            auto t = read_token(sink.token_file);
            if (!t) {
                notes.push_back("sink '" + name + "' not started: " + t.error().message);
                continue;
            }
            token = std::move(t).value();
        }
        if (!sink.client_key.empty())
            if (auto bad = key_file_problem(sink.client_key)) {
                notes.push_back("sink '" + name + "' not started: " + *bad);
                continue;
            }
        auto worker = std::make_unique<SinkWorker>(sink, log_path_, cursor_dir_ + "/" + name + ".cursor",
                                                   std::move(token), acked_, durable);
        bool reset = false;
        if (auto started = worker->start(&reset); !started) {
            notes.push_back("sink '" + name + "' not started: " + started.error().message);
            continue;
        }
        if (reset) notes.push_back("sink '" + name + "' has a new url (" + sink.url + "): it receives the whole log from seq 1");
        std::lock_guard lock(mutex_);
        workers_.emplace(name, std::move(worker));
    }
    return notes;
}

void Shipper::durable(std::uint64_t seq) {
    std::lock_guard lock(mutex_);
    durable_ = std::max(durable_, seq);
    for (auto& [name, w] : workers_) w->durable(durable_);
}

void Shipper::awaited(std::uint64_t seq) {
    std::lock_guard lock(mutex_);
    for (auto& [name, w] : workers_) w->awaited(seq);
}

std::uint64_t Shipper::best_acked() const {
    std::lock_guard lock(mutex_);
    std::uint64_t best = 0;
    for (const auto& [name, w] : workers_) best = std::max(best, w->acked());
    return best;
}

bool Shipper::has_sinks() const {
    std::lock_guard lock(mutex_);
    return !workers_.empty();
}

std::vector<SinkStatus> Shipper::status() const {
    std::lock_guard lock(mutex_);
    std::vector<SinkStatus> out;
    for (const auto& [name, w] : workers_) out.push_back(w->status());
    return out;
}

}  // namespace bg::ship
