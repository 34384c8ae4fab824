#!/bin/bash
# SPDX-License-Identifier: ISC
# The repository checks must fail for the reason they are named after: each
# is run on a small tree with one violation and must exit 1 naming it, and
# on the same tree without it must exit 0.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "selftest: $*"; exit 1; }

mkdir -p "$tmp/docs" "$tmp/common" "$tmp/helper/daemon" "$tmp/pam_module/sudo"
cp "$repo/docs/ARCHITECTURE.md" "$tmp/docs/"
printf '// SPDX-License-Identifier: ISC\n#include "common/text.hpp"\n' >"$tmp/common/ok.cpp"
printf '// SPDX-License-Identifier: ISC\n#include "helper/daemon/daemon.hpp"\n' >"$tmp/helper/daemon/uses_daemon.cpp"
printf '// SPDX-License-Identifier: ISC\n#include "common/protocol.hpp"\n' >"$tmp/pam_module/sudo/plugin.cpp"

out=$("$here/check_layering.sh" "$tmp") || fail "layering: a clean tree was refused: $out"
printf '// SPDX-License-Identifier: ISC\n#include <string>\n#include "helper/daemon/daemon.hpp"\n' >"$tmp/common/bad.cpp"
printf '// SPDX-License-Identifier: ISC\n#include "pam_module/pam_args.hpp"\n' >"$tmp/pam_module/sudo/bad.cpp"
out=$("$here/check_layering.sh" "$tmp"); rc=$?
[ "$rc" -eq 1 ] || fail "layering: exit $rc, expected 1, for common/ including helper/daemon/: $out"
grep -q '^common/bad.cpp:3: includes "helper/daemon/daemon.hpp"' <<<"$out" || fail "layering: common/bad.cpp not named: $out"
grep -q '^pam_module/sudo/bad.cpp:2: includes "pam_module/pam_args.hpp" (pam_module)' <<<"$out" ||
    fail "layering: the longest folder does not win for pam_module/sudo: $out"
grep -q 'ok.cpp\|plugin.cpp\|uses_daemon.cpp' <<<"$out" && fail "layering: an allowed include was refused: $out"
rm "$tmp/common/bad.cpp" "$tmp/pam_module/sudo/bad.cpp"

out=$("$here/check_spdx.sh" "$tmp") || fail "spdx: a clean tree was refused: $out"
printf '#include "common/text.hpp"\n' >"$tmp/common/nospdx.cpp"
out=$("$here/check_spdx.sh" "$tmp"); rc=$?
[ "$rc" -eq 1 ] || fail "spdx: exit $rc, expected 1, for a file without the line: $out"
grep -q '^common/nospdx.cpp: no' <<<"$out" || fail "spdx: common/nospdx.cpp not named: $out"
echo "selftest: both checks refuse a violation and accept the tree without it"
