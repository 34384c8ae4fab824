# SPDX-License-Identifier: ISC
# The fixtures of the remote-sink tests (issue 11), tested against real
# clients: certificates made with openssl verified by curl, a real
# systemd-journal-remote receiving an upload and read back, the HTTP(S)
# receiver's recording and each of its behaviours, a process's memory.
add_executable(ship_fixture_tests ${CMAKE_CURRENT_LIST_DIR}/unit/ship_fixtures_test.cpp)
target_link_libraries(ship_fixture_tests PRIVATE bg_test_support GTest::gtest_main bg_strict)
gtest_discover_tests(ship_fixture_tests PROPERTIES LABELS ship TIMEOUT 60 FIXTURES_REQUIRED bg_host)
