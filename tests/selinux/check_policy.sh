#!/bin/bash
# SPDX-License-Identifier: ISC
# sesearch assertions on a binary policy into which selinux/breakglass.pp was
# linked (link_module.sh). Conditional rules count as if their boolean were
# on: a rule that a boolean can turn on is a rule the domain can have.
#   check_policy.sh POLICY CHECK [UNIT]
# CHECK is one of:
#   entry        breakglassd_t is entered only from breakglassd_exec_t, by systemd
#   state        it can create, write and append its state and audit log
#                (breakglass_var_lib_t) and read no shadow_t, user_home_t or
#                user_tmp_t file
#   connect      exactly the listed domains have connectto on breakglassd_t's
#                unix_stream_socket (AF_UNIX SOCK_SEQPACKET is that class)
#   capability   breakglassd_t's capabilities are a subset of the unit's
#                CapabilityBoundingSet (UNIT: breakglassd.service[.in]); the
#                hook and breakglassctl domains have none
#   secrets      breakglass_secret_t files are read by breakglassd_t and by no
#                other rule except the reference policy's every-file readers
#                (target attribute file_type); the hook domain reads no state
# Exit 0: holds; 1: violated (what and why printed); 2: bad usage.
set -uo pipefail
policy="${1:?policy}" check="${2:?check}" unit="${3:-}"
command -v sesearch >/dev/null || { echo "check_policy: sesearch not found (apt-get install setools)" >&2; exit 2; }
[ -r "$policy" ] || { echo "check_policy: cannot read $policy" >&2; exit 2; }
status=0
fail() { echo "check_policy $check: $*"; status=1; }

# "SOURCE TARGET:CLASS perm perm ..." for each matching allow rule.
rules() {
    sesearch -A "$@" "$policy" | sed -E 's/ \[ .* \]:(True|False)$//; s/^allow //; s/[{};]//g; s/  +/ /g; s/ $//'
}
# The permissions SOURCE has on TARGET:CLASS (through attributes too), one per line.
perms() {
    rules -s "$1" -t "$2" -c "$3" | cut -d' ' -f3- | tr ' ' '\n' | sed '/^$/d' | sort -u
}

case "$check" in
entry)
    entries=$(rules -s breakglassd_t -c file -p entrypoint | awk '{split($2, t, ":"); print t[1]}' | sort -u)
    entries=$(echo $entries)
    [ "$entries" = "breakglassd_exec_t" ] || fail "breakglassd_t is entered from: ${entries:-nothing}; want breakglassd_exec_t only"
    trans=$(sesearch -T -s init_t -t breakglassd_exec_t -c process "$policy")
    grep -q 'type_transition init_t breakglassd_exec_t:process breakglassd_t' <<<"$trans" ||
        fail "systemd (init_t) does not run breakglassd_exec_t in breakglassd_t"
    ;;
state)
    have=$(perms breakglassd_t breakglass_var_lib_t file)
    for p in create open read write append getattr rename unlink; do
        grep -qx "$p" <<<"$have" || fail "breakglassd_t lacks $p on its state files (breakglass_var_lib_t:file)"
    done
    have=$(perms breakglassd_t breakglass_var_lib_t dir)
    for p in search add_name remove_name write; do
        grep -qx "$p" <<<"$have" || fail "breakglassd_t lacks $p on its state directory (breakglass_var_lib_t:dir)"
    done
    for t in shadow_t user_home_t user_tmp_t; do
        r=$(rules -s breakglassd_t -t "$t" -c file -p read)
        [ -z "$r" ] || fail "breakglassd_t can read $t files: $r"
    done
    ;;
connect)
    # Their front-ends: sudo (the plugin), sshd, login, su, PostgreSQL (the PAM
    # module); users (breakglassctl, run in their own domain); breakglassctl_t
    # (the expiry timer); and the reference policy's unconfined domains,
    # which may connect to any domain. Not the daemon itself.
    want="breakglassctl_t local_login_t postgresql_t sshd_t staff_su_t sudodomain sysadm_su_t unconfined_domain_type user_su_t userdomain"
    got=$(rules -t breakglassd_t -c unix_stream_socket -p connectto | cut -d' ' -f1 | sort -u | tr '\n' ' ')
    got="${got% }"
    [ "$got" = "$want" ] || fail "domains with connectto on breakglassd_t:unix_stream_socket: [$got]; want [$want]"
    ;;
capability)
    [ -r "$unit" ] || { echo "check_policy: capability needs the unit file" >&2; exit 2; }
    bounding=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr ' ' '\n' | sed -n 's/^CAP_//p' | tr 'A-Z' 'a-z' | sort -u)
    [ -n "$bounding" ] || { echo "check_policy: no CapabilityBoundingSet= in $unit" >&2; exit 2; }
    for c in capability capability2 cap_userns cap2_userns; do
        for p in $(perms breakglassd_t breakglassd_t "$c"); do
            if [ "$c" != capability ] || ! grep -qx "$p" <<<"$bounding"; then
                fail "breakglassd_t has $c $p, which the unit's CapabilityBoundingSet ($(echo $bounding)) does not give it"
            fi
        done
        for d in breakglassctl_t breakglass_hook_t; do
            r=$(rules -s "$d" -t "$d" -c "$c")
            [ -z "$r" ] || fail "$d has capabilities: $r"
        done
    done
    ;;
secrets)
    while read -r source target _; do
        [ -n "$source" ] || continue
        [ "$source" = breakglassd_t ] && continue
        [ "${target%%:*}" = file_type ] && continue
        fail "$source may read breakglass_secret_t files (rule on $target)"
    done < <(rules -t breakglass_secret_t -c file -p read)
    for t in breakglass_secret_t breakglass_var_lib_t; do
        r=$(rules -s breakglass_hook_t -t "$t" -c file -p read)
        [ -z "$r" ] || fail "the hook domain can read $t files: $r"
    done
    ;;
*)
    echo "check_policy: unknown check '$check'" >&2
    exit 2
    ;;
esac
[ "$status" -eq 0 ] && echo "check_policy $check: holds on $(basename "$policy")"
exit "$status"
