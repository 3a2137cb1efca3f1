#!/usr/bin/env bash
# scripts/run-tests.sh [--quick] [--only REGEX] - run what `make test-build`
# built and print one line per test, then "N passed, N failed".
#
# Suites (each line is one test):
#   headers              every public header alone (scripts/check-headers.sh)
#   headers/link         a program calling every family's inline functions,
#                        gcc and clang at -O0..-O3 and -Os, linked and run
#                        (scripts/check-link.sh)
#   unit/<cfg>/<name>    unit tests: gcc, clang, asan-gcc, asan-clang
#   stress/<name>/tN     stress suites natively (gcc -O2), N = 2 4 8 16 threads
#   tsan/<name>/tN       stress suites under ThreadSanitizer, same thread counts
#   example/<name>       each example program runs and exits 0
#   install              make install into a staging DESTDIR, then a consumer
#                        compiles against it with pkg-config
# Verification beyond TSan (docs/verification.md):
#   asan-stress/<cfg>/<name>/t4  stress suites under ASan+UBSan (+LSan),
#                        gcc and clang, 4 threads, 10% of the op count
#   spin/<model>         Spin model check (tests/spin), must verify
#   spin/<model>/broken  the deliberately broken variant, must be rejected
#   spin/<model>/broken-<v>  further broken variants ("broken-<v>:" lines)
#   litmus/<name>        ordering litmus tests, 0 forbidden outcomes
#   fuzz/<target>        libFuzzer slice: seed corpus + FUZZ_SLICE s (3)
#   lint                 cppcheck + clang-tidy + the atomics grep rules
# VERIFY_FULL=1 (make verify): Spin models also at their -DBIG bounds, and
# litmus tests at 10x their default iterations.
# --quick scales stress op counts to 10% and runs 2 and 8 threads only.
set -u
cd "$(dirname "$0")/.."

B=build
LOGS=$B/logs
mkdir -p "$LOGS"
quick=0
only=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--only) only=$2; shift ;;
	*) echo "usage: $0 [--quick] [--only REGEX]" >&2; exit 2 ;;
	esac
	shift
done

threads="2 4 8 16"
scale=1
tsan_scale=0.25
if [ $quick = 1 ]; then threads="2 8"; scale=0.1; tsan_scale=0.05; fi

export TSAN_OPTIONS="halt_on_error=1 history_size=7 second_deadlock_stack=1"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
TEST_TIMEOUT=${TEST_TIMEOUT:-600}

passed=0
failed=0
failures=()

# run NAME [ENV=VAL ...] CMD ...
run() {
	local name=$1; shift
	if [ -n "$only" ] && ! [[ $name =~ $only ]]; then return; fi
	local log=$LOGS/$(echo "$name" | tr '/' '_').log
	local t0=$EPOCHREALTIME
	env "$@" >"$log" 2>&1 </dev/null &
	local pid=$!
	( sleep "$TEST_TIMEOUT"; kill -9 $pid 2>/dev/null ) >/dev/null 2>&1 &
	local watchdog=$!
	wait $pid
	local rc=$?
	kill $watchdog 2>/dev/null; wait $watchdog 2>/dev/null
	local dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}')
	if [ $rc = 0 ]; then
		passed=$((passed + 1))
		printf 'PASS %-40s %6.2fs  %s\n' "$name" "$dt" "$(grep -E ' ok: |checks,' "$log" | tail -1 | cut -c1-90)"
	else
		failed=$((failed + 1))
		failures+=("$name")
		printf 'FAIL %-40s (exit %d, log %s)\n' "$name" "$rc" "$log"
		tail -n 25 "$log" | sed 's/^/    | /'
	fi
}

# TSan with high ASLR entropy can die with "unexpected memory mapping";
# probe once with a tiny TSan binary and, if so, run under setarch -R.
tsan_prefix=()
tsan_probe() {
	local cc
	cc=$(make -s --no-print-directory print-CLANG)
	local probe=$B/tsan/.probe
	mkdir -p $B/tsan
	echo 'int main(void){return 0;}' | $cc -x c -fsanitize=thread - -o $probe 2>/dev/null || return
	if ! $probe >/dev/null 2>$probe.err && grep -q "unexpected memory mapping" $probe.err; then
		tsan_prefix=(setarch "$(uname -m)" -R)
		echo "note: TSan needs ASLR off here; running TSan tests under setarch -R"
	fi
}

run headers scripts/check-headers.sh
run headers/link scripts/check-link.sh

for cfg in gcc clang asan-gcc asan-clang; do
	for bin in $B/$cfg/unit/*; do
		[ -x "$bin" ] || continue
		run "unit/$cfg/$(basename "$bin")" "$bin"
	done
done

for bin in $B/gcc/stress/*; do
	[ -x "$bin" ] || continue
	for t in $threads; do
		run "stress/$(basename "$bin")/t$t" STRESS_SCALE=$scale "$bin" -t $t
	done
done

if [ -z "$only" ] || [[ tsan/ =~ $only ]] || [[ $only =~ tsan ]]; then tsan_probe; fi
for bin in $B/tsan/stress/*; do
	[ -x "$bin" ] || continue
	for t in $threads; do
		run "tsan/$(basename "$bin")/t$t" STRESS_SCALE=$tsan_scale "${tsan_prefix[@]}" "$bin" -t $t
	done
done

for bin in $B/examples/*; do
	[ -x "$bin" ] || continue
	run "example/$(basename "$bin")" "$bin"
done

# ---- verification beyond TSan ----
for cfg in asan-gcc asan-clang; do
	for bin in $B/$cfg/stress/*; do
		[ -x "$bin" ] || continue
		run "asan-stress/$cfg/$(basename "$bin")/t4" STRESS_SCALE=$(awk -v s=$scale 'BEGIN{print s/10}') "$bin" -t 4
	done
done

for model in tests/spin/*.pml; do
	[ -f "$model" ] || continue
	m=$(basename "$model" .pml)
	run "spin/$m" scripts/spin-check.sh "$model"
	run "spin/$m/broken" scripts/spin-check.sh --broken "$model"
	for v in $(sed -n 's/^ *\* *broken-\([a-z0-9_]*\):.*/\1/p' "$model"); do
		run "spin/$m/broken-$v" scripts/spin-check.sh --variant "$v" "$model"
	done
	if [ "${VERIFY_FULL:-0}" = 1 ]; then
		run "spin/$m/big" scripts/spin-check.sh --big "$model"
	fi
done

litmus_scale=0.1
[ $quick = 1 ] && litmus_scale=0.03
[ "${VERIFY_FULL:-0}" = 1 ] && litmus_scale=10
for bin in $B/litmus/*; do
	[ -x "$bin" ] || continue
	run "litmus/$(basename "$bin")" LITMUS_SCALE=$litmus_scale "$bin"
done

for bin in $B/fuzz/*; do
	[ -x "$bin" ] && [ -f "$bin" ] || continue
	run "fuzz/$(basename "$bin")" scripts/fuzz.sh --seconds "${FUZZ_SLICE:-3}" "$(basename "$bin")"
done

run lint scripts/lint.sh

run install scripts/check-install.sh

echo
if [ $failed -gt 0 ]; then
	echo "failed:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ $failed = 0 ]
