# SPDX-License-Identifier: ISC
# Repository rules, checked on the source tree: the may-use table of
# docs/ARCHITECTURE.md and the ISC SPDX line in every source file; and a
# self-test that each check refuses a tree that breaks its rule.
add_test(NAME repository_layering COMMAND ${CMAKE_CURRENT_LIST_DIR}/repository/check_layering.sh ${PROJECT_SOURCE_DIR})
add_test(NAME repository_spdx COMMAND ${CMAKE_CURRENT_LIST_DIR}/repository/check_spdx.sh ${PROJECT_SOURCE_DIR})
add_test(NAME repository_checks_refuse_violations COMMAND ${CMAKE_CURRENT_LIST_DIR}/repository/selftest.sh)
set_tests_properties(repository_layering repository_spdx repository_checks_refuse_violations PROPERTIES LABELS repository)
add_test(NAME dispatch_table_refuses_a_missing_row_or_handler
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/repository/check_dispatch_table.sh ${CMAKE_CXX_COMPILER} ${PROJECT_SOURCE_DIR})
set_tests_properties(dispatch_table_refuses_a_missing_row_or_handler PROPERTIES LABELS repository TIMEOUT 300)
