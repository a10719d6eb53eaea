# tests/milter/local.mk -- the daemon's tests: the callback layer in-process
# against a link-time fake of libmilter (cmocka), and miltertest Lua scripts
# against the real daemon over a unix socket.
if HAVE_CMOCKA
check_PROGRAMS += tests/milter/test_callbacks
TESTS += tests/milter/test_callbacks
tests_milter_test_callbacks_SOURCES = \
	tests/milter/test_callbacks.c \
	tests/milter/fake_milter.c tests/milter/fake_milter.h
tests_milter_test_callbacks_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(MILTER_CFLAGS) \
	-I$(top_srcdir)/milter -I$(top_srcdir)/tests/milter -I$(top_srcdir)/tests/unit
# libmilterd.a without -lmilter: fake_milter.c provides the smfi_* symbols.
tests_milter_test_callbacks_LDADD = milter/libmilterd.a $(POLICY_LIBS) $(CMOCKA_LIBS) \
	$(PTHREAD_LIBS)
# fake_milter.c fails strdup/strndup/realloc on demand to reach the out-of-memory paths
tests_milter_test_callbacks_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=strdup \
	-Wl,--wrap=strndup -Wl,--wrap=realloc
# the daemon and tlspolicy eval name the same result for a message
check_PROGRAMS += tests/milter/test_summary
TESTS += tests/milter/test_summary
tests_milter_test_summary_SOURCES = \
	tests/milter/test_summary.c \
	tests/milter/fake_milter.c tests/milter/fake_milter.h
tests_milter_test_summary_CFLAGS = $(tests_milter_test_callbacks_CFLAGS)
tests_milter_test_summary_LDADD = $(tests_milter_test_callbacks_LDADD)
tests_milter_test_summary_LDFLAGS = $(tests_milter_test_callbacks_LDFLAGS)
# the syslog writer thread against a socket the test binds
check_PROGRAMS += tests/milter/test_logq
TESTS += tests/milter/test_logq
tests_milter_test_logq_SOURCES = tests/milter/test_logq.c
tests_milter_test_logq_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(PTHREAD_CFLAGS) \
	-I$(top_srcdir)/milter -I$(top_srcdir)/tests/unit
tests_milter_test_logq_LDADD = milter/libmilterd.a $(CMOCKA_LIBS) $(PTHREAD_LIBS)
# the policy delegation join table (no libmilter: it links alone)
check_PROGRAMS += tests/milter/test_policyd_table
TESTS += tests/milter/test_policyd_table
tests_milter_test_policyd_table_SOURCES = tests/milter/test_policyd_table.c milter/policyd_table.c
tests_milter_test_policyd_table_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(PTHREAD_CFLAGS) \
	-I$(top_srcdir)/milter -I$(top_srcdir)/policy
tests_milter_test_policyd_table_LDADD = $(POLICY_LIBS) $(CMOCKA_LIBS) $(PTHREAD_LIBS)
endif

# miltertest against the real daemon; the runner skips (TAP SKIP) without it.
TESTS += tests/milter/run-miltertest.sh
if HAVE_MILTERTEST
AM_TESTS_ENVIRONMENT += MILTERTEST='$(MILTERTEST)'; export MILTERTEST;
endif
# the audit trail: records, hash chain, on_log_error (mounts a tmpfs as root)
TESTS += tests/milter/run-audit-log.sh
EXTRA_DIST += tests/milter/run-audit-log.sh
# run-miltertest.sh starts the main daemon under $(MILTER_WRAPPER) when set.
MILTER_WRAPPER =
AM_TESTS_ENVIRONMENT += MILTER_WRAPPER='$(MILTER_WRAPPER)'; export MILTER_WRAPPER;
EXTRA_DIST += tests/milter/run-miltertest.sh tests/milter/common.lua \
	tests/milter/postfix.lua tests/milter/sendmail.lua tests/milter/reload.lua \
	tests/milter/valgrind-logs.sh

# `make check-valgrind`: the milter suite once under valgrind memcheck, for
# what ASan does not see (uninitialised reads) and as a second leak check:
# test_callbacks in-process, and the miltertest runner with the main daemon
# under valgrind (stopped with SIGTERM so that its leak check runs). Any error
# or definite leak fails the run: valgrind exits 99, and valgrind-logs.sh,
# which runs last, reads every log. TEST_SUITE_LOG=... names the summary log.
VALGRIND_DIR = $(abs_top_builddir)/tests/milter/valgrind
VALGRIND_CMD = $(VALGRIND) --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite --num-callers=30
VALGRIND_TESTS = tests/milter/test_callbacks tests/milter/run-miltertest.sh \
	tests/milter/valgrind-logs.sh
# the log reader must wait for the other two, even under make -j
tests/milter/valgrind-logs.log: tests/milter/test_callbacks.log tests/milter/run-miltertest.log
.PHONY: check-valgrind
check-valgrind:
	@if test -z '$(VALGRIND)'; then \
	  echo "check-valgrind: valgrind not found by configure" >&2; exit 1; fi
	-rm -rf $(VALGRIND_DIR)
	$(MKDIR_P) $(VALGRIND_DIR)
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(VALGRIND_TESTS)' \
	  LOG_COMPILER='$(VALGRIND_CMD) --log-file=$(VALGRIND_DIR)/test-%p.log' \
	  MILTER_WRAPPER='$(VALGRIND_CMD) --log-file=$(VALGRIND_DIR)/daemon-%p.log'
clean-local: clean-valgrind
clean-valgrind:
	-rm -rf tests/milter/valgrind
