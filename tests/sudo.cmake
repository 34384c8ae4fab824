# SPDX-License-Identifier: ISC
# breakglass_sudo.so: option parsing (pure) and the plugin inside real sudo
# (Debian's), run as users each test creates with names unique to its run, in
# a private mount namespace with a test sudo.conf/sudoers, against a real
# breakglassd from the test fixture. The plugin tests need root and are
# labelled `sudo`; each has its own accounts and daemon, so they run in parallel.
add_executable(sudo_args_tests
  ${CMAKE_CURRENT_LIST_DIR}/sudo/sudo_args_test.cpp
  ${PROJECT_SOURCE_DIR}/pam_module/sudo/sudo_args.cpp)
target_include_directories(sudo_args_tests PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(sudo_args_tests PRIVATE bg_common GTest::gtest_main bg_strict)
gtest_discover_tests(sudo_args_tests PROPERTIES LABELS sudo)

# The sudo host (accounts, sudo.conf/sudoers mounted in a private namespace,
# sudo on a terminal): shared by the plugin tests and bench_sudo.
add_library(bg_sudo_test_host STATIC ${CMAKE_CURRENT_LIST_DIR}/sudo/sudo_host.cpp)
target_include_directories(bg_sudo_test_host PUBLIC ${PROJECT_SOURCE_DIR})
target_compile_definitions(bg_sudo_test_host PUBLIC BG_SUDO_PLUGIN_PATH="$<TARGET_FILE:breakglass_sudo>")
target_link_libraries(bg_sudo_test_host PUBLIC bg_test_support PRIVATE bg_strict)
add_dependencies(bg_sudo_test_host breakglass_sudo)

# An ASan-instrumented plugin cannot be loaded by sudo (set-uid, not built with
# ASan), so the plugin runs in sudo only in uninstrumented builds.
if(NOT ENABLE_SANITIZERS)
  add_executable(sudo_plugin_tests ${CMAKE_CURRENT_LIST_DIR}/sudo/sudo_plugin_test.cpp)
  target_link_libraries(sudo_plugin_tests PRIVATE bg_sudo_test_host bg_test_support bg_common GTest::gtest_main bg_strict)
  gtest_discover_tests(sudo_plugin_tests PROPERTIES LABELS sudo TIMEOUT 120 FIXTURES_REQUIRED bg_host)
endif()

# Approvals through real sudo (issue 13): the plugin waits for a second
# person's `breakglassctl approve`, Ctrl-C cancels, a deny refuses; and the
# two-person break-glass time, request to running command.
if(NOT ENABLE_SANITIZERS)
  add_executable(sudo_approval_tests ${CMAKE_CURRENT_LIST_DIR}/sudo/sudo_approval_test.cpp)
  target_link_libraries(sudo_approval_tests PRIVATE bg_sudo_test_host bg_test_support bg_common bg_workflow GTest::gtest_main bg_strict)
  gtest_discover_tests(sudo_approval_tests PROPERTIES LABELS sudo TIMEOUT 180 FIXTURES_REQUIRED bg_host)
endif()
