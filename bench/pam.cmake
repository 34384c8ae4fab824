# SPDX-License-Identifier: ISC
add_executable(bench_pam
  ${CMAKE_CURRENT_LIST_DIR}/bench_pam.cpp
  ${PROJECT_SOURCE_DIR}/tests/pam/test_daemon.cpp
  ${PROJECT_SOURCE_DIR}/tests/integration/process.cpp)
target_include_directories(bench_pam PRIVATE ${PROJECT_SOURCE_DIR})
target_compile_definitions(bench_pam PRIVATE
  BG_DAEMON_PATH="$<TARGET_FILE:breakglassd>" BG_PAM_MODULE_PATH="$<TARGET_FILE:pam_breakglass>")
target_link_libraries(bench_pam PRIVATE bg_common bg_mfa ${PAM_LIBRARY} bg_strict)
add_dependencies(bench_pam breakglassd pam_breakglass)
