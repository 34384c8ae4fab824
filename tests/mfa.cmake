# SPDX-License-Identifier: ISC
# Tests for helper/mfa.cmake (bg_mfa): TOTP, the secret store, the limiter.
add_executable(mfa_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/unit/totp_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/totp_store_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/failure_limiter_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/factor_verifier_test.cpp)
target_link_libraries(mfa_unit_tests PRIVATE bg_mfa bg_libyubikey OpenSSL::Crypto GTest::gtest_main bg_strict)
gtest_discover_tests(mfa_unit_tests)

if(BUILD_FUZZERS)
  add_executable(fuzz_totp ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_totp.cpp)
  target_link_libraries(fuzz_totp PRIVATE bg_mfa bg_strict)
  target_link_options(fuzz_totp PRIVATE -fsanitize=fuzzer)
endif()
