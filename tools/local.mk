# tools/local.mk -- tlspolicy(1), the offline admin tool.
bin_PROGRAMS += tools/tlspolicy
tools_tlspolicy_SOURCES = tools/tlspolicy.c
tools_tlspolicy_LDADD = $(POLICY_LIBS)
dist_man_MANS += tools/tlspolicy.1
