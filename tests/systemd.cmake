# SPDX-License-Identifier: ISC
# The systemd units, checked offline with systemd-analyze (no booted systemd
# needed): they parse and reference what exists, and the service's exposure
# score stays at or below 3.0 ("OK"). Behaviour under a booted systemd is
# issue 5's system tests.
find_program(SYSTEMD_ANALYZE systemd-analyze REQUIRED)
# verify reports unknown keys and bad values as warnings with exit 0, so any
# output at all is a failure.
add_test(NAME systemd_units_verify
  COMMAND sh -c "out=$(\"$0\" verify --man=no \"$1\" \"$2\" 2>&1) && [ -z \"$out\" ] || { echo \"$out\"; exit 1; }"
          ${SYSTEMD_ANALYZE}
          ${CMAKE_BINARY_DIR}/systemd/verify/breakglassd.socket ${CMAKE_BINARY_DIR}/systemd/verify/breakglassd.service)
add_test(NAME systemd_service_exposure_at_most_3
  COMMAND ${SYSTEMD_ANALYZE} security --offline=true --threshold=30 ${CMAKE_BINARY_DIR}/systemd/breakglassd.service)
set_tests_properties(systemd_units_verify systemd_service_exposure_at_most_3 PROPERTIES LABELS systemd)

# Unit names and OnCalendar= text of the per-grant timers (pure).
add_executable(systemd_timers_unit_tests ${CMAKE_CURRENT_LIST_DIR}/unit/systemd_timers_test.cpp)
target_link_libraries(systemd_timers_unit_tests PRIVATE bg_revocation GTest::gtest_main bg_strict)
gtest_discover_tests(systemd_timers_unit_tests)
