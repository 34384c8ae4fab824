// SPDX-License-Identifier: ISC
#include "helper/audit/recorder.hpp"

namespace bg::audit {

Result<Record> Recorder::append(const RecordFields& fields, std::int64_t now, Durability durability) {
    auto rec = log_.append(fields, now, durability);
    if (!rec) return rec;
    for (RecordSubscriber* s : subscribers_) s->recorded(*rec);
    return rec;
}

}  // namespace bg::audit
