# tests/e2e/local.mk -- end-to-end suites through a real Postfix and a real Sendmail 8.17
# (private instances on loopback, real STARTTLS with the test PKI), and "make demo".
# They need root, postfix and swaks (sendmail: also m4, libwrap0 and apt-get download);
# without them they print a TAP "1..0 # SKIP <reason>" instead of failing.
E2E_TESTS = tests/e2e/postfix.sh tests/e2e/sendmail.sh tests/e2e/outbound.sh \
	tests/e2e/outbound-sendmail.sh \
	tests/e2e/delegation.sh
# Under ASan+UBSan they prove nothing the milter suites do not, and take minutes;
# make distcheck configures with --disable-e2e for the same reason.
if !SANITIZERS
if ENABLE_E2E
TESTS += $(E2E_TESTS)
endif
endif
AM_DISTCHECK_CONFIGURE_FLAGS += --disable-e2e
EXTRA_DIST += $(E2E_TESTS) tests/e2e/outbound-rx.py tests/e2e/lib.sh tests/e2e/matrix.sh tests/e2e/held-session.sh tests/e2e/smtp-talk.sh \
	tests/e2e/connectors.yaml.in tests/e2e/demo.sh tests/e2e/demo.yaml.in

# Only the end-to-end suites (the PKI and the daemon are built first by "check").
check-e2e:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(E2E_TESTS)'

# A live walk-through for administrators (the README's first command ends here):
# needs root and postfix + swaks installed; builds nothing itself.
demo: all
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	  bash $(top_srcdir)/tests/e2e/demo.sh

# Sendmail's .debs are downloaded once per build tree (see lib.sh sm_fetch).
clean-local: clean-e2e
clean-e2e:
	-rm -rf tests/e2e/sendmail-debs

