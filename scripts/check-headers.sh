#!/usr/bin/env bash
# Every header compiles on its own, in C11, C17 and C2x, with gcc and clang,
# warning-free under -Wall -Wextra -Wpedantic -Werror.  The umbrella header
# also compiles as C++23 (-std=c++23) against libstdc++'s <stdatomic.h> (g++ and clang++).
set -u
cd "$(dirname "$0")/.."
clang=$(make -s --no-print-directory print-CLANG)
clangxx=$(make -s --no-print-directory print-CLANGXX)
n=0; bad=0
try() { # desc cmd...
	n=$((n + 1))
	if ! out=$("$@" 2>&1); then
		bad=$((bad + 1)); echo "FAIL: $1 ... ${*: -1}"; echo "$out" | head -20
	fi
}
for h in include/atomkit.h include/atomkit/*.h include/atomkit/internal/*.h; do
	inc=${h#include/}
	for cc in gcc "$clang"; do
		for std in c11 c17 c2x; do
			try $cc -std=$std -Wall -Wextra -Wpedantic -Werror -Iinclude -fsyntax-only \
				-x c - <<<"#include <$inc>
#include <$inc>
int ak_header_check_dummy;"
		done
	done
done
for cxx in g++ "$clangxx"; do
	try $cxx -std=c++23 -Wall -Wextra -Werror -Iinclude -fsyntax-only -x c++ - <<<"#include <atomkit.h>
int main() { return 0; }"
done
echo "headers: $n checks, $bad failed"
[ $bad = 0 ]
