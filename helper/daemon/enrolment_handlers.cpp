// SPDX-License-Identifier: ISC
// EnrollTotpRequest and EnrollYubikeyRequest (root only): store a user's
// second factor and record that it was enrolled (never the secret).
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/hex.hpp"
#include "common/nss.hpp"
#include "common/text.hpp"
#include "helper/daemon/daemon.hpp"
#include "helper/mfa/totp.hpp"
#include "helper/mfa/yubikey.hpp"

namespace bg {
namespace {

using proto::ErrorAnswer;
using proto::ErrorCode;

constexpr std::size_t kTotpSecretBytes = 20;  // 160 bits, RFC 4226's recommendation

// Erases a string's bytes before it is released.
struct SecretGuard {
    std::string& s;
    ~SecretGuard() { OPENSSL_cleanse(s.data(), s.size()); }
};

// Why `user` cannot be enrolled (not a name, no such user, the look-up failed), or nullopt.
std::optional<ErrorAnswer> enrollable_user_problem(const std::string& user) {
    if (!is_valid_name(user, kMaxUserBytes))
        return ErrorAnswer{ErrorCode::BadRequest, "'" + escape_for_display(user) + "' is not a user on this host"};
    const nss::Lookup<nss::User> found = nss::user_by_name(user);
    if (found.failed())
        return ErrorAnswer{ErrorCode::Unavailable,
                           "cannot look up user '" + user + "': " + escape_for_display(found.error)};
    if (found.not_found())
        return ErrorAnswer{ErrorCode::BadRequest, "'" + escape_for_display(user) + "' is not a user on this host"};
    return std::nullopt;
}

}  // namespace

bool Daemon::record_enrolment(const PeerIdentity& peer, const std::string& user, const std::string& factor,
                              const std::string& detail, std::int64_t now) {
    audit::RecordFields f;
    f.event = "enroll";
    f.actor = peer.user;
    f.actor_loginuid = peer.loginuid;
    f.actor_role = "administrator";
    f.peer_uid = static_cast<std::int64_t>(peer.uid);
    f.target = "user=" + user;
    f.factor = factor;
    f.detail = with_loginuid_note(detail, peer);
    return record(f, now).has_value();
}

proto::Message Daemon::on_enroll_totp(const PeerIdentity& peer, proto::EnrollTotpRequest& m, std::int64_t now) {
    std::string secret_text = m.secret_base32;
    SecretGuard erase_text{secret_text};
    if (auto bad = enrollable_user_problem(m.user)) return std::move(*bad);
    std::vector<unsigned char> secret;
    if (secret_text.empty()) {
        secret.resize(kTotpSecretBytes);
        if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1)
            return ErrorAnswer{ErrorCode::Internal, "the random generator failed"};
    } else {
        auto decoded = totp::base32_decode(secret_text);
        if (!decoded || decoded->size() < 16)
            return ErrorAnswer{ErrorCode::BadRequest, "the secret must be base32 of at least 128 bits"};
        secret = std::move(*decoded);
    }
    std::string encoded = totp::base32_encode(secret);
    SecretGuard erase_encoded{encoded};
    const Status stored = totp_.enroll(m.user, secret);
    OPENSSL_cleanse(secret.data(), secret.size());
    if (!stored) return ErrorAnswer{ErrorCode::Unavailable, "cannot store the secret: " + stored.error().message};
    if (!record_enrolment(peer, m.user, "totp", "TOTP secret enrolled", now))
        return ErrorAnswer{ErrorCode::Unavailable, "the enrolment could not be recorded"};
    proto::Enrolled a{m.user, totp::otpauth_uri(m.user, encoded)};
    return a;
}


proto::Message Daemon::on_enroll_yubikey(const PeerIdentity& peer, proto::EnrollYubikeyRequest& m, std::int64_t now) {
    SecretGuard erase_key{m.aes_key_hex};
    SecretGuard erase_uid{m.private_uid_hex};
    if (auto bad = enrollable_user_problem(m.user)) return std::move(*bad);
    if (m.public_id.size() != yubikey::kPublicIdChars || !yubikey::is_modhex(m.public_id))
        return ErrorAnswer{ErrorCode::BadRequest, "the public id must be 12 modhex characters (cbdefghijklnrtuv)"};
    auto key = hex_decode(m.aes_key_hex, 16);
    auto uid = hex_decode(m.private_uid_hex, 6);
    if (!key || !uid) {
        if (key) OPENSSL_cleanse(key->data(), key->size());
        return ErrorAnswer{ErrorCode::BadRequest,
                           "the AES key must be 32 hex characters and the private id 12 hex characters"};
    }
    const Status stored = yubikeys_.enroll(m.user, m.public_id, *key, *uid);
    OPENSSL_cleanse(key->data(), key->size());
    OPENSSL_cleanse(uid->data(), uid->size());
    if (!stored) return ErrorAnswer{ErrorCode::BadRequest, "cannot enrol the YubiKey: " + stored.error().message};
    if (!record_enrolment(peer, m.user, "yubikey:" + m.public_id, "YubiKey enrolled", now))
        return ErrorAnswer{ErrorCode::Unavailable, "the enrolment could not be recorded"};
    return proto::YubikeyEnrolled{m.user, m.public_id};
}

}  // namespace bg
