# milter/local.mk -- the milter-tlspolicy daemon. Everything but main() lives in
# libmilterd.a so that tests/milter can link the callback layer against a fake
# libmilter instead of the real one.
noinst_LIBRARIES += milter/libmilterd.a
# tools/json_out.c is built in too: its UTF-8 validator is the one the posture
# log uses, so the daemon and tlspolicy(1) agree on what is well-formed.
milter_libmilterd_a_CFLAGS = $(AM_CFLAGS) $(MILTER_CFLAGS) $(PTHREAD_CFLAGS) -I$(top_srcdir)/tools
milter_libmilterd_a_SOURCES = \
	milter/callbacks.c milter/callbacks.h \
	milter/session.c milter/session.h \
	milter/macros.c milter/macros.h \
	milter/reload.c milter/reload.h \
	milter/posture_log.c milter/posture_log.h \
	milter/logq.c milter/logq.h \
	milter/strbuf.c milter/strbuf.h \
	tools/json_out.c tools/json_out.h

sbin_PROGRAMS += milter/milter-tlspolicy
milter_milter_tlspolicy_SOURCES = milter/main.c
milter_milter_tlspolicy_CFLAGS = $(AM_CFLAGS) $(MILTER_CFLAGS) $(PTHREAD_CFLAGS)
milter_milter_tlspolicy_LDADD = milter/libmilterd.a $(POLICY_LIBS) $(MILTER_LIBS) $(PTHREAD_LIBS)

dist_man_MANS += milter/milter-tlspolicy.8
