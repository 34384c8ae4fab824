# SPDX-License-Identifier: ISC
# breakglass_sudo.so: option parsing (pure) and the plugin inside real sudo
# (Debian's), run as bgsudo-* users the tests create, in a private mount
# namespace with a test sudo.conf/sudoers, against a real breakglassd. The
# plugin tests need root and are labelled `sudo`; they run one at a time
# (the users are shared) and never at the same time as other user-creating tests.
add_executable(sudo_args_tests
  ${CMAKE_CURRENT_LIST_DIR}/sudo/sudo_args_test.cpp
  ${PROJECT_SOURCE_DIR}/pam_module/sudo/sudo_args.cpp)
target_include_directories(sudo_args_tests PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(sudo_args_tests PRIVATE bg_common GTest::gtest_main bg_strict)
gtest_discover_tests(sudo_args_tests PROPERTIES LABELS sudo)

add_library(bg_sudo_test_env STATIC
  ${CMAKE_CURRENT_LIST_DIR}/sudo/sudo_env.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pam/test_daemon.cpp
  ${CMAKE_CURRENT_LIST_DIR}/integration/process.cpp)
target_include_directories(bg_sudo_test_env PUBLIC ${PROJECT_SOURCE_DIR})
target_compile_definitions(bg_sudo_test_env PUBLIC
  BG_DAEMON_PATH="$<TARGET_FILE:breakglassd>" BG_SUDO_PLUGIN_PATH="$<TARGET_FILE:breakglass_sudo>")
target_link_libraries(bg_sudo_test_env PUBLIC bg_common bg_mfa util PRIVATE bg_strict)
add_dependencies(bg_sudo_test_env breakglassd breakglass_sudo)

# An ASan-instrumented plugin cannot be loaded by sudo (set-uid, not built with
# ASan), so the plugin runs in sudo only in uninstrumented builds.
if(NOT ENABLE_SANITIZERS)
  add_executable(sudo_plugin_tests ${CMAKE_CURRENT_LIST_DIR}/sudo/sudo_plugin_test.cpp)
  target_link_libraries(sudo_plugin_tests PRIVATE bg_sudo_test_env GTest::gtest_main bg_strict)
  gtest_discover_tests(sudo_plugin_tests PROPERTIES LABELS sudo RESOURCE_LOCK bgit_users TIMEOUT 120)
endif()
