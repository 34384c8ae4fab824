// SPDX-License-Identifier: ISC
#include "helper/daemon/connection_limits.hpp"

namespace bg {
namespace {

struct PoolLimit {
    std::size_t total;
    std::size_t per_holder;  // 0: no share
};

PoolLimit limit_of(ConnectionPool pool) {
    switch (pool) {
        case ConnectionPool::Root: return {ConnectionLimits::kRootTotal, 0};
        case ConnectionPool::FrontEnd: return {ConnectionLimits::kFrontEndTotal, ConnectionLimits::kPerFrontEndHolder};
        case ConnectionPool::User: return {ConnectionLimits::kUserTotal, ConnectionLimits::kPerUser};
    }
    return {0, 0};
}

}  // namespace

std::optional<ConnectionLimits::Slot> ConnectionLimits::take(ConnectionPool pool, std::int64_t holder) {
    const PoolLimit limit = limit_of(pool);
    if (held(pool) >= limit.total) return std::nullopt;
    if (limit.per_holder != 0 && held_by(pool, holder) >= limit.per_holder) return std::nullopt;
    ++totals_[pool];
    ++by_holder_[{pool, holder}];
    return Slot{pool, holder};
}

void ConnectionLimits::give_back(const Slot& slot) {
    if (auto it = totals_.find(slot.pool); it != totals_.end() && it->second > 0) --it->second;
    const auto key = std::make_pair(slot.pool, slot.holder);
    if (auto it = by_holder_.find(key); it != by_holder_.end()) {
        if (it->second <= 1) by_holder_.erase(it);
        else --it->second;
    }
}

std::size_t ConnectionLimits::held(ConnectionPool pool) const {
    const auto it = totals_.find(pool);
    return it == totals_.end() ? 0 : it->second;
}

std::size_t ConnectionLimits::held_by(ConnectionPool pool, std::int64_t holder) const {
    const auto it = by_holder_.find({pool, holder});
    return it == by_holder_.end() ? 0 : it->second;
}

}  // namespace bg
