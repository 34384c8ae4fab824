# SPDX-License-Identifier: ISC
# bench_daemon: the daemon core in-process (work per request on the loop) and
# a real breakglassd through the test fixture's launcher (grant round trip,
# Check fast path), each with its baseline in the same run.
add_executable(bench_daemon ${CMAKE_CURRENT_LIST_DIR}/bench_daemon.cpp)
target_link_libraries(bench_daemon PRIVATE bg_daemon bg_test_support bg_libyubikey OpenSSL::Crypto bg_strict)
add_dependencies(bench_daemon breakglassd)
