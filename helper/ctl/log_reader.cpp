// SPDX-License-Identifier: ISC
#include "helper/ctl/log_reader.hpp"

#include <algorithm>

#include <openssl/evp.h>

#include "common/protocol.hpp"
#include "common/text.hpp"
#include "common/transport.hpp"
#include "helper/audit/audit_record.hpp"
#include "helper/audit/audit_verify.hpp"
#include "helper/ctl/exit_code.hpp"

namespace bg::ctl {

DaemonLogRead read_log_through_daemon(const std::string& socket, std::uint64_t after_seq, std::int64_t since,
                                      const std::function<bool(const std::string& line)>& each) {
    proto::Client client(socket);
    return read_log_through_daemon(client, after_seq, since, each);
}

DaemonLogRead read_log_through_daemon(proto::Client& client, std::uint64_t after_seq, std::int64_t since,
                                      const std::function<bool(const std::string& line)>& each) {
    DaemonLogRead out;
    proto::LogRequest request;
    request.after_seq = after_seq;
    request.since = since;
    out.last_seq = after_seq;
    for (;;) {
        proto::CallResult r = client.call(request, proto::MessageType::LogAnswer);
        if (!r.answer) {
            out.exit_code = kExitUnreachable;
            out.error = escape_for_display(r.error) + "; is breakglassd running? (systemctl status breakglassd.socket)";
            return out;
        }
        if (const auto* refused = std::get_if<proto::ErrorAnswer>(&*r.answer)) {
            out.exit_code = kExitRefused;
            out.error = std::string(proto::error_code_name(refused->code)) + ": " + escape_for_display(refused->message);
            return out;
        }
        const auto& page = std::get<proto::LogAnswer>(*r.answer);
        for (const std::string& line : page.records) {
            ++out.records;
            if (!each(line)) {
                out.ok = true;
                return out;
            }
        }
        out.last_seq = std::max(out.last_seq, page.last_seq);
        if (!page.more) break;
        if (page.last_seq <= request.after_seq) {
            out.exit_code = kExitUnreachable;
            out.error = "protocol error: breakglassd's log answer did not advance past seq " +
                        std::to_string(request.after_seq);
            return out;
        }
        request.after_seq = page.last_seq;
    }
    out.ok = true;
    return out;
}

void LogRangeCheck::add(std::string_view line) {
    if (!ok) return;
    audit::LineScan s;
    if (const char* why = audit::scan_line(line, &s)) {
        fail(s.seq, why);
        return;
    }
    if (records > 0 && s.seq != last + 1) return fail(s.seq, "seq does not follow " + std::to_string(last));
    if (records > 0 && s.prev_hash != prev_hash) return fail(s.seq, "prev_hash is not the hash of the record before");
    std::string unsealed;
    unsealed.reserve(line.size());
    unsealed.append(line.substr(0, s.hash_member_begin));
    unsealed.append(line.substr(s.hash_member_end, s.seal_member_begin - s.hash_member_end));
    unsealed.append(line.substr(s.seal_member_end));
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(unsealed.data(), unsealed.size(), digest, &n, EVP_sha256(), nullptr);
    if (audit::to_hex(digest, n) != s.hash) return fail(s.seq, "hash does not match the record");
    if (records == 0) first = s.seq;
    last = s.seq;
    prev_hash = std::string(s.hash);
    ++records;
}

void LogRangeCheck::fail(std::uint64_t seq, const std::string& why) {
    ok = false;
    first_bad_seq = seq;
    problem = "seq " + std::to_string(seq) + ": " + why;
}

}  // namespace bg::ctl
