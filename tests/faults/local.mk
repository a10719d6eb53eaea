# tests/faults/local.mk -- the fault and hardening suite: reload storms under load, the
# milter killed behind a real Postfix, descriptor and memory growth over 100,000
# messages, hostile macro values and 5,000 recipients. Each script prints its figures as
# TAP comments. Not under the sanitizers: their timing and memory figures mean nothing
# there (the sanitizer build runs the unit, callback and fuzz suites instead).
# miltershot: one scripted milter session with exact (hostile) macro values
check_PROGRAMS += tests/faults/miltershot
tests_faults_miltershot_SOURCES = tests/faults/miltershot.c tests/bench/milter_wire.h
tests_faults_miltershot_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/bench

# sigkill-postfix.sh runs a private Postfix (root): like the end-to-end suites it is left
# out of make check by --disable-e2e (make distcheck); make check-faults runs it anyway.
FAULT_LOCAL_TESTS = tests/faults/reload-storm.sh tests/faults/growth.sh \
	tests/faults/lifecycle.sh tests/faults/jsonlog.sh tests/faults/reload-inplace.sh \
	tests/faults/hostile-input.sh
FAULT_MTA_TESTS = tests/faults/sigkill-postfix.sh
FAULT_TESTS = $(FAULT_LOCAL_TESTS) $(FAULT_MTA_TESTS)
if !SANITIZERS
TESTS += $(FAULT_LOCAL_TESTS)
if ENABLE_E2E
TESTS += $(FAULT_MTA_TESTS)
endif
endif
EXTRA_DIST += $(FAULT_TESTS) tests/faults/common.sh

# Only this suite (the daemon, milterload and the test PKI are built first by "check").
check-faults:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(FAULT_TESTS)'
