#!/bin/bash
# One break-glass, end to end, on the built-in example policy:
# breakglassd in a temporary directory, a TOTP secret enrolled and the code
# computed by the demo, a 10-second grant, its audit record, its expiry.
# Nothing outside the temporary directory (and ./build) is touched.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "The demo runs the daemon as root (as systemd would); re-running with sudo."
  exec sudo "$0" "$@"
fi

scripts/install-deps.sh
echo "== building breakglassd and breakglassctl"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target breakglassd breakglassctl totp_now >/dev/null

tmp=$(mktemp -d /tmp/breakglass-demo.XXXXXX)
chmod 0755 "$tmp"
daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

ctl() { build/helper/breakglassctl "$@" --socket "$tmp/socket"; }

install -m 0644 policy/example-policy.toml "$tmp/policy.toml"
echo "== policy: $tmp/policy.toml (policy/example-policy.toml)"
build/helper/breakglassctl policy check "$tmp/policy.toml"

echo "== starting breakglassd (state in $tmp/state)"
build/helper/breakglassd --socket "$tmp/socket" --state-dir "$tmp/state" --policy "$tmp/policy.toml" \
  2>"$tmp/daemon.log" &
daemon_pid=$!
for _ in $(seq 50); do [ -S "$tmp/socket" ] && break; sleep 0.1; done

echo "== enrolling a TOTP second factor for root (the URI is what an authenticator app scans)"
uri=$(ctl enroll totp root 2>/dev/null)
echo "   ${uri%%secret=*}secret=<hidden>&${uri#*&}"
secret=$(sed -n 's/.*secret=\([A-Z2-7]*\).*/\1/p' <<<"$uri")

echo "== breaking the glass: gate 'breakglass', incident INC-1001, 10 seconds"
code=$(build/demo/totp_now <<<"$secret")
unset secret uri
ctl request --gate breakglass --reason "demo: primary database unreachable, failover stuck" \
  --incident INC-1001 --ttl 10s <<<"$code"

echo "== active grants"
ctl status

echo "== the grant's audit record (canonical JSON, hash-chained and sealed)"
ctl log --json | grep '"event":"grant"' | tail -1

echo "== waiting for the grant to expire by itself ..."
sleep 11
ctl list --all
echo "== the expiry record"
ctl log --json | grep '"event":"expire"' | tail -1

echo "== verifying the whole log offline with the initial sealing key"
build/helper/breakglassctl verify --state-dir "$tmp/state" --key "$tmp/state/audit.key.initial"
echo "== demo done"
