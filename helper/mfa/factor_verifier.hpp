// SPDX-License-Identifier: ISC
// Checking the second factor of a break-glass request: the failure limit
// first, then the code by its shape — six digits are a TOTP code, 44 modhex
// characters a YubiKey OTP — against the user's enrolled secrets and the last
// counter accepted for that factor (replay protection). The verifier keeps no
// replay state of its own: the accepted counter goes into the grant record,
// and the caller (the daemon's grant store, rebuilt from the log) answers
// last_counter.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "helper/mfa/failure_limiter.hpp"
#include "helper/mfa/totp_store.hpp"
#include "helper/mfa/yubikey_store.hpp"

namespace bg::mfa {

// "totp", "yubikey", or "" when the code has neither shape.
std::string factor_kind(std::string_view code);

struct FactorResult {
    enum class Status {
        Accepted,     // counter and label are set
        Failed,       // wrong, replayed, unknown or malformed; failure says why
        RateLimited,  // not checked: too many recent failures; retry_after says when
    };
    Status status = Status::Failed;
    std::uint64_t counter = 0;    // accepted: the TOTP step or the YubiKey's combined counter
    std::string label;            // "totp" or "yubikey:<public id>"; "" when the code was malformed
    std::string failure;          // why not, safe to show
    std::int64_t retry_after = 0; // RateLimited: seconds
};

class FactorVerifier {
public:
    // The last counter accepted for (user, factor label); 0 when none.
    using LastCounter = std::function<std::uint64_t(const std::string& user, const std::string& label)>;

    FactorVerifier(const TotpStore& totp, const YubikeyStore& yubikeys, FailureLimiter& failures, LastCounter last)
        : totp_(totp), yubikeys_(yubikeys), failures_(failures), last_counter_(std::move(last)) {}

    // Checks `code` for `user` at `now`. A failure counts against the user's
    // limit (except "nothing enrolled"); an acceptance resets it. The code is
    // not kept.
    FactorResult verify(const std::string& user, std::string_view code, std::int64_t now);

private:
    FactorResult check_totp(const std::string& user, std::string_view code, std::int64_t now) const;
    FactorResult check_yubikey(const std::string& user, std::string_view code) const;

    const TotpStore& totp_;
    const YubikeyStore& yubikeys_;
    FailureLimiter& failures_;
    LastCounter last_counter_;
};

}  // namespace bg::mfa
