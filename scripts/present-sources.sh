#!/bin/sh
# scripts/present-sources.sh DIR... - print the .c files in DIR whose
# atomkit headers (#include <atomkit/...>) all exist in include/.  Litmus
# tests and fuzzers for a family are committed before the family lands on
# a branch; they are built (and run) from the moment its header is there.
cd "$(dirname "$0")/.." || exit 1
for d in "$@"; do
	for f in "$d"/*.c; do
		[ -f "$f" ] || continue
		ok=1
		for h in $(sed -n 's/^#include <\(atomkit\/[^>]*\)>.*/\1/p' "$f"); do
			[ -f "include/$h" ] || { ok=0; break; }
		done
		[ $ok = 1 ] && echo "$f"
	done
done
exit 0
