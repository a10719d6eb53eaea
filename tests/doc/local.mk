# tests/doc/local.mk -- the documentation is checked like code: the README's worked
# example is regenerated from the real tlspolicy and compared (doc/examples).
TESTS += tests/doc/readme-examples.sh
EXTRA_DIST += tests/doc/readme-examples.sh doc/examples/readme-examples.sh \
	doc/examples/contoso.yaml doc/examples/public.yaml
