# SPDX-License-Identifier: ISC
# common/: protocol, transport, text validation and the callback guard.
add_executable(common_tests
  ${CMAKE_CURRENT_LIST_DIR}/unit/protocol_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/text_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/callback_guard_test.cpp)
target_link_libraries(common_tests PRIVATE bg_common GTest::gtest_main bg_strict)
gtest_discover_tests(common_tests)

# common/transport's deadlines against a listener that never answers (the
# fixture's SilentListener, in a scratch directory of the run).
add_executable(transport_timeout_tests ${CMAKE_CURRENT_LIST_DIR}/unit/transport_timeout_test.cpp)
target_link_libraries(transport_timeout_tests PRIVATE bg_test_support bg_common GTest::gtest_main bg_strict)
gtest_discover_tests(transport_timeout_tests PROPERTIES FIXTURES_REQUIRED bg_host)

# common/transport's kept connection (proto::Client) against a scripted daemon
# on a thread of the test (a real listener in a scratch directory of the run).
add_executable(transport_client_tests ${CMAKE_CURRENT_LIST_DIR}/unit/transport_client_test.cpp)
target_link_libraries(transport_client_tests PRIVATE bg_test_support bg_common GTest::gtest_main bg_strict)
gtest_discover_tests(transport_client_tests PROPERTIES FIXTURES_REQUIRED bg_host)

if(BUILD_FUZZERS)
  add_executable(fuzz_frame ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_frame.cpp)
  target_link_libraries(fuzz_frame PRIVATE bg_common bg_strict)
  target_link_options(fuzz_frame PRIVATE -fsanitize=fuzzer)
  add_executable(fuzz_text ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_text.cpp)
  target_link_libraries(fuzz_text PRIVATE bg_common bg_strict)
  target_link_options(fuzz_text PRIVATE -fsanitize=fuzzer)
endif()

# common/nss: real NSS; the namespace cases need root (skipped without it) and
# take their files from a scratch directory of the run (tests/support/).
add_executable(nss_tests ${CMAKE_CURRENT_LIST_DIR}/unit/nss_test.cpp)
target_link_libraries(nss_tests PRIVATE bg_test_support bg_common GTest::gtest_main bg_strict)
gtest_discover_tests(nss_tests PROPERTIES FIXTURES_REQUIRED bg_host)

# common/json_build.hpp, with allocations counted and failed by the test's
# own operator new (a binary of its own so no other suite runs under it; not
# under valgrind, see scripts/valgrind.sh).
add_executable(json_build_tests ${CMAKE_CURRENT_LIST_DIR}/unit/json_build_test.cpp)
target_link_libraries(json_build_tests PRIVATE bg_common GTest::gtest_main bg_strict)
gtest_discover_tests(json_build_tests)
