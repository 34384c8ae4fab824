// SPDX-License-Identifier: ISC
#include "helper/daemon/refusal_budget.hpp"

namespace bg {

bool RefusalBudget::admit(const Requester& requester, const std::string& peer_user, const std::string& message,
                          std::int64_t now) {
    Requester key = requester;
    if (windows_.size() >= kMaxRequesters && windows_.find(key) == windows_.end()) key.user.assign(1, '*');  // one shared entry per uid (assign: GCC 12 -Wrestrict false positive)
    Window& w = windows_[key];
    if (w.recorded == 0 && w.pending.suppressed == 0) w.start = now;
    if (now - w.start >= window_) {
        // A new window; the old one's count is summarized first.
        if (w.pending.suppressed > 0) due_.push_back(w.pending);
        w = Window{};
        w.start = now;
    }
    if (w.recorded < kPerWindow) {
        ++w.recorded;
        return true;
    }
    Summary& s = w.pending;
    if (s.suppressed == 0) {
        s.requester = key;
        s.peer_user = peer_user;
        s.first = now;
    }
    ++s.suppressed;
    s.last = now;
    s.last_message = message;
    return false;
}

std::vector<RefusalBudget::Summary> RefusalBudget::take_due(std::int64_t now) {
    std::vector<Summary> out = std::move(due_);
    due_.clear();
    for (auto it = windows_.begin(); it != windows_.end();) {
        if (now - it->second.start < window_) {
            ++it;
            continue;
        }
        if (it->second.pending.suppressed > 0) out.push_back(it->second.pending);
        it = windows_.erase(it);
    }
    return out;
}

bool RefusalBudget::counting() const {
    if (!due_.empty()) return true;
    for (const auto& [_, w] : windows_)
        if (w.pending.suppressed > 0) return true;
    return false;
}

}  // namespace bg
