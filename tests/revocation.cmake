# SPDX-License-Identifier: ISC
# Revocation: /proc status parsing and process discovery (unit), its fuzz
# target, and the daemon terminating processes and running hooks
# (integration: root, real processes, users unique to the run).
add_executable(process_scan_tests ${CMAKE_CURRENT_LIST_DIR}/unit/proc_status_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/hook_scheduler_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/session_scopes_test.cpp)
target_link_libraries(process_scan_tests PRIVATE bg_revocation GTest::gtest_main bg_strict)
gtest_discover_tests(process_scan_tests)

if(BUILD_FUZZERS)
  # tests/fuzz/fuzz_proc_status tests/fuzz/corpus/proc_status
  add_executable(fuzz_proc_status ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_proc_status.cpp)
  target_link_libraries(fuzz_proc_status PRIVATE bg_revocation bg_strict)
  target_link_options(fuzz_proc_status PRIVATE -fsanitize=fuzzer)
  # tests/fuzz/fuzz_cgroup tests/fuzz/corpus/cgroup
  add_executable(fuzz_cgroup ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_cgroup.cpp)
  target_link_libraries(fuzz_cgroup PRIVATE bg_revocation bg_strict)
  target_link_options(fuzz_cgroup PRIVATE -fsanitize=fuzzer)
endif()

add_executable(revocation_integration_tests ${CMAKE_CURRENT_LIST_DIR}/integration/revocation_integration_test.cpp)
target_link_libraries(revocation_integration_tests PRIVATE bg_test_support bg_common bg_mfa bg_revocation GTest::gtest_main bg_strict)
gtest_discover_tests(revocation_integration_tests PROPERTIES TIMEOUT 120 FIXTURES_REQUIRED bg_host)
