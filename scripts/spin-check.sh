#!/usr/bin/env bash
# scripts/spin-check.sh [--broken] [--big] [--build-only] MODEL.pml
#
# Model-check one Promela model with Spin: generate the verifier, compile
# it, search the whole state space (safety: assertions + invalid end
# states, i.e. a process blocked for ever = lost wake-up / deadlock).
#
#   (default)  the model as written must verify with 0 errors.
#   --broken   compile with -DBROKEN: the deliberately broken variant must
#              FAIL, and for the reason the model's "broken:" header line
#              names (so a broken variant that fails for some unrelated
#              reason does not count as a pass).
#   --variant NAME  like --broken, for a model's further broken variants:
#              compile with -DBROKEN_<NAME> (upper case) and expect the
#              reason on its "broken-<name>:" header line.
#   --big      compile with -DBIG: the larger bounds used by `make verify`.
#   --build-only  generate and compile the verifier, do not run it (make
#              verify-build does this, so `make test` only runs them).
#
# Work files go to build/spin/<model>[.broken][.big]/; a verifier newer than
# its model and this script is reused.  Exit 0 = as expected.
set -u
cd "$(dirname "$0")/.."

broken=0; big=0; build_only=0; variant=
while [ $# -gt 1 ]; do
	case "$1" in
	--broken) broken=1 ;;
	--variant) broken=1; variant=$2; shift ;;
	--big) big=1 ;;
	--build-only) build_only=1 ;;
	*) echo "usage: $0 [--broken | --variant NAME] [--big] [--build-only] MODEL.pml" >&2; exit 2 ;;
	esac
	shift
done
model=${1:?usage: $0 [--broken] [--big] MODEL.pml}
[ -f "$model" ] || { echo "no such model: $model" >&2; exit 2; }
command -v spin >/dev/null || { echo "spin not installed (scripts/deps.sh verify)" >&2; exit 2; }

name=$(basename "$model" .pml)
defs=()
tag=$name
if [ -n "$variant" ]; then
	defs+=(-DBROKEN_$(echo "$variant" | tr a-z A-Z)); tag=$tag.broken-$variant
elif [ $broken = 1 ]; then
	defs+=(-DBROKEN); tag=$tag.broken
fi
[ $big = 1 ] && { defs+=(-DBIG); tag=$tag.big; }
dir=build/spin/$tag
script=$0

# The reason the broken variant must fail, from the model header:
#   broken: assertion violated       or     broken: invalid end state
#   broken-<variant>: ...                    (for --variant)
expect=$(sed -n "s/^ *\\* *broken${variant:+-$variant}: *//p" "$model" | head -1)

if ! [ -x "$dir/pan" ] || [ "$model" -nt "$dir/pan" ] || [ "$script" -nt "$dir/pan" ]; then
	rm -rf "$dir"; mkdir -p "$dir"
	cp "$model" "$dir/model.pml"
	( cd "$dir" &&
	  { spin "${defs[@]}" -a model.pml >spin.log 2>&1 || { cat spin.log; exit 1; }; } &&
	  # -DSAFETY: safety properties only; -DCOLLAPSE: compress state vectors.
	  { gcc -O2 -w -DSAFETY -DCOLLAPSE -DMEMLIM=2048 -o pan.tmp pan.c >cc.log 2>&1 || { cat cc.log; exit 1; }; } &&
	  mv pan.tmp pan ) || exit 1
fi
[ $build_only = 1 ] && exit 0
cd "$dir"
rm -f model.pml.trail
t0=$EPOCHREALTIME
# -m: DFS depth limit (the models stay under 5000); -w: initial hash table
# (2^w slots; pan grows it as needed) - small, as zeroing a big one costs
# more than these searches.
wflag=-w20; [ $big = 1 ] && wflag=-w24
./pan -m200000 $wflag >pan.log 2>&1 </dev/null
rc=$?
dt=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}')
errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' pan.log | tail -1)
states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' pan.log | tail -1)
depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' pan.log | tail -1)
if [ -z "$errors" ]; then
	echo "$tag: pan did not finish (rc $rc)"; tail -20 pan.log; exit 1
fi
if grep -qi "search not completed\|max search depth too small\|reached -DMEMLIM" pan.log && [ "$errors" = 0 ]; then
	echo "$tag: search incomplete"; tail -20 pan.log; exit 1
fi

if [ $broken = 0 ]; then
	if [ "$errors" = 0 ]; then
		echo "$tag ok: 0 errors, $states states, depth $depth, ${dt}s"
		exit 0
	fi
	echo "$tag: $errors error(s) - counterexample:"
	grep -m3 -E "assertion violated|invalid end state|pan:[0-9]+:" pan.log
	spin -t -p -k model.pml.trail "${defs[@]}" model.pml 2>/dev/null | tail -40
	exit 1
fi

# Broken variant: must fail, for the stated reason.
if [ "$errors" = 0 ]; then
	echo "$tag: the broken variant verified (0 errors): the model cannot catch this bug"
	exit 1
fi
if [ -n "$expect" ] && ! grep -q "$expect" pan.log; then
	echo "$tag: failed, but not with \"$expect\":"
	grep -m3 "pan:" pan.log
	exit 1
fi
echo "$tag ok: rejected as expected ($(grep -m1 -o -E "assertion violated[^)]*\)?|invalid end state" pan.log)), ${dt}s"
