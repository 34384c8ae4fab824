#!/bin/bash
# SPDX-License-Identifier: ISC
# Links a policy module into Debian's reference policy without touching the
# host's: copies the installed policy store (/var/lib/selinux/default, from
# selinux-policy-default) into a temporary root, installs the module there
# with semodule -p ROOT -n (no reload: no SELinux kernel is needed) and leaves
# the linked binary policy and file contexts under ROOT/etc/selinux/default.
#   link_module.sh MODULE.pp ROOT
# Exit 0: linked; 1: semodule refused the module; 2: no store to copy.
set -euo pipefail
module="$1" root="$2"
store=/var/lib/selinux/default
contexts=/etc/selinux/default/contexts/files
[ -d "$store/active" ] || { echo "link_module: no policy store at $store (apt-get install selinux-policy-default)" >&2; exit 2; }
[ -r "$module" ] || { echo "link_module: cannot read $module" >&2; exit 2; }
rm -rf "$root"
mkdir -p "$root/etc/selinux" "$root/var/lib/selinux"
printf 'SELINUX=permissive\nSELINUXTYPE=default\n' >"$root/etc/selinux/config"
cp -a "$store" "$root/var/lib/selinux/"
# Without -n semodule would try to load the policy into the running kernel.
if ! out=$(semodule -p "$root" -s default -n -i "$module" 2>&1); then
    printf '%s\n' "$out" >&2
    echo "link_module: semodule refused $module" >&2
    exit 1
fi
# Users the host's password file lacks are reported, harmlessly; anything else is shown.
printf '%s\n' "$out" | grep -v 'not in password file' >&2 || true
policy=$(ls "$root"/etc/selinux/default/policy/policy.* 2>/dev/null | head -1)
[ -n "$policy" ] || { echo "link_module: semodule wrote no binary policy under $root" >&2; exit 1; }
# Path aliases (/lib -> /usr/lib, /var/run -> /run) that restorecon applies.
cp "$contexts/file_contexts.subs_dist" "$root/etc/selinux/default/contexts/files/"
echo "link_module: $(basename "$module") linked into Debian's reference policy: $policy"
