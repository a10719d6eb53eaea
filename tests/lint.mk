# tests/lint.mk -- `make lint`: cppcheck, clang-tidy and gcc -fanalyzer over the
# C sources of policy/, milter/ and tools/ (the code that ships). Any finding
# fails the target. Kept out of `make check` because it is slow: about a minute
# on one core, mostly clang-tidy (`make -j3 lint` runs the three tools side by
# side). Each tool can be swapped: make lint CLANG_TIDY=clang-tidy-15.
#
# Suppressions live next to the code they excuse (cppcheck-suppress, NOLINT, a
# GCC diagnostic pragma), each with a comment saying why the finding is false;
# the only ones here are whole checks that do not fit this code base, below.

LINT_FILES = $(policy_libpolicy_a_SOURCES) $(milter_libmilterd_a_SOURCES) \
	$(milter_milter_tlspolicy_SOURCES) $(tools_tlspolicy_SOURCES)
# What the build itself passes: config.h forced in, -I policy, SYSCONFDIR,
# libmilter.
LINT_DEFS = $(DEFS) $(AM_CPPFLAGS) $(MILTER_CFLAGS) $(YAML_CFLAGS) \
	$(OPENSSL_CFLAGS)
# Each C file once.
LINT_C = `for f in $(LINT_FILES); do echo $$f; done | grep '\.c$$' | sort -u`

CPPCHECK = cppcheck
# --std=c11 and the exact defines of this build: cppcheck then checks the one
# configuration that is compiled instead of guessing at every #ifdef.
CPPCHECK_OPTS = --enable=warning,performance,portability --error-exitcode=1 \
	--inline-suppr --quiet --std=c11 --library=posix \
	--include=$(top_builddir)/config.h -I$(top_srcdir)/policy \
	-DHAVE_CONFIG_H \
	-DSYSCONFDIR='"$(sysconfdir)"'

CLANG_TIDY = clang-tidy
# bugprone-*, cert-* (the CERT C rules) and the clang static analyzer, minus:
#  - bugprone-easily-swappable-parameters: flags every (const char *, const char *)
#    signature, i.e. most of the declared module contracts, which are fixed.
#  - cert-err33-c: wants the result of every printf/fputs/snprintf used. Output
#    errors of tlspolicy are caught once, by fflush/ferror before exit, and
#    every snprintf into a fixed buffer here formats a value of bounded size.
#  - clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling: asks
#    for C11 Annex K (memcpy_s, snprintf_s), which glibc does not provide; every
#    memcpy/memset/snprintf call would need a suppression.
CLANG_TIDY_CHECKS = -*,bugprone-*,cert-*,clang-analyzer-*,\
-bugprone-easily-swappable-parameters,-cert-err33-c,\
-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling
CLANG_TIDY_OPTS = --quiet --checks='$(CLANG_TIDY_CHECKS)' --warnings-as-errors='*'

LINT_CC = gcc
# -O0: the analyzer follows paths, not optimised code; -Werror makes any
# -Wanalyzer-* finding fail the target.
LINT_ANALYZER_OPTS = -std=c11 -fanalyzer -O0 $(WARN_CFLAGS) -Werror $(PTHREAD_CFLAGS)

.PHONY: lint lint-cppcheck lint-clang-tidy lint-analyzer
lint: lint-cppcheck lint-clang-tidy lint-analyzer

lint-cppcheck:
	@files=; for f in $(LINT_C); do files="$$files $(srcdir)/$$f"; done; \
	echo "  CPPCHECK"; \
	$(CPPCHECK) $(CPPCHECK_OPTS) $$files

lint-clang-tidy:
	@rc=0; for f in $(LINT_C); do \
	  echo "  CLANG-TIDY $$f"; \
	  $(CLANG_TIDY) $(CLANG_TIDY_OPTS) $(srcdir)/$$f -- -std=c11 $(LINT_DEFS) \
	    $(PTHREAD_CFLAGS) || rc=1; \
	done; exit $$rc

lint-analyzer:
	@rc=0; for f in $(LINT_C); do \
	  echo "  ANALYZER $$f"; \
	  $(LINT_CC) $(LINT_ANALYZER_OPTS) $(LINT_DEFS) -c -o /dev/null $(srcdir)/$$f || rc=1; \
	done; exit $$rc
