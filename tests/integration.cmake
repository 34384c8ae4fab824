# SPDX-License-Identifier: ISC
# Real processes: breakglassd on a temporary socket, breakglassctl as root and
# as users the test creates (needs root; creates and removes bgit-* users).
add_executable(daemon_integration_tests
  ${CMAKE_CURRENT_LIST_DIR}/integration/daemon_integration_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/integration/daemon_harness.cpp
  ${CMAKE_CURRENT_LIST_DIR}/integration/process.cpp)
target_include_directories(daemon_integration_tests PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(daemon_integration_tests PRIVATE
  BG_DAEMON_PATH="$<TARGET_FILE:breakglassd>" BG_CTL_PATH="$<TARGET_FILE:breakglassctl>")
target_link_libraries(daemon_integration_tests PRIVATE bg_common bg_mfa bg_libyubikey OpenSSL::Crypto GTest::gtest_main bg_strict)
add_dependencies(daemon_integration_tests breakglassd breakglassctl)
# One at a time: the cases share the test users they create.
gtest_discover_tests(daemon_integration_tests PROPERTIES RESOURCE_LOCK bgit_users TIMEOUT 120)
