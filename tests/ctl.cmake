# SPDX-License-Identifier: ISC
# Tests for helper/ctl.cmake (bg_ctl): breakglassctl's pure parts. The
# CLI <-> daemon end-to-end tests live with the daemon's integration tests.
add_executable(ctl_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/unit/ctl_arguments_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/ctl_output_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/ctl_secret_input_test.cpp)
target_link_libraries(ctl_unit_tests PRIVATE bg_ctl nlohmann_json::nlohmann_json GTest::gtest_main bg_strict)
gtest_discover_tests(ctl_unit_tests)

# The command line: the subcommand table and global options (CLI11, nothing run).
add_executable(ctl_command_line_tests ${CMAKE_CURRENT_LIST_DIR}/unit/ctl_command_line_test.cpp)
target_link_libraries(ctl_command_line_tests PRIVATE bg_ctl_cli GTest::gtest_main bg_strict)
gtest_discover_tests(ctl_command_line_tests)

# show's story (issue 14): the story index, the runs verified up to their
# signed checkpoints, tampering and a damaged index, over real audit logs.
add_executable(show_story_tests ${CMAKE_CURRENT_LIST_DIR}/unit/show_story_test.cpp)
target_link_libraries(show_story_tests PRIVATE bg_ctl_cli bg_audit nlohmann_json::nlohmann_json GTest::gtest_main bg_strict)
gtest_discover_tests(show_story_tests)
