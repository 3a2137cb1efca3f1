#!/usr/bin/env bash
# scripts/soak.sh [DURATION_SECONDS] - time-boxed soak of every stress suite.
#
# Until DURATION (default 600 s) is used up, pick at random: a family's
# stress binary, the optimized (gcc -O2) or the TSan build, a thread count
# (2..16 on this 2-core box: up to 8x oversubscribed), a 64-bit seed and an
# op-count scale; run it; print one line with the exact replay command.
# A failure is reported with its log and the soak carries on; the exit
# status is 1 if anything failed.
#
#   SOAK_SEED=N   seed of the soak's own choices (printed; replays the same
#                 sequence of runs, scheduling aside)
#   SOAK_TIMEOUT  per-run limit in seconds (default 120; a hang is a failure)
set -u
cd "$(dirname "$0")/.."
duration=${1:-600}
seed=${SOAK_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
RANDOM=$seed
per_run=${SOAK_TIMEOUT:-120}
export TSAN_OPTIONS="halt_on_error=1 history_size=7 second_deadlock_stack=1"
logdir=build/soak
mkdir -p "$logdir"

bins=()
for b in build/gcc/stress/* build/tsan/stress/*; do [ -x "$b" ] && bins+=("$b"); done
[ ${#bins[@]} -gt 0 ] || { echo "soak: no stress binaries (make soak builds them)" >&2; exit 1; }
threads=(2 3 4 6 8 12 16)

# TSan may need ASLR off on this kernel (see scripts/run-tests.sh).
tsan_prefix=()
probe=$(ls build/tsan/stress/* 2>/dev/null | head -1)
if [ -n "$probe" ] && ! "$probe" -t 1 -n 1 >/dev/null 2>"$logdir/.probe" &&
	grep -q "unexpected memory mapping" "$logdir/.probe"; then
	tsan_prefix=(setarch "$(uname -m)" -R)
fi

echo "soak: ${duration}s over ${#bins[@]} binaries; SOAK_SEED=$seed (replay: SOAK_SEED=$seed make soak DURATION=$duration)"
end=$((SECONDS + duration))
n=0; fails=0; ops_runs=0
while [ $SECONDS -lt $end ]; do
	n=$((n + 1))
	bin=${bins[RANDOM % ${#bins[@]}]}
	t=${threads[RANDOM % ${#threads[@]}]}
	s=$(( (RANDOM << 30) ^ (RANDOM << 15) ^ RANDOM ))
	[ $s = 0 ] && s=1
	case "$bin" in
	*/tsan/*) scale=$(awk -v r=$RANDOM 'BEGIN{printf "%.2f", 0.1 + (r % 30) / 100}'); pre=("${tsan_prefix[@]}") ;;
	*) scale=$(awk -v r=$RANDOM 'BEGIN{printf "%.2f", 0.5 + (r % 150) / 100}'); pre=() ;;
	esac
	log=$logdir/run-$n.log
	cmd="STRESS_SCALE=$scale ${pre[*]} $bin -t $t -s $s"
	t0=$SECONDS
	timeout "$per_run" env STRESS_SCALE="$scale" "${pre[@]}" "$bin" -t "$t" -s "$s" >"$log" 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		printf 'soak %4d ok   %3ds  %s\n' $n $((SECONDS - t0)) "$cmd"
		rm -f "$log"
	else
		fails=$((fails + 1))
		printf 'soak %4d FAIL (exit %d%s)  %s\n' $n $rc "$([ $rc = 124 ] && echo ', timed out')" "$cmd"
		tail -n 15 "$log" | sed 's/^    /      /; s/^/    | /'
	fi
done
echo "soak: $n runs, $fails failed, SOAK_SEED=$seed"
[ $fails = 0 ]
