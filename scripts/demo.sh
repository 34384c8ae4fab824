#!/bin/bash
# SPDX-License-Identifier: ISC
# One break-glass, end to end, on the built-in example policy, through the
# real PAM module and libpam: breakglassd in a temporary directory, a TOTP
# secret enrolled and the code computed by the demo, a PAM service file that
# loads pam_breakglass.so, a 10-second grant, its audit record, its expiry.
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
cmake --build build --target breakglassd breakglassctl totp_now pam_breakglass pam_demo >/dev/null

tmp=$(mktemp -d /tmp/breakglass-demo.XXXXXX)
chmod 0755 "$tmp"
daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

ctl() { build/helper/ctl/breakglassctl "$@" --socket "$tmp/socket"; }

# The example policy, with gate 'breakglass' shortened to 10 seconds for the demo.
awk '/^\[gate\.breakglass\]/ { in_gate = 1 } /^\[/ && !/breakglass\]/ { in_gate = 0 }
     in_gate && /^ttl = / { $0 = "ttl = \"10s\"                       # demo: 10 seconds" } { print }' \
  policy/example-policy.toml >"$tmp/policy.toml"
chmod 0644 "$tmp/policy.toml"
echo "== policy: $tmp/policy.toml (policy/example-policy.toml, gate 'breakglass' ttl 10s)"
build/helper/ctl/breakglassctl policy check "$tmp/policy.toml"

echo "== starting breakglassd (state in $tmp/state)"
build/helper/daemon/breakglassd --socket "$tmp/socket" --state-dir "$tmp/state" --policy "$tmp/policy.toml" \
  2>"$tmp/daemon.log" &
daemon_pid=$!
for _ in $(seq 50); do [ -S "$tmp/socket" ] && break; sleep 0.1; done

echo "== enrolling a TOTP second factor for root (the URI is what an authenticator app scans)"
uri=$(ctl enroll totp root 2>/dev/null)
echo "   ${uri%%secret=*}secret=<hidden>&${uri#*&}"
secret=$(sed -n 's/.*secret=\([A-Z2-7]*\).*/\1/p' <<<"$uri")

echo "== a PAM service that requires a break-glass: $tmp/pam.d/breakglass-demo"
mkdir -p "$tmp/pam.d"
module="$PWD/build/pam_module/pam_breakglass.so"
for type in auth account session; do
  printf '%-8s required %s gate=breakglass socket=%s\n' "$type" "$module" "$tmp/socket"
done >"$tmp/pam.d/breakglass-demo"
sed 's/^/   /' "$tmp/pam.d/breakglass-demo"

echo "== breaking the glass through libpam as root: reason, incident INC-1001, the TOTP code"
code=$(build/demo/totp_now <<<"$secret")
unset secret uri
printf '%s\n%s\n%s\n' "demo: primary database unreachable, failover stuck" "INC-1001" "$code" |
  build/demo/pam_demo --confdir "$tmp/pam.d" --service breakglass-demo --user root

echo "== active grants"
ctl status

echo "== the grant's audit record (canonical JSON, hash-chained and sealed)"
ctl log --json | grep '"event":"grant"' | tail -1

echo "== the PAM session under the grant (session_open, session_close)"
ctl log | grep -E ' session_(open|close) '

echo "== waiting for the grant to expire by itself ..."
sleep 11
ctl list --all
echo "== the expiry record"
ctl log --json | grep '"event":"expire"' | tail -1

echo "== verifying the whole log offline with the initial sealing key"
build/helper/ctl/breakglassctl verify --state-dir "$tmp/state" --key "$tmp/state/audit.key.initial"
echo "== demo done"
