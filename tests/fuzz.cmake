# SPDX-License-Identifier: ISC
# Runs every fuzz target for a bounded number of inputs as a ctest test
# (label "fuzz"). libFuzzer writes what it discovers into the first corpus
# directory, so that is a scratch copy in the build tree; the committed seed
# corpus is read only.
if(BUILD_FUZZERS)
  set(BG_FUZZ_RUNS 10000 CACHE STRING "inputs per fuzz target in ctest")
  foreach(name frame text policy audit totp otp proc_status cgroup ends_slot sink_cursor sink_answer checkpoint journal_export approval_token)
    set(work ${CMAKE_BINARY_DIR}/fuzz-work/${name})
    set(seed ${CMAKE_CURRENT_LIST_DIR}/fuzz/corpus/${name})
    set(dict "")
    if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/fuzz/${name}.dict)
      set(dict -dict=${CMAKE_CURRENT_LIST_DIR}/fuzz/${name}.dict)
    endif()
    add_test(NAME fuzz_run_${name}
      COMMAND sh -c "mkdir -p '${work}' && exec \"$0\" -runs=${BG_FUZZ_RUNS} -max_total_time=600 -print_final_stats=1 ${dict} '${work}' '${seed}'"
              $<TARGET_FILE:fuzz_${name}>)
    set_tests_properties(fuzz_run_${name} PROPERTIES LABELS fuzz TIMEOUT 900)
  endforeach()
endif()
