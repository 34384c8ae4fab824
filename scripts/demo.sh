#!/bin/bash
# SPDX-License-Identifier: ISC
# One break-glass, end to end, on the built-in example policy, through the
# real PAM module and libpam: breakglassd in a temporary directory, a TOTP
# secret enrolled and the code computed by the demo, a PAM service file that
# loads pam_breakglass.so, a 10-second grant, its audit record, its expiry.
# Every record also leaves the host: a local systemd-journal-remote on
# 127.0.0.1 (HTTPS, certificates made here with openssl, a temporary journal
# file) is the policy's [sink.central]; the grant record is read back from it
# with journalctl, and the remote copy is verified with the checkpoint key.
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
remote_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  [ -n "$remote_pid" ] && kill "$remote_pid" 2>/dev/null && wait "$remote_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

ctl() { build/helper/ctl/breakglassctl "$@" --socket "$tmp/socket"; }

# The example policy, with gate 'breakglass' shortened to 10 seconds for the demo.
awk '/^\[gate\.breakglass\]/ { in_gate = 1 } /^\[/ && !/breakglass\]/ { in_gate = 0 }
     in_gate && /^ttl = / { $0 = "ttl = \"10s\"                       # demo: 10 seconds" } { print }' \
  policy/example-policy.toml >"$tmp/policy.toml"
chmod 0644 "$tmp/policy.toml"

echo "== a remote sink: systemd-journal-remote on 127.0.0.1, HTTPS, certificates made with openssl in $tmp/sink"
mkdir -m 0700 "$tmp/sink"
(
  cd "$tmp/sink"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 1 \
    -subj "/CN=breakglass demo CA" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
    -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile server.ext \
    -out server.pem 2>/dev/null
)
remote_journal="$tmp/sink/remote.journal"
for _ in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 40000))
  /lib/systemd/systemd-journal-remote --listen-https="127.0.0.1:$port" --key="$tmp/sink/server.key" \
    --cert="$tmp/sink/server.pem" --split-mode=none --output="$remote_journal" >"$tmp/sink/journal-remote.log" 2>&1 &
  remote_pid=$!
  for _ in $(seq 50); do
    curl -s -o /dev/null --cacert "$tmp/sink/ca.pem" "https://localhost:$port/" && break
    kill -0 "$remote_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$remote_pid" 2>/dev/null && break
  wait "$remote_pid" || true
  remote_pid=""
done
if [ -z "$remote_pid" ]; then
  echo "systemd-journal-remote did not start:" >&2
  cat "$tmp/sink/journal-remote.log" >&2
  exit 1
fi
echo "   listening on https://localhost:$port, writing $remote_journal"
printf '\n# demo: every record is shipped to the local systemd-journal-remote\n[sink.central]\ntype = "journal-remote"\nurl = "https://localhost:%s"\nca_file = "%s"\n' \
  "$port" "$tmp/sink/ca.pem" >>"$tmp/policy.toml"

echo "== policy: $tmp/policy.toml (policy/example-policy.toml, gate 'breakglass' ttl 10s, [sink.central])"
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
grant_record=$(ctl log --json | grep '"event":"grant"' | tail -1)
echo "$grant_record"
event_id=$(sed -n 's/.*"event_id":"\([^"]*\)".*/\1/p' <<<"$grant_record")

echo "== the same record read back from the remote sink: journalctl --file $remote_journal BREAKGLASS_EVENT_ID=$event_id"
for _ in $(seq 100); do
  journalctl --file "$remote_journal" "BREAKGLASS_EVENT_ID=$event_id" -q -o cat 2>/dev/null | grep -q . && break
  sleep 0.1
done
journalctl --file "$remote_journal" "BREAKGLASS_EVENT_ID=$event_id" -q -o verbose \
  --output-fields=MESSAGE,SYSLOG_IDENTIFIER,BREAKGLASS_EVENT,BREAKGLASS_SEQ,BREAKGLASS_RECORD

echo "== the PAM session under the grant (session_open, session_close)"
ctl log | grep -E ' session_(open|close) '

echo "== waiting for the grant to expire by itself ..."
sleep 11
ctl list --all
echo "== the expiry record"
ctl log --json | grep '"event":"expire"' | tail -1

echo "== verifying the whole log offline with the initial sealing key"
build/helper/ctl/breakglassctl verify --state-dir "$tmp/state" --key "$tmp/state/audit.key.initial"

echo "== the sink has every record (breakglassctl status: its sink line)"
for _ in $(seq 100); do
  ctl status | grep -q '^sink central .*nothing waiting' && break
  sleep 0.1
done
ctl status | grep -A1 '^sink '

echo "== verifying the remote copy (the journal file) with the checkpoint public key alone"
build/helper/ctl/breakglassctl checkpoint-key --state-dir "$tmp/state" >"$tmp/checkpoint.pub"
echo "   checkpoint public key: $(cat "$tmp/checkpoint.pub")"
build/helper/ctl/breakglassctl verify --journal-file "$remote_journal" --pubkey "$tmp/checkpoint.pub"
echo "== demo done"
