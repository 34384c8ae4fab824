# SPDX-License-Identifier: ISC
# Audit store tests (helper/audit.cmake) and its fuzz target.
add_executable(audit_test
  ${CMAKE_CURRENT_LIST_DIR}/unit/audit_record_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/audit_log_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/audit_verify_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/audit_journal_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/recorder_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/disk_reserve_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/ed25519_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/signed_checkpoint_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/remote_verify_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/story_index_test.cpp)
target_link_libraries(audit_test PRIVATE bg_audit GTest::gtest GTest::gtest_main bg_strict)
gtest_discover_tests(audit_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)

if(BUILD_FUZZERS)
  add_executable(fuzz_audit ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_audit.cpp)
  target_link_libraries(fuzz_audit PRIVATE bg_audit bg_strict)
  target_link_options(fuzz_audit PRIVATE -fsanitize=fuzzer)
  # tests/fuzz/fuzz_checkpoint tests/fuzz/corpus/checkpoint
  add_executable(fuzz_checkpoint ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_checkpoint.cpp)
  target_link_libraries(fuzz_checkpoint PRIVATE bg_audit bg_strict)
  target_link_options(fuzz_checkpoint PRIVATE -fsanitize=fuzzer)
  # tests/fuzz/fuzz_journal_export tests/fuzz/corpus/journal_export
  add_executable(fuzz_journal_export ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_journal_export.cpp)
  target_link_libraries(fuzz_journal_export PRIVATE bg_audit bg_strict)
  target_link_options(fuzz_journal_export PRIVATE -fsanitize=fuzzer)
endif()
