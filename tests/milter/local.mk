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
	-I$(top_srcdir)/milter -I$(top_srcdir)/tests/milter
# libmilterd.a without -lmilter: fake_milter.c provides the smfi_* symbols.
tests_milter_test_callbacks_LDADD = milter/libmilterd.a $(POLICY_LIBS) $(CMOCKA_LIBS) \
	$(PTHREAD_LIBS)
endif

# miltertest against the real daemon; the runner skips (TAP SKIP) without it.
TESTS += tests/milter/run-miltertest.sh
if HAVE_MILTERTEST
AM_TESTS_ENVIRONMENT += MILTERTEST='$(MILTERTEST)'; export MILTERTEST;
endif
EXTRA_DIST += tests/milter/run-miltertest.sh tests/milter/common.lua \
	tests/milter/postfix.lua tests/milter/sendmail.lua tests/milter/reload.lua
