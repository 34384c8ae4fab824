# SPDX-License-Identifier: ISC
# bench_pam: the daemon comes from the test fixture (tests/support/), so it is
# built only with BUILD_TESTING.
if(TARGET bg_test_support)
  add_executable(bench_pam ${CMAKE_CURRENT_LIST_DIR}/bench_pam.cpp)
  target_include_directories(bench_pam PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_definitions(bench_pam PRIVATE BG_PAM_MODULE_PATH="$<TARGET_FILE:pam_breakglass>")
  target_link_libraries(bench_pam PRIVATE bg_test_support bg_common ${PAM_LIBRARY} bg_strict)
  add_dependencies(bench_pam pam_breakglass)
endif()
