# tests/tools/local.mk -- tests of tlspolicy(1): the tool end to end against
# real connectors files and the test PKI (TAP shell script). Its JSON writer is
# policy/json_write.c, tested in tests/unit.
# The tool end to end; needs tools/tlspolicy, the test PKI and python3 (to read
# the JSON output). Skipped, not failed, when the PKI or python3 is missing.
TESTS += tests/tools/test-tlspolicy.sh
EXTRA_DIST += tests/tools/test-tlspolicy.sh
