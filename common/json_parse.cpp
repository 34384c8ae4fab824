// SPDX-License-Identifier: ISC
#include "common/json_parse.hpp"

#include <set>
#include <string>
#include <vector>

#include "common/json_build.hpp"

namespace bg {
namespace {

using json = nlohmann::json;

// Builds the value in `root` the way nlohmann's DOM parser does, with the
// depth and duplicate-key checks of JsonParseLimits.
class Builder : public nlohmann::json_sax<json> {
public:
    Builder(json& root, JsonParseLimits limits) : root_(root), limits_(limits) {}

    JsonParse outcome() const { return outcome_; }

    bool null() override { return put(json(nullptr)); }
    bool boolean(bool v) override { return put(json(v)); }
    bool number_integer(number_integer_t v) override { return put(json(v)); }
    bool number_unsigned(number_unsigned_t v) override { return put(json(v)); }
    bool number_float(number_float_t v, const string_t&) override { return put(json(v)); }
    bool string(string_t& v) override { return put(json(std::move(v))); }
    bool binary(binary_t&) override { return refuse(JsonParse::Invalid); }  // not in JSON text

    bool start_object(std::size_t) override {
        if (!put(json::object())) return false;
        open_.push_back(placed_);
        if (limits_.refuse_duplicate_keys) keys_.emplace_back();
        return true;
    }
    bool key(string_t& k) override {
        if (too_deep()) return refuse(JsonParse::TooDeep);
        if (limits_.refuse_duplicate_keys && !keys_.back().insert(k).second) return refuse(JsonParse::DuplicateKey);
        slot_ = &(*open_.back())[k];
        return true;
    }
    bool end_object() override {
        open_.pop_back();
        if (limits_.refuse_duplicate_keys) keys_.pop_back();
        return true;
    }
    bool start_array(std::size_t) override {
        if (!put(json::array())) return false;
        open_.push_back(placed_);
        return true;
    }
    bool end_array() override {
        open_.pop_back();
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const json::exception&) override {
        return refuse(JsonParse::Invalid);
    }

private:
    // The depth of the next value is the number of containers open.
    bool too_deep() const {
        return limits_.max_depth > 0 && open_.size() > static_cast<std::size_t>(limits_.max_depth);
    }
    bool refuse(JsonParse why) {
        outcome_ = why;
        return false;
    }
    // Places a scalar or an empty container; nothing structured and
    // non-empty is ever a temporary here.
    bool put(json&& v) {
        if (too_deep()) return refuse(JsonParse::TooDeep);
        if (open_.empty()) {
            root_ = std::move(v);
            placed_ = &root_;
        } else if (open_.back()->is_array()) {
            open_.back()->push_back(std::move(v));
            placed_ = &open_.back()->back();
        } else {
            empty_bottom_up(*slot_, 8);  // a key seen twice: the last value stays
            *slot_ = std::move(v);
            placed_ = slot_;
        }
        return true;
    }

    json& root_;
    JsonParseLimits limits_;
    JsonParse outcome_ = JsonParse::Ok;
    std::vector<json*> open_;
    std::vector<std::set<std::string>> keys_;
    json* slot_ = nullptr;
    json* placed_ = nullptr;
};

}  // namespace

JsonParse parse_into(std::string_view text, nlohmann::json& out, JsonParseLimits limits) {
    empty_bottom_up(out, 8);
    out = nullptr;
    Builder builder(out, limits);
    const bool ok = json::sax_parse(text, &builder, json::input_format_t::json, /*strict=*/true,
                                    /*ignore_comments=*/false);
    if (ok && builder.outcome() == JsonParse::Ok) return JsonParse::Ok;
    return builder.outcome() == JsonParse::Ok ? JsonParse::Invalid : builder.outcome();
}

}  // namespace bg
