// SPDX-License-Identifier: ISC
#include "helper/ctl/story_lookup.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <map>
#include <set>

#include "common/file_io.hpp"
#include "helper/audit/audit_record.hpp"
#include "helper/audit/audit_verify.hpp"
#include "helper/audit/signed_checkpoint.hpp"
#include "helper/audit/story_index.hpp"
#include "helper/ctl/log_reader.hpp"

namespace bg::ctl {
namespace {

std::string seq_text(std::uint64_t seq) { return "seq " + std::to_string(seq); }

// Byte offset of a line start at or before the first line with seq >
// after_seq (binary search: seqs increase with the offset).
std::size_t offset_after(std::string_view bytes, std::uint64_t after_seq) {
    std::size_t lo = 0, hi = bytes.size();
    while (hi - lo > 64 * 1024) {
        const std::size_t mid = lo + (hi - lo) / 2;
        const std::size_t nl = bytes.find('\n', mid);
        if (nl == std::string_view::npos || nl + 1 >= hi) break;
        const std::size_t end = bytes.find('\n', nl + 1);
        if (end == std::string_view::npos) break;
        const std::uint64_t seq = audit::seq_of_line(bytes.substr(nl + 1, end - nl - 1));
        if (seq == 0) break;
        if (seq <= after_seq)
            lo = nl + 1;
        else
            hi = nl + 1;
    }
    return lo;
}

// The line containing byte `at`.
std::string_view line_around(std::string_view bytes, std::size_t at) {
    const std::size_t nl = at == 0 ? std::string_view::npos : bytes.rfind('\n', at - 1);
    const std::size_t begin = nl == std::string_view::npos ? 0 : nl + 1;
    std::size_t end = bytes.find('\n', at);
    if (end == std::string_view::npos) end = bytes.size();
    return bytes.substr(begin, end - begin);
}

// The complete line starting at `offset`, "" when there is none.
std::string_view line_at(std::string_view bytes, std::size_t offset) {
    if (offset >= bytes.size()) return {};
    const std::size_t end = bytes.find('\n', offset);
    if (end == std::string_view::npos) return {};
    return bytes.substr(offset, end - offset);
}

// The seqs of the lines from byte `from` on that hold `quoted` (a story line
// holds the quoted id: as a field value it is "bg-…" between real quotes).
void scan_for(std::string_view bytes, std::size_t from, const std::string& quoted, std::set<std::uint64_t>& out) {
    std::size_t pos = from;
    for (;;) {
        const std::size_t hit = bytes.find(quoted, pos);
        if (hit == std::string_view::npos) return;
        const std::string_view line = line_around(bytes, hit);
        if (const std::uint64_t seq = audit::seq_of_line(line); seq != 0) out.insert(seq);
        pos = static_cast<std::size_t>(line.data() - bytes.data()) + line.size() + 1;
    }
}

std::string first_hash_of(std::string_view log) {
    const std::string_view first = line_at(log, 0);
    const std::size_t at = first.find(",\"hash\":\"");
    if (at == std::string_view::npos || at + 9 + 16 > first.size()) return {};
    return std::string(first.substr(at + 9, 16));
}

bool mentions(std::string_view line, const std::string& quoted) {
    return !quoted.empty() && line.find(quoted) != std::string_view::npos;
}

}  // namespace

Result<MappedFile> MappedFile::open(const std::string& path, std::size_t max_bytes) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
        const int err = errno;
        return Error{"cannot open " + path + ": " + std::strerror(err) +
                         (err == EACCES ? " (run as root, or on a copy of the state directory)" : ""),
                     err};
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Error{"cannot stat " + path + ": " + std::strerror(errno), errno};
    if (!S_ISREG(st.st_mode)) return Error{path + " is not a regular file"};
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
        return Error{path + " is larger than " + std::to_string(max_bytes) + " bytes"};
    MappedFile m;
    m.size_ = static_cast<std::size_t>(st.st_size);
    if (m.size_ == 0) return m;
    void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (p == MAP_FAILED) return Error{"cannot map " + path + ": " + std::strerror(errno), errno};
    m.data_ = static_cast<const char*>(p);
    return m;
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
}

ReadAfter read_after_in(std::string_view log) {
    return [log](std::uint64_t after_seq, const std::function<bool(std::string_view)>& each, std::string*) {
        std::size_t pos = offset_after(log, after_seq);
        while (pos < log.size()) {
            const std::size_t end = log.find('\n', pos);
            if (end == std::string_view::npos) break;  // a torn last line: the chain check never sees it
            const std::string_view line = log.substr(pos, end - pos);
            pos = end + 1;
            if (audit::seq_of_line(line) <= after_seq) continue;
            if (!each(line)) break;
        }
        return true;
    };
}

StoryPlan plan_from_files(std::string_view log, const std::string& index_path, const std::string& grant_id) {
    StoryPlan plan;
    plan.grant_seq = audit::seq_of_event_id(grant_id).value_or(0);
    const std::uint64_t g = plan.grant_seq;
    if (g == 0) return plan;
    // The grant record names the request it was approved from.
    const std::size_t grant_from = offset_after(log, g - 1);
    for (std::size_t pos = grant_from; pos < log.size();) {
        const std::string_view line = line_at(log, pos);
        if (line.empty()) break;
        const std::uint64_t seq = audit::seq_of_line(line);
        if (seq > g || seq == 0) break;
        if (seq == g) {
            if (auto rec = audit::parse_record(line); rec && rec->event == "grant" && rec->event_id == grant_id) {
                plan.grant_found = true;
                plan.request_id = rec->grant_id;
                plan.request_seq = audit::seq_of_event_id(rec->grant_id).value_or(0);
                if (plan.request_seq >= g) plan.request_seq = 0;  // a request comes before its grant
            }
            break;
        }
        pos += line.size() + 1;
    }
    const std::uint64_t q = plan.request_seq;
    std::set<std::uint64_t> seqs;
    if (plan.grant_found) seqs.insert(g);
    if (q != 0) seqs.insert(q);
    const std::string quoted_grant = "\"" + grant_id + "\"";
    const std::string quoted_request = q != 0 ? "\"" + plan.request_id + "\"" : std::string();

    auto index = audit::StoryIndexReader::open(index_path, first_hash_of(log));
    std::string unused_because;
    if (!index) {
        unused_because = index.error().message;
    } else if (const auto slot = index->slot(g); !slot && g <= index->last_seq()) {
        unused_because = "its slot for " + seq_text(g) + " is not written";
    } else if (slot) {
        const std::string_view at = line_at(log, slot->offset_plus_one - 1);
        if (audit::seq_of_line(at) != g || (plan.grant_found && slot->named_seq != q))
            unused_because = "its entry for " + seq_text(g) + " points at the wrong line";
    }
    if (unused_because.empty()) {
        std::uint64_t hole = 0;
        for (const std::uint64_t s : index->naming_either(g, q, &hole)) seqs.insert(s);
        // The records the index does not cover (after its end or from its
        // first unwritten slot) are read from the log.
        std::uint64_t covered = index->last_seq();
        if (hole != 0) covered = std::min(covered, hole - 1);
        const std::size_t tail = offset_after(log, covered);
        std::set<std::uint64_t> scanned;
        scan_for(log, tail, quoted_grant, scanned);
        if (q != 0) scan_for(log, tail, quoted_request, scanned);
        for (const std::uint64_t s : scanned)
            if (s > covered) seqs.insert(s);
        plan.how = "story index (" + std::string(audit::kStoryIndexFileName) + ") through " + seq_text(covered) +
                   ", the log after it scanned";
    } else {
        plan.notes.push_back("story index not used (" + unused_because + "): the log was scanned");
        const std::uint64_t from = q != 0 ? q : g;
        const std::size_t at = offset_after(log, from - 1);
        std::set<std::uint64_t> scanned;
        scan_for(log, at, quoted_grant, scanned);
        if (q != 0) scan_for(log, at, quoted_request, scanned);
        for (const std::uint64_t s : scanned)
            if (s >= from) seqs.insert(s);
        plan.how = "a scan of the log from " + seq_text(from);
    }
    plan.seqs.assign(seqs.begin(), seqs.end());
    return plan;
}

ScopedStory read_verified_story(const ReadAfter& read, const std::string& grant_id, const StoryPlan& plan,
                                const CheckpointKey& key) {
    ScopedStory out;
    out.story.grant_id = grant_id;
    out.story.request_id = plan.request_id;
    const std::set<std::uint64_t> planned(plan.seqs.begin(), plan.seqs.end());
    const std::string quoted_grant = "\"" + grant_id + "\"";
    const std::string quoted_request = plan.request_id.empty() ? std::string() : "\"" + plan.request_id + "\"";
    std::vector<std::string> notes = plan.notes;
    std::vector<std::string> runs;
    std::map<std::uint64_t, audit::Record> found;
    std::uint64_t checked_through = 0, records = 0;
    bool ok = true, uncovered = false;
    std::string problem;

    for (const std::uint64_t s : plan.seqs) {
        if (s <= checked_through || !ok) continue;
        LogRangeCheck check;
        std::uint64_t covered_by = 0;
        std::string run_problem;
        std::string error;
        const bool read_ok = read(s >= 2 ? s - 2 : 0, [&](std::string_view line) {
            check.add(line);
            if (!check.ok) return false;
            const std::uint64_t seq = check.last;
            const bool is_planned = planned.count(seq) != 0;
            if (is_planned || mentions(line, quoted_grant) || mentions(line, quoted_request)) {
                auto rec = audit::parse_record(line);
                if (!rec) {
                    run_problem = seq_text(seq) + ": " + rec.error().message;
                    return false;
                }
                if (in_story(*rec, grant_id, plan.request_id)) {
                    if (!is_planned)
                        notes.push_back(seq_text(seq) + " belongs to the story but the lookup missed it: added");
                    found.emplace(seq, std::move(*rec));
                } else if (is_planned && seq != plan.grant_seq && seq != plan.request_seq) {
                    notes.push_back("the index's entry for " + seq_text(seq) + " names another grant: ignored");
                }
            }
            if (key.key && seq > s && line.find(",\"event\":\"checkpoint\",") != std::string_view::npos) {
                auto rec = audit::parse_record(line);
                if (!rec) {
                    run_problem = seq_text(seq) + ": " + rec.error().message;
                    return false;
                }
                auto cp = audit::parse_checkpoint_detail(rec->detail);
                if (!cp) {
                    run_problem = "the checkpoint at " + seq_text(seq) + ": " + cp.error().message;
                    return false;
                }
                if (cp->seq + 1 != seq) return true;  // not the head before it: no anchor for this run
                if (!audit::checkpoint_signature_valid(*key.key, rec->host, *cp)) {
                    run_problem = "the checkpoint at " + seq_text(seq) + ": its signature does not verify with " + key.name;
                    return false;
                }
                if (cp->head != rec->prev_hash) {
                    run_problem = "the checkpoint at " + seq_text(seq) + ": the head it signs is not the hash of " +
                                  seq_text(cp->seq);
                    return false;
                }
                covered_by = seq;
                return false;
            }
            return true;
        }, &error);
        if (!read_ok) {
            out.read_failed = true;
            out.error = error;
            return out;
        }
        records += check.records;
        if (!check.ok) {
            ok = false;
            problem = seq_text(check.first_bad_seq) + ": " + check.problem;
        } else if (!run_problem.empty()) {
            ok = false;
            problem = run_problem;
        }
        if (!ok) break;
        if (check.records == 0 || check.last < s) {
            notes.push_back(seq_text(s) + " is not in the log");
            checked_through = std::max(checked_through, check.last);
            if (check.records == 0) break;
            continue;
        }
        checked_through = check.last;
        if (covered_by != 0) {
            runs.push_back(seq_text(check.first) + ".." + std::to_string(check.last - 1) + " (checkpoint at " +
                           seq_text(covered_by) + ")");
        } else {
            runs.push_back(seq_text(check.first) + ".." + std::to_string(check.last) +
                           " (linked to the log's end, not yet covered by a checkpoint)");
            uncovered = true;
            break;  // the run read to the end: every later record is in it
        }
    }
    for (auto& [seq, rec] : found) out.story.records.push_back(std::move(rec));

    StoryVerification& v = out.verification;
    v.ok = ok;
    v.records = records;
    std::string scope = runs.empty() ? std::string("no records") : std::string();
    // A long story names its first and last runs (the scope stays a line).
    constexpr std::size_t kRunsNamed = 8;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        if (runs.size() > kRunsNamed + 2 && i >= kRunsNamed && i + 2 < runs.size()) {
            if (i == kRunsNamed) scope += ", … " + std::to_string(runs.size() - kRunsNamed - 2) + " more runs";
            continue;
        }
        scope += (i == 0 ? "" : ", ") + runs[i];
    }
    scope += "; found by " + plan.how + "; hashes and links recomputed";
    if (key.key)
        scope += ", checkpoint signatures checked with " + key.name;
    else
        scope += ", no checkpoint key (" + key.name + "): runs linked to the log's end";
    scope += "; seals not checked; breakglassctl verify checks the whole log";
    v.scope = std::move(scope);
    v.message = ok ? std::to_string(records) + " records verified" + (uncovered ? ", the last not yet covered by a checkpoint" : "")
                   : problem;
    for (const std::string& n : notes) v.message += "; " + n;
    return out;
}

}  // namespace bg::ctl
