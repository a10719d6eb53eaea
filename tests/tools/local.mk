# tests/tools/local.mk -- tests of tlspolicy(1): the tool end to end against
# real connectors files and the test PKI (TAP shell script). Its JSON writer is
# policy/json_write.c, tested in tests/unit.
# The tool end to end; needs tools/tlspolicy, the test PKI and python3 (to read
# the JSON output). Skipped, not failed, when the PKI or python3 is missing.
TESTS += tests/tools/test-tlspolicy.sh
EXTRA_DIST += tests/tools/test-tlspolicy.sh
# tlspolicy export: the tables per requirement, errors, warnings, stable bytes.
TESTS += tests/tools/test-export.sh
EXTRA_DIST += tests/tools/test-export.sh
# tlspolicy report: figures checked against python3's own count of generated
# logs (tests/tools/gen-posture.py), filters, escaping, bad input.
TESTS += tests/tools/test-report.sh
EXTRA_DIST += tests/tools/test-report.sh tests/tools/gen-posture.py tests/tools/report-lib.sh
# tlspolicy verify-log on chains python3 builds, tampered with every way.
TESTS += tests/tools/test-verify-log.sh
EXTRA_DIST += tests/tools/test-verify-log.sh
# The many-hosts recipe: contrib/rsyslog-posture-*.conf with real rsyslogd on
# loopback; skipped without rsyslogd.
TESTS += tests/tools/test-rsyslog.sh
EXTRA_DIST += tests/tools/test-rsyslog.sh
# The HTML report rendered by headless Chromium; the screenshot stays in
# tests/tools/report-artifacts/. Skipped without chromium, failed when CI=true.
TESTS += tests/tools/test-report-html.sh
EXTRA_DIST += tests/tools/test-report-html.sh
clean-local: clean-report-artifacts
.PHONY: clean-report-artifacts
clean-report-artifacts:
	rm -rf tests/tools/report-artifacts
