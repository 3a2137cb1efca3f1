# atomkit - see README.md.  `make test` and `make bench` are the two commands.
#
# Everything is found by wildcard, so adding a family means adding files:
#   include/atomkit/<fam>.h, src/<fam>.c, tests/unit/<fam>.c,
#   tests/stress/<fam>.c, bench/<fam>.c (+ bench/peers/*.cc), examples/<fam>.c
# Build outputs go under build/.  `make -j2` is safe.

VERSION_MAJOR := 0
VERSION_MINOR := 1
VERSION_PATCH := 0
VERSION       := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

PREFIX     ?= /usr/local
INCLUDEDIR ?= $(PREFIX)/include
LIBDIR     ?= $(PREFIX)/lib
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR    ?=

B := build

# Compilers.  CLANG prefers clang-19 (newer TSan, libFuzzer), falls back to 14.
GCC   ?= gcc
GXX   ?= g++
CLANG ?= $(shell command -v clang-19 2>/dev/null || command -v clang-14 2>/dev/null || command -v clang 2>/dev/null || echo clang)
CLANGXX ?= $(shell command -v clang++-19 2>/dev/null || command -v clang++-14 2>/dev/null || command -v clang++ 2>/dev/null || echo clang++)

STD   ?= -std=c11
WARN  := -Wall -Wextra -Wpedantic -Werror
INC   := -Iinclude -D_GNU_SOURCE
# Libraries the library itself needs, and what tests/benchmarks add.
LIB_LDLIBS  := -pthread -lck
TEST_LDLIBS := $(LIB_LDLIBS) -lm
BENCH_LDLIBS := -lbenchmark $(TEST_LDLIBS) -lurcu

HEADERS      := $(wildcard include/atomkit.h include/atomkit/*.h include/atomkit/internal/*.h)
LIB_SRCS     := $(wildcard src/*.c)
UNIT_SRCS    := $(wildcard tests/unit/*.c)
STRESS_SRCS  := $(wildcard tests/stress/*.c)
HARNESS_SRCS := $(wildcard tests/harness/*.c)
HARNESS_HDRS := $(wildcard tests/harness/*.h)
BENCH_SRCS   := $(wildcard bench/*.c)
BENCH_PEERS  := $(wildcard bench/peers/*.cc)
EXAMPLE_SRCS := $(wildcard examples/*.c)

UNITS    := $(basename $(notdir $(UNIT_SRCS)))
STRESSES := $(basename $(notdir $(STRESS_SRCS)))
EXAMPLES := $(basename $(notdir $(EXAMPLE_SRCS)))

# ---- build configurations ----------------------------------------------
# Each configuration compiles the library sources, the harness and the
# tests with its own compiler and flags, into build/<config>/.
SAN_AU := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
CONFIGS := gcc clang asan-gcc asan-clang tsan

CC_gcc          = $(GCC)
CFLAGS_gcc      = $(STD) $(WARN) -O2 -g
CC_clang        = $(CLANG)
CFLAGS_clang    = $(STD) $(WARN) -O2 -g
CC_asan-gcc     = $(GCC)
CFLAGS_asan-gcc = $(STD) $(WARN) -O1 -g $(SAN_AU)
CC_asan-clang   = $(CLANG)
CFLAGS_asan-clang = $(STD) $(WARN) -O1 -g $(SAN_AU)
CC_tsan         = $(CLANG)
CFLAGS_tsan     = $(STD) $(WARN) -O1 -g -fno-omit-frame-pointer -fsanitize=thread

define CONFIG_RULES
$(B)/$(1)/obj/%.o: src/%.c $(HEADERS)
	@mkdir -p $$(@D)
	$$(CC_$(1)) $$(CFLAGS_$(1)) $(INC) -c $$< -o $$@
$(B)/$(1)/harness/%.o: tests/harness/%.c $(HARNESS_HDRS) $(HEADERS)
	@mkdir -p $$(@D)
	$$(CC_$(1)) $$(CFLAGS_$(1)) $(INC) -Itests/harness -c $$< -o $$@
$(B)/$(1)/libatomkit.a: $(patsubst src/%.c,$(B)/$(1)/obj/%.o,$(LIB_SRCS))
	@mkdir -p $$(@D)
	@rm -f $$@
	ar rcs $$@ $$^
$(B)/$(1)/unit/%: tests/unit/%.c $(B)/$(1)/libatomkit.a $(patsubst tests/harness/%.c,$(B)/$(1)/harness/%.o,$(HARNESS_SRCS)) $(HARNESS_HDRS)
	@mkdir -p $$(@D)
	$$(CC_$(1)) $$(CFLAGS_$(1)) $(INC) -Itests/harness $$< -o $$@ $(patsubst tests/harness/%.c,$(B)/$(1)/harness/%.o,$(HARNESS_SRCS)) $(B)/$(1)/libatomkit.a $(TEST_LDLIBS)
$(B)/$(1)/stress/%: tests/stress/%.c $(B)/$(1)/libatomkit.a $(patsubst tests/harness/%.c,$(B)/$(1)/harness/%.o,$(HARNESS_SRCS)) $(HARNESS_HDRS)
	@mkdir -p $$(@D)
	$$(CC_$(1)) $$(CFLAGS_$(1)) $(INC) -Itests/harness $$< -o $$@ $(patsubst tests/harness/%.c,$(B)/$(1)/harness/%.o,$(HARNESS_SRCS)) $(B)/$(1)/libatomkit.a $(TEST_LDLIBS)
endef
$(foreach c,$(CONFIGS),$(eval $(call CONFIG_RULES,$(c))))

unit_bins   = $(foreach u,$(UNITS),$(B)/$(1)/unit/$(u))
stress_bins = $(foreach s,$(STRESSES),$(B)/$(1)/stress/$(s))

# ---- the library (static + shared, PIC) ----------------------------------
# -z nodelete: dlclose() never unmaps the library, since the limiter's
# pthread key destructor may still run at a later thread exit.
LIB_OBJS := $(patsubst src/%.c,$(B)/lib/obj/%.o,$(LIB_SRCS))
LIB_A    := $(B)/lib/libatomkit.a
LIB_SO   := $(B)/lib/libatomkit.so.$(VERSION)
SONAME   := libatomkit.so.$(VERSION_MAJOR)

$(B)/lib/obj/%.o: src/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(GCC) $(STD) $(WARN) -O2 -g -fPIC $(INC) -c $< -o $@
$(LIB_A): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^
$(LIB_SO): $(LIB_OBJS)
	$(GCC) -shared -Wl,-soname,$(SONAME) -Wl,-z,nodelete -o $@ $^ $(LIB_LDLIBS)
	ln -sf libatomkit.so.$(VERSION) $(B)/lib/$(SONAME)
	ln -sf $(SONAME) $(B)/lib/libatomkit.so
$(B)/atomkit.pc: scripts/atomkit.pc.in Makefile
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

.PHONY: FORCE all lib test test-build tsan tsan-build bench bench-build examples \
        install uninstall deps clean check-headers
.DEFAULT_GOAL := all

all: lib
lib: $(LIB_A) $(LIB_SO) $(B)/atomkit.pc

# ---- examples --------------------------------------------------------------
$(B)/examples/%: examples/%.c $(B)/gcc/libatomkit.a $(HEADERS)
	@mkdir -p $(@D)
	$(GCC) $(STD) $(WARN) -O2 -g $(INC) $< -o $@ $(B)/gcc/libatomkit.a $(TEST_LDLIBS)
examples: $(foreach e,$(EXAMPLES),$(B)/examples/$(e))

# ---- benchmarks ------------------------------------------------------------
# DPDK rte_ring peer rows, when libdpdk is installed (`make deps DPDK=1`).
# Only the *_dpdk.cc adapters see DPDK's headers and flags; the C rows get
# -DAK_HAVE_DPDK alone.  build/bench/dpdk.flags records the choice, so the
# objects are rebuilt when DPDK appears or goes.
DPDK_CFLAGS := $(shell pkg-config --exists libdpdk 2>/dev/null && echo -DAK_HAVE_DPDK $$(pkg-config --cflags libdpdk))
DPDK_LIBS   := $(if $(DPDK_CFLAGS),$(shell pkg-config --libs libdpdk))
DPDK_STAMP  := $(B)/bench/dpdk.flags
$(DPDK_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(DPDK_CFLAGS) $(DPDK_LIBS)' | cmp -s - $@ || echo '$(DPDK_CFLAGS) $(DPDK_LIBS)' > $@
FORCE:
$(B)/bench/obj/peers/%_dpdk.o: PEER_FLAGS = $(DPDK_CFLAGS)

BENCH_COBJS := $(patsubst bench/%.c,$(B)/bench/obj/%.o,$(BENCH_SRCS))
BENCH_XOBJS := $(patsubst bench/peers/%.cc,$(B)/bench/obj/peers/%.o,$(BENCH_PEERS)) $(B)/bench/obj/shim/cbench.o
BENCH_BIN   := $(B)/bench/atomkit-bench

$(B)/bench/obj/%.o: bench/%.c $(HEADERS) $(wildcard bench/*.h bench/shim/*.h bench/peers/*.h) $(DPDK_STAMP)
	@mkdir -p $(@D)
	$(GCC) $(STD) $(WARN) -O2 -g $(INC) -Ibench $(filter -DAK_HAVE_DPDK,$(DPDK_CFLAGS)) -c $< -o $@
$(B)/bench/obj/peers/%.o: bench/peers/%.cc $(wildcard bench/*.h bench/shim/*.h bench/peers/*.h) $(DPDK_STAMP)
	@mkdir -p $(@D)
	$(GXX) -std=c++17 -O2 -g -Wall -Wextra -Werror $(INC) -Ibench $(PEER_FLAGS) -c $< -o $@
$(B)/bench/obj/shim/cbench.o: bench/shim/cbench.cc bench/shim/cbench.h
	@mkdir -p $(@D)
	$(GXX) -std=c++17 -O2 -g -Wall -Wextra -Werror -Ibench -c $< -o $@
$(BENCH_BIN): $(BENCH_COBJS) $(BENCH_XOBJS) $(B)/gcc/libatomkit.a
	$(GXX) -o $@ $(BENCH_COBJS) $(BENCH_XOBJS) $(B)/gcc/libatomkit.a $(BENCH_LDLIBS) $(DPDK_LIBS)

# ---- the two commands -----------------------------------------------------
# deps first, then a sub-make, so compilers installed by deps.sh are seen.
test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory -j2 test-build
	@scripts/run-tests.sh $(if $(QUICK),--quick) $(if $(ONLY),--only '$(value ONLY)')

test-build: lib examples \
	$(foreach c,gcc clang asan-gcc asan-clang,$(call unit_bins,$(c))) \
	$(call stress_bins,gcc) $(call stress_bins,tsan)

tsan:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory -j2 tsan-build
	@scripts/run-tests.sh --only tsan $(if $(QUICK),--quick)
tsan-build: $(call stress_bins,tsan)

bench:
	@scripts/deps.sh bench
	@$(if $(DPDK),scripts/deps.sh dpdk)
	@$(MAKE) --no-print-directory -j2 bench-build
	@scripts/run-bench.sh '$(value FILTER)'
bench-build: $(BENCH_BIN)

deps:
	@scripts/deps.sh all
	@$(if $(DPDK),scripts/deps.sh dpdk)

check-headers:
	@scripts/check-headers.sh
	@scripts/check-link.sh

# ---- install ---------------------------------------------------------------
install: lib
	install -d $(DESTDIR)$(INCLUDEDIR)/atomkit/internal $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 include/atomkit.h $(DESTDIR)$(INCLUDEDIR)/atomkit.h
	install -m 644 $(wildcard include/atomkit/*.h) $(DESTDIR)$(INCLUDEDIR)/atomkit/
	install -m 644 $(wildcard include/atomkit/internal/*.h) $(DESTDIR)$(INCLUDEDIR)/atomkit/internal/
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libatomkit.a
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libatomkit.so.$(VERSION)
	ln -sf libatomkit.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libatomkit.so
	install -m 644 $(B)/atomkit.pc $(DESTDIR)$(PKGCONFIGDIR)/atomkit.pc

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/atomkit.h
	rm -rf $(DESTDIR)$(INCLUDEDIR)/atomkit
	rm -f $(DESTDIR)$(LIBDIR)/libatomkit.a $(DESTDIR)$(LIBDIR)/libatomkit.so \
	      $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libatomkit.so.$(VERSION) \
	      $(DESTDIR)$(PKGCONFIGDIR)/atomkit.pc

clean:
	rm -rf $(B)

# Print a variable: make print-CLANG
print-%:
	@echo '$($*)'

# ---- verification beyond TSan (docs/verification.md) ------------------------
# Spin models (tests/spin), litmus tests (tests/litmus), libFuzzer call-sequence
# fuzzers (tests/fuzz), ASan+UBSan stress runs, lint, soak, benchmark report.
# `make test` runs a bounded slice of each (scripts/run-tests.sh); these
# targets run the fuller versions.
LITMUS_SRCS := $(shell scripts/present-sources.sh tests/litmus)
FUZZ_SRCS   := $(shell scripts/present-sources.sh tests/fuzz)
LITMUS_BINS := $(patsubst tests/litmus/%.c,$(B)/litmus/%,$(LITMUS_SRCS))
FUZZ_BINS   := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS))
FUZZ_FLAGS  := -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=all
SECONDS     ?= 60
DURATION    ?= 600

SPIN_MODELS := $(basename $(notdir $(wildcard tests/spin/*.pml)))
SPIN_PANS   := $(foreach m,$(SPIN_MODELS),$(B)/spin/$(m)/pan $(B)/spin/$(m).broken/pan)
# The verifiers are compiled at build time, so `make test` only runs them.
$(B)/spin/%.broken/pan: tests/spin/%.pml scripts/spin-check.sh
	@scripts/deps.sh verify
	scripts/spin-check.sh --build-only --broken $<
$(B)/spin/%/pan: tests/spin/%.pml scripts/spin-check.sh
	@scripts/deps.sh verify
	scripts/spin-check.sh --build-only $<
# Further broken variants, named on "broken-<variant>:" header lines
# (model:variant pairs; built with -DBROKEN_<VARIANT>).
SPIN_VARIANTS := $(shell for m in tests/spin/*.pml; do \
	sed -n "s|^ *\* *broken-\([a-z0-9_]*\):.*|$$(basename $$m .pml):\1|p" $$m; done)
spin_vmodel = $(word 1,$(subst :, ,$(1)))
spin_vname  = $(word 2,$(subst :, ,$(1)))
define SPIN_VARIANT_RULE
$(B)/spin/$(call spin_vmodel,$(1)).broken-$(call spin_vname,$(1))/pan: tests/spin/$(call spin_vmodel,$(1)).pml scripts/spin-check.sh
	@scripts/deps.sh verify
	scripts/spin-check.sh --build-only --variant $(call spin_vname,$(1)) $$<
endef
$(foreach v,$(SPIN_VARIANTS),$(eval $(call SPIN_VARIANT_RULE,$(v))))
SPIN_PANS += $(foreach v,$(SPIN_VARIANTS),$(B)/spin/$(call spin_vmodel,$(v)).broken-$(call spin_vname,$(v))/pan)

$(B)/litmus/%: tests/litmus/%.c $(wildcard tests/litmus/*.h) $(B)/gcc/libatomkit.a $(HEADERS)
	@mkdir -p $(@D)
	$(GCC) $(STD) $(WARN) -O2 -g $(INC) -Itests/litmus $< -o $@ $(B)/gcc/libatomkit.a $(TEST_LDLIBS)
# A fuzzer is compiled together with the library sources, all instrumented.
$(B)/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h tests/unit/*.h) $(LIB_SRCS) $(HEADERS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_FLAGS) $(WARN) -Wno-pedantic $(INC) -Itests/fuzz $< $(LIB_SRCS) -o $@ $(TEST_LDLIBS)

.PHONY: verify verify-build fuzz fuzz-build soak lint bench-report
verify-build: $(SPIN_PANS) $(LITMUS_BINS) $(FUZZ_BINS) \
	$(call stress_bins,asan-gcc) $(call stress_bins,asan-clang)
fuzz-build: $(FUZZ_BINS)
# `make test` runs the slices, so it builds these too.
test-build: verify-build

# Every Spin model fully (also at -DBIG bounds) with its broken variant, and
# the litmus tests at 10x their default iterations.
verify:
	@scripts/deps.sh verify
	@$(MAKE) --no-print-directory -j2 verify-build
	@VERIFY_FULL=1 scripts/run-tests.sh --only '^(spin|litmus)/'

# Each fuzzer for SECONDS seconds, growing build/fuzz/corpus/<target>.
fuzz:
	@$(MAKE) --no-print-directory -j2 fuzz-build
	@scripts/fuzz.sh --seconds $(SECONDS)

# Random families, seeds and thread counts, optimized and TSan, for DURATION s.
soak:
	@$(MAKE) --no-print-directory -j2 $(call stress_bins,gcc) $(call stress_bins,tsan)
	@scripts/soak.sh $(DURATION)

lint:
	@scripts/lint.sh

# build/bench.json (from `make bench`) -> docs/benchmarks.md + docs/img/*.svg
bench-report:
	@scripts/deps.sh report
	@python3 scripts/bench_report.py build/bench.json docs/benchmarks.md docs/img
