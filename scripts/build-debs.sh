#!/bin/bash
# SPDX-License-Identifier: ISC
# Builds the Debian packages (breakglass, libpam-breakglass) from a clean copy of
# this working tree, then checks them with lintian.
#
#   scripts/build-debs.sh [OUTDIR]      (default OUTDIR: ./debs)
#
# The copy holds the tracked files plus new files git does not ignore (so build*/
# and other ignored files stay out; uncommitted changes are included). Runs
# `dpkg-buildpackage -us -uc -b` there, copies the .deb, .buildinfo and .changes
# files to OUTDIR, runs lintian on the .changes and fails if lintian reports any
# error (E:). Installs its tools and the build dependencies with apt-get when
# they are missing (as root, or through sudo). Needs no root for the build itself.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
outdir="${1:-./debs}"
mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"
cd "$here"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_install() {
    echo "build-debs: installing: $*"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Tools.
tools=(dpkg-dev debhelper lintian po-debconf git)
missing=()
for p in "${tools[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# Build dependencies from debian/control (first alternative, no version).
unmet="$(dpkg-checkbuilddeps 2>&1 | sed -n 's/.*Unmet build dependencies: //p')" || true
if [ -n "$unmet" ]; then
    # "a (>= 1) | b c:native" -> "a c"
    pkgs="$(echo "$unmet" | sed -E 's/\([^)]*\)//g; s/ *\| *[^ ]+//g; s/:[a-z0-9]+//g')"
    # shellcheck disable=SC2086
    apt_install $pkgs
    dpkg-checkbuilddeps
fi

# A clean copy of the working tree.
work="$(mktemp -d /tmp/breakglass-debs.XXXXXX)"
trap 'rm -rf "$work"' EXIT
src="$work/breakglass"
mkdir -p "$src"
if git -C "$here" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$here" ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done \
        | tar -C "$here" --null -T - -cf - | tar -C "$src" -xf -
else
    tar -C "$here" --exclude='./build*' --exclude='./debs' --exclude='./.git' -cf - . | tar -C "$src" -xf -
fi

echo "build-debs: building in $src"
start=$(date +%s)
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=$(nproc)}"
(cd "$src" && dpkg-buildpackage -us -uc -b)
echo "build-debs: dpkg-buildpackage took $(( $(date +%s) - start )) s"

shopt -s nullglob
results=("$work"/*.deb "$work"/*.buildinfo "$work"/*.changes)
cp -f "${results[@]}" "$outdir/"
changes=("$work"/*.changes)
echo "build-debs: wrote to $outdir:"
for f in "${results[@]}"; do echo "  $(basename "$f")"; done

echo "build-debs: lintian ${changes[0]##*/}"
lintian_out="$(lintian --fail-on none "${changes[0]}" 2>&1)" || true
[ -z "$lintian_out" ] || printf '%s\n' "$lintian_out"
if printf '%s\n' "$lintian_out" | grep -q '^E: '; then
    echo "build-debs: lintian reports errors" >&2
    exit 1
fi
echo "build-debs: lintian: no errors ($(printf '%s\n' "$lintian_out" | grep -c '^W: ' || true) warnings)"
