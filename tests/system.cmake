# SPDX-License-Identifier: ISC
# System tests: the .debs installed in a Debian 12 container booted with
# systemd-nspawn (real systemd, journald, sudo, the installed units), driven by
# scripts/system-test.sh. They need root, debootstrap and the packages, so they
# are registered only when BG_SYSTEM_TEST_DEBS names a directory holding
# breakglass_*.deb and libpam-breakglass_*.deb (scripts/test.sh builds them with
# scripts/build-debs.sh first). They run alone: revocation timing is measured.
#
# bg_pty_drive, the tool the script copies into the container, is the test
# fixture's pty driver behind a command line; the script compiles it with g++
# from these two files (it runs without a build tree), and it is built here
# too so that it always compiles.
add_executable(bg_pty_drive
  ${CMAKE_CURRENT_LIST_DIR}/system/pty_drive.cpp
  ${CMAKE_CURRENT_LIST_DIR}/support/pty_session.cpp)
target_include_directories(bg_pty_drive PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(bg_pty_drive PRIVATE util bg_strict)

set(BG_SYSTEM_TEST_DEBS "" CACHE PATH "directory with the .debs the system tests install (empty: no system tests)")
if(BG_SYSTEM_TEST_DEBS)
  add_test(NAME system_tests_booted_container
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/system-test.sh --no-bench ${BG_SYSTEM_TEST_DEBS})
  set_tests_properties(system_tests_booted_container PROPERTIES
    RUN_SERIAL TRUE TIMEOUT 1800 LABELS system)
endif()

# The packaging scenarios of issue 10 (removing libpam-breakglass while sudo.conf
# loads its plugin; a pre-existing breakglass group with members), in a
# container that is not booted (scripts/system-test-removal.sh).
if(BG_SYSTEM_TEST_DEBS)
  add_test(NAME system_tests_package_removal
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/system-test-removal.sh ${BG_SYSTEM_TEST_DEBS})
  set_tests_properties(system_tests_package_removal PROPERTIES TIMEOUT 900 LABELS system)
endif()
