// SPDX-License-Identifier: ISC
#include "helper/workflow/review_store.hpp"

#include <algorithm>

namespace bg::workflow {

bool is_review_verdict(std::string_view verdict) {
    return verdict == "justified" || verdict == "unjustified" || verdict == "gate-needs-fix";
}

std::vector<std::string> split_approvers(std::string_view text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const std::size_t comma = text.find(',', pos);
        std::string_view item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
    }
    return out;
}

void ReviewStore::recorded(const audit::Record& r) {
    if (r.event == "grant") {
        if (open_.contains(r.event_id) || closed_.contains(r.event_id)) return;
        OpenReview o;
        o.grant_id = r.event_id;
        o.user = r.actor;
        o.gate = r.gate_bypassed;
        o.approvers = split_approvers(r.approver);
        o.reason = r.reason;
        o.incident = r.incident_ref;
        o.granted_at = r.timestamp;
        open_.emplace(o.grant_id, std::move(o));
        return;
    }
    if (r.grant_id.empty()) return;
    if (r.event == "review") {
        if (open_.erase(r.grant_id) != 0) closed_[r.grant_id] = r.review_status;
        return;
    }
    if (r.event == "grant_void") {
        if (open_.erase(r.grant_id) != 0) closed_[r.grant_id] = "void";
        return;
    }
    if (r.event == "review_overdue") {
        const auto it = open_.find(r.grant_id);
        if (it != open_.end()) it->second.overdue_recorded = true;
    }
}

const OpenReview* ReviewStore::open(const std::string& grant_id) const {
    const auto it = open_.find(grant_id);
    return it == open_.end() ? nullptr : &it->second;
}

std::optional<std::string> ReviewStore::verdict(const std::string& grant_id) const {
    const auto it = closed_.find(grant_id);
    if (it == closed_.end()) return std::nullopt;
    return it->second;
}

std::vector<const OpenReview*> ReviewStore::open_reviews() const {
    std::vector<const OpenReview*> out;
    out.reserve(open_.size());
    for (const auto& [id, o] : open_) out.push_back(&o);
    std::sort(out.begin(), out.end(), [](const OpenReview* a, const OpenReview* b) {
        return a->granted_at != b->granted_at ? a->granted_at < b->granted_at : a->grant_id < b->grant_id;
    });
    return out;
}

}  // namespace bg::workflow
