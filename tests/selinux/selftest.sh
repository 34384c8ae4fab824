#!/bin/bash
# SPDX-License-Identifier: ISC
# Each SELinux check refuses a module that breaks its rule. Builds a copy of
# selinux/ with rules it forbids added and the state rule removed, links it
# into the reference policy (link_module.sh), and expects every
# check_policy.sh check to fail on it; and check_file_contexts.sh to fail on
# file contexts that lack the daemon's line.
#   selftest.sh REPO WORKDIR
set -uo pipefail
repo="${1:?repo}" work="${2:?workdir}"
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$work"
mkdir -p "$work/module"
cp "$repo"/selinux/breakglass.te "$repo"/selinux/breakglass.fc "$repo"/selinux/breakglass.if "$work/module/"
te="$work/module/breakglass.te"
# state: no more writing its state directory.
sed -i '/^manage_files_pattern(breakglassd_t, breakglass_var_lib_t, breakglass_var_lib_t)$/d' "$te"
grep -q 'manage_files_pattern(breakglassd_t, breakglass_var_lib_t, breakglass_var_lib_t)' "$te" &&
    { echo "selftest: could not remove the state rule"; exit 1; }
cat >>"$te" <<'RULES'
# Forbidden, for the self-test only.
gen_require(`
	type shadow_t, bin_t;
')
allow breakglassd_t shadow_t:file read_file_perms;
allow breakglassd_t self:capability sys_admin;
allow breakglass_hook_t self:capability setuid;
breakglass_stream_connect(breakglass_hook_t)
allow breakglass_hook_t breakglass_secret_t:file read_file_perms;
allow breakglassd_t bin_t:file entrypoint;
RULES
if ! make -C "$work/module" -f /usr/share/selinux/devel/Makefile NAME=default breakglass.pp >"$work/make.log" 2>&1; then
    cat "$work/make.log"
    echo "selftest: the broken module does not build"
    exit 1
fi
"$here/link_module.sh" "$work/module/breakglass.pp" "$work/root" >/dev/null || { echo "selftest: the broken module does not link"; exit 1; }
policy=$(ls "$work"/root/etc/selinux/default/policy/policy.* | head -1)
status=0
for check in entry state connect capability secrets; do
    out=$("$here/check_policy.sh" "$policy" "$check" "$repo/systemd/breakglassd.service.in" 2>&1)
    rc=$?
    if [ "$rc" -eq 1 ]; then
        echo "selftest: $check refuses the broken module:"
        printf '%s\n' "$out" | sed 's/^/    /'
    else
        echo "selftest: $check did not refuse the broken module (exit $rc): $out"
        status=1
    fi
done
fc="$work/root/etc/selinux/default/contexts/files/file_contexts"
grep -v 'breakglassd_exec_t' "$fc" >"$work/file_contexts.broken"
cp "$fc.subs_dist" "$work/file_contexts.broken.subs_dist"
out=$("$here/check_file_contexts.sh" "$repo" "$work/file_contexts.broken" 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && grep -q '/usr/sbin/breakglassd: ' <<<"$out"; then
    echo "selftest: check_file_contexts refuses file contexts without the daemon's line:"
    grep '^check_file_contexts: /' <<<"$out" | sed 's/^/    /'
else
    echo "selftest: check_file_contexts did not refuse file contexts without the daemon's line (exit $rc): $out"
    status=1
fi
rm -rf "$work"
exit "$status"
