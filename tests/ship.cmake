# SPDX-License-Identifier: ISC
# Shipping to remote sinks (helper/ship): cursor, payloads, answers, the log
# tail; their fuzz targets.
add_executable(ship_test
  ${CMAKE_CURRENT_LIST_DIR}/unit/ship_cursor_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/ship_payload_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/ship_log_tail_test.cpp)
target_link_libraries(ship_test PRIVATE bg_ship bg_test_support GTest::gtest GTest::gtest_main bg_strict)
gtest_discover_tests(ship_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)

if(BUILD_FUZZERS)
  foreach(name sink_cursor sink_answer)
    add_executable(fuzz_${name} ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_${name}.cpp)
    target_link_libraries(fuzz_${name} PRIVATE bg_ship bg_strict)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  endforeach()
endif()
