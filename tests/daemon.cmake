# SPDX-License-Identifier: ISC
# The daemon's dispatch table: against PROTOCOL.md, and through a real Daemon
# on a temporary state directory.
add_executable(daemon_unit_tests ${CMAKE_CURRENT_LIST_DIR}/unit/dispatch_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/state_writer_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/unrecorded_ends_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/listen_socket_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/bounds_test.cpp)
target_compile_definitions(daemon_unit_tests PRIVATE BG_PROTOCOL_MD="${PROJECT_SOURCE_DIR}/PROTOCOL.md")
target_link_libraries(daemon_unit_tests PRIVATE bg_daemon GTest::gtest_main bg_strict)
gtest_discover_tests(daemon_unit_tests)
