// SPDX-License-Identifier: ISC
// Reviews (issue 14): every grant opens a review that a reviewer of its gate
// closes with a verdict. In memory, driven only by audit records, like the
// pending requests: a `grant` record opens one (its event id is the grant's
// id; its `approver` lists who approved it), a `review` record closes it, a
// `grant_void` record (the grant never took effect) drops it, and a
// `review_overdue` record marks that the overdue record was written, so it is
// written once per grant across restarts. The daemon replays the whole log
// into it at start (reviews stay open however old they are). No clock, no
// name service, no policy: the daemon decides (docs/ARCHITECTURE.md,
// "helper/workflow").
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "helper/audit/recorder.hpp"

namespace bg::workflow {

struct OpenReview {
    std::string grant_id;  // the grant record's event id
    std::string user;      // the grant's actor
    std::string gate;
    std::vector<std::string> approvers;  // who approved the grant (the record's approver, split)
    std::string reason, incident;
    std::int64_t granted_at = 0;
    bool overdue_recorded = false;  // a review_overdue record exists
};

// The verdicts a review may give.
bool is_review_verdict(std::string_view verdict);
// "a, b" → {"a", "b"} (the grant record's approver field).
std::vector<std::string> split_approvers(std::string_view text);

class ReviewStore final : public audit::RecordSubscriber {
public:
    void recorded(const audit::Record& r) override;

    // A grant not reviewed yet, or null.
    const OpenReview* open(const std::string& grant_id) const;
    // The verdict of a reviewed grant, or nullopt (open, or no such grant).
    std::optional<std::string> verdict(const std::string& grant_id) const;
    // The open reviews, oldest grant first.
    std::vector<const OpenReview*> open_reviews() const;
    std::size_t open_count() const { return open_.size(); }

private:
    // Keyed by grant id: "bg-YYYY-NNNNNN" with a zero-padded seq sorts in
    // grant order within a year; open_reviews() sorts by time and id anyway.
    std::map<std::string, OpenReview> open_;
    std::map<std::string, std::string> closed_;  // grant id → verdict ("void" for grant_void)
};

}  // namespace bg::workflow
