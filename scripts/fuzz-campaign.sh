#!/bin/bash
# SPDX-License-Identifier: ISC
# A fuzzing campaign outside CI (issue 16): every libFuzzer target (or the
# ones named) runs until it has used --cpu-seconds of CPU time (default one
# CPU-hour), --parallel targets at a time; then the inputs it found that add
# coverage are merged (libFuzzer's -merge=1) into tests/fuzz/corpus/<target>
# (commit them; the seeds already there stay), any crash, leak, timeout or
# out-of-memory input is kept under build-fuzz/campaign/crashes/ and fails the
# run, and one line
# per target is appended to tests/fuzz/campaigns.tsv (commit it too):
#   date  commit  target  cpu_seconds  executions  crashes  corpus_files
# The README's fuzzing table sums that ledger per target (--table prints it).
#
# Usage: scripts/fuzz-campaign.sh [--cpu-seconds N] [--parallel J] [--top-up] [--background] [--table] [target...]
#        scripts/fuzz-campaign.sh --stop
# --top-up gives each target only what its ledger total still lacks of
# --cpu-seconds (a target that has it already is skipped), the largest
# remainders first so that --parallel slots end close together: the same
# command, run again after a --stop, finishes the campaign.
# --background runs the campaign (its build too) on what the machine leaves
# idle, so that builds, tests and CI beside it are not slowed: a session of its
# own whose scheduling group gets nice 19, every process at SCHED_IDLE. Where
# the kernel schedules each session as a group (autogroup, Debian's default),
# `nice` and SCHED_IDLE rank a process only within its own session: a campaign
# started from one shell otherwise takes half of a 2-core machine from a build
# started from another, whatever its nice value.
# --stop asks a running campaign to end early and keep what it did: each
# target ends after its current chunk (at most 5 minutes of wall time), its
# corpus is merged and its line, with the CPU time it really used, goes into
# the ledger; targets not started yet are skipped.
#   targets are the names in tests/fuzz.cmake without "fuzz_" (frame, policy, ...).
# CPU time is what the fuzzer process used (bash `times` of its subshell), not
# wall time, so a campaign on a shared machine counts only what it got.
# libFuzzer's "slow units" (over 10 s of wall time for one input) are not
# crashes: on a shared machine a starved fuzzer reports them. Each one is run
# again alone at the end and its time printed; one that is still slow is a
# finding (the campaign exits 1).
set -euo pipefail
cd "$(dirname "$0")/.."

cpu_seconds=3600
parallel=$(nproc)
table_only=0
stop_only=0
background=0
top_up=0
targets=()
args=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
    --cpu-seconds) cpu_seconds="$2"; shift 2 ;;
    --parallel) parallel="$2"; shift 2 ;;
    --table) table_only=1; shift ;;
    --stop) stop_only=1; shift ;;
    --background) background=1; shift ;;
    --top-up) top_up=1; shift ;;
    -h | --help) sed -n '3,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz-campaign: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
    esac
done
case "$cpu_seconds$parallel" in
*[!0-9]*) echo "fuzz-campaign: --cpu-seconds and --parallel take whole numbers" >&2; exit 2 ;;
esac

ledger=tests/fuzz/campaigns.tsv
all=$(sed -n 's/^ *foreach(name \(.*\))$/\1/p' tests/fuzz.cmake)
[ -n "$all" ] || { echo "fuzz-campaign: no target list in tests/fuzz.cmake" >&2; exit 1; }

print_table() {
    echo "| target | CPU-hours | executions | crashes | corpus files |"
    echo "|---|---:|---:|---:|---:|"
    for t in $all; do
        awk -F'\t' -v t="$t" '
            $3 == t { cpu += $4; ex += $5; cr += $6; files = $7; seen = 1 }
            END {
                if (seen) printf "| %s | %.2f | %d | %d | %d |\n", t, cpu / 3600, ex, cr, files
                else printf "| %s | 0 | 0 | 0 | - |\n", t
            }' "$ledger" 2>/dev/null || printf '| %s | 0 | 0 | 0 | - |\n' "$t"
    done
}
if [ "$table_only" = 1 ]; then print_table; exit 0; fi
camp=build-fuzz/campaign
stop_file=$camp/STOP
if [ "$stop_only" = 1 ]; then
    mkdir -p "$camp"
    touch "$stop_file"
    echo "fuzz-campaign: asked the running campaign to stop after each target's current chunk"
    exit 0
fi
rm -f "$stop_file"

[ ${#targets[@]} -gt 0 ] || read -r -a targets <<<"$all"
for t in "${targets[@]}"; do
    case " $all " in *" $t "*) ;; *) echo "fuzz-campaign: no fuzz target '$t' (known: $all)" >&2; exit 2 ;; esac
done

if [ "$background" = 1 ] && [ -z "${BG_FUZZ_BACKGROUND:-}" ]; then
    export BG_FUZZ_BACKGROUND=1
    exec setsid -w chrt --idle 0 nice -n 19 "$0" "${args[@]}"
fi
if [ -n "${BG_FUZZ_BACKGROUND:-}" ]; then
    # This session's scheduling group; absent where the kernel has no autogroups.
    if [ -w /proc/self/autogroup ]; then echo 19 >/proc/self/autogroup; fi
    echo "fuzz-campaign: in the background ($(cat /proc/self/autogroup 2>/dev/null || echo 'no autogroup'), SCHED_IDLE)"
fi

# Each target's budget: --cpu-seconds, or with --top-up what its ledger lacks.
declare -A budget
for t in "${targets[@]}"; do budget[$t]=$cpu_seconds; done
if [ "$top_up" = 1 ]; then
    ordered=()
    for t in "${targets[@]}"; do
        done_s=$(awk -F'\t' -v t="$t" '$3 == t { s += $4 } END { printf "%d", s }' "$ledger" 2>/dev/null || echo 0)
        budget[$t]=$((cpu_seconds - done_s))
        if [ "${budget[$t]}" -le 0 ]; then
            echo "fuzz_$t: has ${done_s} CPU-s in the ledger already (--top-up)"
        else
            ordered+=("$t")
        fi
    done
    [ ${#ordered[@]} -gt 0 ] || { echo "fuzz-campaign: every target has its ${cpu_seconds} CPU-s"; exit 0; }
    read -r -a targets <<<"$(for t in "${ordered[@]}"; do echo "${budget[$t]} $t"; done | sort -k1,1nr -k2 | awk '{ printf "%s ", $2 }')"
    for t in "${targets[@]}"; do echo "fuzz_$t: ${budget[$t]} CPU-s to go"; done
fi

CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_FUZZERS=ON \
    -DBG_SELINUX=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null

mkdir -p "$camp/crashes"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

# A target's crash, leak, timeout and out-of-memory inputs (not its slow units).
findings() {
    find "$camp/crashes" -name "$1-*" ! -name "$1-slow-unit-*" | wc -l
}

# One target: chunks of wall time until its CPU time reaches the budget.
run_one() {
    local t=$1 bin=build-fuzz/tests/fuzz_$1 work=$camp/work/$1 seed=tests/fuzz/corpus/$1 log=$camp/$1.log
    local dict=() used=0 used_ms=0 execs=0 crashes_before crashes_after chunk cpu_seconds=${budget[$1]}
    [ -x "$bin" ] || { echo "fuzz_$t: $bin was not built" >&2; return 1; }
    [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
    mkdir -p "$work" "$seed"
    : >"$log"
    crashes_before=$(findings "$t")
    if [ -e "$stop_file" ]; then
        echo "fuzz_$t: not started (--stop)"
        touch "$camp/$t.skipped"
        return 0
    fi
    while [ "$used" -lt "$cpu_seconds" ] && [ ! -e "$stop_file" ]; do
        chunk=$((cpu_seconds - used))
        [ "$chunk" -gt 300 ] && chunk=300
        [ "$chunk" -lt 10 ] && chunk=10
        local out
        out=$( (
            "$bin" -max_total_time="$chunk" -print_final_stats=1 -artifact_prefix="$camp/crashes/$t-" \
                "${dict[@]}" "$work" "$seed" >>"$log" 2>&1 || echo "exit $?" >>"$log"
            # `times` itself, not in a pipe: a forked subshell counts no children.
            times >"$camp/$t.times"
            sed -n 2p "$camp/$t.times"
        ))
        # "0m12.340s 0m0.560s": the fuzzer's user and system time, in ms.
        used_ms=$((used_ms + $(echo "$out" | awk '{
            s = 0
            for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] }
            printf "%d", s * 1000 }')))
        used=$((used_ms / 1000))
        local n
        n=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2+0}')
        execs=$((execs + ${n:-0}))
        crashes_after=$(findings "$t")
        [ "$crashes_after" -gt "$crashes_before" ] && break
    done
    # The committed corpus keeps every seed it has (regression seeds are named
    # for what they test) and gains only the inputs that add coverage to it.
    if ! "$bin" -merge=1 "${dict[@]}" "$seed" "$work" >>"$log" 2>&1; then
        echo "fuzz_$t: the corpus merge failed (see $log)" >&2
        return 1
    fi
    printf '%s\t%s\t%s\t%d\t%d\t%d\t%d\n' "$(date -u +%Y-%m-%dT%H:%MZ)" "$commit" "$t" "$used" "$execs" \
        "$((crashes_after - crashes_before))" "$(find "$seed" -type f | wc -l)" >"$camp/$t.row"
    echo "fuzz_$t: ${used} CPU-s, $execs executions, $((crashes_after - crashes_before)) crash(es), corpus $(find "$seed" -type f | wc -l) files"
}

running=0
for t in "${targets[@]}"; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$parallel" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait

[ -f "$ledger" ] || printf '# date\tcommit\ttarget\tcpu_seconds\texecutions\tcrashes\tcorpus_files\n' >"$ledger"
crashed=0
missing=0
for t in "${targets[@]}"; do
    if [ -f "$camp/$t.skipped" ]; then rm -f "$camp/$t.skipped"; continue; fi
    [ -f "$camp/$t.row" ] || { echo "fuzz_$t: no result (see $camp/$t.log)" >&2; missing=1; continue; }
    cat "$camp/$t.row" >>"$ledger"
    [ "$(cut -f6 "$camp/$t.row")" = 0 ] || crashed=1
    rm -f "$camp/$t.row"
done
print_table
# Slow units, each run again alone: the time it takes now says whether it was
# the input or the machine.
slow=0
for t in "${targets[@]}"; do
    for f in $(find "$camp/crashes" -name "$t-slow-unit-*" 2>/dev/null); do
        t0=$(date +%s%N)
        "build-fuzz/tests/fuzz_$t" "$f" >/dev/null 2>&1 || true
        ms=$((($(date +%s%N) - t0) / 1000000))
        if [ "$ms" -ge 1000 ]; then
            echo "fuzz_$t: $f is slow on its own too (${ms} ms): a finding" >&2
            slow=1
        else
            echo "fuzz_$t: $f was reported slow while fuzzing; alone it runs in ${ms} ms (the machine, not the input)"
        fi
    done
done
[ "$missing" = 0 ] || exit 1
[ "$slow" = 0 ] || exit 1
if [ "$crashed" = 1 ]; then
    echo "fuzz-campaign: crashes in $camp/crashes/: fix them and add each as a regression seed" >&2
    exit 1
fi
