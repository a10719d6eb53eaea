# tests/fuzz/local.mk -- fuzz targets of the policy library. Under `make check`
# every seed corpus is replayed by tests/fuzz/replay.c (any compiler, no
# libFuzzer; one TAP line per target). With ./configure --enable-fuzzing CC=clang
# the libFuzzer binaries are built too, against an instrumented copy of the
# library (see tests/fuzz/README).
FUZZ_NAMES = fuzz_policy_load fuzz_cert_name fuzz_facts fuzz_eval fuzz_policyd_req fuzz_hdr_from
FUZZ_COMMON = tests/fuzz/fuzz_common.c tests/fuzz/fuzz.h
# The loader may only open the test PKI's trust store (fuzz_common.c).
FUZZ_WRAP = -Wl,--wrap=trust_store_load

FUZZ_REPLAYS = tests/fuzz/replay_fuzz_policy_load tests/fuzz/replay_fuzz_cert_name \
	tests/fuzz/replay_fuzz_facts tests/fuzz/replay_fuzz_eval tests/fuzz/replay_fuzz_policyd_req \
	tests/fuzz/replay_fuzz_hdr_from
check_PROGRAMS += $(FUZZ_REPLAYS)
TESTS += $(FUZZ_REPLAYS)
tests_fuzz_replay_fuzz_policy_load_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_policy_load.c $(FUZZ_COMMON)
tests_fuzz_replay_fuzz_policy_load_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_TARGET='"fuzz_policy_load"'
tests_fuzz_replay_fuzz_policy_load_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_WRAP)
tests_fuzz_replay_fuzz_policy_load_LDADD = $(POLICY_LIBS)
tests_fuzz_replay_fuzz_cert_name_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_cert_name.c $(FUZZ_COMMON)
tests_fuzz_replay_fuzz_cert_name_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_TARGET='"fuzz_cert_name"'
tests_fuzz_replay_fuzz_cert_name_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_WRAP)
tests_fuzz_replay_fuzz_cert_name_LDADD = $(POLICY_LIBS)
tests_fuzz_replay_fuzz_facts_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_facts.c $(FUZZ_COMMON)
tests_fuzz_replay_fuzz_facts_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_TARGET='"fuzz_facts"'
tests_fuzz_replay_fuzz_facts_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_WRAP)
tests_fuzz_replay_fuzz_facts_LDADD = $(POLICY_LIBS)
tests_fuzz_replay_fuzz_eval_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_eval.c $(FUZZ_COMMON)
tests_fuzz_replay_fuzz_eval_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_TARGET='"fuzz_eval"'
tests_fuzz_replay_fuzz_eval_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_WRAP)
tests_fuzz_replay_fuzz_eval_LDADD = $(POLICY_LIBS)
tests_fuzz_replay_fuzz_policyd_req_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_policyd_req.c $(FUZZ_COMMON)
tests_fuzz_replay_fuzz_policyd_req_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_TARGET='"fuzz_policyd_req"'
tests_fuzz_replay_fuzz_policyd_req_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_WRAP)
tests_fuzz_replay_fuzz_policyd_req_LDADD = $(POLICY_LIBS)

tests_fuzz_replay_fuzz_hdr_from_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_hdr_from.c $(FUZZ_COMMON)
tests_fuzz_replay_fuzz_hdr_from_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_TARGET='"fuzz_hdr_from"'
tests_fuzz_replay_fuzz_hdr_from_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_WRAP)
tests_fuzz_replay_fuzz_hdr_from_LDADD = $(POLICY_LIBS)

EXTRA_DIST += tests/fuzz/README tests/fuzz/corpus \
	tests/fuzz/fuzz_policy_load.dict tests/fuzz/fuzz_cert_name.dict \
	tests/fuzz/fuzz_facts.dict tests/fuzz/fuzz_eval.dict tests/fuzz/fuzz_policyd_req.dict \
	tests/fuzz/fuzz_hdr_from.dict

FUZZ_SECONDS = 60
.PHONY: fuzz
if ENABLE_FUZZING
# Coverage-instrumented copy of libpolicy: the normal one is built with the
# user's CFLAGS, which libFuzzer cannot steer.
FUZZ_CC_FLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LD_FLAGS = -fsanitize=fuzzer,address,undefined $(FUZZ_WRAP)
FUZZ_LIBS = tests/fuzz/libpolicy_fuzz.a $(YAML_LIBS) $(OPENSSL_LIBS) $(IDN2_LIBS) $(UNISTRING_LIBS) $(PTHREAD_LIBS)
noinst_LIBRARIES += tests/fuzz/libpolicy_fuzz.a
tests_fuzz_libpolicy_fuzz_a_SOURCES = $(policy_libpolicy_a_SOURCES)
tests_fuzz_libpolicy_fuzz_a_CFLAGS = $(policy_libpolicy_a_CFLAGS) $(FUZZ_CC_FLAGS)

noinst_PROGRAMS += tests/fuzz/fuzz_policy_load tests/fuzz/fuzz_cert_name \
	tests/fuzz/fuzz_facts tests/fuzz/fuzz_eval tests/fuzz/fuzz_policyd_req \
	tests/fuzz/fuzz_hdr_from
tests_fuzz_fuzz_policy_load_SOURCES = tests/fuzz/fuzz_policy_load.c $(FUZZ_COMMON)
tests_fuzz_fuzz_policy_load_CFLAGS = $(AM_CFLAGS) $(FUZZ_CC_FLAGS)
tests_fuzz_fuzz_policy_load_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LD_FLAGS)
tests_fuzz_fuzz_policy_load_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_cert_name_SOURCES = tests/fuzz/fuzz_cert_name.c $(FUZZ_COMMON)
tests_fuzz_fuzz_cert_name_CFLAGS = $(AM_CFLAGS) $(FUZZ_CC_FLAGS)
tests_fuzz_fuzz_cert_name_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LD_FLAGS)
tests_fuzz_fuzz_cert_name_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_facts_SOURCES = tests/fuzz/fuzz_facts.c $(FUZZ_COMMON)
tests_fuzz_fuzz_facts_CFLAGS = $(AM_CFLAGS) $(FUZZ_CC_FLAGS)
tests_fuzz_fuzz_facts_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LD_FLAGS)
tests_fuzz_fuzz_facts_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_eval_SOURCES = tests/fuzz/fuzz_eval.c $(FUZZ_COMMON)
tests_fuzz_fuzz_eval_CFLAGS = $(AM_CFLAGS) $(FUZZ_CC_FLAGS)
tests_fuzz_fuzz_eval_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LD_FLAGS)
tests_fuzz_fuzz_eval_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_policyd_req_SOURCES = tests/fuzz/fuzz_policyd_req.c $(FUZZ_COMMON)
tests_fuzz_fuzz_policyd_req_CFLAGS = $(AM_CFLAGS) $(FUZZ_CC_FLAGS)
tests_fuzz_fuzz_policyd_req_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LD_FLAGS)
tests_fuzz_fuzz_policyd_req_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_hdr_from_SOURCES = tests/fuzz/fuzz_hdr_from.c $(FUZZ_COMMON)
tests_fuzz_fuzz_hdr_from_CFLAGS = $(AM_CFLAGS) $(FUZZ_CC_FLAGS)
tests_fuzz_fuzz_hdr_from_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LD_FLAGS)
tests_fuzz_fuzz_hdr_from_LDADD = $(FUZZ_LIBS)

# `make fuzz FUZZ_SECONDS=600`: every target in turn, new inputs kept in
# tests/fuzz/work/<target>/ (the seed corpus in the source tree is only read).
fuzz: $(noinst_PROGRAMS) $(check_DATA)
	@for t in $(FUZZ_NAMES); do \
	  $(MKDIR_P) tests/fuzz/work/$$t tests/fuzz/crashes/$$t || exit 1; \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  TLSPOLICY_TEST_PKI='$(TEST_PKI)' tests/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) \
	    -dict=$(top_srcdir)/tests/fuzz/$$t.dict -artifact_prefix=tests/fuzz/crashes/$$t/ \
	    tests/fuzz/work/$$t $(top_srcdir)/tests/fuzz/corpus/$$t || exit 1; \
	done
else
fuzz:
	@echo "fuzz targets need ./configure --enable-fuzzing CC=clang (see tests/fuzz/README)"; exit 1
endif
