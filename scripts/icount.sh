#!/usr/bin/env bash
# scripts/icount.sh REGEX [ITERATIONS] - instructions per operation, measured
# with callgrind, for each benchmark whose name matches REGEX.
#
# Seconds on this 2-vCPU VM are noisy; instruction counts are repeatable for
# the same binary and inputs.  Each matching benchmark runs once, with a fixed
# iteration count (CBENCH_ITERATIONS), under valgrind --tool=callgrind
# collecting only inside the benchmark function (bm_*); the inclusive count
# divided by the total iterations is printed.  Valgrind serialises threads, so
# for threaded rows this is instructions per op, not contention.
set -euo pipefail
cd "$(dirname "$0")/.."
re=${1:?usage: $0 REGEX [ITERATIONS]}
iters=${2:-200000}
bin=build/bench/atomkit-bench
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
[ -x $bin ] || make -s bench-build
out=build/icount
mkdir -p $out
printf '%-55s %14s\n' benchmark "instr/op"
CBENCH_ITERATIONS=$iters $bin --benchmark_list_tests --benchmark_filter="$re" | while read -r name; do
	f=$out/$(echo "$name" | tr '/:' '__').out
	CBENCH_ITERATIONS=$iters valgrind --tool=callgrind --callgrind-out-file="$f" \
		--toggle-collect='bm_*' $bin --benchmark_filter="^${name}\$" \
		--benchmark_repetitions=1 >/dev/null 2>&1
	threads=1
	[[ $name =~ threads:([0-9]+) ]] && threads=${BASH_REMATCH[1]}
	ir=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done {gsub(",", "", $1); print $1; done = 1}')
	awk -v ir="$ir" -v n="$iters" -v t="$threads" -v name="$name" \
		'BEGIN { printf "%-55s %14.2f\n", name, ir / (n * t) }'
done
