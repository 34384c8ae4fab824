#!/bin/bash
# SPDX-License-Identifier: ISC
# Fails when a source file lacks "SPDX-License-Identifier: ISC" in its first
# three lines (the licence is in LICENSE). Source files: C++, CMake, shell,
# systemd units, version scripts, man pages, the example policy, fuzz
# dictionaries, CI and Debian maintainer scripts, the SELinux module. Test data (golden files,
# fuzz corpora), debconf translations (debian/po) and Markdown are not source.
#   check_spdx.sh [REPO]
set -uo pipefail
repo="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$repo" || exit 2
status=0
count=0
while IFS= read -r file; do
    file="${file#./}"
    count=$((count + 1))
    if ! head -n 3 "$file" | grep -q 'SPDX-License-Identifier: ISC'; then
        echo "$file: no 'SPDX-License-Identifier: ISC' line in its first three lines"
        status=1
    fi
done < <(find . \( -path ./.git -o -path './build*' -o -path ./tests/golden -o -path ./tests/fuzz/corpus -o -path ./debian/po \) -prune -o \
              -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.c' -o -name '*.cmake' \
                         -o -name CMakeLists.txt -o -name '*.sh' -o -name '*.in' -o -name '*.socket' \
                         -o -name '*.service' -o -name '*.map' -o -name '*.[158]' -o -name '*.toml' \
                         -o -name '*.dict' -o -name '*.tmpfiles' -o -name '*.sysusers' -o -path ./.ci/run \
                         -o -path ./debian/rules -o -name '*.postinst' -o -name '*.postrm' -o -name '*.prerm' \
                         -o -name '*.preinst' -o -name '*.config' -o -name '*.te' -o -name '*.fc' -o -name '*.if' \
                         -o -path ./selinux/Makefile \) -print | sort)
[ "$count" -gt 0 ] || { echo "check_spdx: no source files found under $repo" >&2; exit 2; }
[ "$status" -eq 0 ] && echo "check_spdx: $count source files carry the ISC SPDX line"
exit "$status"
