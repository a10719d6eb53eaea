# contrib/local.mk -- files for administrators: the example connectors file
# (installed as the default configuration, never over an existing one), the
# systemd unit, Postfix/Sendmail snippets and the logrotate file (installed
# as examples under $(docdir) for packagers to place).
examplesdir = $(docdir)/examples
dist_examples_DATA = \
	contrib/connectors.example.yaml \
	contrib/milter-tlspolicy.service \
	contrib/postfix-main.cf \
	contrib/sendmail.mc \
	contrib/logrotate

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
