# SPDX-License-Identifier: ISC
# The daemon's permission table and state machine (pure).
add_executable(daemon_unit_tests ${CMAKE_CURRENT_LIST_DIR}/unit/dispatch_test.cpp)
target_link_libraries(daemon_unit_tests PRIVATE bg_daemon GTest::gtest_main bg_strict)
gtest_discover_tests(daemon_unit_tests)
