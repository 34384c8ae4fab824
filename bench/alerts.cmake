# SPDX-License-Identifier: ISC
# bench_alerts: alerts (issue 12) against real breakglassd processes and the
# tests' HTTPS receiver standing for PagerDuty, Slack and a webhook: grant
# latency with three channels vs none, grant -> receiver p50/p99, and the
# daemon's start with a large log (verified at start on its own thread).
add_executable(bench_alerts ${CMAKE_CURRENT_LIST_DIR}/bench_alerts.cpp)
target_link_libraries(bench_alerts PRIVATE bg_audit bg_test_support bg_libyubikey OpenSSL::Crypto bg_strict)
add_dependencies(bench_alerts breakglassd)
