#!/bin/bash
# SPDX-License-Identifier: ISC
# System tests (issue 5): the real .debs in a minimal Debian 12 booted with
# systemd-nspawn, driven from the host with nsenter. Real systemd, journald,
# sudo and the installed units; nothing on the host changes except the rootfs
# cache in /var/cache/breakglass-system-test/ (built by one run at a time under
# an flock; the others wait for it). Two runs at once do not collide: each has
# its own temporary directory, machine name and network namespace.
#
#   scripts/system-test.sh [--no-bench | --bench-only] [DEBDIR]
#
# DEBDIR: a directory with breakglass_*.deb and libpam-breakglass_*.deb; without
# it the packages are built with scripts/build-debs.sh (which also runs lintian).
# Needs root. Scenarios (each prints PASS/FAIL and why):
#   a  sudo -g breakglass with a TOTP code typed at the prompt: granted, runs with the
#      breakglass gid; the grant's breakglass-expire-ID.timer; the grant's journal entry
#   b  sudo -g breakglass sleep 1000 under that grant (no prompt) is gone within 2 s of
#      expires_at; the expire record, then a terminate record of the same grant that
#      lists its pid (and every pid of the session) with SIGTERM
#   e  breakglassctl revoke: the timer is gone and the running session is terminated;
#      the revoke record, then a terminate record that lists the session's pids;
#      a process that left its sudo -g command by a double fork, setsid and a new
#      name is in the grant's session scope (breakglass-ID-N.scope), is named in
#      the terminate record and is gone after the revoke; set-group-ID copies of a
#      program left in /tmp, /var/tmp, /dev/shm and the home lose the bit, each named
#   f  the gate's on_grant/on_revoke hooks ran in the daemon's sandbox: argv, empty
#      environment, hook records
#   g  a second breakglassd started the way the test fixture starts one (--socket,
#      --systemd-timers=no; and its default, auto) makes a grant that ends: no
#      breakglass-expire-* unit for it in this booted systemd, while the same daemon
#      with --systemd-timers=yes (the control) does create one
#   c  systemctl kill -s KILL breakglassd during a grant (restarted), then stopped: the
#      grant's systemd timer starts it through the socket at expires_at and the grant
#      is expired then, verify OK, every record from before the kill still there
#   bench  revocation lag over 20 grants (20 users): expires_at -> last process gone,
#      p50 and max, target max <= 2 s (also bench/revocation_lag.sh)
#   d  daemon stopped, container powered off past expires_at, booted again: expired at
#      startup with its record, verify OK
#   i  faults in the packaged daemon under systemd (issue 16, item 3): the
#      interposer of tests/fault/ preloaded into breakglassd.service, built with
#      malloc; every sd-bus call and a sample of allocations of grant -> session
#      -> expiry failed in turn, one run each: no command with the gate's group
#      without its grant record, no crash of the daemon, a requester told
#      "refused" holds no grant (voided at once), a refusal only where a call
#      failed, every grant ended and its session gone, verify OK; the counts
#      printed. BG_FAULT_MALLOC_RUNS (16) sets the sample of allocations;
#      BG_FAULT_MALLOC_AT="N ..." fails those allocations instead, and
#      BG_FAULT_BACKTRACE=1 keeps a backtrace of each (when looking into one).
#   h  dpkg -r libpam-breakglass while /etc/sudo.conf loads the plugin: refused, sudo
#      true still works; with the lines commented out: removed, sudo true still works
# Exit status 0 only if every scenario passed. Set BG_SYSTEM_TEST_KEEP=1 to keep
# the temporary directory (rootfs, logs) for a look afterwards, and
# BG_SYSTEM_TEST_SCENARIOS (with --no-bench), e.g. "i" or "a_b e", to run only
# those scenarios after the setup, while working on one.
set -uo pipefail

START=$(date +%s)
REPO="$(cd "$(dirname "$0")/.." && pwd)"
MODE=all
DEBDIR=""
for arg in "$@"; do
    case "$arg" in
    --no-bench) MODE=tests ;;
    --bench-only) MODE=bench ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "system-test: unknown option $arg" >&2; exit 2 ;;
    *) DEBDIR="$arg" ;;
    esac
done
if [ "$(id -u)" -ne 0 ]; then
    echo "system-test: needs root (debootstrap, systemd-nspawn, nsenter)" >&2
    exit 2
fi

CACHE_DIR="${BG_SYSTEM_TEST_CACHE:-/var/cache/breakglass-system-test}"
SUITE=bookworm
# What the rootfs needs besides minbase: a booted systemd, sudo, pgrep, the
# packages' maintainer-script tools and runtime libraries (so that dpkg -i needs
# no network). Part of the cache key.
INCLUDE="systemd,systemd-sysv,dbus,sudo,procps,adduser,debconf,libpam-runtime,libpam0g,libyubikey0,libssl3,libsystemd0,libcurl4,libpq5"
GATE=emergency-root
GROUP=breakglass
TTL=20            # seconds: every grant in here
GRACE=2s          # termination_grace of the gate
LAG_LIMIT=2.0     # seconds from expires_at until the session's processes are gone
BENCH_GRANTS=20
# scenario i: allocations failed, spread over the counted ones (more outside CI)
FAULT_MALLOC_RUNS=${BG_FAULT_MALLOC_RUNS:-16}
case "$FAULT_MALLOC_RUNS" in '' | *[!0-9]*) echo "BG_FAULT_MALLOC_RUNS must be a number" >&2; exit 2 ;; esac
# scenario i: one user per run (a TOTP code is accepted once): two counting
# runs, the 18 sd-bus calls, the allocations, and some to spare
FAULT_USERS=$((FAULT_MALLOC_RUNS + 24))
FAULT_TTL=3           # seconds: scenario i's grants
TOOLS_IN=/usr/local/libexec/breakglass-system-test
DRIVE="$TOOLS_IN/bg_pty_drive"
# The gate's on_grant/on_revoke hook: appends its argv and environment size to
# a file in the daemon's state directory (writable inside its sandbox).
HOOK=/usr/local/sbin/bgst-hook
HOOK_LOG=/var/lib/breakglass/bgst-hooks.log
GRANT_MESSAGE_ID=$(sed -n 's/.*{"grant", "\([0-9a-f]\{32\}\)"}.*/\1/p' "$REPO/helper/audit/journal.cpp")

log() { printf 'system-test: %s\n' "$*"; }
die() { printf 'system-test: FATAL: %s\n' "$*" >&2; exit 1; }

WORK=$(mktemp -d /var/tmp/breakglass-system-test.XXXXXX)
chmod 0700 "$WORK"
# The container's name and hostname, unique to this run: systemd-nspawn keeps
# per-machine state under /run/systemd/nspawn/ on the host.
MACHINE="breakglass-st-${WORK##*.}"
ROOT="$WORK/root"
SECRETS="$WORK/secrets"   # TOTP secrets and typed answers: files only, never argv
mkdir -m 0700 "$SECRETS"
NSPAWN=""
LEADER=""
BOOTS=0

# ---------------------------------------------------------------- container
alive() { [ -n "$1" ] && [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# A command inside the booted container (all its namespaces, its root), with a
# clean environment. Standard input is passed through.
ct() {
    nsenter -t "$LEADER" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 "$@"
}

# With --keep-unit, systemd-nspawn puts the container in <its own cgroup>/payload,
# so two runs started from one cgroup (two clones' ctest from one shell) would
# boot two systemds into the same cgroup tree: each one's breakglassd.service
# would hold the other's processes. So nspawn starts in a cgroup of its own,
# in each hierarchy a systemd tracks processes in (name=systemd, cgroup2).
CGROUPS=()
own_cgroup() {  # NAME: moves this (sub)shell into a new child cgroup named NAME
    local line path base
    while IFS= read -r line; do
        path=${line#*:}
        case "$line" in
        0::*) path=${path#:}
            if [ -e /sys/fs/cgroup/cgroup.controllers ]; then base=/sys/fs/cgroup
            elif [ -d /sys/fs/cgroup/unified ]; then base=/sys/fs/cgroup/unified
            else continue; fi ;;
        *:name=systemd:*) path=${path#name=systemd:}; base=/sys/fs/cgroup/systemd ;;
        *) continue ;;
        esac
        mkdir -p "$base${path%/}/$1" && echo "$BASHPID" >"$base${path%/}/$1/cgroup.procs" ||
            echo "system-test: cannot use cgroup $base${path%/}/$1" >&2
    done </proc/self/cgroup
}
cgroup_dirs() {  # NAME: the directories own_cgroup NAME made (as seen from this shell)
    local line path
    while IFS= read -r line; do
        path=${line#*:}
        case "$line" in
        0::*) path=${path#:}
            if [ -e /sys/fs/cgroup/cgroup.controllers ]; then echo "/sys/fs/cgroup${path%/}/$1"
            elif [ -d /sys/fs/cgroup/unified ]; then echo "/sys/fs/cgroup/unified${path%/}/$1"; fi ;;
        *:name=systemd:*) path=${path#name=systemd:}; echo "/sys/fs/cgroup/systemd${path%/}/$1" ;;
        esac
    done </proc/self/cgroup
}

boot() {
    BOOTS=$((BOOTS + 1))
    local console="$WORK/console-$BOOTS.log" t0 i state cg
    t0=$(date +%s.%N)
    cg="$MACHINE-boot$BOOTS"
    while IFS= read -r i; do CGROUPS+=("$i"); done < <(cgroup_dirs "$cg")
    # --private-network: a second run's container shares nothing with this one
    # (abstract sockets, ports), and nothing in here reaches the host's network.
    (
        own_cgroup "$cg"
        exec systemd-nspawn -q -D "$ROOT" --boot --register=no --keep-unit --console=passive --machine="$MACHINE" \
            --private-network
    ) </dev/null >"$console" 2>&1 &
    NSPAWN=$!
    LEADER=""
    for i in $(seq 1 300); do
        alive "$NSPAWN" || { cat "$console" >&2; die "systemd-nspawn exited during boot"; }
        LEADER=$(pgrep -P "$NSPAWN" | head -1)
        [ -n "$LEADER" ] && [ "$(cat "/proc/$LEADER/comm" 2>/dev/null)" = systemd ] && break
        LEADER=""
        sleep 0.1
    done
    [ -n "$LEADER" ] || die "no systemd in the container after 30 s"
    for i in $(seq 1 100); do
        ct test -S /run/systemd/private </dev/null 2>/dev/null && break
        sleep 0.1
    done
    state=$(timeout 120 nsenter -t "$LEADER" -a systemctl is-system-running --wait </dev/null 2>&1)
    log "boot $BOOTS: $state after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s (leader pid $LEADER)"
    case "$state" in
    running) ;;
    degraded) log "failed units:"; ct systemctl --failed --no-legend </dev/null | sed 's/^/    /' ;;
    *) ct systemctl --failed --no-legend </dev/null | sed 's/^/    /'; die "the container did not come up: $state" ;;
    esac
}

poweroff_container() {
    [ -n "$NSPAWN" ] || return 0
    local i
    if alive "$NSPAWN"; then
        [ -n "$LEADER" ] && alive "$LEADER" && ct systemctl poweroff --no-block </dev/null >/dev/null 2>&1
        for i in $(seq 1 300); do alive "$NSPAWN" || break; sleep 0.1; done
        if alive "$NSPAWN"; then
            log "the container did not power off in 30 s; killing it"
            [ -n "$LEADER" ] && kill -9 "$LEADER" 2>/dev/null
            sleep 1
            kill -9 "$NSPAWN" 2>/dev/null
        fi
    fi
    wait "$NSPAWN" 2>/dev/null
    NSPAWN=""
    LEADER=""
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    poweroff_container
    # The containers' cgroups, deepest first (what is still in use stays).
    local cg
    for cg in "${CGROUPS[@]}"; do
        [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    # debootstrap mounts /proc and /sys in its target: never rm -rf through them.
    findmnt -rn -o TARGET | grep -F "$WORK/" | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
    if [ "${BG_SYSTEM_TEST_KEEP:-0}" = 1 ]; then
        log "kept $WORK"
    else
        rm -rf --one-file-system "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- results
PASSED=0
FAILED=0
SUMMARY=()
SC_BAD=()
SC_OK=()
ok() { SC_OK+=("$*"); }
bad() { SC_BAD+=("$*"); }
finish() {  # NAME TITLE
    local name=$1 title=$2 line
    if [ ${#SC_BAD[@]} -eq 0 ]; then
        PASSED=$((PASSED + 1))
        line="PASS $name: $title"
        printf '%s\n' "$line"
        for m in "${SC_OK[@]}"; do printf '       %s\n' "$m"; done
    else
        FAILED=$((FAILED + 1))
        line="FAIL $name: $title"
        printf '%s\n' "$line"
        for m in "${SC_BAD[@]}"; do printf '       - %s\n' "$m"; done
        for m in "${SC_OK[@]}"; do printf '       (ok) %s\n' "$m"; done
    fi
    SUMMARY+=("$line")
    SC_BAD=()
    SC_OK=()
}

# ---------------------------------------------------------------- host tools
need_pkgs=()
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
command -v systemd-nspawn >/dev/null || need_pkgs+=(systemd-container)
command -v jq >/dev/null || need_pkgs+=(jq)
command -v g++ >/dev/null || need_pkgs+=(g++)
[ -e /usr/include/openssl/evp.h ] || need_pkgs+=(libssl-dev)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    log "installing on the host: ${need_pkgs[*]}"
    apt-get -o DPkg::Lock::Timeout=600 update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_pkgs[@]}" >/dev/null ||
        die "apt-get install ${need_pkgs[*]} failed"
fi
[ -n "$GRANT_MESSAGE_ID" ] || die "no MESSAGE_ID for 'grant' in helper/audit/journal.cpp"

# The pty driver (runs inside; same Debian 12, so host-built binaries run there)
# and totp_now (runs on the host: same clock).
TOOLS="$WORK/tools"
mkdir -p "$TOOLS"
g++ -std=c++20 -O2 -I"$REPO" -o "$TOOLS/bg_pty_drive" "$REPO/tests/system/pty_drive.cpp" \
    "$REPO/tests/support/pty_session.cpp" -lutil ||
    die "cannot build tests/system/pty_drive.cpp"
g++ -std=c++20 -O2 -I"$REPO" -o "$TOOLS/totp_now" "$REPO/demo/totp_now.cpp" "$REPO/helper/mfa/totp.cpp" -lcrypto ||
    die "cannot build demo/totp_now.cpp"
# Scenario i: the fault interposer, here with malloc (the packaged build has no
# ASan), and the tool that arms it.
gcc -std=gnu11 -O2 -shared -fPIC -fvisibility=hidden -DBG_FAULT_WITH_MALLOC -I"$REPO/tests/fault" \
    -o "$TOOLS/bg_fault_inject.so" "$REPO/tests/fault/fault_inject.c" -ldl ||
    die "cannot build tests/fault/fault_inject.c"
gcc -std=gnu11 -O2 -I"$REPO/tests/fault" -o "$TOOLS/bg_fault_ctl" "$REPO/tests/fault/fault_ctl.c" ||
    die "cannot build tests/fault/fault_ctl.c"

# ---------------------------------------------------------------- packages
if [ -z "$DEBDIR" ]; then
    DEBDIR="$WORK/debs"
    log "building the .debs: scripts/build-debs.sh $DEBDIR"
    t0=$(date +%s)
    "$REPO/scripts/build-debs.sh" "$DEBDIR" >"$WORK/build-debs.log" 2>&1 || {
        tail -40 "$WORK/build-debs.log"
        die "scripts/build-debs.sh failed (log above)"
    }
    log "built the .debs in $(($(date +%s) - t0)) s"
fi
shopt -s nullglob
DEBS=("$DEBDIR"/breakglass_*.deb "$DEBDIR"/libpam-breakglass_*.deb)
shopt -u nullglob
[ ${#DEBS[@]} -eq 2 ] || die "want exactly one breakglass_*.deb and one libpam-breakglass_*.deb in $DEBDIR (found ${#DEBS[@]})"

# ---------------------------------------------------------------- rootfs
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^ ]*\/debian\/\{0,1\}\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(awk '$1=="deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
key=$(printf '%s\n' "$SUITE" minbase "$INCLUDE" v1 | sha256sum | cut -c1-16)
CACHE="$CACHE_DIR/rootfs-$SUITE-$key.tar"
mkdir -p "$ROOT"
t0=$(date +%s)
# One run at a time reads or writes the cache: a run that finds no cache builds
# it while the others wait, then they extract it. The lock's descriptor is
# closed before anything else starts (nspawn must not inherit it).
CACHE_LOCK=""
if mkdir -p "$CACHE_DIR" 2>/dev/null && exec {CACHE_LOCK}>>"$CACHE_DIR/.lock"; then
    if ! flock -w 1800 "$CACHE_LOCK"; then
        die "waited 30 min for $CACHE_DIR/.lock (another run building the rootfs cache?)"
    fi
else
    CACHE_LOCK=""
fi
if [ -s "$CACHE" ]; then
    tar --numeric-owner --xattrs --xattrs-include='*' -C "$ROOT" -xpf "$CACHE" || die "cannot extract $CACHE"
    log "rootfs from the cache $CACHE in $(($(date +%s) - t0)) s"
else
    log "debootstrap $SUITE (minbase + $INCLUDE) from $mirror; cache: $CACHE"
    debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$ROOT" "$mirror" >"$WORK/debootstrap.log" 2>&1 || {
        tail -30 "$WORK/debootstrap.log"
        die "debootstrap failed"
    }
    chroot "$ROOT" apt-get clean
    rm -f "$ROOT/etc/machine-id" "$ROOT/var/lib/dbus/machine-id"
    : >"$ROOT/etc/machine-id"
    if mkdir -p "$CACHE_DIR" 2>/dev/null &&
        tar --numeric-owner --xattrs --xattrs-include='*' -C "$ROOT" -cpf "$CACHE.tmp.$$" . &&
        mv -f "$CACHE.tmp.$$" "$CACHE"; then
        log "rootfs bootstrapped and cached in $(($(date +%s) - t0)) s"
    else
        rm -f "$CACHE.tmp.$$"
        log "rootfs bootstrapped in $(($(date +%s) - t0)) s (could not write the cache)"
    fi
fi
if [ -n "$CACHE_LOCK" ]; then
    flock -u "$CACHE_LOCK"
    exec {CACHE_LOCK}>&-
fi
echo "$MACHINE" >"$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$MACHINE" >"$ROOT/etc/hosts"
install -d -m 0755 "$ROOT$TOOLS_IN"
install -m 0755 "$TOOLS/bg_pty_drive" "$TOOLS/bg_fault_ctl" "$ROOT$TOOLS_IN/"
install -m 0644 "$TOOLS/bg_fault_inject.so" "$ROOT$TOOLS_IN/"

# dpkg -i in the (not yet booted) container; apt-get -f install only if a
# dependency is missing from the rootfs.
install -d -m 0755 "$ROOT/var/tmp/breakglass-debs"
cp "${DEBS[@]}" "$ROOT/var/tmp/breakglass-debs/"
log "dpkg -i $(for d in "${DEBS[@]}"; do printf '%s ' "${d##*/}"; done)"
systemd-nspawn -q -D "$ROOT" --register=no --keep-unit --pipe /bin/sh -c '
    export DEBIAN_FRONTEND=noninteractive
    dpkg -i /var/tmp/breakglass-debs/*.deb || { apt-get update -qq && apt-get -f install -y -qq; }
    rm -rf /var/tmp/breakglass-debs
    dpkg-query -W -f="\${Package} \${Version} \${Status}\n" breakglass libpam-breakglass' \
    </dev/null >"$WORK/dpkg.log" 2>&1
installed=$(grep -c ' install ok installed$' "$WORK/dpkg.log")
if [ "$installed" -ne 2 ]; then
    cat "$WORK/dpkg.log"
    die "the .debs did not install"
fi
grep ' install ok installed$' "$WORK/dpkg.log" | sed 's/^/    /'

# ---------------------------------------------------------------- boot + setup
boot

USERS_SC=(bgst-a bgst-c bgst-d bgst-e)
USERS_BENCH=()
for i in $(seq -w 1 "$BENCH_GRANTS"); do USERS_BENCH+=("bgst-n$i"); done
USERS_FAULT=()
for i in $(seq -w 1 "$FAULT_USERS"); do USERS_FAULT+=("bgst-f$i"); done
case "$MODE" in
all) USERS=("${USERS_SC[@]}" "${USERS_FAULT[@]}" "${USERS_BENCH[@]}") ;;
tests) USERS=("${USERS_SC[@]}" "${USERS_FAULT[@]}") ;;
bench) USERS=("${USERS_BENCH[@]}") ;;
esac

# What the packages should have left behind.
if [ "$(ct systemctl is-enabled breakglassd.socket </dev/null 2>&1)" = enabled ]; then
    ok "breakglassd.socket enabled by the package"
else
    bad "breakglassd.socket is not enabled after dpkg -i (enabled here to go on)"
    ct systemctl enable --now breakglassd.socket </dev/null
fi
if [ "$(ct systemctl is-active breakglassd.socket </dev/null 2>&1)" = active ]; then
    ok "breakglassd.socket listening after boot"
else
    bad "breakglassd.socket not active after boot (started here to go on)"
    ct systemctl start breakglassd.socket </dev/null
fi
if ct getent group "$GROUP" </dev/null >/dev/null; then
    ok "group $GROUP created by the package (gid $(ct getent group "$GROUP" </dev/null | cut -d: -f3))"
else
    bad "no group $GROUP after dpkg -i (created here to go on)"
    ct groupadd -r "$GROUP" </dev/null
fi
exposure=$(ct systemd-analyze security breakglassd.service --no-pager </dev/null 2>&1 | tail -1)
ok "systemd-analyze security (booted): ${exposure#→ }"

policy() {  # with or without termination_grace
    cat <<EOF
# breakglass system test policy
[defaults]
max_ttl = "1h"
incident_pattern = '^INC-[0-9]+\$'
factors = ["totp"]

[gate.$GATE]
description = "system test: sudo -g $GROUP"
sudo_runas_group = "$GROUP"
requesters = ["%bgst"]
ttl = "${POLICY_TTL:-$TTL}s"
on_grant = "$HOOK"
on_revoke = "$HOOK"
EOF
    [ "$1" = grace ] && echo "termination_grace = \"$GRACE\""
}
{
    echo "set -e"
    echo "getent group bgst >/dev/null || groupadd bgst"
    for u in "${USERS[@]}"; do echo "useradd -m -s /bin/sh -G bgst $u"; done
    echo "install -d -m 0755 /etc/breakglass /run/breakglass-system-test"
    echo "cat > $HOOK <<'HOOK'"
    echo '#!/bin/sh'
    echo 'echo "$* env=$(wc -c < /proc/$$/environ)" >> '"$HOOK_LOG"
    echo "HOOK"
    echo "chmod 0755 $HOOK"
    echo "cat > /etc/breakglass/policy.toml <<'POLICY'"
    policy grace
    echo "POLICY"
    echo "chown root:root /etc/breakglass/policy.toml; chmod 0644 /etc/breakglass/policy.toml"
    echo "cat > /etc/sudo.conf <<'CONF'"
    echo "Plugin breakglass_approval /usr/libexec/sudo/breakglass_sudo.so gates=$GROUP:$GATE socket=/run/breakglass/socket"
    echo "Plugin breakglass_audit /usr/libexec/sudo/breakglass_sudo.so gates=$GROUP:$GATE socket=/run/breakglass/socket"
    echo "CONF"
    echo "cat > /etc/sudoers.d/breakglass-system-test <<'SUDOERS'"
    echo "Defaults !lecture"
    echo "%bgst ALL=(:$GROUP) NOPASSWD: ALL"
    echo "SUDOERS"
    echo "chmod 0440 /etc/sudoers.d/breakglass-system-test"
    echo "visudo -cq"
} | ct /bin/bash -s >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log"; die "setup in the container failed"; }

reload=$(ct breakglassctl policy reload </dev/null 2>&1)
if [ $? -eq 0 ]; then
    ok "policy with termination_grace = \"$GRACE\" loaded"
else
    bad "the daemon rejects the test policy with termination_grace: $reload (going on without it)"
    policy nograce | ct /bin/sh -c 'cat > /etc/breakglass/policy.toml'
    reload=$(ct breakglassctl policy reload </dev/null 2>&1) || die "the daemon rejects the test policy: $reload"
fi

for u in "${USERS[@]}"; do
    ( umask 077; ct breakglassctl enroll totp "$u" --json </dev/null 2>/dev/null | jq -r .otpauth_uri |
        sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' >"$SECRETS/$u.secret" )
    [ -s "$SECRETS/$u.secret" ] || die "TOTP enrolment of $u failed"
done
finish setup "packages installed, booted, policy + sudo.conf + sudoers, ${#USERS[@]} users enrolled"

# ---------------------------------------------------------------- helpers
now() { date +%s.%N; }
# Seconds from $1 (unix) to $2 (unix, fractional), 3 decimals.
span() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b-a}'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a<=b)}'; }
sleep_until() { local d; d=$(awk -v t="$1" -v n="$(now)" 'BEGIN{d=t-n; printf "%.3f", (d > 0 ? d : 0)}'); sleep "$d"; }

INCIDENT=100
# sudo -g breakglass CMD as USER on a terminal, typing a reason, an incident and
# a fresh TOTP code. Output to $2; exit status of sudo.
break_glass() {  # USER OUTFILE CMD...
    local user=$1 out=$2 answers
    shift 2
    INCIDENT=$((INCIDENT + 1))
    answers="$SECRETS/$user.answers"
    (
        umask 077
        printf 'Reason for breaking the glass: \tsystem test as %s\n' "$user"
        printf 'Incident reference: \tINC-%s\n' "$INCIDENT"
        printf 'One-time code\t%s\n' "$("$TOOLS/totp_now" <"$SECRETS/$user.secret")"
    ) >"$answers"
    ct "$DRIVE" --user "$user" --timeout 60 -- /usr/bin/sudo -g "$GROUP" "$@" <"$answers" >"$out" 2>&1
    local rc=$?
    rm -f "$answers"
    return $rc
}
granted_id() { sed -n 's/.*Break-glass granted: \([^ ]*\) .*/\1/p' "$1" | head -1; }
grant_json() { ct breakglassctl list --all --json </dev/null | jq -c --arg id "$1" '.grants[] | select(.event_id == $id)'; }
grant_field() { grant_json "$1" | jq -r ".$2"; }
log_json() { ct breakglassctl log --json </dev/null; }
record_of() {  # EVENT GRANT_ID: the record ending the grant, from the daemon
    log_json | jq -c --arg e "$1" --arg id "$2" 'select(.event == $e and .grant_id == $id)' | head -1
}
timer_listed() { ct systemctl list-timers --all --no-legend --plain </dev/null 2>/dev/null | grep -qF "breakglass-expire-$1.timer"; }
# sudo -g breakglass sleep 1000 as USER on a terminal, in the background: a transient
# service in the container (so nothing of it hangs off this script's nsenter).
start_session() {  # NAME USER
    ct systemd-run --quiet --collect --unit="bgst-session-$1" \
        -p StandardOutput="file:/run/breakglass-system-test/$1.out" -p StandardError=inherit \
        "$DRIVE" --user "$2" --timeout 1200 -- /usr/bin/sudo -g "$GROUP" sleep 1000 </dev/null
}
session_output() { ct cat "/run/breakglass-system-test/$1.out" </dev/null 2>/dev/null; }
# Everything still running as USER (real uid) with the gate group as real gid:
# both sudo processes and the command.
session_pids() { ct pgrep -U "$1" -G "$GROUP" </dev/null | tr '\n' ' ' | sed 's/ $//'; }
sleep_pid() { ct pgrep -U "$1" -G "$GROUP" -x sleep </dev/null | head -1; }
wait_sleep_pid() {  # USER -> pid, waits up to 10 s
    local i p
    for i in $(seq 1 100); do
        p=$(sleep_pid "$1")
        [ -n "$p" ] && { echo "$p"; return 0; }
        sleep 0.1
    done
    return 1
}
# Records when the last of PIDS is gone (a watcher inside, polling every 10 ms).
watch_gone() {  # NAME PID...
    local name=$1
    shift
    ct systemd-run --quiet --collect --unit="bgst-watch-$name" /bin/sh -c \
        'n=$1; shift; for p; do tail --pid="$p" -s 0.01 -f /dev/null; done; date +%s.%N > /run/breakglass-system-test/gone-$n.tmp; mv /run/breakglass-system-test/gone-$n.tmp /run/breakglass-system-test/gone-$n' \
        sh "$name" "$@" </dev/null
}
gone_at() { ct cat "/run/breakglass-system-test/gone-$1" </dev/null 2>/dev/null; }
wait_gone() {  # NAME DEADLINE(unix) -> time gone, or nothing
    local t
    while :; do
        t=$(gone_at "$1")
        [ -n "$t" ] && { echo "$t"; return 0; }
        le "$(now)" "$2" || return 1
        sleep 0.1
    done
}
verify_ok() { ct breakglassctl verify </dev/null 2>&1; }
# The record that ends GRANT_ID (EVENT: expire or revoke), then the terminate
# record the daemon writes after it (same grant_id, later seq): it names every
# pid of the session and says SIGTERM. The closing records are written at once
# (synced up to 1 s later), so 3 s is plenty.
check_termination_records() {  # SCENARIO EVENT GRANT_ID SLEEP_PID "SESSION_PIDS"
    local sc=$1 event=$2 id=$3 pid=$4 pids=$5 rec="" term="" t detail p missing=""
    for t in $(seq 1 30); do
        rec=$(record_of "$event" "$id")
        [ -n "$rec" ] && term=$(log_json | jq -c --arg id "$id" --argjson s "$(printf '%s' "$rec" | jq .seq)" \
            'select(.event == "terminate" and .grant_id == $id and .seq > $s)' | head -1)
        [ -n "$term" ] && break
        sleep 0.1
    done
    if [ -z "$rec" ]; then
        bad "no $event record for $id"
        return
    fi
    ok "$event record $(printf '%s' "$rec" | jq -r .event_id) (seq $(printf '%s' "$rec" | jq .seq)): $(printf '%s' "$rec" | jq -r .detail)"
    if [ -z "$term" ]; then
        bad "no terminate record for $id after its $event record (seq $(printf '%s' "$rec" | jq .seq))"
        return
    fi
    detail=$(printf '%s' "$term" | jq -r .detail)
    case "$detail" in
    "after the $event; SIGTERM to pids "*) ;;
    *) bad "the terminate record of $id does not begin 'after the $event; SIGTERM to pids': '$detail'" ;;
    esac
    for p in $pids; do has_word "$detail" "$p" || missing+=" $p"; done
    if [ -n "$pid" ] && has_word "$detail" "$pid" && [ -z "$missing" ]; then
        ok "terminate record $(printf '%s' "$term" | jq -r .event_id) (seq $(printf '%s' "$term" | jq .seq)) lists pid $pid and every session pid ($pids): $detail"
    else
        bad "the terminate record of $id does not list pid $pid / session pids$missing: detail='$detail'"
    fi
}
has_word() { printf '%s' "$1" | grep -Eq "(^|[^0-9])$2([^0-9]|\$)"; }

# ---------------------------------------------------------------- a + b
scenario_a_b() {
    local out="$WORK/a.out" id exp gid t got j pid pids gone lag rec rc
    gid=$(ct getent group "$GROUP" </dev/null | cut -d: -f3)
    break_glass bgst-a "$out" id -g
    rc=$?
    id=$(granted_id "$out")
    if [ $rc -ne 0 ] || [ -z "$id" ]; then
        bad "sudo -g $GROUP id -g exited $rc without a grant: $(tr -d '\r' <"$out" | tail -3 | tr '\n' ' ')"
        finish a "sudo with a typed TOTP code: granted, timer, journal"
        bad "no grant from scenario a to run under"
        finish b "sleep 1000 under the grant is gone within ${LAG_LIMIT} s of expires_at"
        return
    fi
    exp=$(grant_field "$id" expires_at)
    ok "granted $id (expires_at $(date -u -d "@$exp" +%FT%TZ))"
    if tr -d '\r' <"$out" | grep -qx "$gid"; then ok "id -g under sudo printed $gid (the $GROUP gid)"; else
        bad "id -g did not print the $GROUP gid $gid: $(tr -d '\r' <"$out" | tail -2 | tr '\n' ' ')"; fi

    # b's session right away: the grant lasts ${TTL} s.
    start_session b bgst-a
    pid=$(wait_sleep_pid bgst-a)
    pids=$(session_pids bgst-a)
    [ -n "$pid" ] && watch_gone b $pids

    # a: the timer and the journal entry.
    got=""
    for t in $(seq 1 30); do timer_listed "$id" && { got=1; break; }; sleep 0.1; done
    if [ -n "$got" ]; then
        local next acc
        next=$(ct systemctl show -p NextElapseUSecRealtime --value "breakglass-expire-$id.timer" </dev/null)
        acc=$(ct systemctl show -p AccuracyUSec --value "breakglass-expire-$id.timer" </dev/null)
        # A second after expires_at: a running daemon has ended the grant and
        # stopped the timer by then (its own timer acts at expires_at).
        if [ -n "$next" ] && [ "$(date -d "$next" +%s 2>/dev/null)" = "$((exp + 1))" ]; then
            ok "systemctl list-timers --all: breakglass-expire-$id.timer, next elapse $next (expires_at + 1 s), accuracy $acc"
        else
            bad "breakglass-expire-$id.timer elapses at '$next', not a second after expires_at $(date -u -d "@$exp" +%FT%TZ)"
        fi
        [ "$acc" = 1ms ] || bad "breakglass-expire-$id.timer AccuracySec is '$acc', want 1ms"
    else
        bad "no breakglass-expire-$id.timer in systemctl list-timers --all (3 s after the grant)"
    fi
    j=""
    for t in $(seq 1 30); do
        j=$(ct journalctl -o json --no-pager MESSAGE_ID="$GRANT_MESSAGE_ID" BREAKGLASS_EVENT_ID="$id" </dev/null 2>/dev/null | head -1)
        [ -n "$j" ] && break
        sleep 0.1
    done
    if [ -z "$j" ]; then
        bad "journalctl -o json MESSAGE_ID=$GRANT_MESSAGE_ID BREAKGLASS_EVENT_ID=$id: nothing"
    else
        local f want v miss=""
        for f in "BREAKGLASS_ACTOR=bgst-a" "BREAKGLASS_GATE_BYPASSED=$GATE" "BREAKGLASS_REASON=system test as bgst-a" \
            "BREAKGLASS_INCIDENT_REF=INC-$INCIDENT" "BREAKGLASS_EVENT=grant" "SYSLOG_IDENTIFIER=breakglassd"; do
            want=${f#*=}
            v=$(printf '%s' "$j" | jq -r --arg k "${f%%=*}" '.[$k] // ""')
            [ "$v" = "$want" ] || miss+=" ${f%%=*}='$v' (want '$want')"
        done
        v=$(printf '%s' "$j" | jq -r '.BREAKGLASS_EXPIRES_AT // ""')
        [ "$v" = "$(date -u -d "@$exp" +%FT%TZ)" ] || miss+=" BREAKGLASS_EXPIRES_AT='$v'"
        if [ -z "$miss" ]; then ok "journal entry MESSAGE_ID=$GRANT_MESSAGE_ID BREAKGLASS_EVENT_ID=$id: actor, gate, reason, incident, expires_at"
        else bad "journal entry of $id:$miss"; fi
    fi
    finish a "sudo with a typed TOTP code: granted, timer, journal"

    # b: the session started above, under the grant, without a prompt.
    if [ -z "$pid" ]; then
        bad "sudo -g $GROUP sleep 1000 did not start under the grant: $(session_output b | tr -d '\r' | tail -3 | tr '\n' ' ')"
        finish b "sleep 1000 under the grant is gone within ${LAG_LIMIT} s of expires_at"
        return
    fi
    if session_output b | grep -q "Reason for breaking"; then bad "sudo prompted again under an active grant"; else
        ok "sleep 1000 started under $id without a prompt (pid $pid; session pids $pids)"; fi
    gone=$(wait_gone b "$((exp + 10))")
    if [ -z "$gone" ]; then
        bad "the session (pids $pids) still runs 10 s after expires_at"
        ct pkill -KILL -U bgst-a </dev/null
    else
        lag=$(span "$exp" "$gone")
        if le 0 "$lag" && le "$lag" "$LAG_LIMIT"; then ok "gone ${lag} s after expires_at"
        elif le "$lag" 0; then bad "gone ${lag} s before expires_at (ended early)"
        else bad "gone ${lag} s after expires_at (limit ${LAG_LIMIT} s)"; fi
    fi
    check_termination_records b expire "$id" "$pid" "$pids"
    finish b "sleep 1000 under the grant is gone within ${LAG_LIMIT} s of expires_at"
}

# ---------------------------------------------------------------- e
scenario_e() {
    local out="$WORK/e.out" id pid pids t0 gone lag had_timer="" t rc
    break_glass bgst-e "$out" true
    rc=$?
    id=$(granted_id "$out")
    if [ $rc -ne 0 ] || [ -z "$id" ]; then
        bad "no grant: sudo exited $rc: $(tr -d '\r' <"$out" | tail -3 | tr '\n' ' ')"
        finish e "breakglassctl revoke: timer gone, session terminated"
        return
    fi
    start_session e bgst-e
    pid=$(wait_sleep_pid bgst-e) || { bad "sleep 1000 did not start under $id"; finish e "breakglassctl revoke: timer gone, session terminated"; return; }
    pids=$(session_pids bgst-e)
    # A command that leaves a process behind at once: double fork, setsid,
    # its own name, SIGHUP and SIGTERM ignored (breakglass_sudo starts the
    # command only once sudo is in the scope).
    ct /bin/sh -c 'cat > /run/breakglass-system-test/escape.sh; chmod 0755 /run/breakglass-system-test/escape.sh' <<'ESCAPE'
#!/bin/sh
( setsid /bin/sh -c 'trap "" HUP TERM; printf bgescape > /proc/$$/comm; while :; do sleep 1; done' </dev/null >/dev/null 2>&1 & )
ESCAPE
    local esc="" cg=""
    # Started inside the container, as a session is (a process nsenter starts
    # stays in a cgroup outside the container's, where its systemd cannot
    # move it into a scope); in the background, like start_session.
    ct systemd-run --quiet --collect --unit=bgst-escape-e \
        -p StandardOutput="file:/run/breakglass-system-test/escape.out" -p StandardError=inherit \
        "$DRIVE" --user bgst-e --timeout 30 -- /usr/bin/sudo -g "$GROUP" /run/breakglass-system-test/escape.sh </dev/null
    for t in $(seq 1 50); do esc=$(ct pgrep -U bgst-e -x bgescape </dev/null | head -1); [ -n "$esc" ] && break; sleep 0.1; done
    if [ -z "$esc" ]; then
        bad "the escaping process (bgescape) did not start (or was ended with the service that ran sudo): $(session_output escape | tr -d '\r' | tail -3 | tr '\n' ' '); breakglassd: $(ct journalctl -u breakglassd --no-pager -o cat </dev/null 2>/dev/null | grep -i scope | tail -3 | tr '\n' ' ')"
    else
        # Its cgroup, read by a process inside the container's cgroup namespace
        # (nsenter's own cgroup is outside it: read from here, the path is relative).
        cg=$(ct systemd-run --quiet --wait --pipe --collect /bin/cat "/proc/$esc/cgroup" </dev/null 2>&1 | sed -n 's/^0:://p')
        case "$cg" in
        "/breakglass.slice/breakglass-$id-"*.scope) ok "double-forked, setsid, renamed pid $esc is in its session scope $cg" ;;
        *) bad "double-forked, setsid, renamed pid $esc is not in a scope of $id: cgroup '$cg'; breakglassd: $(ct journalctl -u breakglassd --no-pager -o cat </dev/null 2>/dev/null | grep -i scope | tail -3 | tr '\n' ' ')" ;;
        esac
    fi
    # Set-group-ID residue under the grant, in each place the daemon sweeps
    # (issue 10, item 6), as the packaged unit runs it (its sandbox must see
    # and change the real /tmp, /var/tmp, /dev/shm and home).
    local home sgid=""
    home=$(ct getent passwd bgst-e </dev/null | cut -d: -f6)
    ct "$DRIVE" --user bgst-e --timeout 30 -- /usr/bin/sudo -g "$GROUP" /bin/sh -c \
        "for d in /tmp /var/tmp /dev/shm $home; do cp /bin/true \$d/bgst-sgid-e && chmod 2755 \$d/bgst-sgid-e; done" \
        </dev/null >"$WORK/e-sgid.out" 2>&1
    for f in /tmp /var/tmp /dev/shm "$home"; do
        if [ "$(ct stat -c '%A %G' "$f/bgst-sgid-e" </dev/null 2>&1)" = "-rwxr-sr-x $GROUP" ]; then sgid="$sgid $f/bgst-sgid-e"
        else bad "could not leave a set-group-ID file in $f: $(ct stat -c '%A %G' "$f/bgst-sgid-e" </dev/null 2>&1) $(tr -d '\r' <"$WORK/e-sgid.out" | tail -2 | tr '\n' ' ')"; fi
    done
    watch_gone e $pids
    for t in $(seq 1 30); do timer_listed "$id" && { had_timer=1; break; }; sleep 0.1; done
    [ -n "$had_timer" ] || bad "no breakglass-expire-$id.timer before the revoke"
    t0=$(now)
    if ! ct breakglassctl revoke "$id" --reason "system test" </dev/null >"$WORK/e-revoke.out" 2>&1; then
        bad "breakglassctl revoke $id failed: $(cat "$WORK/e-revoke.out")"
    else
        ok "revoked $id while sleep 1000 (pid $pid) ran under it"
    fi
    local gone_timer=""
    for t in $(seq 1 20); do timer_listed "$id" || { gone_timer=1; break; }; sleep 0.1; done
    if [ -n "$had_timer" ] && [ -n "$gone_timer" ]; then ok "breakglass-expire-$id.timer gone from list-timers $(span "$t0" "$(now)") s after the revoke"
    elif [ -n "$had_timer" ]; then bad "breakglass-expire-$id.timer still listed 2 s after the revoke"; fi
    gone=$(wait_gone e "$(awk -v t="$t0" 'BEGIN{printf "%.3f", t+10}')")
    if [ -z "$gone" ]; then
        bad "the session (pids $pids) still runs 10 s after the revoke"
        ct pkill -KILL -U bgst-e </dev/null
    else
        lag=$(span "$t0" "$gone")
        if le "$lag" "$LAG_LIMIT"; then ok "session gone ${lag} s after the revoke"
        else bad "session gone only ${lag} s after the revoke (limit ${LAG_LIMIT} s)"; fi
    fi
    check_termination_records e revoke "$id" "$pid" "$pids"
    if [ -n "$esc" ]; then
        local still=1
        for t in $(seq 1 100); do ct kill -0 "$esc" </dev/null 2>/dev/null || { still=""; break; }; sleep 0.1; done
        if [ -n "$still" ]; then
            bad "the escaping pid $esc still runs 10 s after the revoke"
            ct kill -KILL "$esc" </dev/null
        else
            ok "the escaping pid $esc is gone after the revoke"
        fi
        if log_json | jq -r --arg id "$id" 'select(.event == "terminate" and .grant_id == $id) | .detail' | grep -Eq "(^|[^0-9])$esc \\(bgescape\\)"; then
            ok "a terminate record of $id names pid $esc (bgescape)"
        else
            bad "no terminate record of $id names pid $esc (bgescape)"
        fi
    fi
    local detail mode
    detail=$(log_json | jq -r --arg id "$id" 'select(.event == "terminate" and .grant_id == $id) | .detail')
    for f in $sgid; do
        mode=$(ct stat -c '%A' "$f" </dev/null 2>&1)
        if [ "$mode" = "-rwxr-xr-x" ] && printf '%s' "$detail" | grep -qF "$f"; then
            ok "$f lost its set-group-ID bit at the revoke and a terminate record names it"
        else
            bad "$f after the revoke: mode $mode; terminate records: $(printf '%s' "$detail" | tr '\n' ' ')"
        fi
        ct rm -f "$f" </dev/null
    done
    finish e "breakglassctl revoke: timer gone, session terminated"
}

# ---------------------------------------------------------------- c
scenario_c() {
    local out="$WORK/c.out" id exp before="$WORK/c-before.jsonl" after="$WORK/c-after.jsonl" n oldpid newpid rec ts v rc t state ran
    break_glass bgst-c "$out" true
    rc=$?
    id=$(granted_id "$out")
    if [ $rc -ne 0 ] || [ -z "$id" ]; then
        bad "no grant: sudo exited $rc: $(tr -d '\r' <"$out" | tail -3 | tr '\n' ' ')"
        finish c "SIGKILL to breakglassd during a grant, then stopped: the grant's timer brings it back a second after expires_at"
        return
    fi
    exp=$(grant_field "$id" expires_at)
    log_json >"$before"
    n=$(wc -l <"$before")
    oldpid=$(ct systemctl show -p MainPID --value breakglassd.service </dev/null)
    ct systemctl kill -s KILL breakglassd.service </dev/null || bad "systemctl kill -s KILL breakglassd failed"
    sleep 1
    newpid=$(ct systemctl show -p MainPID --value breakglassd.service </dev/null)
    ok "granted $id, $n records, then SIGKILL to breakglassd (pid $oldpid; a second later: MainPID $newpid, $(ct systemctl is-active breakglassd.service </dev/null))"
    # The daemon's own timer acts at expires_at whenever it runs; to see the
    # grant's systemd timer act, the daemon is left stopped (its socket still
    # listening) and nothing asks it anything until expires_at: only the
    # timer's `breakglassctl expire` can start it then.
    ct systemctl stop breakglassd.service </dev/null || bad "systemctl stop breakglassd.service failed"
    sleep_until "$((exp - 1))"
    state=$(ct systemctl is-active breakglassd.service </dev/null)
    if [ "$state" = inactive ]; then ok "breakglassd.service stopped a second before expires_at (socket: $(ct systemctl is-active breakglassd.socket </dev/null))"
    else bad "breakglassd.service is '$state' a second before expires_at, not inactive"; fi
    sleep_until "$((exp + 4))"
    rec=""
    for t in $(seq 1 70); do rec=$(record_of expire "$id"); [ -n "$rec" ] && break; sleep 0.1; done
    if [ -z "$rec" ]; then
        bad "no expire record for $id 11 s after expires_at"
    else
        ts=$(date -d "$(printf '%s' "$rec" | jq -r .timestamp)" +%s)
        if [ "$ts" -le $((exp + 3)) ]; then ok "expired at $(printf '%s' "$rec" | jq -r .timestamp) (expires_at $(date -u -d "@$exp" +%FT%TZ)): $(printf '%s' "$rec" | jq -r .detail)"
        else bad "expired only at $(printf '%s' "$rec" | jq -r .timestamp), expires_at was $(date -u -d "@$exp" +%FT%TZ)"; fi
        # The grant's systemd timer ran its service at expires_at, whose
        # request started the stopped daemon; the daemon's start ended the grant.
        ran=$(ct journalctl -q -o short-unix --no-pager -u "breakglass-expire-$id.service" </dev/null 2>/dev/null | head -1 | cut -d' ' -f1)
        if [ -n "$ran" ] && le "$((exp + 1))" "$ran"; then ok "breakglass-expire-$id.service ran at $ran (expires_at $exp, the timer a second later)"
        else bad "no sign in the journal that breakglass-expire-$id.service ran a second after expires_at ('$ran')"; fi
        case "$(printf '%s' "$rec" | jq -r .detail)" in
        *"expired at startup"*) ok "the timer's request started breakglassd, whose startup ended the grant (active now: $(ct systemctl is-active breakglassd.service </dev/null))" ;;
        *) bad "the expire record does not say the daemon's start ended the grant" ;;
        esac
    fi
    [ "$(grant_field "$id" state)" = expired ] || bad "grant $id is '$(grant_field "$id" state)', not expired"
    v=$(verify_ok) && ok "breakglassctl verify: $v" || bad "breakglassctl verify: $v"
    log_json >"$after"
    if head -n "$n" "$after" | cmp -s - "$before"; then ok "all $n records from before the kill unchanged (seq 1..$(tail -1 "$before" | jq .seq)), $(wc -l <"$after") now"
    else bad "the records from before the kill changed or are missing (had $n, now $(wc -l <"$after"))"; fi
    finish c "SIGKILL to breakglassd during a grant, then stopped: the grant's timer brings it back a second after expires_at"
}

# ---------------------------------------------------------------- d
scenario_d() {
    local out="$WORK/d.out" id exp rec detail v t at_boot rc
    break_glass bgst-d "$out" true
    rc=$?
    id=$(granted_id "$out")
    if [ $rc -ne 0 ] || [ -z "$id" ]; then
        bad "no grant: sudo exited $rc: $(tr -d '\r' <"$out" | tail -3 | tr '\n' ' ')"
        finish d "daemon stopped, rebooted past expires_at"
        return
    fi
    exp=$(grant_field "$id" expires_at)
    ct systemctl stop breakglassd.socket breakglassd.service </dev/null
    poweroff_container
    if le "$(now)" "$exp"; then ok "granted $id, daemon stopped, powered off $(span "$(now)" "$exp") s before expires_at"
    else bad "the container powered off only after expires_at (test setup too slow)"; fi
    sleep_until "$((exp + 2))"
    boot
    at_boot=$(ct systemctl is-active breakglassd.service </dev/null)
    # Read the log file itself first: that asks nothing of the daemon.
    rec=""
    for t in $(seq 1 50); do
        rec=$(ct cat /var/lib/breakglass/audit.log </dev/null | jq -c --arg id "$id" 'select(.event == "expire" and .grant_id == $id)' | head -1)
        [ -n "$rec" ] && break
        sleep 0.1
    done
    if [ -z "$rec" ]; then
        ct breakglassctl status </dev/null >/dev/null 2>&1
        for t in $(seq 1 30); do rec=$(record_of expire "$id"); [ -n "$rec" ] && break; sleep 0.1; done
        [ -n "$rec" ] && ok "breakglassd.service was '$at_boot' after boot: the grant expired when the first client activated it"
    else
        ok "breakglassd.service '$at_boot' after boot; the expire record was in the log before any client asked"
    fi
    if [ -z "$rec" ]; then
        bad "no expire record for $id after the reboot"
    else
        detail=$(printf '%s' "$rec" | jq -r .detail)
        if printf '%s' "$detail" | grep -qi startup; then ok "expire record $(printf '%s' "$rec" | jq -r .event_id) at $(printf '%s' "$rec" | jq -r .timestamp): $detail"
        else bad "the expire record's detail does not mention startup: '$detail'"; fi
    fi
    [ "$(grant_field "$id" state)" = expired ] || bad "grant $id is '$(grant_field "$id" state)', not expired"
    v=$(verify_ok) && ok "breakglassctl verify: $v" || bad "breakglassctl verify: $v"
    finish d "daemon stopped, rebooted past expires_at"
}

# ---------------------------------------------------------------- benchmark
bench() {
    local u i id exp gone lag missing=0 lags="$WORK/bench-lags" first last t0 maxexp=0 pid
    : >"$lags"
    local jobs=()
    t0=$(now)
    for u in "${USERS_BENCH[@]}"; do
        break_glass "$u" "$WORK/bench-$u.out" true &
        jobs+=($!)
    done
    wait "${jobs[@]}"  # not a bare wait: systemd-nspawn is a child too
    local -A ids exps pidsof
    for u in "${USERS_BENCH[@]}"; do
        id=$(granted_id "$WORK/bench-$u.out")
        if [ -z "$id" ]; then
            bad "$u: no grant: $(tr -d '\r' <"$WORK/bench-$u.out" | tail -2 | tr '\n' ' ')"
            continue
        fi
        ids[$u]=$id
        start_session "bench-$u" "$u"
    done
    ok "${#ids[@]} grants (concurrent sudo + TOTP) and sessions started in $(span "$t0" "$(now)") s"
    for u in "${!ids[@]}"; do
        if ! pid=$(wait_sleep_pid "$u"); then
            bad "$u: sleep 1000 did not start under ${ids[$u]}"
            unset "ids[$u]"
            continue
        fi
        pidsof[$u]=$(session_pids "$u")
        watch_gone "bench-$u" ${pidsof[$u]}
    done
    local listing
    listing=$(ct breakglassctl list --all --json </dev/null)
    for u in "${!ids[@]}"; do
        exps[$u]=$(printf '%s' "$listing" | jq -r --arg id "${ids[$u]}" '.grants[] | select(.event_id == $id) | .expires_at')
        [ "${exps[$u]}" -gt "$maxexp" ] && maxexp=${exps[$u]}
    done
    for u in "${!ids[@]}"; do
        gone=$(wait_gone "bench-$u" "$((maxexp + 10))")
        if [ -z "$gone" ]; then
            missing=$((missing + 1))
            ct pkill -KILL -U "$u" </dev/null
            continue
        fi
        lag=$(span "${exps[$u]}" "$gone")
        echo "$lag" >>"$lags"
    done
    local n p50 max min
    n=$(wc -l <"$lags")
    if [ "$n" -gt 0 ]; then
        read -r min p50 max < <(sort -g "$lags" | awk '{v[NR]=$1} END{i=int((NR+1)/2); printf "%.3f %.3f %.3f\n", v[1], v[i], v[NR]}')
        echo "revocation lag (expires_at -> last process of the session gone), $n grants: p50 ${p50} s, max ${max} s, min ${min} s"
        [ "$missing" -eq 0 ] || bad "$missing of ${#ids[@]} sessions still ran 10 s after expires_at"
        if le "$max" "$LAG_LIMIT" && le 0 "$min"; then ok "p50 ${p50} s, max ${max} s over $n grants: max <= ${LAG_LIMIT} s met"
        elif le "$max" "$LAG_LIMIT"; then bad "a session ended ${min} s before expires_at"
        else bad "p50 ${p50} s, max ${max} s over $n grants: max <= ${LAG_LIMIT} s NOT met"; fi
    else
        echo "revocation lag: no session was terminated ($missing still running 10 s after expires_at)"
        bad "no session of ${#ids[@]} was terminated within 10 s of expires_at"
    fi
    finish bench "revocation lag over $BENCH_GRANTS grants, target max <= ${LAG_LIMIT} s"
}

# ---------------------------------------------------------------- f
# The gate's hooks ran inside the packaged unit's sandbox for the grants of
# a/b (grant, then expire) and e (revoke): argv exact, environment empty, each
# with a hook record and none with hook_failed.
scenario_f() {
    local hooks failed g line want t n
    # on_revoke runs after the revoke is answered: wait (10 s at most) until the
    # grants of a/b and e each have two hook records (or failures).
    for t in $(seq 1 100); do
        n=$(log_json | jq -s '[.[] | select(.event == "grant" and (.actor == "bgst-a" or .actor == "bgst-e")) | .event_id] as $g
            | [.[] | select((.event == "hook" or .event == "hook_failed") and (.grant_id as $id | $g | index($id)))] | length')
        [ "${n:-0}" -ge 4 ] && break
        sleep 0.1
    done
    hooks=$(log_json | jq -c 'select(.event == "hook")')
    failed=$(log_json | jq -r 'select(.event == "hook_failed") | .detail')
    [ -z "$failed" ] || bad "hook_failed records: $(printf '%s' "$failed" | head -3 | tr '\n' ' ')"
    for g in $(log_json | jq -r 'select(.event == "grant" and (.actor == "bgst-a" or .actor == "bgst-e")) | .event_id'); do
        for want in "on_grant $HOOK after the grant" "on_revoke $HOOK after the"; do
            if printf '%s\n' "$hooks" | jq -se --arg id "$g" --arg w "$want" \
                'any(.[]; .grant_id == $id and (.detail | startswith($w)))' >/dev/null; then
                ok "$g: hook record '$(printf '%s\n' "$hooks" | jq -r --arg id "$g" --arg w "$want" \
                    'select(.grant_id == $id and (.detail | startswith($w))) | .detail' | head -1)'"
            else
                bad "$g: no hook record for '$want'"
            fi
        done
        line=$(ct grep -F " $g " "$HOOK_LOG" </dev/null | head -1)
        case "$line" in
        "grant $g "*"emergency-root "*" env=0") ok "$HOOK ran with argv '$line'" ;;
        *) bad "$HOOK_LOG has no 'grant $g ... env=0' line (got '$line')" ;;
        esac
    done
    finish f "on_grant/on_revoke hooks in the daemon's sandbox"
}

# ---------------------------------------------------------------- g
# Test daemons never touch the host's systemd (issue 9). breakglassd started
# the way tests/support/test_daemon.cpp starts it — --socket, --state-dir,
# --policy, --systemd-timers=no, --no-journal — in this booted systemd, makes a
# 3 s grant and lets it expire: no breakglass-expire-* unit for it, neither
# loaded nor ever started (PID 1's journal). The same with the daemon's
# default (auto: a daemon on its own socket, not started by systemd). The
# control, --systemd-timers=yes, shows that this check sees such a unit.
expire_units() {
    ct systemctl list-units --all --plain --no-legend --full 'breakglass-expire-*' </dev/null | awk '{print $1}' | sort
}
scenario_g() {
    local dir=/run/bgst-fixture mode pid before new id since rec t out mentioned said
    for mode in no auto yes; do
        ct /bin/sh -c "rm -rf $dir && install -d -m 0755 $dir && cat > $dir/policy.toml && chmod 0644 $dir/policy.toml" <<'POLICY'
[defaults]
max_ttl = "1h"
incident_pattern = '^INC-[0-9]+$'
factors = ["totp"]

[gate.fixture]
requesters = ["root"]
ttl = "3s"
POLICY
        before=$(expire_units)
        pid=$(ct /bin/sh -c "/usr/sbin/breakglassd --socket $dir/socket --state-dir $dir/state --policy $dir/policy.toml \
            --systemd-timers=$mode --no-journal </dev/null >$dir/daemon.log 2>&1 & echo \$!")
        # Ready = it answered (as the fixture waits).
        for t in $(seq 1 100); do
            ct breakglassctl status --socket "$dir/socket" </dev/null >/dev/null 2>&1 && break
            sleep 0.1
        done
        ( umask 077; ct breakglassctl enroll totp root --json --socket "$dir/socket" </dev/null 2>/dev/null | jq -r .otpauth_uri |
            sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' >"$SECRETS/fixture.secret"; "$TOOLS/totp_now" <"$SECRETS/fixture.secret" >"$SECRETS/fixture.code" )
        since=$(date +%s)
        out=$(ct breakglassctl request --gate fixture --reason "fixture-style daemon ($mode)" --incident INC-9 \
            --socket "$dir/socket" <"$SECRETS/fixture.code" 2>&1)
        rm -f "$SECRETS/fixture.secret" "$SECRETS/fixture.code"
        id=$(printf '%s\n' "$out" | sed -n 's/^granted: \([^ ]*\) .*/\1/p' | head -1)
        if [ -z "$id" ]; then
            bad "--systemd-timers=$mode: no grant: $out $(ct cat $dir/daemon.log </dev/null | tail -3 | tr '\n' ' ')"
            ct kill "$pid" </dev/null 2>/dev/null
            continue
        fi
        # Its whole life: the grant has expired (by whichever timer) before anything is judged.
        rec=""
        for t in $(seq 1 100); do
            rec=$(ct cat "$dir/state/audit.log" </dev/null | jq -c --arg id "$id" 'select(.event == "expire" and .grant_id == $id)' | head -1)
            [ -n "$rec" ] && break
            sleep 0.1
        done
        [ -n "$rec" ] || bad "--systemd-timers=$mode: $id did not expire within 10 s of a 3 s grant"
        new=$(comm -13 <(printf '%s\n' "$before") <(expire_units) | grep . | tr '\n' ' ')
        mentioned=$(ct journalctl --no-pager -q -o cat _PID=1 --since "@$since" </dev/null | grep -F "breakglass-expire-$id." | head -1)
        said=$(ct grep -c "no per-grant systemd timers (--systemd-timers=$mode)" "$dir/daemon.log" </dev/null)
        case "$mode" in
        no | auto)
            if [ -z "$new" ] && [ -z "$mentioned" ]; then
                ok "--systemd-timers=$mode: grant $id expired ($(printf '%s' "$rec" | jq -r .detail)); no breakglass-expire-* unit appeared, PID 1 never mentioned breakglass-expire-$id"
            else
                bad "--systemd-timers=$mode: a unit for the fixture-style daemon: loaded '$new', PID 1 said '$mentioned'"
            fi
            [ "$said" = 1 ] || bad "--systemd-timers=$mode: the daemon did not say once that it creates no timers (said $said times)"
            ;;
        yes)
            if [ -n "$mentioned" ]; then ok "control, --systemd-timers=yes: PID 1 logged '$mentioned', so the check sees such a unit"
            else bad "control, --systemd-timers=yes: no breakglass-expire-$id unit seen either: the check proves nothing"; fi
            ;;
        esac
        ct kill "$pid" </dev/null 2>/dev/null
        for t in $(seq 1 50); do ct test -e "/proc/$pid" </dev/null || break; sleep 0.1; done
    done
    ct rm -rf "$dir" </dev/null
    finish g "a fixture-style breakglassd (--socket, --systemd-timers=no/auto) creates no breakglass-expire-* unit"
}

# ---------------------------------------------------------------- i
# Faults in the packaged daemon, run by systemd (issue 16, item 3). The ASan
# sweep (tests/fault/) runs test daemons with no systemd as PID 1, so their
# sd-bus calls are never made, and cannot fail allocations (ASan's allocator
# comes after the interposer). Here the interposer, built with malloc, is
# preloaded into breakglassd.service by a drop-in; bg_fault_ctl arms it for one
# kind of call. A counting run numbers the calls of grant -> session -> expiry;
# then one run per sd-bus call, and FAULT_MALLOC_RUNS runs spread over the
# allocations, each fails that call and is judged: a command that ran with the
# gate's group has its grant record; the daemon did not crash (no restart by
# systemd, no core); every grant expired and its session is gone; verify OK.
# Each run is one user's one grant (a TOTP code is accepted once per user).
FAULT_DIR=/run/bgst-fault
FAULT_STATE=$FAULT_DIR/state
FAULT_NEXT_USER=0
# Not in a subshell: they keep their counters and FAULT_LOG.
fault_next_user() { FAULT_USER=${USERS_FAULT[$FAULT_NEXT_USER]}; FAULT_NEXT_USER=$((FAULT_NEXT_USER + 1)); }
fault_report() { ct "$TOOLS_IN/bg_fault_ctl" "$FAULT_STATE" report </dev/null; }
fault_field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
daemon_restarts() { ct systemctl show -p NRestarts --value breakglassd.service </dev/null; }
# A fresh daemon for each run: systemd's start limit (5 starts in 10 s) is
# the suite's doing, not the daemon's, so it is reset; a start that fails
# all the same is a problem (its refusal would pass for a fault's).
fault_restart_daemon() {  # WHAT
    if ! ct /bin/sh -c 'systemctl reset-failed breakglassd.service; systemctl restart breakglassd.service' \
        </dev/null >/dev/null 2>&1; then
        FAULT_LOG+=("$1: breakglassd.service did not start: $(ct systemctl is-failed breakglassd.service </dev/null)")
        return 1
    fi
}
# The audit log read from its file, not through the daemon: a query would add
# the daemon's own allocations to the ones being counted.
audit_file() { ct cat /var/lib/breakglass/audit.log </dev/null; }
file_record() {  # EVENT GRANT_ID: the grant's record (grant: its event_id), or the one ending it
    audit_file | jq -c --arg e "$1" --arg id "$2" \
        'select(.event == $e and (if $e == "grant" then .event_id else .grant_id end) == $id)' | head -1
}
# One run: KIND N (N 0: count only), as the next user. Sets FR_CALLS, FR_FIRED,
# FR_NAME, FR_GRANTED, FR_RAN, FR_PROBLEMS; a line in FAULT_LOG for each problem.
fault_run() {
    local kind=$1 n=$2 user out="$WORK/i-$1-$2.out" id="" ran=0 granted=0 problems=0 rec pids report
    local restarts since t gid said pid
    fault_next_user
    user=$FAULT_USER
    gid=$(ct getent group "$GROUP" </dev/null | cut -d: -f3)
    since=$(date +%s)
    if [ "$kind" = sd-bus ]; then
        # The bus is opened at startup: arm first, then start the daemon.
        ct "$TOOLS_IN/bg_fault_ctl" "$FAULT_STATE" arm "$kind" "$n" </dev/null
        fault_restart_daemon "$kind $n" || problems=$((problems + 1))
    else
        # Startup allocations are not the grant's: start clean, let the
        # start's verification of the log (a thread of its own) finish, then arm.
        fault_restart_daemon "$kind $n" || problems=$((problems + 1))
        pid=$(ct systemctl show -p MainPID --value breakglassd.service </dev/null)
        for t in $(seq 1 100); do
            ct journalctl --no-pager -q -o cat _PID="$pid" </dev/null | grep -q 'verif.* at start' && break
            sleep 0.05
        done
        ct "$TOOLS_IN/bg_fault_ctl" "$FAULT_STATE" arm "$kind" "$n" </dev/null
    fi
    restarts=$(daemon_restarts)
    break_glass "$user" "$out" id -g >/dev/null 2>&1
    id=$(granted_id "$out")
    tr -d '\r' <"$out" | grep -qx "$gid" && ran=1  # typed on a terminal: CR LF
    if [ -n "$id" ]; then
        granted=1
        start_session "i-$kind-$n" "$user"
        wait_sleep_pid "$user" >/dev/null
        # Its whole life: expired by the daemon (at expires_at) and its processes gone.
        rec=""
        for t in $(seq 1 $(((FAULT_TTL + 10) * 10))); do
            rec=$(file_record expire "$id")
            [ -n "$rec" ] && break
            sleep 0.1
        done
        [ -n "$rec" ] || { FAULT_LOG+=("$kind $n: grant $id did not expire within $((FAULT_TTL + 10)) s"); problems=$((problems + 1)); }
    fi
    for t in $(seq 1 50); do
        pids=$(session_pids "$user")
        [ -z "$pids" ] && break
        sleep 0.1
    done
    ct "$TOOLS_IN/bg_fault_ctl" "$FAULT_STATE" disarm </dev/null
    report=$(fault_report)
    ct systemctl stop "bgst-session-i-$kind-$n.service" </dev/null >/dev/null 2>&1
    if [ "$ran" = 1 ]; then
        if [ -z "$id" ] || [ -z "$(file_record grant "$id")" ]; then
            FAULT_LOG+=("$kind $n: $user's command ran with gid $gid without a grant record ('$id'; $report)")
            problems=$((problems + 1))
        fi
    fi
    # A refusal is the fault's doing, or a problem (a daemon that was not there).
    if [ -z "$id" ] && [ "$n" != 0 ] && [ "$(fault_field "$report" fired)" != 1 ]; then
        FAULT_LOG+=("$kind $n: $user was refused though no call failed ($report): $(tr -d '\r' <"$out" | tail -2 | tr '\n' ' ')")
        problems=$((problems + 1))
    fi
    # Told "refused": whatever was recorded for it was voided at once, not left to run its TTL.
    if [ -z "$id" ]; then
        for t in $(audit_file | jq -r --arg u "$user" 'select(.event == "grant" and .actor == $u) | .event_id'); do
            if [ -z "$(file_record grant_void "$t")" ]; then
                FAULT_LOG+=("$kind $n: $user was told the request was refused, but grant $t was recorded and not voided ($report)")
                problems=$((problems + 1))
            fi
        done
    fi
    if [ -n "$pids" ]; then
        FAULT_LOG+=("$kind $n: $user still has processes with the gate's group: $pids ($report)")
        problems=$((problems + 1))
    fi
    # systemd's own lines about the unit, and the daemon's last words.
    said=$(ct journalctl --no-pager -q -o cat _PID=1 UNIT=breakglassd.service --since "@$since" </dev/null |
        grep -E 'Main process exited|Failed with result|dumped core')
    said+=$(ct journalctl --no-pager -q -o cat _SYSTEMD_UNIT=breakglassd.service --since "@$since" </dev/null |
        grep -E '^terminate called|what\(\)|failed \(.*\); the daemon goes on' | sed 's/^/ daemon: /')
    if [ "$(daemon_restarts)" != "$restarts" ] || printf '%s' "$said" | grep -q 'Main process exited'; then
        FAULT_LOG+=("$kind $n: breakglassd crashed or exited ($report): $(printf '%s' "$said" | head -4 | tr '\n' ' ')")
        problems=$((problems + 1))
    fi
    printf '%s' "$said" | grep -q 'the daemon goes on' && FR_GUARDED=$((FR_GUARDED + 1))
    if ! verify_ok >/dev/null; then
        FAULT_LOG+=("$kind $n: breakglassctl verify fails after the run ($report)")
        problems=$((problems + 1))
    fi
    FR_CALLS=$(fault_field "$report" calls)
    FR_FIRED=$(fault_field "$report" fired)
    FR_NAME=$(fault_field "$report" name)
    FR_GRANTED=$granted
    FR_RAN=$ran
    FR_PROBLEMS=$problems
}
# The sweep of one kind: a counting run, then one run per N. Sets FS_LINE, its summary.
fault_sweep() {  # KIND MAX_RUNS (0: every call)
    local kind=$1 max=$2 calls i n runs=() failed=0 granted=0 refused=0 problems=0 names=""
    FR_GUARDED=0
    fault_run "$kind" 0
    calls=$FR_CALLS
    problems=$FR_PROBLEMS
    if [ "$FR_GRANTED" != 1 ] || [ "$FR_RAN" != 1 ]; then
        FAULT_LOG+=("$kind: the counting run (no fault) did not grant and run the command")
        problems=$((problems + 1))
    fi
    if [ -z "$calls" ] || [ "$calls" -eq 0 ]; then
        FAULT_LOG+=("$kind: the counting run counted no call: the interposer is not in the daemon")
        FS_LINE="$kind: 0 calls counted"
        return
    fi
    if [ "$kind" = malloc ] && [ -n "${BG_FAULT_MALLOC_AT:-}" ]; then
        runs=($BG_FAULT_MALLOC_AT)  # chosen allocations, when looking into a failure
    elif [ "$max" -eq 0 ] || [ "$calls" -le "$max" ]; then
        runs=($(seq 1 "$calls"))
    else
        for i in $(seq 0 $((max - 1))); do runs+=($((1 + i * (calls - 1) / (max - 1)))); done
    fi
    if [ ${#runs[@]} -gt $((FAULT_USERS - FAULT_NEXT_USER)) ]; then
        FAULT_LOG+=("$kind: ${#runs[@]} runs wanted, only $((FAULT_USERS - FAULT_NEXT_USER)) users left (FAULT_USERS)")
        runs=("${runs[@]:0:$((FAULT_USERS - FAULT_NEXT_USER))}")
    fi
    for n in "${runs[@]}"; do
        fault_run "$kind" "$n"
        [ "$FR_FIRED" = 1 ] && { failed=$((failed + 1)); names="$names ${FR_NAME:-?}"; }
        if [ "$FR_GRANTED" = 1 ]; then granted=$((granted + 1)); else refused=$((refused + 1)); fi
        problems=$((problems + FR_PROBLEMS))
    done
    FS_LINE="$kind: $calls calls counted in grant -> session -> expiry; ${#runs[@]} runs, $failed calls failed ($(printf '%s\n' $names | sort | uniq -c | awk '{printf "%s%s %s", (NR>1?", ":""), $1, $2}')), granted $granted, refused $refused, runs where the daemon caught an exception and went on $FR_GUARDED, problems $problems"
}
scenario_i() {
    local line kind t
    FAULT_LOG=()
    POLICY_TTL=$FAULT_TTL policy grace | ct /bin/sh -c 'cat > /etc/breakglass/policy.toml'
    ct breakglassctl policy reload </dev/null >/dev/null 2>&1 || bad "the policy with ttl = ${FAULT_TTL}s was refused"
    # /run/breakglass-system-test (the sessions' output) went with scenario d's reboot.
    ct /bin/sh -c "install -d -m 0755 /run/breakglass-system-test && install -d -m 0700 $FAULT_DIR &&
        $TOOLS_IN/bg_fault_ctl $FAULT_STATE init &&
        install -d -m 0755 /run/systemd/system/breakglassd.service.d &&
        printf '[Service]\nEnvironment=LD_PRELOAD=$TOOLS_IN/bg_fault_inject.so BG_FAULT_STATE=$FAULT_STATE ${BG_FAULT_BACKTRACE:+BG_FAULT_BACKTRACE=1}\nReadWritePaths=$FAULT_DIR\n' \
            > /run/systemd/system/breakglassd.service.d/bgst-fault.conf && systemctl daemon-reload" </dev/null ||
        bad "cannot install the fault drop-in"
    for kind in sd-bus malloc; do
        if [ "$kind" = sd-bus ]; then fault_sweep sd-bus 0; else fault_sweep malloc "$FAULT_MALLOC_RUNS"; fi
        line=$FS_LINE
        case "$line" in
        *", problems 0") ok "$line" ;;
        *) bad "$line" ;;
        esac
    done
    # Every grant the runs made has ended, also one whose answer a fault lost.
    for t in $(seq 1 $(((FAULT_TTL + 10) * 10))); do
        line=$(audit_file | jq -rs '[.[] | select(.event == "grant" and (.actor | startswith("bgst-f"))) | .event_id] -
            [.[] | select(.event == "expire" or .event == "revoke" or .event == "grant_void") | .grant_id] | join(" ")')
        [ -z "$line" ] && break
        sleep 0.1
    done
    if [ -z "$line" ]; then
        ok "every grant of the runs ($(audit_file | jq -s '[.[] | select(.event == "grant" and (.actor | startswith("bgst-f")))] | length')) has ended with its record (expire or grant_void)"
    else
        bad "grants of the runs that never ended: $line"
    fi
    for line in "${FAULT_LOG[@]}"; do bad "$line"; done
    # BG_FAULT_BACKTRACE=1 (when looking into a failure): where each allocation failed.
    [ -n "${BG_FAULT_BACKTRACE:-}" ] && ct tar -C "$FAULT_DIR" -cf - . </dev/null >"$WORK/fault-backtraces.tar"
    # Back to the packaged unit and the suite's policy.
    ct /bin/sh -c "rm -rf /run/systemd/system/breakglassd.service.d $FAULT_DIR && systemctl daemon-reload &&
        { systemctl reset-failed breakglassd.service; systemctl restart breakglassd.service; }" </dev/null ||
        bad "cannot remove the fault drop-in"
    policy grace | ct /bin/sh -c 'cat > /etc/breakglass/policy.toml'
    ct breakglassctl policy reload </dev/null >/dev/null 2>&1 || bad "the suite's policy was refused after scenario i"
    finish i "faults in the packaged daemon under systemd: every sd-bus call, a sample of allocations"
}

# h) Removing the PAM/sudo package in the booted system (issue 10, item 9):
# with /etc/sudo.conf loading the plugin the removal is refused and sudo keeps
# working (with breakglassd running under systemd, as in production); once the
# lines are commented out the removal goes through and sudo still works. Last,
# because it takes the plugin away.
scenario_h() {
    local so=/usr/libexec/sudo/breakglass_sudo.so out refusal
    out=$(ct /bin/sh -c "grep -c '^Plugin breakglass_' /etc/sudo.conf; sudo true && echo sudo-ok" </dev/null 2>&1)
    printf '%s\n' "$out" | grep -qx 2 && printf '%s\n' "$out" | grep -qx sudo-ok ||
        bad "before the removal: /etc/sudo.conf does not load the plugin twice, or sudo true fails: $out"
    refusal=$(ct /bin/sh -c "DEBIAN_FRONTEND=noninteractive dpkg -r libpam-breakglass 2>&1; echo rc=\$?" </dev/null)
    if printf '%s\n' "$refusal" | grep -q '^rc=0$'; then
        bad "dpkg -r libpam-breakglass went through while /etc/sudo.conf loads the plugin"
    elif printf '%s\n' "$refusal" | grep -q "NOT removed: /etc/sudo.conf still loads breakglass_sudo.so"; then
        ok "dpkg -r libpam-breakglass refused while /etc/sudo.conf loads the plugin, saying why"
    else
        bad "dpkg -r libpam-breakglass failed without the expected reason: $refusal"
    fi
    out=$(ct /bin/sh -c "test -f $so && sudo true && echo sudo-ok" </dev/null 2>&1)
    if printf '%s\n' "$out" | grep -qx sudo-ok; then ok "after the refused removal $so is there and sudo true works"
    else bad "after the refused removal sudo true fails (or $so is gone): $out"; fi
    out=$(ct /bin/sh -c "sed -i 's/^Plugin breakglass_/# Plugin breakglass_/' /etc/sudo.conf &&
        DEBIAN_FRONTEND=noninteractive dpkg -r libpam-breakglass >/dev/null 2>&1; echo rc=\$?;
        test ! -e $so && echo so-gone; sudo true && echo sudo-ok" </dev/null 2>&1)
    if printf '%s\n' "$out" | grep -q '^rc=0$' && printf '%s\n' "$out" | grep -qx so-gone &&
        printf '%s\n' "$out" | grep -qx sudo-ok; then
        ok "with the lines commented out the removal goes through, $so is gone and sudo true works"
    else
        bad "the removal after commenting the lines out, or sudo after it, failed: $out"
    fi
    finish h "removing libpam-breakglass in the booted system never leaves sudo unable to load its plugins"
}

# ---------------------------------------------------------------- run
case "$MODE" in
all | tests)
    if [ -n "${BG_SYSTEM_TEST_SCENARIOS:-}" ]; then
        for sc in $BG_SYSTEM_TEST_SCENARIOS; do "scenario_$sc"; done
    else
        scenario_a_b
        scenario_e
        scenario_f
        scenario_g
        scenario_c
        [ "$MODE" = all ] && bench
        scenario_d
        scenario_i
        scenario_h
    fi
    ;;
bench) bench ;;
esac

poweroff_container
echo
for line in "${SUMMARY[@]}"; do echo "  $line"; done
echo "system tests: $PASSED passed, $FAILED failed ($(($(date +%s) - START)) s)"
[ "$FAILED" -eq 0 ]
