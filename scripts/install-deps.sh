#!/bin/bash
# SPDX-License-Identifier: ISC
# Installs what breakglass needs to build, test and run its demo on Debian 12.
# Idempotent: does nothing when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev libfuzzer-14-dev
  libssl-dev libsystemd-dev libpam0g-dev libcurl4-openssl-dev libyubikey-dev
  libtoml11-dev nlohmann-json3-dev libcli11-dev libgtest-dev
  util-linux passwd sudo groff-base man-db systemd
  openssl curl systemd-journal-remote libxml2-utils
  libpq-dev postgresql-15
  selinux-policy-dev selinux-policy-default setools checkpolicy semodule-utils policycoreutils selinux-utils
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
