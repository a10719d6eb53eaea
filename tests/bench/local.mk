# tests/bench/local.mk -- the benchmark tools and `make bench`. make check only
# runs a smoke test (tests/bench/smoke.sh, a few seconds) that proves the tools
# work; the figures come from `make bench` (tests/bench/run-bench.sh).
BENCH_PROGS = tests/bench/milterload tests/bench/nullmilter tests/bench/policy_bench
check_PROGRAMS += $(BENCH_PROGS)
tests_bench_milterload_SOURCES = tests/bench/milterload.c tests/bench/milter_wire.h
tests_bench_milterload_LDADD = $(PTHREAD_LIBS)
tests_bench_nullmilter_SOURCES = tests/bench/nullmilter.c
tests_bench_nullmilter_CFLAGS = $(AM_CFLAGS) $(MILTER_CFLAGS)
tests_bench_nullmilter_LDADD = $(MILTER_LIBS) $(PTHREAD_LIBS)
tests_bench_policy_bench_SOURCES = tests/bench/policy_bench.c
tests_bench_policy_bench_LDADD = $(POLICY_LIBS)

TESTS += tests/bench/smoke.sh
EXTRA_DIST += tests/bench/smoke.sh tests/bench/run-bench.sh tests/bench/genpolicy.sh

# `make bench`: builds everything (the daemon included) and prints one table.
# BENCH_ARGS is passed to run-bench.sh (e.g. BENCH_ARGS=--quick).
.PHONY: bench
bench: all $(BENCH_PROGS) $(check_DATA)
	TLSPOLICY_TEST_PKI='$(TEST_PKI)' top_srcdir='$(abs_top_srcdir)' \
	top_builddir='$(abs_top_builddir)' $(SHELL) $(top_srcdir)/tests/bench/run-bench.sh $(BENCH_ARGS)

# tlspolicy report against jq: a 4 MB smoke in make check (figures only, no
# timing assertion); `make bench-report` runs the 1 GB benchmark.
TESTS += tests/bench/report-bench.sh
EXTRA_DIST += tests/bench/report-bench.sh
.PHONY: bench-report
bench-report: tools/tlspolicy
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	$(SHELL) $(top_srcdir)/tests/bench/report-bench.sh 1000000000
