# SPDX-License-Identifier: ISC
# bench_sudo: real sudo with and without breakglass_sudo.so (needs root; run by hand:
# sudo build/bench/bench_sudo [N]). Reuses the sudo test host and the test
# fixture, so it is built only with BUILD_TESTING.
if(TARGET bg_sudo_test_host AND NOT ENABLE_SANITIZERS)
  add_executable(bench_sudo ${CMAKE_CURRENT_LIST_DIR}/bench_sudo.cpp)
  target_link_libraries(bench_sudo PRIVATE bg_sudo_test_host bg_test_support bg_strict)
endif()
