#!/bin/bash
# SPDX-License-Identifier: ISC
# Revocation lag (issue 5): 20 grants in a booted Debian 12 container, each with
# `sudo -g breakglass sleep 1000` under it; expires_at -> the session's last
# process gone; prints p50 and max, target max <= 2 s (exit 1 if not met).
#   bench/revocation_lag.sh [DEBDIR]        (as root; see scripts/system-test.sh)
# scripts/system-test.sh runs the same benchmark in its full run, on the same boot.
exec "$(dirname "$0")/../scripts/system-test.sh" --bench-only "$@"
