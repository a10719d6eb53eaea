# tests/unit/local.mk -- cmocka unit tests of policy/, one program per module,
# table-driven; each case is one TAP line so every case is counted.
if HAVE_CMOCKA
UNIT_TESTS = \
	tests/unit/test_match_domain \
	tests/unit/test_match_addr \
	tests/unit/test_cert_name \
	tests/unit/test_tls_facts \
	tests/unit/test_trust_store \
	tests/unit/test_trust_names \
	tests/unit/test_policy_load \
	tests/unit/test_facts \
	tests/unit/test_hdr_from \
	tests/unit/test_policy_eval \
	tests/unit/test_json_write \
	tests/unit/test_posture \
	tests/unit/test_authres \
	tests/unit/test_outbound \
	tests/unit/test_policyd_req \
	tests/unit/test_pins
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(OPENSSL_CFLAGS) -I$(top_srcdir)/tests/unit
UNIT_LDADD = $(POLICY_LIBS) $(CMOCKA_LIBS)
tests_unit_test_match_domain_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_match_domain_LDADD = $(UNIT_LDADD)
tests_unit_test_match_addr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_match_addr_LDADD = $(UNIT_LDADD)
tests_unit_test_cert_name_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cert_name_LDADD = $(UNIT_LDADD)
tests_unit_test_tls_facts_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_tls_facts_LDADD = $(UNIT_LDADD)
tests_unit_test_trust_store_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_trust_store_LDADD = $(UNIT_LDADD)
tests_unit_test_trust_names_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_trust_names_LDADD = $(UNIT_LDADD)
tests_unit_test_policy_load_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_load_LDADD = $(UNIT_LDADD)
tests_unit_test_facts_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_facts_LDADD = $(UNIT_LDADD)
tests_unit_test_hdr_from_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_hdr_from_LDADD = $(UNIT_LDADD)
tests_unit_test_policy_eval_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_eval_LDADD = $(UNIT_LDADD)
tests_unit_test_json_write_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_json_write_LDADD = $(UNIT_LDADD)
tests_unit_test_posture_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_posture_LDADD = $(UNIT_LDADD)
tests_unit_test_outbound_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_outbound_LDADD = $(UNIT_LDADD)
tests_unit_test_authres_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_authres_LDADD = $(UNIT_LDADD)
tests_unit_test_policyd_req_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policyd_req_LDADD = $(UNIT_LDADD)
tests_unit_test_pins_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_pins_LDADD = $(UNIT_LDADD)
endif
# Test fixtures (PKI generator, connectors files) are shipped for make distcheck.
EXTRA_DIST += tests/pki/mkpki.sh tests/unit/data
# Test helpers: the row-table runner (unit, milter and tools tests) and what
# the two match-index tests share.
EXTRA_DIST += tests/unit/table_test.h tests/unit/match_test.h

# A throw-away test PKI, generated once per build tree for the tests that need
# real certificates (trust store, evaluator, milter, e2e).
TEST_PKI = $(abs_top_builddir)/tests/pki/out
check_DATA = tests/pki/out/.stamp
tests/pki/out/.stamp: $(top_srcdir)/tests/pki/mkpki.sh
	$(AM_V_GEN)rm -rf tests/pki/out && $(MKDIR_P) tests/pki && $(SHELL) $(top_srcdir)/tests/pki/mkpki.sh tests/pki/out >tests/pki/mkpki.log 2>&1 && touch $@
clean-local: clean-test-pki
clean-test-pki:
	-rm -rf tests/pki/out tests/pki/mkpki.log
AM_TESTS_ENVIRONMENT += TLSPOLICY_TEST_PKI='$(TEST_PKI)'; export TLSPOLICY_TEST_PKI;
