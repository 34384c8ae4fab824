# SPDX-License-Identifier: ISC
# Tests for helper/yubikey.cmake (bg_mfa): the Yubico OTP verifier, run
# against OTPs libyubikey itself generates from a key made at run time and
# the published libyubikey test vector, and the token store.
add_executable(yubikey_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/unit/yubikey_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/yubikey_store_test.cpp)
target_link_libraries(yubikey_unit_tests PRIVATE bg_mfa bg_libyubikey OpenSSL::Crypto GTest::gtest_main bg_strict)
gtest_discover_tests(yubikey_unit_tests)

if(BUILD_FUZZERS)
  # tests/fuzz/fuzz_otp -dict=tests/fuzz/otp.dict tests/fuzz/corpus/otp
  add_executable(fuzz_otp ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_otp.cpp)
  target_link_libraries(fuzz_otp PRIVATE bg_mfa bg_strict)
  target_link_options(fuzz_otp PRIVATE -fsanitize=fuzzer)
endif()
