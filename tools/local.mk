# tools/local.mk -- tlspolicy(1), the offline admin tool.
bin_PROGRAMS += tools/tlspolicy
tools_tlspolicy_SOURCES = tools/tlspolicy.c tools/install.c tools/tools_install.h \
	tools/check_pins.c tools/check_pins.h \
	tools/report.h tools/report.c tools/report_input.c tools/report_parse.c \
	tools/report_agg.c tools/report_esc.c tools/report_text.c tools/report_json.c \
	tools/report_html.c tools/verify_log.c tools/verify_log.h \
	tools/export.h tools/export_mta.h tools/export.c tools/export_check.c tools/export_postfix.c \
	tools/export_sendmail.c \
	tools/eval_outbound.c \
	tools/trust.h tools/trust.c
tools_tlspolicy_CFLAGS = $(AM_CFLAGS) $(YAJL_CFLAGS) $(ZLIB_CFLAGS)
tools_tlspolicy_LDADD = $(POLICY_LIBS) $(YAJL_LIBS) $(ZLIB_LIBS)
dist_man_MANS += tools/tlspolicy.1
