# SPDX-License-Identifier: ISC
# pam_breakglass.so and the shared break-glass flow: argument parsing (pure),
# the flow against a real breakglassd, and the module through real libpam
# (pam_start_confdir on a service file in a temporary directory). No test
# creates users (they use the base accounts "daemon" and "nobody"), and each
# starts its own daemon, so they run in parallel.
set(BG_PAM_TEST_SUPPORT
  ${CMAKE_CURRENT_LIST_DIR}/pam/test_daemon.cpp
  ${CMAKE_CURRENT_LIST_DIR}/integration/process.cpp)

add_executable(pam_args_tests
  ${CMAKE_CURRENT_LIST_DIR}/pam/pam_args_test.cpp
  ${PROJECT_SOURCE_DIR}/pam_module/pam_args.cpp)
target_include_directories(pam_args_tests PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(pam_args_tests PRIVATE bg_common GTest::gtest_main bg_strict)
gtest_discover_tests(pam_args_tests)

add_executable(breakglass_flow_tests
  ${CMAKE_CURRENT_LIST_DIR}/pam/breakglass_flow_test.cpp ${BG_PAM_TEST_SUPPORT})
target_include_directories(breakglass_flow_tests PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(breakglass_flow_tests PRIVATE BG_DAEMON_PATH="$<TARGET_FILE:breakglassd>")
target_link_libraries(breakglass_flow_tests PRIVATE bg_common bg_mfa GTest::gtest_main bg_strict)
add_dependencies(breakglass_flow_tests breakglassd)
gtest_discover_tests(breakglass_flow_tests PROPERTIES TIMEOUT 300)

add_executable(pam_stack_tests
  ${CMAKE_CURRENT_LIST_DIR}/pam/pam_stack_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pam/pam_harness.cpp
  ${BG_PAM_TEST_SUPPORT})
target_include_directories(pam_stack_tests PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(pam_stack_tests PRIVATE
  BG_DAEMON_PATH="$<TARGET_FILE:breakglassd>" BG_PAM_MODULE_PATH="$<TARGET_FILE:pam_breakglass>")
target_link_libraries(pam_stack_tests PRIVATE bg_common bg_mfa ${PAM_LIBRARY} GTest::gtest_main bg_strict)
add_dependencies(pam_stack_tests breakglassd pam_breakglass)
gtest_discover_tests(pam_stack_tests PROPERTIES TIMEOUT 300)
