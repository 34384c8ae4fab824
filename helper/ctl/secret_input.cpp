// SPDX-License-Identifier: ISC
#include "helper/ctl/secret_input.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/transport.hpp"

namespace bg::ctl {
namespace {

// Signals that must not leave the terminal with echo off.
constexpr std::array<int, 7> kPromptSignals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};

volatile std::sig_atomic_t g_caught_signal = 0;

void remember_signal(int sig) { g_caught_signal = sig; }

bool is_stop_signal(int sig) { return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU; }

// Blocks kPromptSignals and routes them to remember_signal, without
// SA_RESTART, for its lifetime; restores dispositions and mask after.
class PromptSignals {
public:
    PromptSignals() {
        g_caught_signal = 0;
        sigset_t block;
        sigemptyset(&block);
        for (const int sig : kPromptSignals) sigaddset(&block, sig);
        sigprocmask(SIG_BLOCK, &block, &original_mask_);
        struct sigaction catch_it {};
        catch_it.sa_handler = remember_signal;
        sigemptyset(&catch_it.sa_mask);
        catch_it.sa_flags = 0;  // no SA_RESTART: the wait must return EINTR
        for (std::size_t i = 0; i < kPromptSignals.size(); ++i)
            sigaction(kPromptSignals[i], &catch_it, &saved_[i]);
    }
    PromptSignals(const PromptSignals&) = delete;
    PromptSignals& operator=(const PromptSignals&) = delete;
    ~PromptSignals() {
        for (std::size_t i = 0; i < kPromptSignals.size(); ++i) sigaction(kPromptSignals[i], &saved_[i], nullptr);
        sigprocmask(SIG_SETMASK, &original_mask_, nullptr);
    }
    // The mask to wait with: the original one, so the signals get through.
    const sigset_t* wait_mask() const { return &original_mask_; }

private:
    sigset_t original_mask_{};
    std::array<struct sigaction, kPromptSignals.size()> saved_{};
};

// Turns echo off on `fd` for its lifetime.
class EchoOff {
public:
    explicit EchoOff(int fd) : fd_(fd) {
        if (tcgetattr(fd_, &saved_) != 0) {
            error_ = errno;
            return;
        }
        termios quiet = saved_;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK | ECHONL);
        if (tcsetattr(fd_, TCSAFLUSH, &quiet) != 0) {
            error_ = errno;
            return;
        }
        active_ = true;
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;
    ~EchoOff() {
        // TCSAFLUSH also drops anything typed past the secret's end.
        if (active_) tcsetattr(fd_, TCSAFLUSH, &saved_);
    }
    int error() const { return error_; }

private:
    int fd_;
    termios saved_{};
    bool active_ = false;
    int error_ = 0;
};

void write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // a prompt that cannot be shown is not fatal; the read decides
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace

bool Secret::push_back(char c) {
    if (size_ == kCapacity) return false;
    bytes_[size_++] = c;
    return true;
}

void Secret::wipe() {
    OPENSSL_cleanse(bytes_.data(), bytes_.size());
    size_ = 0;
}

void wipe_string(std::string& s) {
    s.resize(s.capacity());
    OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}

Status read_secret_line(int fd, std::size_t max_bytes, Secret& out, const sigset_t* wait_mask) {
    out.wipe();
    const std::size_t limit = max_bytes < Secret::kCapacity ? max_bytes : Secret::kCapacity;
    for (;;) {
        if (wait_mask != nullptr) {
            pollfd p{fd, POLLIN, 0};
            const int ready = ppoll(&p, 1, nullptr, wait_mask);
            if (ready < 0) {
                if (errno == EINTR && g_caught_signal == 0) continue;
                out.wipe();
                if (errno == EINTR) return make_error("interrupted");
                return make_error(std::string("waiting for input: ") + std::strerror(errno));
            }
        }
        char c = 0;
        const ssize_t n = read(fd, &c, 1);
        if (n < 0) {
            if (errno == EINTR) continue;  // with a wait mask, the ppoll above is where signals land
            out.wipe();
            return make_error(std::string("reading input: ") + std::strerror(errno));
        }
        if (n == 0 || c == '\n') break;
        if (out.size() == limit) {
            out.wipe();
            c = '\0';
            return make_error("input is longer than " + std::to_string(limit) + " bytes");
        }
        out.push_back(c);
        c = '\0';
    }
    if (!out.empty() && out.view().back() == '\r') out.pop_back();
    if (out.empty()) return make_error("no input (one line expected)");
    return Ok{};
}

Status read_secret_from_terminal(std::string_view prompt, std::size_t max_bytes, Secret& out) {
    UniqueFd tty(open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
    if (!tty.valid()) return make_error(std::string("cannot open /dev/tty: ") + std::strerror(errno));
    for (;;) {
        int caught = 0;
        Status status = Ok{};
        {
            PromptSignals signals;
            {
                EchoOff quiet(tty.get());
                if (quiet.error() != 0)
                    return make_error(std::string("cannot turn terminal echo off: ") + std::strerror(quiet.error()));
                write_all(tty.get(), prompt);
                status = read_secret_line(tty.get(), max_bytes, out, signals.wait_mask());
            }  // echo back on
            write_all(tty.get(), "\n");
            caught = g_caught_signal;
        }  // handlers and mask back; a signal still pending is delivered here, terminal already sane
        if (caught == 0) return status;
        out.wipe();
        raise(caught);  // the default action (terminate, or stop) happens now, with the terminal restored
        if (!is_stop_signal(caught)) return make_error("interrupted");
        // resumed after a stop: prompt again
    }
}

Status read_secret(std::string_view prompt, std::size_t max_bytes, Secret& out) {
    if (isatty(STDIN_FILENO) == 1) return read_secret_from_terminal(prompt, max_bytes, out);
    return read_secret_line(STDIN_FILENO, max_bytes, out);
}

void make_process_undumpable() { prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }

}  // namespace bg::ctl
