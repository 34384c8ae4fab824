#!/bin/bash
# SPDX-License-Identifier: ISC
# Packaging scenarios of issue 10 (item 9), with the real .debs in a minimal
# Debian 12 container (systemd-nspawn --pipe, not booted: dpkg, sudo and the
# maintainer scripts need no running systemd). Nothing on the host changes
# except that the rootfs may be read from scripts/system-test.sh's cache in
# /var/cache/breakglass-system-test/ (under its lock); without a cache it is
# debootstrapped into this run's temporary directory and not kept.
#
#   scripts/system-test-removal.sh [DEBDIR]
#
# DEBDIR: a directory with breakglass_*.deb and libpam-breakglass_*.deb; without
# it the packages are built with scripts/build-debs.sh. Needs root.
# Scenarios (each prints PASS/FAIL and why):
#   group    a `breakglass` group that exists with a member before the first
#            install: breakglass is left unconfigured and the message names the
#            member; once the member is removed, dpkg --configure completes; a
#            member found on an upgrade (reinstall) is a warning, not a failure
#   removal  with the two Plugin lines of examples/sudo.conf.breakglass in
#            /etc/sudo.conf, `dpkg -r libpam-breakglass` is refused, the package
#            and breakglass_sudo.so stay, and `sudo true` still works; with the
#            lines commented out as the message says, the removal goes through
#            and `sudo true` still works (before issue 10 the first removal went
#            through and every sudo command failed: "unable to load plugins")
# Exit status 0 only if every scenario passed. BG_SYSTEM_TEST_KEEP=1 keeps the
# temporary directory.
set -uo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
DEBDIR="${1:-}"
if [ "$(id -u)" -ne 0 ]; then
    echo "system-test-removal: needs root (systemd-nspawn)" >&2
    exit 2
fi
CACHE_DIR="${BG_SYSTEM_TEST_CACHE:-/var/cache/breakglass-system-test}"
SUITE=bookworm
# As scripts/system-test.sh, for a rootfs made here.
INCLUDE="systemd,systemd-sysv,dbus,sudo,procps,adduser,debconf,libpam-runtime,libpam0g,libyubikey0,libssl3,libsystemd0,libcurl4,libpq5"

log() { printf 'system-test-removal: %s\n' "$*"; }
die() { printf 'system-test-removal: FATAL: %s\n' "$*" >&2; exit 1; }

WORK=$(mktemp -d /var/tmp/breakglass-removal-test.XXXXXX)
chmod 0700 "$WORK"
ROOT="$WORK/root"
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    findmnt -rn -o TARGET | grep -F "$WORK/" | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
    if [ "${BG_SYSTEM_TEST_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf --one-file-system "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A shell command in the container: its stdout and stderr, and its exit status
# (systemd-nspawn's own messages go to nspawn.log).
ct() {
    systemd-nspawn -q -D "$ROOT" --register=no --keep-unit --pipe /bin/sh -c "exec 2>&1; $1" \
        </dev/null 2>>"$WORK/nspawn.log"
}
# "install ok installed" and the like (a refused removal leaves "deinstall ok installed").
status_of() { ct "dpkg-query -W -f='\${Status}' $1 2>/dev/null" | tail -1; }

PASSED=0
FAILED=0
BAD=()
OKS=()
ok() { OKS+=("$*"); }
bad() { BAD+=("$*"); }
finish() {  # NAME TITLE
    local m
    if [ ${#BAD[@]} -eq 0 ]; then
        PASSED=$((PASSED + 1))
        printf 'PASS %s: %s\n' "$1" "$2"
        for m in "${OKS[@]}"; do printf '       %s\n' "$m"; done
    else
        FAILED=$((FAILED + 1))
        printf 'FAIL %s: %s\n' "$1" "$2"
        for m in "${BAD[@]}"; do printf '       - %s\n' "$m"; done
        for m in "${OKS[@]}"; do printf '       (ok) %s\n' "$m"; done
    fi
    BAD=()
    OKS=()
}

# ---------------------------------------------------------------- packages
if [ -z "$DEBDIR" ]; then
    DEBDIR="$WORK/debs"
    log "building the .debs: scripts/build-debs.sh $DEBDIR"
    "$REPO/scripts/build-debs.sh" "$DEBDIR" >"$WORK/build-debs.log" 2>&1 || {
        tail -40 "$WORK/build-debs.log"
        die "scripts/build-debs.sh failed (log above)"
    }
fi
shopt -s nullglob
DEBS=("$DEBDIR"/breakglass_*.deb "$DEBDIR"/libpam-breakglass_*.deb)
shopt -u nullglob
[ ${#DEBS[@]} -eq 2 ] || die "want exactly one breakglass_*.deb and one libpam-breakglass_*.deb in $DEBDIR"

# ---------------------------------------------------------------- rootfs
mkdir -p "$ROOT"
CACHE=""
if [ -d "$CACHE_DIR" ] && exec {LOCK}>>"$CACHE_DIR/.lock"; then
    flock -w 1800 "$LOCK" || die "waited 30 min for $CACHE_DIR/.lock"
    CACHE=$(find "$CACHE_DIR" -maxdepth 1 -name "rootfs-$SUITE-*.tar" -size +1M -printf '%T@ %p\n' | sort -rn | head -1 | cut -d' ' -f2-)
    if [ -n "$CACHE" ]; then
        tar --numeric-owner --xattrs --xattrs-include='*' -C "$ROOT" -xpf "$CACHE" || die "cannot extract $CACHE"
        log "rootfs from $CACHE"
    fi
    flock -u "$LOCK"
    exec {LOCK}>&-
fi
if [ -z "$CACHE" ]; then
    command -v debootstrap >/dev/null || die "no rootfs cache in $CACHE_DIR and no debootstrap"
    log "debootstrap $SUITE (minbase + $INCLUDE)"
    debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$ROOT" http://deb.debian.org/debian \
        >"$WORK/debootstrap.log" 2>&1 || { tail -30 "$WORK/debootstrap.log"; die "debootstrap failed"; }
fi
install -d -m 0755 "$ROOT/var/tmp/debs"
cp "${DEBS[@]}" "$ROOT/var/tmp/debs/"

# ---------------------------------------------------------------- group
MEMBER=bgst-standing
out=$(ct "groupadd -r breakglass && useradd -M -s /usr/sbin/nologin -G breakglass $MEMBER && \
          DEBIAN_FRONTEND=noninteractive dpkg -i /var/tmp/debs/*.deb; echo rc=\$?")
if printf '%s\n' "$out" | grep -q '^rc=0$'; then
    bad "dpkg -i succeeded although the existing group breakglass has the member $MEMBER"
else
    ok "dpkg -i failed: the existing group breakglass has a member"
fi
st=$(status_of breakglass)
case "$st" in
*" installed") bad "breakglass is configured ($st) with $MEMBER in its group" ;;
*) ok "breakglass left unconfigured ($st)" ;;
esac
if printf '%s\n' "$out" | grep -q "has members: $MEMBER"; then
    ok "the message names $MEMBER"
else
    bad "no message naming $MEMBER; dpkg said:"$'\n'"$out"
fi
out=$(ct "gpasswd -d $MEMBER breakglass >/dev/null && DEBIAN_FRONTEND=noninteractive dpkg --configure -a; echo rc=\$?")
if printf '%s\n' "$out" | grep -q '^rc=0$' && [ "$(status_of breakglass)" = "install ok installed" ] &&
    [ "$(status_of libpam-breakglass)" = "install ok installed" ]; then
    ok "with the member removed, dpkg --configure -a configures both packages"
else
    bad "dpkg --configure -a after removing the member did not configure both packages:"$'\n'"$out"
fi
out=$(ct "gpasswd -a $MEMBER breakglass >/dev/null && DEBIAN_FRONTEND=noninteractive dpkg -i /var/tmp/debs/breakglass_*.deb; echo rc=\$?")
if printf '%s\n' "$out" | grep -q '^rc=0$' && printf '%s\n' "$out" | grep -q "WARNING: remove them from the group"; then
    ok "an upgrade (reinstall) with a member in the group warns and completes"
else
    bad "the upgrade with a member in the group did not warn and complete:"$'\n'"$out"
fi
ct "gpasswd -d $MEMBER breakglass >/dev/null; userdel $MEMBER" >/dev/null
finish group "a breakglass group with members is refused at the first install, warned about on upgrade"

# ---------------------------------------------------------------- removal
SO=/usr/libexec/sudo/breakglass_sudo.so
out=$(ct "grep '^Plugin' /usr/share/doc/breakglass/examples/sudo.conf.breakglass > /etc/sudo.conf && \
          cat /etc/sudo.conf && sudo true && echo sudo-ok")
if [ "$(printf '%s\n' "$out" | grep -c '^Plugin breakglass_.*breakglass_sudo\.so')" -eq 2 ] &&
    printf '%s\n' "$out" | grep -q '^sudo-ok$'; then
    ok "the example's two Plugin lines are in /etc/sudo.conf; sudo true works"
else
    bad "could not set up /etc/sudo.conf with the plugin (or sudo true failed):"$'\n'"$out"
fi
refusal=$(ct "DEBIAN_FRONTEND=noninteractive dpkg -r libpam-breakglass; echo rc=\$?")
if printf '%s\n' "$refusal" | grep -q '^rc=0$'; then
    bad "dpkg -r libpam-breakglass went through with the Plugin lines in /etc/sudo.conf"
else
    ok "dpkg -r libpam-breakglass refused while /etc/sudo.conf loads the plugin"
fi
if ! printf '%s\n' "$refusal" | grep -q "NOT removed: /etc/sudo.conf still loads breakglass_sudo.so" ||
    ! printf '%s\n' "$refusal" | grep -q "line 1: Plugin breakglass_approval"; then
    bad "the refusal does not show the lines:"$'\n'"$refusal"
fi
if [ "$(status_of libpam-breakglass)" = "deinstall ok installed" ] && ct "test -f $SO" >/dev/null; then
    ok "libpam-breakglass still installed, $SO still there"
else
    bad "after the refused removal: $(status_of libpam-breakglass), $SO $(ct "test -f $SO && echo present || echo missing")"
fi
out=$(ct "sudo true && echo sudo-ok")
if printf '%s\n' "$out" | grep -q '^sudo-ok$'; then
    ok "sudo true works after the refused removal"
else
    bad "sudo true fails after the removal attempt:"$'\n'"$out"
fi
# What the message tells the admin to run.
fix=$(printf '%s\n' "$refusal" | sed -n 's/^ *\(sed -i .*\/etc\/sudo.conf\)$/\1/p' | head -1)
[ -n "$fix" ] || bad "the refusal gives no sed command for /etc/sudo.conf"
out=$(ct "${fix:-false} && grep -c '^# Plugin breakglass_' /etc/sudo.conf && \
          DEBIAN_FRONTEND=noninteractive dpkg -r libpam-breakglass; echo rc=\$?")
if printf '%s\n' "$out" | grep -q '^rc=0$' && [ "$(status_of libpam-breakglass)" != "install ok installed" ]; then
    ok "with the lines commented out (the message's sed), dpkg -r libpam-breakglass goes through"
else
    bad "the removal after commenting the lines out failed:"$'\n'"$out"
fi
out=$(ct "test ! -e $SO && sudo true && echo sudo-ok")
if printf '%s\n' "$out" | grep -q '^sudo-ok$'; then
    ok "$SO is gone and sudo true works"
else
    bad "after the removal, sudo true fails (or $SO is still there):"$'\n'"$out"
fi
finish removal "removing libpam-breakglass never leaves sudo unable to load its plugins"

printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
[ "$FAILED" -eq 0 ]
