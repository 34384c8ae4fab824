// SPDX-License-Identifier: ISC
#include "helper/daemon/unrecorded_ends.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/json_build.hpp"
#include "common/json_parse.hpp"
#include "helper/audit/audit_record.hpp"

namespace bg {
namespace {

using json = nlohmann::json;

constexpr off_t kFileBytes = static_cast<off_t>(2 * UnrecordedEnds::kSlotBytes);

std::string sha256_hex(const std::string& text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &n, EVP_sha256(), nullptr) != 1) return {};
    return audit::to_hex(digest, n);
}

// Built member by member, and every json here emptied before it is freed
// (common/json_build.hpp): these are written on closing paths.
json body_of(std::uint64_t generation, const std::vector<UnrecordedEnd>& ends) {
    json list = json::array();
    EmptiedBeforeDestruction list_emptied(list);
    for (const UnrecordedEnd& e : ends)
        list.push_back(JsonObject()("grant_id", e.grant_id)("event", e.event)("at", e.at)("actor", e.actor)(
                           "peer_uid", e.peer_uid)("actor_loginuid", e.actor_loginuid)("detail", e.detail)("why", e.why)
                           .take());
    return JsonObject()("generation", generation)("ends", std::move(list)).take();
}

using Slot = EndsSlot;

Slot parse_slot(std::string_view bytes) {
    Slot slot;
    if (bytes.empty() || bytes[0] == '\0') {
        slot.never_written = std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\0'; });
        return slot;
    }
    const std::size_t end = bytes.find('\n');
    if (end == std::string_view::npos) return slot;
    json j;
    EmptiedBeforeDestruction j_emptied(j);
    if (parse_into(bytes.substr(0, end), j) != JsonParse::Ok) return slot;
    if (!j.is_object() || !j.contains("check") || !j["check"].is_string()) return slot;
    try {
        const std::uint64_t generation = j.at("generation").get<std::uint64_t>();
        std::vector<UnrecordedEnd> ends;
        for (const json& e : j.at("ends")) {
            UnrecordedEnd u;
            u.grant_id = e.at("grant_id").get<std::string>();
            u.event = e.at("event").get<std::string>();
            u.at = e.at("at").get<std::int64_t>();
            u.actor = e.at("actor").get<std::string>();
            u.peer_uid = e.at("peer_uid").get<std::int64_t>();
            u.actor_loginuid = e.at("actor_loginuid").get<std::int64_t>();
            u.detail = e.at("detail").get<std::string>();
            u.why = e.at("why").get<std::string>();
            ends.push_back(std::move(u));
        }
        json body = body_of(generation, ends);
        EmptiedBeforeDestruction body_emptied(body);
        if (sha256_hex(body.dump()) != j["check"].get<std::string>()) return slot;
        slot.valid = true;
        slot.generation = generation;
        slot.ends = std::move(ends);
    } catch (const std::exception&) {
        return Slot{};
    }
    return slot;
}

}  // namespace

EndsSlot parse_ends_slot(std::string_view bytes) { return parse_slot(bytes); }

std::string render_ends_slot(std::uint64_t generation, const std::vector<UnrecordedEnd>& ends) {
    json slot = body_of(generation, ends);
    EmptiedBeforeDestruction slot_emptied(slot);
    const std::string check = sha256_hex(slot.dump());
    slot["check"] = check;
    return slot.dump() + "\n";
}

namespace {

Result<std::string> read_slot(int fd, off_t offset) {
    std::string buf(UnrecordedEnds::kSlotBytes, '\0');
    std::size_t got = 0;
    while (got < buf.size()) {
        const ssize_t n = ::pread(fd, buf.data() + got, buf.size() - got, offset + static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error{std::string("cannot read: ") + std::strerror(errno), errno};
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    buf.resize(got);
    return buf;
}

// Opens (creating when missing) and preallocates the file; an invalid fd
// and the reason when that cannot be done.
Result<UniqueFd> open_file(const std::string& path, bool* created) {
    *created = false;
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid() && errno == ENOENT) {
        fd = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
        *created = fd.valid();
    }
    if (!fd.valid()) return Error{"cannot open " + path + ": " + std::strerror(errno), errno};
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Error{"cannot stat " + path + ": " + std::strerror(errno), errno};
    if (!S_ISREG(st.st_mode)) return Error{path + " is not a regular file"};
    if (st.st_uid != ::geteuid()) return Error{path + " is not owned by the daemon's user"};
    if ((st.st_mode & 077) != 0) return Error{path + " is accessible by group or others; run chmod 0600 " + path};
    if (st.st_size < kFileBytes) {
        // An existing file that is short (a start on a full disk) is still
        // read; its writes may fail until there is room.
        if (const int err = ::posix_fallocate(fd.get(), 0, kFileBytes); err != 0 && *created) {
            ::unlink(path.c_str());  // a new file that cannot hold its slots helps nobody
            return Error{"cannot allocate " + path + ": " + std::strerror(err), err};
        }
    }
    return fd;
}

}  // namespace

Result<UnrecordedEnds> UnrecordedEnds::open(const std::string& state_dir) {
    const std::string path = state_dir + "/" + std::string(kFileName);
    bool created = false;
    auto fd = open_file(path, &created);
    if (!fd) {
        // Missing and not creatable now (a full disk at start): no file yet.
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0 && errno == ENOENT) return UnrecordedEnds(path, UniqueFd());
        return fd.error();
    }
    UnrecordedEnds list(path, std::move(fd).value());
    if (created) return list;
    auto a = read_slot(list.fd_.get(), 0);
    if (!a) return Error{path + ": " + a.error().message, a.error().system_errno};
    auto b = read_slot(list.fd_.get(), static_cast<off_t>(kSlotBytes));
    if (!b) return Error{path + ": " + b.error().message, b.error().system_errno};
    const Slot first = parse_slot(*a);
    const Slot second = parse_slot(*b);
    // Writes alternate, so at most one slot can be torn by a crash.
    if (!first.valid && !second.valid && !(first.never_written || second.never_written))
        return Error{path + " is damaged (neither copy of the list of grant ends awaiting their record is valid); "
                            "grants ended before the last stop might be active again. Compare `breakglassctl status "
                            "--all` with the revocations you expect, revoke what should not be active, then move the "
                            "file away and restart"};
    const Slot* newest = nullptr;
    for (const Slot* s : {&first, &second})
        if (s->valid && (!newest || s->generation > newest->generation)) newest = s;
    if (newest) {
        list.generation_ = newest->generation;
        list.ends_ = newest->ends;
    }
    return list;
}

Status UnrecordedEnds::add(UnrecordedEnd end) {
    ends_.erase(std::remove_if(ends_.begin(), ends_.end(),
                               [&](const UnrecordedEnd& e) { return e.grant_id == end.grant_id; }),
                ends_.end());
    ends_.push_back(std::move(end));
    return write();
}

Status UnrecordedEnds::remove(const std::string& grant_id) {
    const auto it = std::remove_if(ends_.begin(), ends_.end(),
                                   [&](const UnrecordedEnd& e) { return e.grant_id == grant_id; });
    if (it == ends_.end()) return Ok{};
    ends_.erase(it, ends_.end());
    return write();
}

Status UnrecordedEnds::ensure_file() {
    if (fd_.valid()) return Ok{};
    bool created = false;
    auto fd = open_file(path_, &created);
    if (!fd) return fd.error();
    fd_ = std::move(fd).value();
    return write();
}

Status UnrecordedEnds::write() {
    if (!fd_.valid()) return Error{path_ + " could not be created (a full disk?); the ended grants are kept in memory only"};
    // What must survive is which grants ended, and when: the details go
    // first when the list outgrows a slot.
    std::vector<UnrecordedEnd> kept = ends_;
    std::string text;
    for (std::size_t trimmed = 0;; ++trimmed) {
        text = render_ends_slot(generation_ + 1, kept);
        if (text.size() <= kSlotBytes) break;
        if (trimmed >= kept.size())
            return Error{path_ + ": " + std::to_string(kept.size()) +
                         " grant ends awaiting their records do not fit; the newest are kept in memory only"};
        kept[trimmed].detail = "(detail not kept: too many ends were waiting)";
    }
    text.resize(kSlotBytes, '\0');
    const off_t offset = static_cast<off_t>(((generation_ + 1) % 2) * kSlotBytes);
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::pwrite(fd_.get(), text.data() + done, text.size() - done, offset + static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return Error{"cannot write " + path_ + ": " + std::strerror(errno), errno};
        done += static_cast<std::size_t>(n);
    }
    if (::fdatasync(fd_.get()) != 0) return Error{"cannot sync " + path_ + ": " + std::strerror(errno), errno};
    ++generation_;
    return Ok{};
}

}  // namespace bg
