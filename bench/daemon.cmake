# SPDX-License-Identifier: ISC
add_executable(bench_daemon ${CMAKE_CURRENT_LIST_DIR}/bench_daemon.cpp)
target_compile_definitions(bench_daemon PRIVATE BG_DAEMON_PATH="$<TARGET_FILE:breakglassd>")
target_link_libraries(bench_daemon PRIVATE bg_daemon bg_strict)
add_dependencies(bench_daemon breakglassd)
