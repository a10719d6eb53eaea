#!/bin/sh
# tests/doc/readme-examples.sh -- the README's worked example is what tlspolicy prints:
# runs doc/examples/readme-examples.sh --check against the built tools/tlspolicy (TAP).
# Owns: nothing but the verdict. Never: rewrites README (the check mode writes nothing).
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-$srcdir}
echo "1..1"
if out=$(TLSPOLICY=$builddir/tools/tlspolicy bash "$srcdir/doc/examples/readme-examples.sh" \
        --check "$srcdir/README" 2>&1); then
    echo "ok 1 - README: the worked example matches what tlspolicy prints"
else
    echo "not ok 1 - README: the worked example matches what tlspolicy prints"
    printf '%s\n' "$out" | sed 's/^/# /'
    echo "# regenerate with: bash doc/examples/readme-examples.sh (TLSPOLICY=path/to/tlspolicy)"
fi
