// SPDX-License-Identifier: ISC
#include "helper/ship/log_tail.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "helper/audit/audit_log.hpp"
#include "helper/audit/audit_verify.hpp"

namespace bg::ship {
namespace {

constexpr std::size_t kChunk = 256 * 1024;

}  // namespace

Result<LogTail> LogTail::open(const std::string& log_path) {
    UniqueFd fd(::open(log_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) return Error{"cannot open " + log_path + " to ship it: " + std::strerror(errno)};
    return LogTail(log_path, std::move(fd));
}

Result<std::vector<Entry>> LogTail::read(std::uint64_t after_seq, std::uint64_t through_seq, std::size_t max_records,
                                         std::size_t max_bytes) {
    std::vector<Entry> out;
    if (through_seq <= after_seq || max_records == 0) return out;
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) return Error{"cannot stat " + path_ + ": " + std::strerror(errno)};
    const off_t size = st.st_size;
    if (!positioned_ || next_after_ != after_seq || next_offset_ > size) {
        next_offset_ = audit::seek_after_seq(fd_.get(), size, after_seq);
        next_after_ = after_seq;
        positioned_ = true;
    }
    off_t offset = next_offset_;
    std::string pending;
    std::size_t bytes = 0;
    std::uint64_t expect = after_seq + 1;
    while (offset < size) {
        const std::size_t want = static_cast<std::size_t>(std::min<off_t>(size - offset, static_cast<off_t>(kChunk)));
        std::string chunk(want, '\0');
        const ssize_t got = ::pread(fd_.get(), chunk.data(), want, offset);
        if (got < 0) {
            if (errno == EINTR) continue;
            return Error{"cannot read " + path_ + ": " + std::strerror(errno)};
        }
        if (got == 0) break;
        chunk.resize(static_cast<std::size_t>(got));
        const off_t chunk_start = offset - static_cast<off_t>(pending.size());
        offset += got;
        pending += chunk;
        std::size_t pos = 0;
        for (;;) {
            const std::size_t nl = pending.find('\n', pos);
            if (nl == std::string::npos) break;
            const std::string_view line(pending.data() + pos, nl - pos);
            const off_t line_end = chunk_start + static_cast<off_t>(nl + 1);
            pos = nl + 1;
            audit::LineScan scan;
            if (const char* why = audit::scan_line(line, &scan))
                return Error{path_ + ": unreadable record after seq " + std::to_string(expect - 1) + ": " + why};
            if (scan.seq <= after_seq) {
                next_offset_ = line_end;
                continue;
            }
            if (scan.seq != expect)
                return Error{path_ + ": seq " + std::to_string(scan.seq) + " follows seq " + std::to_string(expect - 1) +
                             "; run breakglassctl verify"};
            if (scan.seq > through_seq || out.size() >= max_records || (bytes >= max_bytes && !out.empty())) {
                next_after_ = expect - 1;
                return out;
            }
            auto record = audit::parse_record(line);
            if (!record) return Error{path_ + ": record seq " + std::to_string(scan.seq) + ": " + record.error().message};
            out.push_back(Entry{std::move(record).value(), std::string(line)});
            bytes += line.size() + 1;
            next_offset_ = line_end;
            next_after_ = scan.seq;
            ++expect;
        }
        pending.erase(0, pos);
        if (pending.size() > audit::kMaxLineBytes + 1) return Error{path_ + ": a record is longer than 16 KiB"};
    }
    return out;
}

}  // namespace bg::ship
