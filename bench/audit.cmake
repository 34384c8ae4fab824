# SPDX-License-Identifier: ISC
# Audit store benchmark: append with fsync vs bare write+fsync, verify speed.
add_executable(bench_audit ${CMAKE_CURRENT_LIST_DIR}/bench_audit.cpp)
target_link_libraries(bench_audit PRIVATE bg_audit bg_strict)
