// SPDX-License-Identifier: ISC
#include "helper/audit/signed_checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/file_io.hpp"
#include "common/utc_time.hpp"
#include "helper/audit/audit_record.hpp"
#include "helper/audit/seal_key.hpp"

namespace bg::audit {
namespace {

constexpr std::size_t kMaxSeqDigits = 20;
constexpr std::size_t kSignatureBase64Chars = 88;
constexpr std::size_t kTimeChars = 20;

bool is_lower_hex(std::string_view s) {
    for (const char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

// "name=" then the value up to the next space (or the end); advances `rest`.
Result<std::string_view> take_field(std::string_view& rest, std::string_view name, bool last) {
    if (rest.substr(0, name.size()) != name || rest.size() <= name.size() || rest[name.size()] != '=') {
        return Error{"checkpoint detail: expected " + std::string(name) + "="};
    }
    rest.remove_prefix(name.size() + 1);
    const auto space = rest.find(' ');
    if (last) {
        if (space != std::string_view::npos) return Error{"checkpoint detail: unexpected text after sig="};
        const std::string_view value = rest;
        rest = {};
        return value;
    }
    if (space == std::string_view::npos) return Error{"checkpoint detail: missing fields after " + std::string(name)};
    const std::string_view value = rest.substr(0, space);
    rest.remove_prefix(space + 1);
    return value;
}

Result<std::uint64_t> parse_seq(std::string_view digits) {
    if (digits.empty() || digits.size() > kMaxSeqDigits || digits[0] == '0') {
        return Error{"checkpoint detail: seq is not a positive decimal number"};
    }
    std::uint64_t value = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9') return Error{"checkpoint detail: seq is not a positive decimal number"};
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (value > (UINT64_MAX - d) / 10) return Error{"checkpoint detail: seq is out of range"};
        value = value * 10 + d;
    }
    return value;
}

std::string errno_text(int err) { return std::strerror(err); }

Status write_public_key_file(const std::string& path, const Ed25519PublicKey& key) {
    const std::string tmp = path + ".tmp";
    if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) return Error{"cannot remove " + tmp + ": " + errno_text(errno)};
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd.valid()) return Error{"cannot create " + tmp + ": " + errno_text(errno)};
    const std::string text = format_ed25519_public_key(key) + "\n";
    if (::fchmod(fd.get(), 0644) != 0 ||
        ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::fsync(fd.get()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return Error{"cannot write " + tmp + ": " + errno_text(err)};
    }
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return Error{"cannot rename " + tmp + ": " + errno_text(err)};
    }
    return Ok{};
}

}  // namespace

std::string checkpoint_message(std::string_view host, std::uint64_t seq, std::string_view head, std::int64_t time) {
    std::string m(kCheckpointMessageVersion);
    m += "\nhost=";
    m += host;
    m += "\nseq=" + std::to_string(seq);
    m += "\nhead=";
    m += head;
    m += "\ntime=" + format_utc(time) + "\n";
    return m;
}

std::string render_checkpoint_detail(const SignedCheckpoint& c) {
    return "seq=" + std::to_string(c.seq) + " head=" + c.head + " time=" + format_utc(c.time) +
           " sig=" + base64_encode(c.signature.data(), c.signature.size());
}

Result<SignedCheckpoint> parse_checkpoint_detail(std::string_view detail) {
    if (detail.size() > kMaxCheckpointDetailBytes) return Error{"checkpoint detail is too long"};
    std::string_view rest = detail;
    auto seq = take_field(rest, "seq", false);
    if (!seq) return seq.error();
    auto head = take_field(rest, "head", false);
    if (!head) return head.error();
    auto time = take_field(rest, "time", false);
    if (!time) return time.error();
    auto sig = take_field(rest, "sig", true);
    if (!sig) return sig.error();

    SignedCheckpoint c;
    auto n = parse_seq(*seq);
    if (!n) return n.error();
    c.seq = *n;
    if (head->size() != kHexDigestChars || !is_lower_hex(*head)) {
        return Error{"checkpoint detail: head is not 64 lowercase hex digits"};
    }
    c.head = std::string(*head);
    const auto t = time->size() == kTimeChars ? parse_utc(*time, UtcSyntax::Canonical) : std::nullopt;
    if (!t) return Error{"checkpoint detail: time is not YYYY-MM-DDTHH:MM:SSZ"};
    c.time = *t;
    if (sig->size() != kSignatureBase64Chars) return Error{"checkpoint detail: sig is not 88 base64 characters"};
    auto signature = parse_ed25519_signature(*sig);
    if (!signature) return Error{"checkpoint detail: " + signature.error().message};
    c.signature = *signature;
    return c;
}

Result<SignedCheckpoint> sign_checkpoint(const Ed25519PrivateKey& key, std::string_view host, std::uint64_t seq,
                                         std::string_view head, std::int64_t time) {
    if (seq == 0 || head.size() != kHexDigestChars || !is_lower_hex(head)) {
        return Error{"a checkpoint needs a record to cover"};
    }
    auto sig = key.sign(checkpoint_message(host, seq, head, time));
    if (!sig) return sig.error();
    SignedCheckpoint c;
    c.seq = seq;
    c.head = std::string(head);
    c.time = time;
    c.signature = *sig;
    return c;
}

bool checkpoint_signature_valid(const Ed25519PublicKey& key, std::string_view host, const SignedCheckpoint& c) {
    return ed25519_verify(key, checkpoint_message(host, c.seq, c.head, c.time), c.signature);
}

Result<Ed25519PrivateKey> open_checkpoint_key(const std::string& state_dir, bool* created) {
    const std::string path = state_dir + "/" + std::string(kCheckpointKeyFileName);
    const std::string pub = state_dir + "/" + std::string(kCheckpointPublicKeyFileName);
    if (created) *created = false;
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        auto key = Ed25519PrivateKey::load(path);
        if (!key) return key.error();
        // checkpoint.pub is only a copy for the operator: put it back if it
        // went missing or does not match.
        auto on_disk = read_ed25519_public_key_file(pub);
        if (!on_disk || *on_disk != key->public_key()) {
            ::unlink(pub.c_str());
            if (auto written = write_public_key_file(pub, key->public_key()); !written) return written.error();
        }
        return key;
    }
    if (errno != ENOENT) return Error{"cannot stat " + path + ": " + errno_text(errno)};
    auto key = Ed25519PrivateKey::generate();
    if (!key) return key.error();
    if (auto written = key->write(path); !written) return written.error();
    if (auto written = write_public_key_file(pub, key->public_key()); !written) return written.error();
    if (auto synced = fsync_directory(state_dir); !synced) return synced.error();
    if (created) *created = true;
    return key;
}

}  // namespace bg::audit
