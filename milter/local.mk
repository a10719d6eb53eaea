# milter/local.mk -- the milter-tlspolicy daemon. Everything but main() lives in
# libmilterd.a so that tests/milter can link the callback layer against a fake
# libmilter instead of the real one.
noinst_LIBRARIES += milter/libmilterd.a
milter_libmilterd_a_CFLAGS = $(AM_CFLAGS) $(MILTER_CFLAGS) $(PTHREAD_CFLAGS)
milter_libmilterd_a_SOURCES = \
	milter/callbacks.c milter/callbacks.h \
	milter/session.c milter/session.h \
	milter/msg_edits.c milter/msg_edits.h \
	milter/macros.c milter/macros.h \
	milter/policyd.c milter/policyd.h \
	milter/policyd_conn.c milter/policyd_conn.h \
	milter/policyd_table.c milter/policyd_table.h \
	milter/reload.c milter/reload.h \
	milter/posture_log.c milter/posture_log.h \
	milter/logq.c milter/logq.h

sbin_PROGRAMS += milter/milter-tlspolicy
milter_milter_tlspolicy_SOURCES = milter/main.c
milter_milter_tlspolicy_CFLAGS = $(AM_CFLAGS) $(MILTER_CFLAGS) $(PTHREAD_CFLAGS)
milter_milter_tlspolicy_LDADD = milter/libmilterd.a $(POLICY_LIBS) $(MILTER_LIBS) $(PTHREAD_LIBS)

dist_man_MANS += milter/milter-tlspolicy.8
