// SPDX-License-Identifier: ISC
// `breakglassctl show ID` (issue 14): the whole story of one grant, from the
// audit log, in the order it happened — the request and its approvals, the
// grant (who, why, incident, factor), every command and session under it,
// the terminations, the hooks, its end, and its review. Pure: records in,
// JSON or text out; commands.cpp reads the records (files or breakglassd)
// and checks the chain.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "helper/audit/audit_record.hpp"

namespace bg::ctl {

// How the chain was checked, said with the story.
struct StoryVerification {
    bool ok = false;
    std::string scope;    // "the whole log (as verify does)" or "seq A..B, read through breakglassd"
    std::uint64_t records = 0;
    std::string message;  // verify's words
};

struct GrantStory {
    std::string grant_id;
    std::string request_id;            // the request it was approved from, "" for a direct grant
    std::vector<audit::Record> records;  // the story, in seq order (the grant record among them)
};

// "bg-2026-000042" → 42; nullopt when it is not an event id.
std::optional<std::uint64_t> seq_of_event_id(std::string_view id);

// Whether `r` is part of the story of `grant_id` (request_id: its request, or "").
bool in_story(const audit::Record& r, const std::string& grant_id, const std::string& request_id);

// {"grant_id", "verification", "request", "approvals", "grant", "activity",
//  "terminations", "hooks", "end", "review", "review_overdue",
//  "review_refusals", "other"}: see breakglassctl(1).
nlohmann::json story_json(const GrantStory& s, const StoryVerification& v);
// The same for a terminal, user text escaped.
std::string format_story(const GrantStory& s, const StoryVerification& v);

}  // namespace bg::ctl
