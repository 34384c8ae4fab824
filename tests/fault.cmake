# SPDX-License-Identifier: ISC
# Fault injection (issue 16, item 3): the interposer (fault/fault_inject.c)
# preloaded into breakglassd, breakglassctl and the PAM client
# (fault/fault_pam_client.cpp) fails one failable call of the scenario
# request -> grant (acknowledged by a real systemd-journal-remote) -> session -> revoke; the driver (fault/fault_driver.cpp)
# asserts no grant while faulted, no crash, no torn record, and that a clean
# daemon still revokes. The product is not rebuilt for it.
# Always built and run: one regression test per fault the sweep found, each
# failing that call by name, and one for the libcurl call the sweep may miss. With -DBG_FAULT_INJECTION=ON (scripts/test.sh:
# build-asan, ASan+UBSan): the sweep, every call N of the scenario failed in
# turn (a deterministic sample past BG_FAULT_MAX_RUNS).
# The interposer: plain C, never instrumented (it comes before the sanitizer runtime).
add_library(bg_fault_inject MODULE ${CMAKE_CURRENT_LIST_DIR}/fault/fault_inject.c)
set_target_properties(bg_fault_inject PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden
  COMPILE_OPTIONS "-Wall;-Wextra;-Werror" LINK_OPTIONS "")
target_link_libraries(bg_fault_inject PRIVATE ${CMAKE_DL_LIBS})

add_executable(fault_pam_client ${CMAKE_CURRENT_LIST_DIR}/fault/fault_pam_client.cpp)
target_link_libraries(fault_pam_client PRIVATE bg_pam_test_driver bg_test_support bg_strict)

add_executable(fault_driver ${CMAKE_CURRENT_LIST_DIR}/fault/fault_driver.cpp)
target_link_libraries(fault_driver PRIVATE bg_pam_test_driver bg_test_support bg_common bg_strict)
add_dependencies(fault_driver bg_fault_inject fault_pam_client)

# Regressions: a failed lookup of PAM_TTY (item 3) once gave a grant recorded with no terminal.
add_test(NAME fault_pam_get_item_tty
  COMMAND fault_driver $<TARGET_FILE:bg_fault_inject> $<TARGET_FILE:fault_pam_client> --match "pam_get_item item 3")
set_tests_properties(fault_pam_get_item_tty PROPERTIES LABELS fault_regression TIMEOUT 120 FIXTURES_REQUIRED bg_host)
# The sweep's call numbers shift with the sink's own thread, so its sample may
# miss the one libcurl call of the grant's shipping: this one fails it by name.
# The sink's attempt fails, the shipper tries again, the grant waits for the
# acknowledgement and is made on the same facts.
add_test(NAME fault_curl_easy_perform
  COMMAND fault_driver $<TARGET_FILE:bg_fault_inject> $<TARGET_FILE:fault_pam_client> --match "curl_easy_perform")
set_tests_properties(fault_curl_easy_perform PROPERTIES LABELS fault_regression TIMEOUT 120 FIXTURES_REQUIRED bg_host)

if(BG_FAULT_INJECTION)
  add_test(NAME fault_injection
    COMMAND fault_driver $<TARGET_FILE:bg_fault_inject> $<TARGET_FILE:fault_pam_client>)
  set_tests_properties(fault_injection PROPERTIES LABELS fault TIMEOUT 900 FIXTURES_REQUIRED bg_host)
endif()
