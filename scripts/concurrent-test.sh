#!/bin/bash
# SPDX-License-Identifier: ISC
# Two test runs at once on one machine must both pass (issue 9): nothing they
# create on the host is shared — test users and groups are named for their
# run (bgt<token>-*), temporary directories, sockets and daemons are each
# run's own, and the system tests' rootfs cache is built under an flock with
# a machine name and network namespace per run.
#
#   scripts/concurrent-test.sh [--no-system] [--keep] [WORKDIR]
#
# Clones this repository's HEAD twice into WORKDIR (default: a new directory
# under /var/tmp), builds each clone in its own build directory, then runs
# both clones' ctest at the same time, then (unless --no-system) both clones'
# scripts/system-test.sh --no-bench at the same time on one set of .debs
# (scripts/build-debs.sh from the first clone). Prints each run's outcome and
# time; exit 0 only if all of them passed. Needs root. Not part of CI: it
# takes two builds and twice the test time.
set -uo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
SYSTEM=1
KEEP=0
WORK=""
for arg in "$@"; do
    case "$arg" in
    --no-system) SYSTEM=0 ;;
    --keep) KEEP=1 ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "concurrent-test: unknown option $arg" >&2; exit 2 ;;
    *) WORK="$arg" ;;
    esac
done
if [ "$(id -u)" -ne 0 ]; then
    echo "concurrent-test: needs root (the tests create users and start daemons)" >&2
    exit 2
fi
[ -n "$WORK" ] || WORK=$(mktemp -d /var/tmp/breakglass-concurrent.XXXXXX)
mkdir -p "$WORK"
cleanup() {
    if [ "$KEEP" = 1 ]; then echo "concurrent-test: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
jobs=$(nproc)
log() { printf 'concurrent-test: %s\n' "$*"; }
now() { date +%s; }

for c in a b; do
    rm -rf "${WORK:?}/$c"
    git clone -q --no-hardlinks "$REPO" "$WORK/$c" || { log "git clone into $WORK/$c failed"; exit 1; }
done
log "two clones of $(git -C "$REPO" rev-parse --short HEAD) in $WORK/a and $WORK/b (committed state only)"

for c in a b; do
    t0=$(now)
    if ! { cmake -S "$WORK/$c" -B "$WORK/$c/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
        cmake --build "$WORK/$c/build" -j"$jobs"; } >"$WORK/build-$c.log" 2>&1; then
        tail -30 "$WORK/build-$c.log"
        log "build of clone $c failed"
        exit 1
    fi
    log "clone $c built in $(($(now) - t0)) s"
done

FAILED=0
# Runs "$@" for clones a and b at the same time; NAME-a.log and NAME-b.log.
both() {
    local name=$1 c rc t0
    shift
    local -A pid
    t0=$(now)
    for c in a b; do
        (cd "$WORK/$c" && "${@//@CLONE@/$WORK/$c}") >"$WORK/$name-$c.log" 2>&1 &
        pid[$c]=$!
    done
    for c in a b; do
        wait "${pid[$c]}"
        rc=$?
        if [ $rc -eq 0 ]; then log "$name, clone $c: passed ($(grep -E 'tests passed|system tests:' "$WORK/$name-$c.log" | tail -1))"
        else
            FAILED=$((FAILED + 1))
            log "$name, clone $c: FAILED (exit $rc); the end of its output:"
            tail -25 "$WORK/$name-$c.log" | sed 's/^/    /'
        fi
    done
    log "$name: both runs took $(($(now) - t0)) s together"
}

both ctest ctest --test-dir @CLONE@/build -j"$jobs" --output-on-failure

if [ "$SYSTEM" = 1 ]; then
    t0=$(now)
    if ! "$WORK/a/scripts/build-debs.sh" "$WORK/debs" >"$WORK/build-debs.log" 2>&1; then
        tail -30 "$WORK/build-debs.log"
        log "scripts/build-debs.sh failed"
        exit 1
    fi
    log ".debs built in $(($(now) - t0)) s"
    both system-test scripts/system-test.sh --no-bench "$WORK/debs"
fi

if [ "$FAILED" -eq 0 ]; then log "all runs passed"; else log "$FAILED run(s) failed"; fi
[ "$FAILED" -eq 0 ]
