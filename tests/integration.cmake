# SPDX-License-Identifier: ISC
# Real processes: breakglassd from the test fixture (tests/support/), and
# breakglassctl as root and as users each test creates with names unique to
# its run (needs root). Every test has its own daemon and its own users, so
# they run in parallel, also beside another run of the suite on the host.
add_executable(daemon_integration_tests ${CMAKE_CURRENT_LIST_DIR}/integration/daemon_integration_test.cpp)
target_link_libraries(daemon_integration_tests PRIVATE
  bg_test_support bg_common bg_audit bg_mfa bg_libyubikey OpenSSL::Crypto GTest::gtest_main bg_strict)
gtest_discover_tests(daemon_integration_tests PROPERTIES TIMEOUT 120 FIXTURES_REQUIRED bg_host)

# Closing never waits, on a small full tmpfs (a private mount namespace of the test process).
add_executable(full_disk_integration_tests ${CMAKE_CURRENT_LIST_DIR}/integration/full_disk_integration_test.cpp)
target_link_libraries(full_disk_integration_tests PRIVATE bg_test_support bg_common bg_mfa GTest::gtest_main bg_strict)
gtest_discover_tests(full_disk_integration_tests PROPERTIES TIMEOUT 120 FIXTURES_REQUIRED bg_host)

# A hostile local user gets nothing: bounded refusals and connections, paged answers, trust and
# loginuid from the kernel and the policy in force, the daemon's files checked.
add_executable(hostile_user_integration_tests ${CMAKE_CURRENT_LIST_DIR}/integration/hostile_user_integration_test.cpp)
target_link_libraries(hostile_user_integration_tests PRIVATE
  bg_test_support bg_common bg_mfa bg_libyubikey OpenSSL::Crypto GTest::gtest_main bg_strict)
gtest_discover_tests(hostile_user_integration_tests PROPERTIES TIMEOUT 120 FIXTURES_REQUIRED bg_host)

# Remote sinks end to end (issue 11): a real daemon, a real
# systemd-journal-remote over HTTPS, the HTTP(S) receiver for the others.
add_executable(remote_sink_integration_tests ${CMAKE_CURRENT_LIST_DIR}/integration/remote_sink_integration_test.cpp)
target_link_libraries(remote_sink_integration_tests PRIVATE bg_test_support bg_audit bg_common GTest::gtest_main bg_strict)
gtest_discover_tests(remote_sink_integration_tests PROPERTIES LABELS ship TIMEOUT 180 FIXTURES_REQUIRED bg_host)
# The daemon's memory bound in the hostile-sinks test holds only without
# ASan's shadow memory: in the normal build it is also a test of its own,
# labelled `plain`, which stage 5 of scripts/test.sh runs.
if(NOT ENABLE_SANITIZERS)
  add_test(NAME remote_sink_daemon_memory_bound
    COMMAND remote_sink_integration_tests --gtest_filter=RemoteSinkTest.HostileSinksNeverStopGrantsNorGrowTheDaemon)
  set_tests_properties(remote_sink_daemon_memory_bound PROPERTIES
    LABELS plain TIMEOUT 180 FIXTURES_REQUIRED bg_host
    PASS_REGULAR_EXPRESSION "\\[  PASSED  \\] 1 test\\." FAIL_REGULAR_EXPRESSION "FAILED|SKIPPED")
endif()
# Approvals with separation of duties (issue 13): the waiting request, pending, approve, deny.
add_executable(approval_integration_tests ${CMAKE_CURRENT_LIST_DIR}/integration/approval_integration_test.cpp)
target_link_libraries(approval_integration_tests PRIVATE bg_test_support bg_common bg_mfa GTest::gtest_main bg_strict)
gtest_discover_tests(approval_integration_tests PROPERTIES TIMEOUT 120 FIXTURES_REQUIRED bg_host)
# Offline approvals (issue 13): request codes, approver keys, tokens signed without a daemon.
add_executable(offline_approval_integration_tests ${CMAKE_CURRENT_LIST_DIR}/integration/offline_approval_integration_test.cpp)
target_link_libraries(offline_approval_integration_tests PRIVATE
  bg_test_support bg_common bg_mfa bg_workflow bg_audit GTest::gtest_main bg_strict)
gtest_discover_tests(offline_approval_integration_tests PROPERTIES TIMEOUT 120 FIXTURES_REQUIRED bg_host)
# Signed checkpoints and verification from a remote copy made by the real systemd-journal-remote.
add_executable(remote_copy_integration_tests ${CMAKE_CURRENT_LIST_DIR}/integration/remote_copy_integration_test.cpp)
target_link_libraries(remote_copy_integration_tests PRIVATE
  bg_test_support bg_common bg_audit bg_mfa OpenSSL::Crypto GTest::gtest_main bg_strict)
gtest_discover_tests(remote_copy_integration_tests PROPERTIES TIMEOUT 120 FIXTURES_REQUIRED bg_host)

add_executable(alerts_integration_tests ${CMAKE_CURRENT_LIST_DIR}/integration/alerts_integration_test.cpp)
target_link_libraries(alerts_integration_tests PRIVATE bg_test_support bg_audit bg_common GTest::gtest_main bg_strict)
gtest_discover_tests(alerts_integration_tests PROPERTIES LABELS alerts TIMEOUT 240 FIXTURES_REQUIRED bg_host)
# Reviews, auditors and `show` (issue 14): separation of duties, review_overdue once, the log read by
# auditors through the daemon, and show --json against a golden file (tests/golden_show).
add_executable(review_integration_tests ${CMAKE_CURRENT_LIST_DIR}/integration/review_integration_test.cpp)
target_compile_definitions(review_integration_tests PRIVATE BG_SHOW_GOLDEN_DIR="${CMAKE_CURRENT_LIST_DIR}/golden_show")
target_link_libraries(review_integration_tests PRIVATE bg_test_support bg_common bg_mfa nlohmann_json::nlohmann_json GTest::gtest_main bg_strict)
gtest_discover_tests(review_integration_tests PROPERTIES TIMEOUT 240 FIXTURES_REQUIRED bg_host)
# The PostgreSQL gate (issue 15) against a real PostgreSQL 15 (skipped, saying so, without its binaries).
add_executable(postgres_gate_integration_tests ${CMAKE_CURRENT_LIST_DIR}/integration/postgres_gate_integration_test.cpp)
target_link_libraries(postgres_gate_integration_tests PRIVATE
  bg_test_support bg_common bg_audit bg_mfa bg_dbgate GTest::gtest_main bg_strict)
gtest_discover_tests(postgres_gate_integration_tests PROPERTIES LABELS postgres TIMEOUT 180 FIXTURES_REQUIRED bg_host)
