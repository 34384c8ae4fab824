#!/bin/bash
# SPDX-License-Identifier: ISC
# "A request type without a row, or a row without a handler, does not
# compile" (helper/daemon/dispatch.hpp), checked: helper/daemon/dispatch.cpp
# compiles as it is, and fails to compile with the SessionRequest row
# removed, or with a row whose handler is nullptr.
#   check_dispatch_table.sh CXX REPO
set -uo pipefail
cxx="$1"
repo="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
compile() { "$cxx" -std=c++20 -fsyntax-only -I"$repo" "$1" 2>"$tmp/errors"; }
src="$repo/helper/daemon/dispatch.cpp"
row='route<&Daemon::on_session>(AllowedPeers::Trusted, false)'
grep -qF "$row" "$src" || { echo "check_dispatch_table: the SessionRequest row is not in $src"; exit 1; }

compile "$src" || { cat "$tmp/errors"; echo "check_dispatch_table: dispatch.cpp does not compile as it is"; exit 1; }

# Without the row (the previous row's closing parenthesis takes its place).
sed 's|,[[:space:]]*$||; s|        route<&Daemon::on_session>(AllowedPeers::Trusted, false));|        );|' "$src" |
    awk '{ lines[NR] = $0 } END { for (i = 1; i <= NR; i++) { if (lines[i+1] ~ /^        \);$/) { sub(/,$/, "", lines[i]); print lines[i] ")"; i++ } else print lines[i] } }' \
    >"$tmp/no_row.cpp"
grep -q 'on_session>' "$tmp/no_row.cpp" && { echo "check_dispatch_table: could not remove the row"; exit 1; }
if compile "$tmp/no_row.cpp"; then
    echo "check_dispatch_table: dispatch.cpp compiled without a row for SessionRequest"
    exit 1
fi
grep -q 'must occur exactly once in the tuple' "$tmp/errors" ||
    { cat "$tmp/errors" | head -5; echo "check_dispatch_table: failed for another reason"; exit 1; }

# A row whose handler is nullptr.
sed "s|route<&Daemon::on_session>|route<nullptr>|" "$src" >"$tmp/null_handler.cpp"
if compile "$tmp/null_handler.cpp"; then
    echo "check_dispatch_table: dispatch.cpp compiled with a row that has no handler"
    exit 1
fi
grep -q 'a row of the dispatch table needs a handler' "$tmp/errors" ||
    { head -5 "$tmp/errors"; echo "check_dispatch_table: failed for another reason"; exit 1; }
echo "check_dispatch_table: a missing row and a row without a handler do not compile"
