# SPDX-License-Identifier: ISC
# pam_breakglass.so and the shared break-glass flow: argument parsing (pure),
# the flow against a real breakglassd, and the module through real libpam
# (pam_start_confdir on a service file in a temporary directory). The daemon
# comes from the test fixture (tests/support/). No test creates users (they
# use the base accounts "daemon" and "nobody"), and each starts its own
# daemon, so they run in parallel. The actor tests run the PAM client as a
# set-user-ID program would be (real uid a user's, effective uid 0), and one
# runs the real /usr/bin/su with its service file bind-mounted in the test's
# private mount namespace (nothing on the host changes).
add_executable(pam_args_tests
  ${CMAKE_CURRENT_LIST_DIR}/pam/pam_args_test.cpp
  ${PROJECT_SOURCE_DIR}/pam_module/pam_args.cpp)
target_include_directories(pam_args_tests PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(pam_args_tests PRIVATE bg_common GTest::gtest_main bg_strict)
gtest_discover_tests(pam_args_tests)

add_executable(breakglass_flow_tests ${CMAKE_CURRENT_LIST_DIR}/pam/breakglass_flow_test.cpp)
target_link_libraries(breakglass_flow_tests PRIVATE bg_test_support bg_common GTest::gtest_main bg_strict)
gtest_discover_tests(breakglass_flow_tests PROPERTIES TIMEOUT 300 FIXTURES_REQUIRED bg_host)

# The scripted PAM conversation and pam_start_confdir driver (pam_harness.*).
add_library(bg_pam_test_driver STATIC ${CMAKE_CURRENT_LIST_DIR}/pam/pam_harness.cpp)
target_include_directories(bg_pam_test_driver PUBLIC ${PROJECT_SOURCE_DIR})
target_compile_definitions(bg_pam_test_driver PUBLIC BG_PAM_MODULE_PATH="$<TARGET_FILE:pam_breakglass>")
target_link_libraries(bg_pam_test_driver PUBLIC ${PAM_LIBRARY} PRIVATE bg_test_support bg_strict)
add_dependencies(bg_pam_test_driver pam_breakglass)

add_executable(pam_stack_tests ${CMAKE_CURRENT_LIST_DIR}/pam/pam_stack_test.cpp)
target_link_libraries(pam_stack_tests PRIVATE bg_pam_test_driver bg_test_support bg_common GTest::gtest_main bg_strict)
gtest_discover_tests(pam_stack_tests PROPERTIES TIMEOUT 300 FIXTURES_REQUIRED bg_host)

# Approvals in pam_breakglass.so on a terminal (issue 13): a login-like
# program (misc_conv, libpam_misc) on a pty waits for a second person's
# approval; Ctrl-C at the waiting line cancels the request with its record.
find_library(PAM_MISC_LIBRARY pam_misc)
if(PAM_MISC_LIBRARY)
  add_executable(pam_terminal ${CMAKE_CURRENT_LIST_DIR}/pam/pam_terminal.cpp)
  target_link_libraries(pam_terminal PRIVATE ${PAM_LIBRARY} ${PAM_MISC_LIBRARY} bg_strict)
  add_executable(pam_approval_tests ${CMAKE_CURRENT_LIST_DIR}/pam/pam_approval_test.cpp)
  target_compile_definitions(pam_approval_tests PRIVATE BG_PAM_TERMINAL_PATH="$<TARGET_FILE:pam_terminal>")
  target_link_libraries(pam_approval_tests PRIVATE bg_pam_test_driver bg_test_support bg_common GTest::gtest_main bg_strict)
  add_dependencies(pam_approval_tests pam_terminal)
  gtest_discover_tests(pam_approval_tests PROPERTIES TIMEOUT 180 FIXTURES_REQUIRED bg_host)
endif()
