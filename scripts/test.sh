#!/bin/bash
# SPDX-License-Identifier: ISC
# The whole test suite, as CI runs it (.ci/run calls this):
#   1. unit + integration tests in an ASan+UBSan build (build-asan/)
#   2. fault injection (issue 16): in the ASan+UBSan build (build-asan/,
#      -DBG_FAULT_INJECTION=ON registers the sweep), every
#      failable call of request -> grant -> session -> revoke failed once
#      (tests/fault/), with its counts printed
#   3. every libFuzzer target for BG_FUZZ_RUNS inputs in a clang build (build-fuzz/)
#   4. the Debian packages (scripts/build-debs.sh: dpkg-buildpackage + lintian, into build-debs/)
#      and the revocation-lag benchmark on them in a booted Debian 12 container (bench/)
#   5. in the normal build (build/), what the ASan build cannot run: the sudo
#      plugin inside the real, set-user-ID sudo (which cannot load an ASan
#      library), the system tests on those packages in a booted container
#      (tests/system.cmake), the SELinux module (built and checked against
#      Debian's reference policy: tests/selinux.cmake), the tests labelled
#      `plain` (a bound that holds only without ASan's shadow memory), and the
#      shipper's benchmark (bench/bench_ship.cpp, CI-sized) — its ctest
#      summary closes the output. Every other test ran in stage 1, under ASan+UBSan; running
#      them all a second time, uninstrumented, cost CI about seven minutes of
#      building and testing on 2 cores.
# Stages 3 and 5 build while stages 1 and 2 test, at nice 19 (most of a test
# waits); stage 1 runs two tests per core, stage 2 one worker per core.
# Each stage's header says when it began (minutes:seconds since the start).
# Installs its own dependencies. The integration tests need root (they start
# breakglassd and create and remove test users named for their run, bgt<token>-*).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "The tests start daemons and create test users; re-running with sudo."
  exec sudo "$0" "$@"
fi
scripts/install-deps.sh
jobs=$(nproc)

# Runs ctest quietly; on failure prints everything it said.
run_ctest() {
  local log
  log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    cat "$log"
    rm -f "$log"
    exit 1
  fi
  grep -E "tests passed|tests failed|Total Test time" "$log"
  rm -f "$log"
}

# Minutes:seconds since this script started.
at() { printf '%d:%02d' $((SECONDS / 60)) $((SECONDS % 60)); }

# What stages 3 and 5 build: the fuzz targets (clang) and the few programs of
# the normal build that stage 5 runs. Called early in the background (below)
# and again by their stages, where ninja then finds nothing to do.
fuzz_targets=(fuzz_frame fuzz_text fuzz_policy fuzz_audit fuzz_totp fuzz_otp fuzz_proc_status fuzz_cgroup fuzz_ends_slot
  fuzz_sink_cursor fuzz_sink_answer fuzz_checkpoint fuzz_journal_export fuzz_approval_token)
build_fuzz() {
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_FUZZERS=ON \
    -DBUILD_BENCHMARKS=OFF -DBG_SELINUX=OFF -DBG_FUZZ_RUNS="${BG_FUZZ_RUNS:-10000}" >/dev/null
  cmake --build build-fuzz -j"$jobs" --target "${fuzz_targets[@]}"
}
build_normal() {
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBG_SYSTEM_TEST_DEBS="$PWD/build-debs" -DBG_SELINUX=ON >/dev/null
  # Only what stage 5 runs (the other test programs are stage 1's).
  cmake --build build -j"$jobs" --target breakglassd breakglassctl breakglass_sudo sudo_args_tests sudo_plugin_tests \
    sudo_approval_tests remote_sink_integration_tests bg_test_host_check bg_pty_drive selinux_module bench_ship
}
# A process and everything under it (no procps on a minimal Debian).
kill_tree() {
  local c
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do kill_tree "$c"; done
  kill "$1" 2>/dev/null || true
}
prebuild=
trap '[ -z "$prebuild" ] || kill_tree "$prebuild"' EXIT

echo "== [1/5] ASan+UBSan build and tests (at $(at))"
# -DBG_FAULT_INJECTION=ON only registers the sweep (stage 2); the product is built as it is.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DENABLE_SANITIZERS=ON -DBUILD_BENCHMARKS=OFF -DBG_SELINUX=OFF \
  -DBG_FAULT_INJECTION=ON >/dev/null
cmake --build build-asan -j"$jobs"
# Most of a test waits (on processes it starts, deadlines, a sink's answer):
# the suite runs two tests per core, and stages 3 and 5 build meanwhile at
# nice 19, on the CPU the tests leave idle (within this session, nice ranks
# the builds below every test). Measured on 2 cores: the suite 385 s at -j2,
# 284 s at -j4.
prebuild_log=$(mktemp)
(
  renice -n 19 -p "$BASHPID" >/dev/null || true
  build_fuzz && build_normal && echo "built by $(at)"
) >"$prebuild_log" 2>&1 &
prebuild=$!
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest ctest --test-dir build-asan -j$((2 * jobs)) -LE '^fault$' --output-on-failure

echo "== [2/5] fault injection (ASan+UBSan): each failable call of request -> grant -> session -> revoke fails once (at $(at))"
fault_log=$(mktemp)
# Each run mostly waits (process start-up, the daemon's answers, the sink's
# acknowledgement): $jobs workers, each with its own sink, halve the stage.
if ! BG_FAULT_MAX_RUNS="${BG_FAULT_MAX_RUNS:-150}" BG_FAULT_JOBS="${BG_FAULT_JOBS:-$jobs}" \
  BG_FAULT_ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 BG_FAULT_UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -L '^fault$' -V >"$fault_log" 2>&1; then
  cat "$fault_log"
  rm -f "$fault_log"
  exit 1
fi
grep -E "fault injection:|^[0-9]+:   " "$fault_log" | sed 's/^[0-9]*: //'
rm -f "$fault_log"

echo "== [3/5] fuzz targets (clang + libFuzzer), each for ${BG_FUZZ_RUNS:-10000} inputs (at $(at))"
if ! wait "$prebuild"; then
  prebuild=
  echo "the builds of stages 3 and 5 failed:"
  cat "$prebuild_log"
  rm -f "$prebuild_log"
  exit 1
fi
prebuild=
echo "(the fuzz targets and stage 5's programs were built at nice 19 beside stages 1 and 2: $(tail -n 1 "$prebuild_log"))"
rm -f "$prebuild_log"
build_fuzz
run_ctest ctest --test-dir build-fuzz -L fuzz -j"$jobs" --output-on-failure

echo "== [4/5] Debian packages (dpkg-buildpackage, lintian) and the revocation-lag benchmark in a booted container (at $(at))"
scripts/build-debs.sh build-debs
bench/revocation_lag.sh build-debs

echo "== [5/5] normal build: sudo, the system tests on those packages in a booted container, SELinux, memory bounds (at $(at))"
build_normal
# The shipper's benchmark (issue 11), CI-sized: drain of 100,000 records to a real
# systemd-journal-remote, remote_ack latency, the daemon's memory with a
# 1,000,000-record backlog. Prints figures; asserts none (README, "Benchmarks").
echo "== bench_ship (prints figures, asserts none)"
build/bench/bench_ship
ctest --test-dir build -j"$jobs" -L '^(sudo|system|selinux|plain)$' --output-on-failure
