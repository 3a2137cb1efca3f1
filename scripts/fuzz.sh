#!/usr/bin/env bash
# scripts/fuzz.sh [--seconds N] [TARGET...] - run the libFuzzer call-sequence
# fuzzers built in build/fuzz/ (make fuzz-build).
#
# Each target first replays its committed seed corpus tests/fuzz/corpus/<t>/,
# then fuzzes for N seconds (default 60), growing build/fuzz/corpus/<t>/.
# A crash or model mismatch leaves build/fuzz/artifacts/<t>/crash-*; replay
# it with `build/fuzz/<t> <file>`.  `make test` runs each target with
# --seconds 3 (FUZZ_SLICE).  Exit 0 only if every target ran clean.
set -u
cd "$(dirname "$0")/.."
seconds=60
targets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) seconds=$2; shift ;;
	-*) echo "usage: $0 [--seconds N] [TARGET...]" >&2; exit 2 ;;
	*) targets+=("$1") ;;
	esac
	shift
done
if [ ${#targets[@]} = 0 ]; then
	for b in build/fuzz/*; do [ -x "$b" ] && [ -f "$b" ] && targets+=("$(basename "$b")"); done
fi
[ ${#targets[@]} -gt 0 ] || { echo "no fuzzers built (make fuzz-build)" >&2; exit 1; }

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
bad=0
for t in "${targets[@]}"; do
	bin=build/fuzz/$t
	[ -x "$bin" ] || { echo "$t: not built"; bad=1; continue; }
	seed=tests/fuzz/corpus/$t
	work=build/fuzz/corpus/$t
	art=build/fuzz/artifacts/$t
	mkdir -p "$work" "$art" "$seed"
	log=build/fuzz/$t.log
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$art/" "$work" "$seed" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc = 0 ]; then
		echo "fuzz/$t ok: ${runs:-?} runs in ${seconds}s, corpus $(ls "$work" | wc -l) inputs, 0 crashes"
	else
		bad=1
		echo "fuzz/$t FAILED (exit $rc); artifact(s):"
		ls "$art" | sed "s|^|    $art/|"
		grep -m5 -E "fuzz mismatch|ERROR|SUMMARY" "$log" | sed 's/^/    /'
	fi
done
exit $bad
