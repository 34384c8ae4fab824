# SPDX-License-Identifier: ISC
# Alerts (helper/alerts): which record raises which alert, routing, bursts,
# and each channel type's body checked against the vendor's documented shape.
add_executable(alerts_test ${CMAKE_CURRENT_LIST_DIR}/unit/alerts_test.cpp)
target_link_libraries(alerts_test PRIVATE bg_alerts bg_revocation GTest::gtest GTest::gtest_main bg_strict)
gtest_discover_tests(alerts_test)
