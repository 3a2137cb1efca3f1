#!/usr/bin/env bash
# scripts/lint.sh - static checks; exit 0 only when all are clean.
#
#  1. cppcheck (warning, performance, portability) over include/, src/,
#     tests/, bench/*.c and examples/.
#  2. clang-tidy (bugprone-*, concurrency-*, cert-*, misc-*,
#     clang-analyzer-*) over src/*.c and the umbrella header (so every
#     static inline hot path is analysed), with CK_USE_CC_BUILTINS=0 so ck
#     is analysed in the configuration that is built (ck switches to its
#     builtin path, which lacks the double-width CAS, under the analyzer).
#     Disabled, with the reason:
#       bugprone-reserved-identifier, cert-dcl37-c, cert-dcl51-cpp: the
#         house style names internals _ak_* / _AK_* on purpose (STYLE.md);
#       bugprone-easily-swappable-parameters: flags every (ptr, n, limit)
#         signature; style, not bugs;
#       misc-unused-parameters: callbacks with a fixed signature;
#       clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling:
#         asks for Annex K memcpy_s/memset_s, which glibc does not have;
#       clang-analyzer-optin.performance.Padding: the padding is the point
#         (each writer's fields on their own 128-byte unit);
#       bugprone-implicit-widening-of-multiplication-result: fires on
#         small constant products (2 * AK_DESTRUCTIVE_SIZE) and index *
#         element-size offsets whose operands are range-checked at init;
#       bugprone-macro-parentheses: its advice cannot apply to the macro
#         arguments that matter here - type names in the typed-ring
#         generators, array designators in the status X-macro.
#  3. grep rules (the memory-order policy, docs/memory-model.md):
#       a. no atomic_thread_fence / atomic_signal_fence outside
#          include/atomkit/internal/fence.h;
#       b. every atomic_* operation is the _explicit form;
#       c. in include/ and src/ (fence.h aside: its callers name the
#          pairing), every non-relaxed memory_order_* has a comment naming
#          its partner ("pairs with ...") on its line or in the 12 lines
#          above it (30 when the line says "see above").
set -u
cd "$(dirname "$0")/.."
bad=0
note() { echo "lint: $*"; }

# ---- 1. cppcheck --------------------------------------------------------
if ! command -v cppcheck >/dev/null; then
	note "cppcheck not installed (scripts/deps.sh all)"; bad=1
else
	# -D__x86_64__: check the configuration this box builds (cppcheck
	# knows no compiler-defined platform macros).
	# cppcheck does not read system headers, so ck's feature macros are
	# unknown to it and vcell.h's "#error without double-width CAS" fires;
	# the compilers check that #error for real.  Likewise ck_ring.h's
	# CK_RING_PROTOTYPE is unknown in bench/ring_spsc.c (the compilers
	# expand it).
	out=$(cppcheck --quiet --enable=warning,performance,portability --std=c11 \
		--suppress='preprocessorErrorDirective:include/atomkit/vcell.h' \
		--suppress='unknownMacro:bench/ring_spsc.c' \
		--inline-suppr -D_GNU_SOURCE -D__x86_64__ -Iinclude -Itests/harness -Itests/litmus -Itests/fuzz \
		--error-exitcode=1 include src tests/unit tests/stress tests/harness \
		tests/litmus tests/fuzz examples $(ls bench/*.c 2>/dev/null) 2>&1)
	if [ $? != 0 ] || [ -n "$out" ]; then
		note "cppcheck:"; echo "$out" | head -40; bad=1
	else
		note "cppcheck clean"
	fi
fi

# ---- 2. clang-tidy ------------------------------------------------------
tidy=$(command -v clang-tidy-19 || command -v clang-tidy || true)
if [ -z "$tidy" ]; then
	note "clang-tidy not installed (scripts/deps.sh all)"; bad=1
else
	checks='-*,bugprone-*,concurrency-*,cert-*,misc-*,clang-analyzer-*'
	checks+=',-bugprone-reserved-identifier,-cert-dcl37-c,-cert-dcl51-cpp'
	checks+=',-bugprone-easily-swappable-parameters,-misc-unused-parameters'
	checks+=',-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling'
	checks+=',-clang-analyzer-optin.performance.Padding'
	checks+=',-bugprone-implicit-widening-of-multiplication-result,-bugprone-macro-parentheses'
	mkdir -p build/lint
	printf '#include <atomkit.h>\n' >build/lint/umbrella.c
	srcs=(src/*.c build/lint/umbrella.c)
	out=$("$tidy" --quiet -checks="$checks" -warnings-as-errors='*' \
		-header-filter='include/atomkit' "${srcs[@]}" -- -std=c11 -Iinclude -D_GNU_SOURCE \
		-DCK_USE_CC_BUILTINS=0 2>&1)
	rc=$?
	if [ $rc != 0 ] || echo "$out" | grep -q "warning:\|error:"; then
		note "clang-tidy ($($tidy --version | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1)):"
		echo "$out" | grep -A3 "warning:\|error:" | head -60; bad=1
	else
		note "clang-tidy clean ($(basename "$tidy"), ${#srcs[@]} translation units)"
	fi
fi

# ---- 3. grep rules ------------------------------------------------------
files=$(ls include/atomkit.h include/atomkit/*.h include/atomkit/internal/*.h src/*.c \
	tests/*/*.c tests/*/*.h bench/*.c bench/*.h examples/*.c 2>/dev/null)
hits=$(grep -nE '\batomic_(thread|signal)_fence\b' $files | grep -v '^include/atomkit/internal/fence.h:')
if [ -n "$hits" ]; then
	note "standalone fence outside include/atomkit/internal/fence.h:"; echo "$hits"; bad=1
fi
ops='load|store|exchange|compare_exchange_weak|compare_exchange_strong|fetch_add|fetch_sub|fetch_or|fetch_and|fetch_xor|flag_test_and_set|flag_clear'
hits=$(grep -nE "\batomic_($ops)[[:space:]]*\(" $files)
if [ -n "$hits" ]; then
	note "atomic operation without _explicit:"; echo "$hits"; bad=1
fi
pairfiles=$(ls include/atomkit.h include/atomkit/*.h include/atomkit/internal/*.h src/*.c 2>/dev/null |
	grep -v '^include/atomkit/internal/fence.h$')
hits=$(python3 - $pairfiles <<'PY'
import re, sys
order = re.compile(r'memory_order_(acquire|release|acq_rel|seq_cst|consume)\b')
pair = re.compile(r'pair', re.I)
for path in sys.argv[1:]:
    try:
        lines = open(path).read().split('\n')
    except OSError:
        continue
    for i, l in enumerate(lines):
        code = l.split('//')[0]
        if not order.search(code) or code.lstrip().startswith(('*', '/*', '#define')):
            continue
        back = 30 if re.search(r'see above', l, re.I) else 12
        window = lines[max(0, i - back):i + 2]
        if not any(pair.search(w) for w in window):
            print('%s:%d: %s' % (path, i + 1, l.strip()))
PY
)
if [ -n "$hits" ]; then
	note "non-relaxed atomic without a \"pairs with\" comment nearby:"; echo "$hits"; bad=1
fi
[ $bad = 0 ] && note "grep rules clean ($(echo $files | wc -w) files)"

if [ $bad = 0 ]; then
	echo "lint ok: cppcheck, clang-tidy and grep rules clean"
fi
exit $bad
