# SPDX-License-Identifier: ISC
# helper/report: the per-gate bypass report and the auditor's export, through
# the real breakglassctl over logs written by the real audit store; the fleet
# test runs the real systemd-journal-remote; the HTML is parsed by xmllint.
add_executable(report_tests ${CMAKE_CURRENT_LIST_DIR}/unit/report_test.cpp)
target_compile_definitions(report_tests PRIVATE
  BG_CTL_PATH="$<TARGET_FILE:breakglassctl>" BG_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_link_libraries(report_tests PRIVATE
  bg_report bg_audit nlohmann_json::nlohmann_json GTest::gtest_main bg_strict)
add_dependencies(report_tests breakglassctl)
gtest_discover_tests(report_tests PROPERTIES TIMEOUT 120)

# Through a real breakglassd: an auditor reads the log without root (the daemon's read path).
add_executable(report_integration_tests ${CMAKE_CURRENT_LIST_DIR}/integration/report_integration_test.cpp)
target_link_libraries(report_integration_tests PRIVATE bg_test_support bg_common bg_mfa GTest::gtest_main bg_strict)
gtest_discover_tests(report_integration_tests PROPERTIES TIMEOUT 120 FIXTURES_REQUIRED bg_host)
