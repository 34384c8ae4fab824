// SPDX-License-Identifier: ISC
// common/json_build.hpp: a JsonObject dumps exactly what nlohmann's
// initializer lists did, and what it or EmptiedBeforeDestruction frees is
// freed without a single allocation (nlohmann's own destructor allocates;
// an allocation failing there is std::terminate). Allocations are counted by
// this binary's own operator new, so this suite is a binary of its own.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "common/json_build.hpp"

namespace {

std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
std::atomic<bool> g_failing{false};

void* counted(std::size_t n) {
    if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (g_failing.load(std::memory_order_relaxed)) throw std::bad_alloc();
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t n) { return counted(n); }
void* operator new[](std::size_t n) { return counted(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace bg {
namespace {

// Allocations made while `f` runs.
template <typename F>
long allocations_in(F&& f) {
    g_allocations = 0;
    g_counting = true;
    f();
    g_counting = false;
    return g_allocations.load();
}

nlohmann::json nested() {
    nlohmann::json inner = nlohmann::json::array();
    EmptiedBeforeDestruction inner_emptied(inner);
    push_emptied(inner, JsonObject()("type", "mrkdwn")("text", std::string(40, 'x')).take());
    push_emptied(inner, JsonObject()("type", "section")("n", 7).take());
    return JsonObject()("name", "sink")("list", std::move(inner))("flags", std::vector<std::string>{"a", "b"})(
               "seq", std::uint64_t{42})
        .take();
}

TEST(JsonBuild, AJsonObjectDumpsWhatAnInitializerListDid) {
    nlohmann::json built = nested();
    EmptiedBeforeDestruction emptied(built);
    const nlohmann::json listed = {
        {"name", "sink"},
        {"list", {{{"type", "mrkdwn"}, {"text", std::string(40, 'x')}}, {{"type", "section"}, {"n", 7}}}},
        {"flags", {"a", "b"}},
        {"seq", 42}};
    EXPECT_EQ(built.dump(), listed.dump());
    EXPECT_EQ(built.dump(), R"({"flags":["a","b"],"list":[{"text":")" + std::string(40, 'x') +
                                R"(","type":"mrkdwn"},{"n":7,"type":"section"}],"name":"sink","seq":42})");
}

// The baseline the guard exists for: nlohmann's destructor of a non-empty
// object or array allocates (its flattening stack). Were this ever 0, the
// guard would be needless, and the test below would prove nothing.
TEST(JsonBuild, NlohmannsDestructorAllocates) {
    auto* j = new nlohmann::json(nested());
    EXPECT_GT(allocations_in([&] { delete j; }), 0);
}

TEST(JsonBuild, EmptiedBeforeDestructionFreesWithoutAllocating) {
    auto* j = new nlohmann::json(nested());
    EXPECT_EQ(allocations_in([&] {
                  {
                      EmptiedBeforeDestruction emptied(*j);
                  }
                  delete j;
              }),
              0);
}

TEST(JsonBuild, AHalfBuiltJsonObjectIsFreedWithoutAllocating) {
    auto* o = new JsonObject();
    (*o)("name", "sink")("list", nested())("more", std::vector<std::string>{"x", "y", "z"});
    EXPECT_EQ(allocations_in([&] { delete o; }), 0);
}

// Every allocation fails while the value is pushed: the array cannot grow,
// the value stays where it was and is emptied. Without the guard its
// destructor would allocate under the same failure: std::terminate.
TEST(JsonBuild, AValueWhosePushFailsIsEmptiedNotLeftToTheDestructor) {
    nlohmann::json list = nlohmann::json::array();
    EmptiedBeforeDestruction list_emptied(list);
    nlohmann::json value = nested();
    bool threw = false;
    g_failing = true;
    try {
        push_emptied(list, std::move(value));
    } catch (const std::bad_alloc&) {
        threw = true;
    }
    g_failing = false;
    EXPECT_TRUE(threw);
    EXPECT_TRUE(list.empty());
}

TEST(JsonBuild, WhatIsDeeperThanTheBoundIsLeftToTheDestructor) {
    nlohmann::json deep = nlohmann::json::array();
    nlohmann::json* at = &deep;
    for (int i = 0; i < 12; ++i) {
        at->push_back(nlohmann::json::array());
        at = &at->back();
    }
    at->push_back(1);
    empty_bottom_up(deep, 8);
    EXPECT_FALSE(deep.empty());  // not emptied; its destructor frees it
}

}  // namespace
}  // namespace bg
