#!/bin/sh
# scripts/deps.sh [test|bench|verify|dpdk|all] - make sure the Debian packages
# a target needs are installed.
#
# Quick and silent when everything is present.  When something is missing:
# as root with apt-get, runs one `apt-get update` and installs it; otherwise
# prints the exact command to run and fails.
set -eu

target=${1:-all}

# Packages every target needs.
base="make gcc g++ libc6-dev pkg-config python3 libck-dev"
# A clang with its sanitizer runtime: clang-19 preferred, clang 14 accepted.
clang19="clang-19 libclang-rt-19-dev"
clang14="clang-14 libclang-rt-14-dev"

case "$target" in
test)   want="$base spin cppcheck clang-tidy" ;;
bench)  want="$base libbenchmark-dev libboost-dev libconcurrentqueue-dev libreaderwriterqueue-dev liburcu-dev" ;;
verify) want="$base spin" ;;
report) want="$base gnuplot-nox" ;;
dpdk)   want="$base libdpdk-dev" ;;
all)    want="$base libbenchmark-dev libboost-dev libconcurrentqueue-dev libreaderwriterqueue-dev liburcu-dev spin gnuplot-nox cppcheck clang-tidy" ;;
*) echo "usage: $0 [test|bench|verify|report|dpdk|all]" >&2; exit 2 ;;
esac

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=""
for p in $want; do
	installed "$p" || missing="$missing $p"
done

# The clang requirement: satisfied by either version.
clang_ok=0
if installed clang-19 && installed libclang-rt-19-dev; then clang_ok=1
elif installed clang-14 && installed libclang-rt-14-dev; then clang_ok=1
fi

[ -z "$missing" ] && [ $clang_ok = 1 ] && exit 0

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: this script installs Debian packages; install the equivalents of:$missing $clang19" >&2
	exit 1
fi

if [ "$(id -u)" != 0 ]; then
	[ $clang_ok = 1 ] || missing="$missing $clang19"
	echo "deps.sh: missing packages:$missing" >&2
	echo "run:  sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "deps.sh: installing:$missing$( [ $clang_ok = 1 ] || echo " $clang19")" >&2
apt-get update -qq >&2
if [ $clang_ok = 0 ]; then
	# clang-19 is in bookworm-updates/backports on some mirrors only; fall back to 14.
	if apt-get install -y -qq --no-install-recommends $clang19 >&2; then :
	else apt-get install -y -qq --no-install-recommends $clang14 >&2
	fi
fi
[ -z "$missing" ] || apt-get install -y -qq --no-install-recommends $missing >&2
