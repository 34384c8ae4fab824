# Revocation: /proc status parsing and process discovery (unit), its fuzz
# target, and the daemon terminating processes and running hooks
# (integration, root, real processes).
add_executable(process_scan_tests ${CMAKE_CURRENT_LIST_DIR}/unit/proc_status_test.cpp)
target_link_libraries(process_scan_tests PRIVATE bg_daemon_core GTest::gtest_main bg_strict)
gtest_discover_tests(process_scan_tests)

if(BUILD_FUZZERS)
  # tests/fuzz/fuzz_proc_status tests/fuzz/corpus/proc_status
  add_executable(fuzz_proc_status ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_proc_status.cpp
    ${PROJECT_SOURCE_DIR}/helper/process_scan.cpp)
  target_include_directories(fuzz_proc_status PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(fuzz_proc_status PRIVATE bg_common bg_strict)
  target_link_options(fuzz_proc_status PRIVATE -fsanitize=fuzzer)
endif()

# The daemon ending what runs under a grant and running hooks (root; creates
# and removes bgrv-* users and groups; one case at a time, like the others
# that create users).
add_executable(revocation_integration_tests
  ${CMAKE_CURRENT_LIST_DIR}/integration/revocation_integration_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/integration/process.cpp)
target_include_directories(revocation_integration_tests PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(revocation_integration_tests PRIVATE
  BG_DAEMON_PATH="$<TARGET_FILE:breakglassd>" BG_CTL_PATH="$<TARGET_FILE:breakglassctl>")
target_link_libraries(revocation_integration_tests PRIVATE bg_common bg_mfa OpenSSL::Crypto GTest::gtest_main bg_strict)
add_dependencies(revocation_integration_tests breakglassd breakglassctl)
gtest_discover_tests(revocation_integration_tests PROPERTIES RESOURCE_LOCK bgit_users TIMEOUT 120)
