# SPDX-License-Identifier: ISC
# bench_postgres: the PostgreSQL gate with a real PostgreSQL 15 (needs root; run by
# hand: build/bench/bench_postgres [N]). Reuses the test fixture, so it is built
# only with BUILD_TESTING.
if(TARGET bg_test_support AND NOT ENABLE_SANITIZERS)
  add_executable(bench_postgres ${CMAKE_CURRENT_LIST_DIR}/bench_postgres.cpp)
  target_link_libraries(bench_postgres PRIVATE bg_test_support bg_mfa bg_strict)
endif()
