// SPDX-License-Identifier: ISC
// breakglassd's event loop (sd-event): the listening socket and connections,
// signals, the expiry and maintenance timers, the systemd timer layer and
// the revocation loop around the Daemon. Every decision is the Daemon's; the
// loop only reads, dispatches, answers, and runs what follows the answer.
#include "helper/daemon/event_loop.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <variant>
#include <vector>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "common/callback_guard.hpp"
#include "common/text.hpp"
#include "common/transport.hpp"
#include "common/utc_time.hpp"
#include "helper/daemon/connection_limits.hpp"
#include "helper/daemon/dispatch.hpp"
#include "helper/daemon/revocation_loop.hpp"
#include "helper/revocation/systemd_scopes.hpp"
#include "helper/revocation/systemd_timers.hpp"

namespace bg {
namespace {


// Front-ends keep a connection for at most proto::kReuseIdleMs of this (common/transport.hpp).
constexpr std::uint64_t kIdleTimeoutUsec = static_cast<std::uint64_t>(proto::kIdleCloseMs) * 1000;
constexpr std::uint64_t kFirstRequestUsec = static_cast<std::uint64_t>(ConnectionLimits::kFirstRequestSeconds) * 1000000ULL;
// A flood of refused connections is logged at most this often per pool.
constexpr std::int64_t kRefusedConnectionLogSeconds = 10;
constexpr std::uint64_t kRetryUsec = 1000ULL * 1000;
// How often the sinks' backlogs are compared with their backlog_limit.
constexpr std::uint64_t kSinkWatchUsec = 5ULL * 1000 * 1000;

// Not time(2) (common/utc_time.hpp): the expiry timer firing at expires_at
// must not see the second before it.
std::int64_t now_unix() { return wall_clock_seconds(); }

struct EventSourceUnref {
    void operator()(sd_event_source* s) const { sd_event_source_disable_unref(s); }
};
using EventSourcePtr = std::unique_ptr<sd_event_source, EventSourceUnref>;

struct Server;

struct Connection {
    Server* server = nullptr;
    UniqueFd fd;
    PeerIdentity peer;
    ConnectionLimits::Slot slot;
    ConnectionState state;
    EventSourcePtr io;
    EventSourcePtr idle;
    std::uint64_t waiting_ticket = 0;  // its answer waits for a remote sink (remote_ack)
};

struct Server {
    sd_event* event = nullptr;
    std::unique_ptr<Daemon> daemon;
    UniqueFd listener;
    EventSourcePtr listener_source;
    EventSourcePtr expiry_timer;
    EventSourcePtr maintenance_timer;  // flush, key sync, checkpoint: at most kMaintenanceIntervalMs after a record
    std::unique_ptr<RevocationLoop> revocation;  // SIGKILL after the grace, the gates' hooks
    std::unique_ptr<timers::SystemdTimers> timers;  // null without systemd
    std::unique_ptr<scopes::SystemdScopes> scopes;  // null without systemd
    std::map<Connection*, std::unique_ptr<Connection>> connections;
    ConnectionLimits limits;
    std::map<ConnectionPool, std::int64_t> refused_logged_at;
    std::map<ConnectionPool, std::uint64_t> refused_since_log;
    EventSourcePtr ack_source;   // the sinks' acknowledgements (Daemon::ack_event_fd)
    EventSourcePtr ack_timer;    // the next remote_ack_timeout
    EventSourcePtr sink_watch;   // sink backlogs, every kSinkWatchUsec while sinks exist
    std::map<std::uint64_t, Connection*> waiting;  // ticket → the connection its answer goes to
    EventSourcePtr recovery_timer;  // settle() again, a second after a callback failed (callback_guard.hpp)

    void close_connection(Connection* c) {
        if (c->waiting_ticket) waiting.erase(c->waiting_ticket);
        limits.give_back(c->slot);
        connections.erase(c);
    }
    // After a callback threw (out of memory, mostly): what it left undone of
    // settle() — the expiry timer above all — is done a second later, and
    // again until it goes through. Allocates nothing itself.
    void recover_later() {
        if (!recovery_timer) return;
        sd_event_source_set_time_relative(recovery_timer.get(), kRetryUsec);
        sd_event_source_set_enabled(recovery_timer.get(), SD_EVENT_ONESHOT);
    }
    // Answers whose remote acknowledgement came (or timed out).
    void answer_remote_acks();
    void arm_ack_timer();
    void arm_expiry_timer();
    void arm_maintenance();
    void maintain();
    // After any work: the daemon's post-answer duties, the systemd timers of
    // grants made or ended, and the daemon's own timer.
    void settle();
};

void Server::settle() {
    // Each duty on its own: one that runs out of memory does not keep the
    // others (the expiry timer above all) from being done, and settle()
    // itself never throws, so a request's answer, already sent, stands.
    // What failed is tried again a second later (recover_later).
    bool failed = false;
    const auto duty = [&](const char* what, auto&& body) { guarded(what, body, [&] { failed = true; }); };
    duty("the terminations after an answer", [&] {
        for (const Problem& problem : daemon->after_answer(now_unix())) log_line(problem.priority, problem.text);
    });
    duty("catching up with the audit log", [&] {
        if (daemon->behind_the_log_still()) failed = true;
    });
    duty("the grants' systemd timers", [&] {
        // Each change leaves the list once done: one that throws stays for the next try.
        std::vector<TimerChange>& changes = daemon->timer_changes();
        while (!changes.empty()) {
            const TimerChange& c = changes.front();
            if (timers && !c.start) {
                timers->stop(c.grant_id);
            } else if (timers) {
                // A grant ended within the same batch (e.g. overdue at startup) needs no timer.
                const bool ends_later = std::any_of(changes.begin() + 1, changes.end(), [&](const TimerChange& d) {
                    return !d.start && d.grant_id == c.grant_id;
                });
                if (!ends_later) timers->start(c.grant_id, c.expires_at);
            }
            changes.erase(changes.begin());
        }
    });
    duty("arming the expiry timer", [&] { arm_expiry_timer(); });
    duty("the revocation loop", [&] {
        if (revocation) revocation->settle();
    });
    duty("arming the maintenance timer", [&] { arm_maintenance(); });
    duty("arming the acknowledgement timer", [&] { arm_ack_timer(); });
    if (failed) recover_later();
}

void Server::answer_remote_acks() {
    for (auto& [ticket, answer] : daemon->settle_remote_acks(now_unix())) {
        const auto it = waiting.find(ticket);
        if (it == waiting.end()) continue;  // the requester left; the grant stands or was voided all the same
        Connection* c = it->second;
        waiting.erase(it);
        c->waiting_ticket = 0;
        try {
            if (auto sent = proto::send_message(c->fd.get(), answer); !sent)
                log_line(4, "answer to pid " + std::to_string(c->peer.pid) + " not sent: " + sent.error().message);
        } catch (const std::bad_alloc&) {
            // As in read_request: no answer made, none sent, the grant
            // voided; the other waiting requesters still get theirs.
            report_exception("an answer after a remote acknowledgement", "out of memory; its grant is voided");
            if (const auto* granted = std::get_if<proto::Granted>(&answer))
                daemon->void_unanswered_grant(granted->event_id, now_unix());
            close_connection(c);
            continue;
        }
        if (c->idle) sd_event_source_set_time_relative(c->idle.get(), kIdleTimeoutUsec);
    }
}

int on_ack_timer(sd_event_source*, std::uint64_t, void* userdata) {
    auto* server = static_cast<Server*>(userdata);
    return guarded(
        "the remote acknowledgement timer",
        [&] {
            server->answer_remote_acks();
            server->settle();
            return 0;
        },
        [&] { server->recover_later(); });
}

void Server::arm_ack_timer() {
    const auto next = daemon->next_ack_deadline_ms();
    if (!next) {
        if (ack_timer) sd_event_source_set_enabled(ack_timer.get(), SD_EVENT_OFF);
        return;
    }
    const std::uint64_t at = static_cast<std::uint64_t>(std::max<std::int64_t>(*next, 0)) * 1000ULL;
    if (!ack_timer) {
        sd_event_source* s = nullptr;
        if (sd_event_add_time(event, &s, CLOCK_REALTIME, at, 1000, on_ack_timer, this) < 0) {
            log_line(2, "cannot arm the remote acknowledgement timer");
            return;
        }
        ack_timer.reset(s);
    } else {
        sd_event_source_set_time(ack_timer.get(), at);
    }
    sd_event_source_set_enabled(ack_timer.get(), SD_EVENT_ONESHOT);
}

int on_ack_event(sd_event_source*, int, std::uint32_t, void* userdata) {
    auto* server = static_cast<Server*>(userdata);
    return guarded(
        "a remote acknowledgement",
        [&] {
            server->daemon->clear_ack_event();
            server->answer_remote_acks();
            server->settle();
            return 0;
        },
        [&] { server->recover_later(); });
}

int on_sink_watch(sd_event_source* s, std::uint64_t usec, void* userdata) {
    auto* server = static_cast<Server*>(userdata);
    sd_event_source_set_time(s, usec + kSinkWatchUsec);  // first: the watch goes on whatever happens below
    return guarded(
        "the sink watch",
        [&] {
            server->daemon->watch_sinks(now_unix());
            server->daemon->watch_reviews(now_unix());
            server->settle();
            return 0;
        },
        [&] { server->recover_later(); });
}

void Server::maintain() {
    for (const Problem& problem : daemon->maintain(now_unix())) log_line(problem.priority, problem.text);
}

int on_maintenance(sd_event_source*, std::uint64_t, void* userdata) {
    auto* server = static_cast<Server*>(userdata);
    return guarded(
        "maintenance",
        [&] {
            server->maintain();
            server->arm_maintenance();
            return 0;
        },
        [&] { server->recover_later(); });
}

// Maintenance runs at once when much waits (kMaintenanceRecords), else once
// within kMaintenanceIntervalMs of the first record that needs it: that bounds
// what a crash can cost (deferred records, the seal key's sync) without a sync
// on the path of every request. The checkpoint is only written when its own
// interval (kCheckpointIntervalSeconds) has passed.
void Server::arm_maintenance() {
    if (daemon->maintenance_urgent()) maintain();
    if (!daemon->maintenance_pending(now_unix())) return;
    if (maintenance_timer) {
        int enabled = SD_EVENT_OFF;
        sd_event_source_get_enabled(maintenance_timer.get(), &enabled);
        if (enabled != SD_EVENT_OFF) return;  // already due within the interval
        sd_event_source_set_time_relative(maintenance_timer.get(), kMaintenanceIntervalMs * 1000ULL);
        sd_event_source_set_enabled(maintenance_timer.get(), SD_EVENT_ONESHOT);
        return;
    }
    sd_event_source* s = nullptr;
    if (sd_event_add_time_relative(event, &s, CLOCK_MONOTONIC, kMaintenanceIntervalMs * 1000ULL, 1000,
                                   on_maintenance, this) < 0) {
        log_line(3, "cannot arm the maintenance timer; maintaining now");
        maintain();
        return;
    }
    maintenance_timer.reset(s);
}

int on_expiry(sd_event_source*, std::uint64_t, void* userdata) {
    auto* server = static_cast<Server*>(userdata);
    return guarded(
        "the expiry timer",
        [&] {
            if (!server->daemon->expire_due(now_unix(), "expired at expires_at by the daemon's timer"))
                log_line(1, "an expiry could not be recorded yet: the grant has ended and its processes are "
                            "terminated; the record follows once the audit log can take it");
            server->settle();
            return 0;
        },
        // settle() re-arms this timer a second from now for a grant still due.
        [&] { server->recover_later(); });
}

int on_recovery(sd_event_source*, std::uint64_t, void* userdata) {
    auto* server = static_cast<Server*>(userdata);
    return guarded(
        "the retry after a failed callback",
        [&] {
            server->settle();
            return 0;
        },
        [&] { server->recover_later(); });
}

void Server::arm_expiry_timer() {
    const auto next = daemon->next_expiry();
    if (!next) {
        if (expiry_timer) sd_event_source_set_enabled(expiry_timer.get(), SD_EVENT_OFF);
        return;
    }
    // The daemon's own timer acts at expires_at, systemd timers or not: it
    // needs no process started, so it is the fastest line. The grant's
    // systemd timer elapses a second later (stopped by then when this one
    // acted) and is what ends the grant when the daemon is not running at
    // expires_at: its request starts the daemon through the socket.
    // A due grant that could not be recorded is retried a second from now.
    std::uint64_t at = static_cast<std::uint64_t>(std::max<std::int64_t>(*next, 0)) * 1000000ULL;
    const std::uint64_t retry = static_cast<std::uint64_t>(now_unix()) * 1000000ULL + kRetryUsec;
    if (*next <= now_unix()) at = retry;
    if (!expiry_timer) {
        sd_event_source* s = nullptr;
        // 1 ms accuracy: sd-event's default (250 ms) would add to the revocation lag.
        if (sd_event_add_time(event, &s, CLOCK_REALTIME, at, 1000, on_expiry, this) < 0) {
            log_line(2, "cannot arm the expiry timer");
            return;
        }
        expiry_timer.reset(s);
    } else {
        sd_event_source_set_time(expiry_timer.get(), at);
    }
    sd_event_source_set_enabled(expiry_timer.get(), SD_EVENT_ONESHOT);
}

int on_idle(sd_event_source*, std::uint64_t, void* userdata) {
    auto* c = static_cast<Connection*>(userdata);
    c->server->close_connection(c);
    return 0;
}

int read_request(Connection* c, std::uint32_t revents);

// A request that fails on the way (out of memory) closes its connection: the
// front-end reads no answer as a refusal (fail closed).
int on_readable(sd_event_source*, int, std::uint32_t revents, void* userdata) {
    auto* c = static_cast<Connection*>(userdata);
    Server* server = c->server;
    return guarded(
        "a request", [&] { return read_request(c, revents); },
        [&] {
            if (server->connections.find(c) != server->connections.end()) server->close_connection(c);
            server->recover_later();
        });
}

int read_request(Connection* c, std::uint32_t revents) {
    Server* server = c->server;
    proto::Received received = proto::receive_message(c->fd.get(), 0);
    if (!received.message && (received.failure == proto::ReceiveFailure::Closed || (revents & EPOLLHUP))) {
        server->close_connection(c);
        return 0;
    }
    if (!received.message && received.failure == proto::ReceiveFailure::Timeout) return 0;
    if (c->waiting_ticket) {
        // One request at a time: the answer to the last one has not been sent.
        log_line(4, "closed connection from pid " + std::to_string(c->peer.pid) +
                        ": a request while its grant waits for the remote log");
        server->close_connection(c);
        return 0;
    }
    // Trust comes from the policy in force now, not when the connection was made.
    c->peer.trusted = server->daemon->is_trusted(c->peer);
    const DispatchOutcome outcome = dispatch(c->state, c->peer, std::move(received), *server->daemon, now_unix());
    if (const auto ticket = server->daemon->take_deferred_answer(); ticket && !outcome.close) {
        // The answer waits for a sink's acknowledgement (remote_ack); the
        // connection stays open, its idle timer stopped, until then.
        c->waiting_ticket = *ticket;
        server->waiting[*ticket] = c;
        if (c->idle) sd_event_source_set_enabled(c->idle.get(), SD_EVENT_OFF);
        server->settle();
        return 0;
    }
    if (outcome.answer) {
        try {
            if (auto sent = proto::send_message(c->fd.get(), *outcome.answer); !sent)
                log_line(4, "answer to pid " + std::to_string(c->peer.pid) + " not sent: " + sent.error().message);
        } catch (const std::bad_alloc&) {
            // The answer could not be made, so none went out (it is encoded
            // before the first byte is sent) and the closed connection reads
            // as a refusal: a grant it carried is voided, not left to run.
            if (const auto* granted = std::get_if<proto::Granted>(&*outcome.answer))
                server->daemon->void_unanswered_grant(granted->event_id, now_unix());
            throw;
        }
    }
    server->settle();
    if (outcome.close) {
        log_line(4, "closed connection from pid " + std::to_string(c->peer.pid) + " uid " +
                        std::to_string(c->peer.uid) + ": " + escape_for_display(outcome.why));
        server->close_connection(c);
        return 0;
    }
    if (c->idle) sd_event_source_set_time_relative(c->idle.get(), kIdleTimeoutUsec);
    return 0;
}

const char* pool_name(ConnectionPool pool) {
    switch (pool) {
        case ConnectionPool::Root: return "root";
        case ConnectionPool::FrontEnd: return "front-end";
        case ConnectionPool::User: return "user";
    }
    return "?";
}

int accept_connection(Server* server, int fd);

// A connection that cannot be taken on (out of memory) is closed unanswered.
int on_accept(sd_event_source*, int fd, std::uint32_t, void* userdata) {
    auto* server = static_cast<Server*>(userdata);
    return guarded("a new connection", [&] { return accept_connection(server, fd); }, [] {});
}

int accept_connection(Server* server, int fd) {
    UniqueFd client(::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!client.valid()) return 0;
    auto peer = identify_peer(client.get());
    if (!peer) {
        log_line(4, "cannot identify a peer: " + peer.error().message);
        return 0;
    }
    // Which pool the connection counts against (connection_limits.hpp). The
    // policy in force now decides trust for the slot; every request is
    // checked again when it comes.
    ConnectionPool pool = ConnectionPool::User;
    std::int64_t holder = static_cast<std::int64_t>(peer->uid);
    if (peer->uid == 0) {
        pool = peer->real_uid == 0 ? ConnectionPool::Root : ConnectionPool::FrontEnd;
        holder = peer->real_uid;
    } else if (server->daemon->is_trusted(*peer)) {
        pool = ConnectionPool::FrontEnd;
    }
    const auto slot = server->limits.take(pool, holder);
    if (!slot) {
        const std::int64_t now = now_unix();
        ++server->refused_since_log[pool];
        if (now - server->refused_logged_at[pool] >= kRefusedConnectionLogSeconds) {
            log_line(4, "too many connections in the " + std::string(pool_name(pool)) + " pool (the latest from uid " +
                            std::to_string(peer->uid) + ", pid " + std::to_string(peer->pid) + "); refused " +
                            std::to_string(server->refused_since_log[pool]) + " since the last such message");
            server->refused_logged_at[pool] = now;
            server->refused_since_log[pool] = 0;
        }
        return 0;
    }
    auto c = std::make_unique<Connection>();
    c->server = server;
    c->fd = std::move(client);
    c->peer = std::move(peer).value();
    c->slot = *slot;
    Connection* key = c.get();
    server->connections.emplace(key, std::move(c));
    sd_event_source* io = nullptr;
    sd_event_source* idle = nullptr;
    if (sd_event_add_io(server->event, &io, key->fd.get(), EPOLLIN, on_readable, key) < 0) {
        server->close_connection(key);
        return 0;
    }
    key->io.reset(io);
    // The first request comes at once from every client; until it does, the
    // connection holds a slot only this long.
    if (sd_event_add_time_relative(server->event, &idle, CLOCK_MONOTONIC, kFirstRequestUsec, 0, on_idle, key) >= 0)
        key->idle.reset(idle);
    return 0;
}

int on_sighup(sd_event_source*, const signalfd_siginfo*, void* userdata) {
    auto* server = static_cast<Server*>(userdata);
    return guarded(
        "the policy reload (SIGHUP)",
        [&] {
            if (auto error = server->daemon->reload_policy(now_unix()))
                log_line(3, "policy reload rejected: " + *error);
            else
                log_line(5, "policy reloaded");
            server->settle();
            return 0;
        },
        [&] { server->recover_later(); });
}

}  // namespace

// Only this layer logs. Under systemd, stderr goes to the journal and the
// <N> prefix sets the priority.
void log_line(int priority, const std::string& text) {
    std::fprintf(stderr, "<%d>breakglassd: %s\n", priority, text.c_str());
}

Result<UniqueFd> listen_on(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return make_error("socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) return make_error(path + " exists and is not a socket; refusing to replace it");
        ::unlink(path.c_str());
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd.valid()) return make_error(std::string("socket: ") + std::strerror(errno));
    // Anyone may connect: identity comes from SO_PEERCRED, not from the
    // socket's mode. The file is created 0666 by bind() itself (its mode is
    // the socket's 0777 less the umask): a chmod by path afterwards would
    // follow whatever was put at the path meanwhile.
    const mode_t umask_before = ::umask(0111);
    const int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    const int bind_errno = errno;
    ::umask(umask_before);
    if (bound != 0) return make_error("bind " + path + ": " + std::strerror(bind_errno));
    if (::listen(fd.get(), 64) != 0) return make_error("listen: " + std::string(std::strerror(errno)));
    return fd;
}

Result<UniqueFd> socket_from_systemd() {
    const int n = sd_listen_fds(1);
    if (n < 0) return make_error("sd_listen_fds: " + std::string(std::strerror(-n)));
    if (n == 0) return UniqueFd();
    if (n > 1) return make_error("systemd passed " + std::to_string(n) + " sockets; expected one");
    const int fd = SD_LISTEN_FDS_START;
    if (sd_is_socket_unix(fd, SOCK_SEQPACKET, 1, nullptr, 0) <= 0)
        return make_error("the socket from systemd is not a listening AF_UNIX SOCK_SEQPACKET socket");
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return UniqueFd(fd);
}


int run_event_loop(std::unique_ptr<Daemon> daemon, UniqueFd listener, const LoopOptions& options) {
    Server server;
    server.daemon = std::move(daemon);
    server.listener = std::move(listener);
    if (!server.daemon->policy_loaded())
        log_line(3, "no valid policy is loaded: every break-glass request is refused until it is fixed");
    if (sd_event_default(&server.event) < 0) {
        log_line(2, "sd_event_default failed");
        return 1;
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGCHLD);  // hooks are watched by sd-event child sources
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    sd_event_add_signal(server.event, nullptr, SIGHUP, on_sighup, &server);
    sd_event_add_signal(server.event, nullptr, SIGTERM, nullptr, nullptr);  // NULL handler: exit the loop
    sd_event_add_signal(server.event, nullptr, SIGINT, nullptr, nullptr);
    sd_event_source* ls = nullptr;
    if (sd_event_add_io(server.event, &ls, server.listener.get(), EPOLLIN, on_accept, &server) < 0) {
        log_line(2, "cannot watch the listening socket");
        return 1;
    }
    server.listener_source.reset(ls);
    {
        // Made now, while memory is there: recover_later() only re-arms it.
        sd_event_source* rs = nullptr;
        if (sd_event_add_time_relative(server.event, &rs, CLOCK_MONOTONIC, kRetryUsec, 1000, on_recovery, &server) < 0) {
            log_line(2, "cannot make the retry timer for failed callbacks");
            return 1;
        }
        sd_event_source_set_enabled(rs, SD_EVENT_OFF);
        server.recovery_timer.reset(rs);
    }
    server.revocation = std::make_unique<RevocationLoop>(server.event, *server.daemon, log_line);
    if (server.daemon->ack_event_fd() >= 0) {
        sd_event_source* as = nullptr;
        if (sd_event_add_io(server.event, &as, server.daemon->ack_event_fd(), EPOLLIN, on_ack_event, &server) < 0) {
            log_line(2, "cannot watch the sinks' acknowledgements");
            return 1;
        }
        server.ack_source.reset(as);
    }
    {
        sd_event_source* sw = nullptr;
        if (sd_event_add_time_relative(server.event, &sw, CLOCK_MONOTONIC, kSinkWatchUsec, 1000000, on_sink_watch,
                                       &server) >= 0) {
            sd_event_source_set_enabled(sw, SD_EVENT_ON);
            server.sink_watch.reset(sw);
        }
    }

    // First line of revocation: a systemd timer per grant (re-ensured for the
    // grants still active after a restart). Only a daemon that systemd
    // started talks to the host's systemd by default: a daemon on its own
    // socket (a test, a demo) must never leave timers that run the installed
    // breakglassctl against the production socket.
    if (options.systemd_timers)
        server.timers = timers::SystemdTimers::connect(server.event, options.ctl_path, log_line);
    else
        log_line(5, "no per-grant systemd timers (--systemd-timers=" + options.systemd_timers_setting +
                        "): the daemon's own timer and its startup sweep end grants");
    // Sessions in cgroups: each gated session in a scope of its grant, which
    // revocation ends. Like the timers, only for a daemon that systemd started
    // (or --systemd-timers=yes): a test daemon does not move its callers.
    if (options.systemd_timers) {
        server.scopes = scopes::SystemdScopes::connect(server.event, log_line);
        if (server.scopes)
            server.daemon->use_session_scopes(
                [&server](scopes::ScopeRequest r) {
                    if (server.scopes) server.scopes->start(std::move(r));
                },
                [&server](const std::string& unit) {
                    if (server.scopes) server.scopes->kill(unit);
                });
    }
    // Third line: whatever expired while the daemon was down.
    if (!server.daemon->expire_due(now_unix(), "expired at startup: breakglassd was not running at expires_at"))
        log_line(1, "not every overdue expiry could be recorded yet: the grants have ended and their records follow");
    // And what a stopped daemon left running under grants that had ended.
    if (!server.daemon->sweep_leftover_processes(now_unix()))
        log_line(3, "could not record the processes left running under ended grants; they were not signalled");
    // And the PostgreSQL roles of grants that ended while it was down (or
    // that a daemon killed during a grant made): dropped.
    server.daemon->sweep_db_roles(now_unix());
    server.settle();

    sd_notify(0, "READY=1\nSTATUS=serving");
    log_line(6, "serving; state in " + options.state_dir + ", policy " + options.policy_path);
    const int r = sd_event_loop(server.event);
    sd_notify(0, "STOPPING=1");
    server.waiting.clear();
    server.connections.clear();
    server.ack_source.reset();
    server.ack_timer.reset();
    server.sink_watch.reset();
    server.maintenance_timer.reset();
    server.expiry_timer.reset();
    server.revocation.reset();
    server.timers.reset();
    server.daemon->use_session_scopes(nullptr, nullptr);
    server.scopes.reset();
    server.listener_source.reset();
    sd_event_unref(server.event);
    return r < 0 ? 1 : 0;
}

}  // namespace bg
