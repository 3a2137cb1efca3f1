#!/usr/bin/env bash
# scripts/check-link.sh - compile tests/headers/use_all.c (a program that
# calls every family's inline functions through <atomkit.h>) with gcc and
# clang at -O0, -O1, -O2, -O3 and -Os, -Wall -Wextra -Werror, link it
# against the library and run it.  scripts/check-headers.sh only parses the
# headers (-fsyntax-only); warnings such as gcc's -Wstringop-overflow,
# -Warray-bounds or -Wmaybe-uninitialized appear only when the inline code
# is inlined into a caller and optimised.  Two compilers at a time.
set -u
cd "$(dirname "$0")/.."
clang=$(make -s --no-print-directory print-CLANG)
lib=build/gcc/libatomkit.a
make -s --no-print-directory "$lib" || exit 1
out=build/check-link
mkdir -p "$out"
src=tests/headers/use_all.c

one() { # cc opt
	local bin=$out/use_all.$(basename "$1").${2#-}
	if ! "$1" -std=c11 -Wall -Wextra -Werror "$2" -Iinclude -D_GNU_SOURCE "$src" -o "$bin" \
		"$lib" -pthread -lck -lm >"$bin.log" 2>&1; then
		echo "FAIL: $1 $2 (compile/link):"; head -30 "$bin.log"; return 1
	fi
	if ! "$bin" >>"$bin.log" 2>&1; then
		echo "FAIL: $1 $2 (run):"; tail -10 "$bin.log"; return 1
	fi
}

n=0; bad=0
for opt in -O0 -O1 -O2 -O3 -Os; do
	one gcc "$opt" & p1=$!
	one "$clang" "$opt" & p2=$!
	wait $p1 || bad=$((bad + 1))
	wait $p2 || bad=$((bad + 1))
	n=$((n + 2))
done
# dlclose() of the shared library while a thread still holds a limiter
# slot (its key destructor runs at that thread's later exit): -z nodelete.
make -s --no-print-directory lib || exit 1
if ! gcc -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE tests/headers/dlclose.c \
	-o "$out/dlclose" -pthread -ldl >"$out/dlclose.log" 2>&1 ||
	! LD_LIBRARY_PATH=build/lib "$out/dlclose" >>"$out/dlclose.log" 2>&1; then
	echo "FAIL: dlclose with a live limiter slot:"; tail -10 "$out/dlclose.log"
	bad=$((bad + 1))
fi
n=$((n + 1))
[ $bad = 0 ] && v=ok || v=FAILED
echo "link $v: $n builds (gcc, clang x -O0 -O1 -O2 -O3 -Os, and dlclose of libatomkit.so) compiled, linked and ran, $bad failed"
[ $bad = 0 ]
