// SPDX-License-Identifier: ISC
// nlohmann::json and out of memory (docs/ARCHITECTURE.md, "A store that misses
// a record catches up from the log"): json's destructor frees an object or
// array through a heap-allocated stack (json.hpp, destroy()), and an
// allocation that fails inside a destructor is std::terminate. Found by the
// system test's allocation faults in the packaged daemon. So JSON on the
// daemon's paths is built member by member (the initializer-list constructor
// makes and frees a two-element array per member) and emptied, leaves first,
// before it is freed.
#ifndef BG_COMMON_JSON_BUILD_HPP
#define BG_COMMON_JSON_BUILD_HPP

#include <utility>

#include <nlohmann/json.hpp>

namespace bg {

// Frees the members of `j` leaves first, allocating nothing; what is deeper
// than `depth` is left to the destructor (no JSON this daemon makes is).
inline void empty_bottom_up(nlohmann::json& j, int depth) noexcept {
    if (!j.is_structured() || depth == 0) return;
    if (auto* array = j.get_ptr<nlohmann::json::array_t*>()) {
        for (nlohmann::json& e : *array) {
            empty_bottom_up(e, depth - 1);
            if (e.is_structured() && !e.empty()) return;
        }
        array->clear();
    } else if (auto* object = j.get_ptr<nlohmann::json::object_t*>()) {
        for (auto& member : *object) {
            empty_bottom_up(member.second, depth - 1);
            if (member.second.is_structured() && !member.second.empty()) return;
        }
        object->clear();
    }
}

// Empties a json value when it goes out of scope (declare it after the value).
class EmptiedBeforeDestruction {
public:
    explicit EmptiedBeforeDestruction(nlohmann::json& j) : j_(j) {}
    EmptiedBeforeDestruction(const EmptiedBeforeDestruction&) = delete;
    EmptiedBeforeDestruction& operator=(const EmptiedBeforeDestruction&) = delete;
    ~EmptiedBeforeDestruction() { empty_bottom_up(j_, 8); }

private:
    nlohmann::json& j_;
};

// JsonObject()("key", value)("other", other).take()
class JsonObject {
public:
    JsonObject() = default;
    JsonObject(const JsonObject&) = delete;
    JsonObject& operator=(const JsonObject&) = delete;
    // An exception between two members leaves a half-built object: emptied,
    // not left to json's destructor.
    ~JsonObject();

    template <typename V>
    JsonObject& operator()(const char* key, V&& value) {
        // The key first (it may throw), then the value.
        nlohmann::json& slot = j_[key];
        slot = nlohmann::json(std::forward<V>(value));
        return *this;
    }
    // A json value, a temporary too: emptied if the key's insertion throws
    // (then the caller frees it empty).
    JsonObject& operator()(const char* key, nlohmann::json&& value) {
        EmptiedBeforeDestruction emptied(value);
        nlohmann::json& slot = j_[key];
        slot = std::move(value);
        return *this;
    }
    nlohmann::json take() { return std::move(j_); }

private:
    nlohmann::json j_ = nlohmann::json::object();
};

inline JsonObject::~JsonObject() { empty_bottom_up(j_, 8); }

// array.push_back(value), `value` emptied when the push fails (a vector that
// cannot grow leaves it where it was).
inline void push_emptied(nlohmann::json& array, nlohmann::json value) {
    EmptiedBeforeDestruction emptied(value);
    array.push_back(std::move(value));
}

}  // namespace bg

#endif
