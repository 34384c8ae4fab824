// SPDX-License-Identifier: ISC
#include "helper/audit/recorder.hpp"

#include <algorithm>
#include <new>

#include "common/callback_guard.hpp"

namespace bg::audit {

Result<Record> Recorder::append(const RecordFields& fields, std::int64_t now, Durability durability) {
    auto rec = log_.append(fields, now, durability);
    if (!rec) return rec;
    bool fell_behind = false;
    for (Subscription& s : subscribers_) {
        if (s.missed_from != 0) {
            fell_behind = true;  // told in order by catch_up(), not ahead of what it missed
            continue;
        }
        try {
            s.subscriber->recorded(*rec);
        } catch (const std::bad_alloc&) {
            s.missed_from = rec->seq;
            fell_behind = true;
            report_exception("telling a record to a subscriber", "out of memory; it catches up from the audit log");
        } catch (const std::exception& e) {
            s.missed_from = rec->seq;
            fell_behind = true;
            report_exception("telling a record to a subscriber", e.what());
        }
    }
    if (fell_behind) (void)catch_up();
    return rec;
}

bool Recorder::behind() const {
    return std::any_of(subscribers_.begin(), subscribers_.end(), [](const Subscription& s) { return s.missed_from != 0; });
}

bool Recorder::behind(const RecordSubscriber& subscriber) const {
    return std::any_of(subscribers_.begin(), subscribers_.end(),
                       [&](const Subscription& s) { return s.subscriber == &subscriber && s.missed_from != 0; });
}

Status Recorder::catch_up() noexcept {
    try {
        for (Subscription& s : subscribers_) {
            bool more = true;
            while (s.missed_from != 0 && more) {
                std::uint64_t last = s.missed_from - 1;
                auto lines = log_.read_after(s.missed_from - 1, 0, 64, &last, &more);
                if (!lines) return make_error("the audit log could not be read again: " + lines.error().message);
                for (const std::string& line : *lines) {
                    auto r = parse_record(line);
                    if (!r) return make_error("audit log record after seq " + std::to_string(s.missed_from - 1) +
                                              " is damaged: " + r.error().message);
                    if (r->seq < s.missed_from) continue;
                    s.subscriber->recorded(*r);
                    s.missed_from = r->seq + 1;
                }
                if (s.missed_from > log_.last_seq()) s.missed_from = 0;  // in step again
                else if (!more && last < s.missed_from) return make_error("the audit log ends before seq " +
                                                                          std::to_string(s.missed_from));
            }
        }
        return Ok{};
    } catch (const std::bad_alloc&) {
        return Error{"out of memory"};
    } catch (const std::exception& e) {
        try {
            return make_error(e.what());
        } catch (...) {
            return Error{"out of memory"};
        }
    }
}

}  // namespace bg::audit
