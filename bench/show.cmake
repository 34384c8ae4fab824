# SPDX-License-Identifier: ISC
# `breakglassctl show` of one grant in a 1,000,000-record log (issue 14).
add_executable(bench_show ${CMAKE_CURRENT_LIST_DIR}/bench_show.cpp)
target_link_libraries(bench_show PRIVATE bg_ctl_cli bg_audit bg_test_support bg_strict)
