# contrib/local.mk -- files for administrators: the example connectors file
# (installed as the default configuration, never over an existing one), the
# systemd unit (installed where pkg-config says systemd looks, with this
# build's sbindir) and its /etc/default file (never over an existing one),
# Postfix/Sendmail snippets and the logrotate file (installed as examples
# under $(docdir) for packagers to place).
examplesdir = $(docdir)/examples
dist_examples_DATA = \
	contrib/connectors.example.yaml \
	contrib/milter-tlspolicy.service \
	contrib/postfix-main.cf \
	contrib/sendmail.mc \
	contrib/logrotate \
	contrib/milter-tlspolicy.default \
	contrib/rsyslog-posture-sender.conf \
	contrib/rsyslog-posture-central.conf

# The unit names the daemon, its file and /etc/default file by installed paths.
if HAVE_SYSTEMD
systemdsystemunit_DATA = milter-tlspolicy.service
CLEANFILES += milter-tlspolicy.service
milter-tlspolicy.service: $(srcdir)/contrib/milter-tlspolicy.service Makefile
	$(AM_V_GEN)sed -e 's|/usr/sbin/milter-tlspolicy|$(sbindir)/milter-tlspolicy|g' \
	  -e 's|/etc/default/milter-tlspolicy|$(sysconfdir)/default/milter-tlspolicy|g' \
	  -e 's|/etc/milter-tlspolicy/|$(sysconfdir)/milter-tlspolicy/|g' \
	  $(srcdir)/contrib/milter-tlspolicy.service >$@.tmp && mv $@.tmp $@
endif
# distcheck installs as a user under its own prefix
AM_DISTCHECK_CONFIGURE_FLAGS = \
	--with-systemdsystemunitdir='$$(prefix)/lib/systemd/system'

DEFAULT_CONF = $(DESTDIR)$(sysconfdir)/default/milter-tlspolicy
install-data-local: install-default-conf
install-default-conf:
	$(MKDIR_P) $(DESTDIR)$(sysconfdir)/default
	@if test -f $(DEFAULT_CONF); then \
	  echo "keeping the existing $(DEFAULT_CONF)"; \
	else \
	  echo " $(INSTALL_DATA) contrib/milter-tlspolicy.default $(DEFAULT_CONF)"; \
	  $(INSTALL_DATA) $(srcdir)/contrib/milter-tlspolicy.default $(DEFAULT_CONF); \
	fi
uninstall-local: uninstall-default-conf
uninstall-default-conf:
	@if test -f $(DEFAULT_CONF) && \
	    cmp -s $(srcdir)/contrib/milter-tlspolicy.default $(DEFAULT_CONF); then \
	  echo " rm -f $(DEFAULT_CONF)"; rm -f $(DEFAULT_CONF); \
	fi
.PHONY: install-default-conf uninstall-default-conf

CONNECTORS_CONF = $(DESTDIR)$(sysconfdir)/milter-tlspolicy/connectors.yaml

install-data-local: install-connectors-conf
install-connectors-conf:
	$(MKDIR_P) $(DESTDIR)$(sysconfdir)/milter-tlspolicy
	@if test -f $(CONNECTORS_CONF); then \
	  echo "keeping the existing $(CONNECTORS_CONF)"; \
	else \
	  echo " $(INSTALL_DATA) contrib/connectors.example.yaml $(CONNECTORS_CONF)"; \
	  $(INSTALL_DATA) $(srcdir)/contrib/connectors.example.yaml $(CONNECTORS_CONF); \
	fi

# Remove it only when it is still the unmodified example.
uninstall-local: uninstall-connectors-conf
uninstall-connectors-conf:
	@if test -f $(CONNECTORS_CONF) && \
	    cmp -s $(srcdir)/contrib/connectors.example.yaml $(CONNECTORS_CONF); then \
	  echo " rm -f $(CONNECTORS_CONF)"; rm -f $(CONNECTORS_CONF); \
	fi

.PHONY: install-connectors-conf uninstall-connectors-conf

# The README's two commands (a newcomer's tarball must have them too).
EXTRA_DIST += contrib/quickstart.sh
