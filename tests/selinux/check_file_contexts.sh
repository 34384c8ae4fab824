#!/bin/bash
# SPDX-License-Identifier: ISC
# Every path that the packages install (debian/*.install, debian/*.dirs) and
# that the units create or run (systemd/: ExecStart, the socket and its
# directory, StateDirectory, tmpfiles.d) is labelled by the file contexts of
# a policy with selinux/breakglass.pp linked in (link_module.sh):
#   - executables (sbin, bin, libexec, except shared objects), the units and
#     everything under /etc, /var and /run get a breakglass type from
#     selinux/breakglass.fc, and the daemon's its entry type;
#   - every other path (man pages, documentation, the PAM module and sudo
#     plugin) gets a type of the reference policy other than default_t.
#   check_file_contexts.sh REPO FILE_CONTEXTS
# Exit 0: every path labelled as above (listed); 1: some not; 2: bad usage.
set -uo pipefail
repo="${1:?repo}" fc="${2:?file_contexts}"
command -v matchpathcon >/dev/null || { echo "check_file_contexts: matchpathcon not found (apt-get install selinux-utils)" >&2; exit 2; }
[ -r "$fc" ] || { echo "check_file_contexts: cannot read $fc" >&2; exit 2; }
cd "$repo" || exit 2
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

paths() {
    # debian/PACKAGE.install: "SOURCE [DEST-DIR]"; the installed path is
    # DEST-DIR/basename(SOURCE), or SOURCE itself.
    for f in debian/*.install; do
        while read -r src dest; do
            case "$src" in '' | '#'*) continue ;; esac
            src="${src//\*/$multiarch}"
            if [ -n "$dest" ]; then echo "/$dest/${src##*/}"; else echo "/$src"; fi
        done <"$f"
    done
    for f in debian/*.dirs; do
        sed -e '/^[[:space:]]*$/d' -e '/^#/d' -e 's|^|/|' "$f"
    done
    # The units: the executable, the socket and its directory, the state directory.
    sed -n 's|^ExecStart=@BG_SBINDIR@|/usr/sbin|p' systemd/breakglassd.service.in
    for p in $(sed -n 's/^Listen[A-Za-z]*=\(\/.*\)/\1/p' systemd/breakglassd.socket); do
        echo "$p"
        dirname "$p"
    done
    sed -n 's|^StateDirectory=|/var/lib/|p' systemd/breakglassd.service.in
    # tmpfiles.d lines: "TYPE PATH ...".
    awk '!/^#/ && NF >= 2 { print $2 }' systemd/breakglass.tmpfiles
}

list=$(paths | sed 's|//*|/|g; s|/$||' | sort -u)
[ -n "$list" ] || { echo "check_file_contexts: no installed paths found under $repo" >&2; exit 2; }
status=0
while IFS= read -r path; do
    context=$(matchpathcon -f "$fc" "$path" 2>/dev/null | awk '{print $2}')
    type=$(cut -d: -f3 <<<"$context")
    case "$path" in
    *.so) want=reference ;;
    /usr/sbin/breakglassd) want=breakglassd_exec_t ;;
    /usr/sbin/* | /usr/bin/* | /usr/libexec/* | /sbin/* | /bin/*) want=breakglass ;;
    */systemd/system/*) want=breakglass ;;
    /etc/* | /var/* | /run/*) want=breakglass ;;
    *) want=reference ;;
    esac
    case "$want:$type" in
    reference:default_t | reference:unlabeled_t | reference:) bad="no label (${type:-none}) in the file contexts" ;;
    reference:*) bad="" ;;
    breakglass:breakglass*_t) bad="" ;;
    breakglass:*) bad="labelled ${type:-nothing}, not a breakglass type: add it to selinux/breakglass.fc" ;;
    "$type:$type") bad="" ;;
    *) bad="labelled ${type:-nothing}, want $want" ;;
    esac
    if [ -n "$bad" ]; then
        echo "check_file_contexts: $path: $bad"
        status=1
    else
        printf '  %-55s %s\n' "$path" "$type"
    fi
done <<<"$list"
[ "$status" -eq 0 ] && echo "check_file_contexts: $(wc -l <<<"$list") installed paths labelled"
exit "$status"
