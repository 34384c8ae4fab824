// SPDX-License-Identifier: ISC
// common/json_build.hpp: a JsonObject dumps exactly what nlohmann's
// initializer lists did, and what it or EmptiedBeforeDestruction frees is
// freed without a single allocation (nlohmann's own destructor allocates;
// an allocation failing there is std::terminate). common/json_parse.hpp:
// parse_into gives what nlohmann::json::parse gives, and out of memory at
// any allocation of a parse is an exception, never std::terminate, where
// nlohmann::json::parse dies. Allocations are counted and failed by this
// binary's own operator new, so this suite is a binary of its own.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "common/json_build.hpp"
#include "common/json_parse.hpp"

namespace {

std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
std::atomic<bool> g_failing{false};
// Allocations that succeed before every one fails; -1 is no limit.
std::atomic<long> g_allowed{-1};

void* counted(std::size_t n) {
    if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (g_failing.load(std::memory_order_relaxed)) throw std::bad_alloc();
    if (const long left = g_allowed.load(std::memory_order_relaxed); left == 0) {
        throw std::bad_alloc();
    } else if (left > 0) {
        g_allowed.store(left - 1, std::memory_order_relaxed);
    }
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


// A record-like document: nested objects and arrays, strings longer than
// the small-string buffer, numbers of every kind.
const std::string kDocument =
    R"({"version":1,"grants":[{"event_id":"2b7e1516-28ae-4d2a-a6f7-15882b7e1516","user":"alice",)"
    R"("reason":"disk full on db-7, paging since 02:10","n":-3,"f":1.5,"u":18446744073709551615,)"
    R"("ok":true,"none":null,"tags":["a","bbbbbbbbbbbbbbbbbbbbbbbb",[],{}]}],"more":{"x":{"y":[1,2,3]}}})";

TEST(JsonParse, GivesWhatNlohmannsParseGives) {
    for (const std::string& text :
         {kDocument, std::string("[]"), std::string("\"text\""), std::string("0"), std::string("{\"a\":{}}"),
          std::string(" [ 1 , [ 2 , { \"b\" : [ ] } ] ] ")}) {
        nlohmann::json out;
        EmptiedBeforeDestruction emptied(out);
        ASSERT_EQ(parse_into(text, out), JsonParse::Ok) << text;
        EXPECT_EQ(out, nlohmann::json::parse(text)) << text;
    }
}

TEST(JsonParse, RefusesWhatIsNotOneJsonValue) {
    for (const char* text : {"", "{", "[1,]", "{\"a\":1}x", "{\"a\" 1}", "nul", "[1] [2]", "\"\\x\"", "01"}) {
        nlohmann::json out;
        EmptiedBeforeDestruction emptied(out);
        EXPECT_EQ(parse_into(text, out), JsonParse::Invalid) << text;
        EXPECT_TRUE(nlohmann::json::parse(text, nullptr, false).is_discarded()) << text;
    }
}

TEST(JsonParse, BoundsDepthAndRefusesDuplicateKeysWhenAsked) {
    const JsonParseLimits limits{.max_depth = 2, .refuse_duplicate_keys = true};
    nlohmann::json out;
    EmptiedBeforeDestruction emptied(out);
    EXPECT_EQ(parse_into(R"({"a":{"b":1}})", out, limits), JsonParse::Ok);
    EXPECT_EQ(parse_into(R"({"a":{"b":[]}})", out, limits), JsonParse::Ok);  // empty at depth 2
    EXPECT_EQ(parse_into(R"({"a":{"b":[1]}})", out, limits), JsonParse::TooDeep);
    EXPECT_EQ(parse_into(R"({"a":{"b":{"c":1}}})", out, limits), JsonParse::TooDeep);
    EXPECT_EQ(parse_into(std::string(100000, '[') + std::string(100000, ']'), out, limits), JsonParse::TooDeep);
    EXPECT_EQ(parse_into(R"({"a":1,"b":{"a":2}})", out, limits), JsonParse::Ok);  // per object
    EXPECT_EQ(parse_into(R"({"a":1,"b":2,"a":3})", out, limits), JsonParse::DuplicateKey);
    EXPECT_EQ(parse_into(R"({"a":1,"b":2,"a":3})", out), JsonParse::Ok);  // not asked: the last stays
    EXPECT_EQ(out["a"], 3);
    EXPECT_EQ(parse_into(R"({"a":[1,{"b":2}],"a":[3]})", out), JsonParse::Ok);
    EXPECT_EQ(out.dump(), R"({"a":[3]})");
}

// Every allocation of a parse, failed in turn, with every later one failing
// too (the value is freed under the same failure): an exception each time,
// the guard frees what was built, and the last run parses.
TEST(JsonParse, OutOfMemoryAtAnyAllocationIsAnExceptionNeverATerminate) {
    bool parsed = false;
    long threw = 0;
    for (long n = 0; !parsed && n < 100000; ++n) {
        {
            nlohmann::json out;
            EmptiedBeforeDestruction emptied(out);
            g_allowed = n;
            try {
                parsed = parse_into(kDocument, out, JsonParseLimits{.max_depth = 8, .refuse_duplicate_keys = true}) ==
                         JsonParse::Ok;
            } catch (const std::bad_alloc&) {
                ++threw;
            }
            if (parsed) {
                g_allowed = -1;
                EXPECT_EQ(out, nlohmann::json::parse(kDocument));
            } else {
                g_allowed = 0;  // still failing while `out` is emptied and freed
            }
        }
        g_allowed = -1;
    }
    EXPECT_TRUE(parsed);
    EXPECT_GT(threw, 10);
}

// The baseline: nlohmann::json::parse under the same failures frees its
// half-built value through its allocating destructor and dies. Were this
// ever to pass, parse_into would be needless.
TEST(JsonParseDeathTest, NlohmannsParseUnderTheSameFailuresEndsInTerminate) {
    EXPECT_DEATH(
        {
            for (long n = 0; n < 100000; ++n) {
                g_allowed = n;
                try {
                    const nlohmann::json j = nlohmann::json::parse(kDocument);
                    g_allowed = -1;
                    break;
                } catch (const std::bad_alloc&) {
                }
                g_allowed = -1;
            }
            std::abort();  // reaching here would not be the death expected
        },
        "terminate called");
}

}  // namespace
}  // namespace bg
