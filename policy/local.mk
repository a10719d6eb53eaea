# policy/local.mk -- libpolicy.a, the pure policy library (no libmilter).
noinst_LIBRARIES += policy/libpolicy.a
policy_libpolicy_a_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(OPENSSL_CFLAGS) $(IDN2_CFLAGS)
policy_libpolicy_a_SOURCES = \
	policy/policy.h policy/policy_int.h policy/id_span.h \
	policy/strfmt.c policy/strfmt.h policy/analyzer.h \
	policy/file_read.c policy/file_read.h \
	policy/diags.c \
	policy/policy.c \
	policy/policy_load.c policy/load_int.h \
	policy/load_yaml.c policy/load_read.c \
	policy/load_settings.c policy/load_require.c policy/load_connector.c \
	policy/load_values.c policy/load_values.h policy/load_lint.c \
	policy/load_outbound.c policy/outbound.c policy/outbound.h policy/outbound_int.h \
	policy/policy_eval.c policy/eval_require.c policy/eval_require.h \
	policy/facts.c policy/hdr_from.c policy/hdr_from.h \
	policy/idna.c policy/idna.h \
	policy/policyd_req.c policy/policyd_req.h \
	policy/match_domain.c policy/match_domain.h \
	policy/match_addr.c policy/match_addr.h \
	policy/id_span.c policy/id_list.c policy/id_list.h \
	policy/tls_facts.c policy/tls_facts.h \
	policy/cert_dn.c policy/cert_dn.h policy/ascii.h \
	policy/cert_name.c policy/cert_name.h \
	policy/trust_store.c policy/trust_store.h policy/trust_int.h \
	policy/trust_cert.c policy/trust_names.c policy/fingerprint.c policy/fingerprint.h \
	policy/pem_certs.c policy/pem_certs.h \
	policy/fingerprint.c policy/fingerprint.h \
	policy/pins.c policy/pins.h policy/pin_index.c policy/pin_index.h \
	policy/pinned.c \
	policy/strbuf.c policy/strbuf.h policy/esc.c policy/esc.h \
	policy/json_write.c policy/json_write.h \
	policy/line_hash.c policy/line_hash.h \
	policy/authres.c policy/authres.h \
	policy/posture.c policy/posture.h policy/posture_render.c policy/posture_render.h
# What a program linking libpolicy.a needs.
POLICY_LIBS = policy/libpolicy.a $(YAML_LIBS) $(OPENSSL_LIBS) $(IDN2_LIBS) $(UNISTRING_LIBS) $(PTHREAD_LIBS)
dist_man_MANS += policy/milter-tlspolicy.yaml.5
