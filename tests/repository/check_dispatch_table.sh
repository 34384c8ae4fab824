#!/bin/bash
# SPDX-License-Identifier: ISC
# "A request type without a row, or a row without a handler, does not
# compile" (helper/daemon/dispatch.hpp), checked: helper/daemon/dispatch.cpp
# compiles as it is, and fails to compile with its last row removed, or with
# that row's handler replaced by nullptr.
#   check_dispatch_table.sh CXX REPO
set -uo pipefail
cxx="$1"
repo="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
compile() { "$cxx" -std=c++20 -fsyntax-only -I"$repo" "$1" 2>"$tmp/errors"; }
src="$repo/helper/daemon/dispatch.cpp"
# The table's last row: the one that closes the tuple, "route<&Daemon::on_X>(...));".
last=$(grep -E '^[[:space:]]*route<&Daemon::[a-z_]+>\(.*\)\);$' "$src" | tail -n 1)
[ -n "$last" ] || { echo "check_dispatch_table: no last row found in $src"; exit 1; }
handler=$(sed -E 's/.*route<&Daemon::([a-z_]+)>.*/\1/' <<<"$last")

compile "$src" || { cat "$tmp/errors"; echo "check_dispatch_table: dispatch.cpp does not compile as it is"; exit 1; }

# Without that row: it is dropped, and the row before it (past any comment
# lines between them) closes the tuple.
awk -v last="$last" '
  { lines[NR] = $0 }
  END {
    drop = 0
    for (i = 1; i <= NR; i++) if (lines[i] == last) drop = i
    for (j = drop - 1; j > 0; j--) if (lines[j] ~ /,$/) { sub(/,$/, ");", lines[j]); break }
    for (i = 1; i <= NR; i++) if (i != drop) print lines[i]
  }' "$src" >"$tmp/no_row.cpp"
grep -q "route<&Daemon::$handler>" "$tmp/no_row.cpp" && { echo "check_dispatch_table: could not remove the $handler row"; exit 1; }
if compile "$tmp/no_row.cpp"; then
    echo "check_dispatch_table: dispatch.cpp compiled without the row for $handler"
    exit 1
fi
grep -q 'must occur exactly once in the tuple' "$tmp/errors" ||
    { head -5 "$tmp/errors"; echo "check_dispatch_table: failed for another reason"; exit 1; }

# A row whose handler is nullptr.
sed "s|route<&Daemon::$handler>|route<nullptr>|" "$src" >"$tmp/null_handler.cpp"
if compile "$tmp/null_handler.cpp"; then
    echo "check_dispatch_table: dispatch.cpp compiled with a row that has no handler"
    exit 1
fi
grep -q 'a row of the dispatch table needs a handler' "$tmp/errors" ||
    { head -5 "$tmp/errors"; echo "check_dispatch_table: failed for another reason"; exit 1; }
echo "check_dispatch_table: a missing row and a row without a handler do not compile"
