# SPDX-License-Identifier: ISC
# The daemon's dispatch table: against PROTOCOL.md, and through a real Daemon
# on a temporary state directory.
add_executable(daemon_unit_tests ${CMAKE_CURRENT_LIST_DIR}/unit/dispatch_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/state_writer_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/grant_store_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/unrecorded_ends_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/listen_socket_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/bounds_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/pending_store_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/offline_token_test.cpp)
target_compile_definitions(daemon_unit_tests PRIVATE BG_PROTOCOL_MD="${PROJECT_SOURCE_DIR}/PROTOCOL.md")
target_link_libraries(daemon_unit_tests PRIVATE bg_daemon GTest::gtest_main bg_strict)
gtest_discover_tests(daemon_unit_tests)

if(BUILD_FUZZERS)
  # tests/fuzz/fuzz_approval_token tests/fuzz/corpus/approval_token
  add_executable(fuzz_approval_token ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_approval_token.cpp)
  target_link_libraries(fuzz_approval_token PRIVATE bg_workflow bg_strict)
  target_link_options(fuzz_approval_token PRIVATE -fsanitize=fuzzer)
  # tests/fuzz/fuzz_ends_slot tests/fuzz/corpus/ends_slot
  add_executable(fuzz_ends_slot ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_ends_slot.cpp)
  target_link_libraries(fuzz_ends_slot PRIVATE bg_daemon bg_strict)
  target_link_options(fuzz_ends_slot PRIVATE -fsanitize=fuzzer)
endif()
