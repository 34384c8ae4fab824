# SPDX-License-Identifier: ISC
# bench_ship: the shipper (issue 11) against a real breakglassd and a real
# systemd-journal-remote on loopback: drain after an outage (baseline: the same
# batches POSTed by one HttpClient), grant latency with remote_ack required vs
# none, and the daemon's memory with a large backlog and the sink down.
add_executable(bench_ship ${CMAKE_CURRENT_LIST_DIR}/bench_ship.cpp)
target_link_libraries(bench_ship PRIVATE bg_ship bg_audit bg_test_support bg_libyubikey OpenSSL::Crypto bg_strict)
add_dependencies(bench_ship breakglassd)
