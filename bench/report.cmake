# SPDX-License-Identifier: ISC
# The per-gate report over a 1,000,000-record log (issue 14), against the
# verifier's own pass over the same bytes measured in the same run.
add_executable(bench_report ${CMAKE_CURRENT_LIST_DIR}/bench_report.cpp)
target_link_libraries(bench_report PRIVATE bg_report bg_audit bg_strict)
