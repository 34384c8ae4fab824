#!/bin/bash
# SPDX-License-Identifier: ISC
# Fails when a C++ file includes an in-tree header its folder may not use.
# The rules are the table in docs/ARCHITECTURE.md ("Folders and what they may
# use"), between the layering-table markers; this script only enforces them.
#   check_layering.sh [REPO]     (default: the repository this script is in)
# Exit 0: every include allowed; 1: violations (listed); 2: the table is unreadable.
set -uo pipefail
repo="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
doc="$repo/docs/ARCHITECTURE.md"
[ -r "$doc" ] || { echo "check_layering: cannot read $doc" >&2; exit 2; }

# "folder<TAB>comma-separated allowed folders" for each table row.
rules=$(awk '
  /<!-- layering-table-begin -->/ { on = 1; next }
  /<!-- layering-table-end -->/   { on = 0 }
  on && /^\| `/ {
    n = split($0, col, "|")
    folder = col[2]; gsub(/[` ]/, "", folder)
    uses = col[n - 1]; gsub(/[` ]/, "", uses)
    if (uses == "–" || uses == "-") uses = ""
    print folder "\t" uses
  }' "$doc")
[ -n "$rules" ] || { echo "check_layering: no layering table in $doc" >&2; exit 2; }

declare -A allowed
folders=()
while IFS=$'\t' read -r folder uses; do
    allowed["$folder"]=",$folder,$uses,"
    folders+=("$folder")
done <<<"$rules"

# The longest table folder that contains PATH, or "" when none does.
folder_of() {
    local path="$1" best="" f
    for f in "${folders[@]}"; do
        case "$path" in
        "$f"/*) [ ${#f} -gt ${#best} ] && best="$f" ;;
        esac
    done
    printf '%s' "$best"
}

status=0
cd "$repo" || exit 2
while IFS= read -r file; do
    file="${file#./}"
    own=$(folder_of "$file")
    if [ -z "$own" ]; then
        echo "$file: in no folder of the layering table (docs/ARCHITECTURE.md)"
        status=1
        continue
    fi
    while IFS= read -r line; do
        lineno="${line%%:*}"
        header=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' <<<"${line#*:}")
        [ -n "$header" ] || continue
        target=$(folder_of "$header")
        [ -n "$target" ] || continue  # not an in-tree folder (a third-party or local header)
        case "${allowed[$own]}" in
        *",$target,"*) ;;
        *)
            echo "$file:$lineno: includes \"$header\" ($target), which $own may not use"
            status=1
            ;;
        esac
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file")
done < <(find . \( -path ./.git -o -path './build*' -o -path ./docs \) -prune -o \
              -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.c' \) -print | sort)
[ "$status" -eq 0 ] && echo "check_layering: every include is allowed by docs/ARCHITECTURE.md"
exit "$status"
