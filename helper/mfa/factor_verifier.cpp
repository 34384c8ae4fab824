// SPDX-License-Identifier: ISC
#include "helper/mfa/factor_verifier.hpp"

#include <algorithm>

#include "helper/mfa/totp.hpp"
#include "helper/mfa/yubikey.hpp"

namespace bg::mfa {
namespace {

bool is_totp_code(std::string_view s) {
    return s.size() == 6 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string factor_kind(std::string_view code) {
    if (is_totp_code(code)) return "totp";
    if (yubikey::looks_like_otp(code)) return "yubikey";
    return "";
}

FactorResult FactorVerifier::verify(const std::string& user, std::string_view code, std::int64_t now) {
    if (failures_.is_limited(user, now)) {
        FactorResult limited;
        limited.status = FactorResult::Status::RateLimited;
        limited.label = factor_kind(code);
        limited.retry_after = failures_.retry_after(user, now);
        limited.failure = "too many failed codes for " + user + "; try again in " +
                          std::to_string(limited.retry_after) + " s";
        return limited;
    }
    FactorResult result;
    bool counts_as_failure = true;
    if (is_totp_code(code)) {
        result = check_totp(user, code, now);
        // Nothing enrolled is the administrator's omission, not a guess.
        counts_as_failure = totp_.secret_for(user).has_value();
    } else if (yubikey::looks_like_otp(code)) {
        result = check_yubikey(user, code);
    } else {
        result.failure = "the one-time code must be 6 digits (TOTP) or a 44-character YubiKey OTP";
    }
    if (result.status == FactorResult::Status::Accepted) {
        failures_.reset(user);
    } else if (counts_as_failure) {
        failures_.record_failure(user, now);
    }
    return result;
}

FactorResult FactorVerifier::check_totp(const std::string& user, std::string_view code, std::int64_t now) const {
    FactorResult r;
    r.label = "totp";
    const auto secret = totp_.secret_for(user);
    if (!secret) {
        r.failure = "no TOTP secret is enrolled for " + user +
                    "; an administrator enrolls one with: breakglassctl enroll totp " + user;
        return r;
    }
    const totp::VerifyOutcome outcome = totp::verify(*secret, code, now, last_counter_(user, r.label));
    if (!outcome.step) {
        r.failure = outcome.failure == totp::Failure::Replayed ? "that one-time code was already used; wait for the next one"
                                                               : "wrong one-time code";
        return r;
    }
    r.status = FactorResult::Status::Accepted;
    r.counter = *outcome.step;
    return r;
}

FactorResult FactorVerifier::check_yubikey(const std::string& user, std::string_view code) const {
    FactorResult r;
    const auto otp = yubikey::split_otp(code);
    if (!otp) {
        r.failure = "the one-time code must be 6 digits (TOTP) or a 44-character YubiKey OTP";
        return r;
    }
    r.label = "yubikey:" + otp->public_id;
    const YubikeyToken* token = yubikeys_.find(user, otp->public_id);
    if (token == nullptr) {
        r.failure = "YubiKey " + otp->public_id + " is not enrolled for " + user +
                    "; an administrator enrolls it with: breakglassctl enroll yubikey " + user + " --public-id " +
                    otp->public_id;
        return r;
    }
    const auto key = token->aes_key.view();
    const auto uid = token->private_uid.view();
    if (key.size() != 16 || uid.size() != 6) {
        r.failure = "the enrolled YubiKey " + otp->public_id + " is damaged; enrol it again";
        return r;
    }
    const yubikey::VerifyOutcome outcome =
        yubikey::verify(key.first<16>(), uid.first<6>(), *otp, last_counter_(user, r.label));
    if (!outcome.counter) {
        r.failure = "YubiKey OTP refused: " + yubikey::failure_text(outcome.failure);
        return r;
    }
    r.status = FactorResult::Status::Accepted;
    r.counter = *outcome.counter;
    return r;
}

}  // namespace bg::mfa
