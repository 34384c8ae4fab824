// SPDX-License-Identifier: ISC
// A small expected-like result for errors that callers handle (docs/ARCHITECTURE.md, "Conventions the code keeps").
// Library code (common/, policy/) returns these; only the top layer logs.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace bg {

struct Error {
    std::string message;
    // errno of the system call that failed, when one did (0 otherwise), so a
    // caller can tell a full disk (ENOSPC) from a broken one.
    int system_errno = 0;
};

template <typename T>
class Result {
public:
    Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit by design
    Result(Error error) : v_(std::move(error)) {}        // NOLINT: implicit by design

    bool ok() const { return std::holds_alternative<T>(v_); }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<T>(v_); }
    const T& value() const& { return std::get<T>(v_); }
    T&& value() && { return std::get<T>(std::move(v_)); }
    T* operator->() { return &std::get<T>(v_); }
    const T* operator->() const { return &std::get<T>(v_); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const { return std::get<Error>(v_); }

private:
    std::variant<T, Error> v_;
};

// Result<void> equivalent.
struct Ok {};
using Status = Result<Ok>;

inline Error make_error(std::string message) { return Error{std::move(message)}; }

}  // namespace bg
