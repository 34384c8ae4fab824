# SPDX-License-Identifier: ISC
# policy/: unit, golden and evaluator tests; the fuzz target when BUILD_FUZZERS.
add_executable(policy_tests
  ${CMAKE_CURRENT_LIST_DIR}/unit/policy_parser_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/policy_golden_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/policy_evaluator_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/policy_loader_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/policy_duration_test.cpp)
target_link_libraries(policy_tests PRIVATE bg_policy GTest::gtest_main bg_strict)
target_compile_definitions(policy_tests PRIVATE
  BG_POLICY_GOLDEN_DIR="${CMAKE_CURRENT_LIST_DIR}/golden"
  BG_EXAMPLE_POLICY="${CMAKE_CURRENT_LIST_DIR}/../policy/example-policy.toml")
gtest_discover_tests(policy_tests)

if(BUILD_FUZZERS)
  # tests/fuzz/fuzz_policy -dict=tests/fuzz/policy.dict tests/fuzz/corpus/policy
  add_executable(fuzz_policy ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_policy.cpp)
  target_link_libraries(fuzz_policy PRIVATE bg_policy bg_strict)
  target_link_options(fuzz_policy PRIVATE -fsanitize=fuzzer)
endif()
