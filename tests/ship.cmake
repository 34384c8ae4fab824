# SPDX-License-Identifier: ISC
# Shipping to remote sinks (helper/ship): cursor, payloads, answers, the log
# tail; the fixtures of the remote-sink tests, tested against real clients
# (certificates made with openssl verified by curl, a real
# systemd-journal-remote, the HTTP(S) receiver's behaviours, a process's
# memory); the sinks end to end through a real daemon; the fuzz targets.
add_executable(ship_test
  ${CMAKE_CURRENT_LIST_DIR}/unit/ship_cursor_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/ship_payload_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/ship_log_tail_test.cpp)
target_link_libraries(ship_test PRIVATE bg_ship bg_test_support GTest::gtest GTest::gtest_main bg_strict)
gtest_discover_tests(ship_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)

add_executable(ship_fixture_tests ${CMAKE_CURRENT_LIST_DIR}/unit/ship_fixtures_test.cpp)
target_link_libraries(ship_fixture_tests PRIVATE bg_test_support GTest::gtest_main bg_strict)
gtest_discover_tests(ship_fixture_tests PROPERTIES LABELS ship TIMEOUT 60 FIXTURES_REQUIRED bg_host)

if(BUILD_FUZZERS)
  foreach(name sink_cursor sink_answer)
    add_executable(fuzz_${name} ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_${name}.cpp)
    target_link_libraries(fuzz_${name} PRIVATE bg_ship bg_strict)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  endforeach()
endif()
