#!/usr/bin/env bash
# scripts/run-bench.sh [FILTER] - run the benchmark binary with repetitions,
# write build/bench.json (Google Benchmark JSON) and print the comparison
# table.  Environment: BENCH_REPS (default 8: the SPSC rows rotate each
# ring through 8 page-aligned placements, one per repetition),
# BENCH_MIN_TIME (seconds per repetition, default 0.2), BENCH_INTERLEAVE (default 1: repetitions of all
# rows are run in random order, so a phase of the VM's cross-core latency
# lands on atomkit and its peers alike; 0 runs each row's repetitions back
# to back), BENCH_ARGS (extra flags for the binary).
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-}
reps=${BENCH_REPS:-8}
min_time=${BENCH_MIN_TIME:-0.2}
bin=build/bench/atomkit-bench
out=build/bench.json
log=build/bench-console.log

cmd="make bench"
# Record the knobs that change what a row means, as they were typed.
[ "$reps" != 8 ] && cmd="BENCH_REPS=$reps $cmd"
[ "$min_time" != 0.2 ] && cmd="BENCH_MIN_TIME=$min_time $cmd"
[ -n "$filter" ] && cmd="$cmd FILTER='$filter'"
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
args=(--benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true
      --benchmark_min_time="$min_time"
      --benchmark_out="$out" --benchmark_out_format=json
      )
[ "${BENCH_INTERLEAVE:-1}" = 1 ] && args+=(--benchmark_enable_random_interleaving=true)
[ -n "$filter" ] && args+=(--benchmark_filter="$filter")
# shellcheck disable=SC2206
[ -n "${BENCH_ARGS:-}" ] && args+=(${BENCH_ARGS})

echo "running: $bin ${args[*]}"
echo "(full console output: $log; medians shown as they finish)"
set +e
"$bin" "${args[@]}" 2>&1 | tee "$log" | grep --line-buffered -E '_median|ERROR|error'
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 0 ] || { echo "benchmark binary failed (exit $rc); see $log" >&2; exit 1; }
echo
# Record how the figures were made, next to the figures.
python3 - "$out" "$cmd" "$rev" "$(uname -r)" "$reps" "$min_time" "${BENCH_INTERLEAVE:-1}" <<'PY'
import json, sys
path, cmd, rev, kernel, reps, min_time, inter = sys.argv[1:]
with open(path) as f:
    d = json.load(f)
d.setdefault("context", {}).update(command=cmd, git=rev, kernel=kernel,
                                   repetitions=int(reps), min_time_s=float(min_time),
                                   random_interleaving=(inter == "1"))
with open(path, "w") as f:
    json.dump(d, f, indent=1)
PY
python3 scripts/bench_table.py "$out"
