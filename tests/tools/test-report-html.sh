#!/bin/bash
# test-report-html.sh -- the HTML report in a real headless Chromium: it loads
# with no console message, every connector has its timeline and TLS charts (inline
# SVG) in the rendered DOM, the outbound contracts of -c FILE are a table there, and a screenshot is kept as an artifact under
# tests/tools/report-artifacts/ of the build tree. A control page with a script
# error proves the console check works on this Chromium. TAP output.
# Without chromium: a TAP skip on a developer machine, a failure when CI=true.
set -u

TLSPOLICY=${TLSPOLICY:-${top_builddir:-.}/tools/tlspolicy}
SRCDIR=${top_srcdir:-.}
ART=${top_builddir:-.}/tests/tools/report-artifacts
CHROMIUM=${CHROMIUM:-chromium}

if ! command -v "$CHROMIUM" >/dev/null 2>&1; then
    if [ "${CI:-}" = true ]; then
        echo "Bail out! chromium is required in CI (Debian package chromium)"
        exit 1
    fi
    echo "1..0 # SKIP chromium is not installed (Debian package chromium)"
    exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "1..0 # SKIP python3 is needed to generate the logs"
    exit 0
fi
. "$SRCDIR/tests/tools/report-lib.sh"
report_logs test-report-html
mkdir -p "$ART" || exit 1


# chrome ARGS... URL: a fresh profile each time, no network of its own, bounded.
chrome() {
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --user-data-dir="$(mktemp -d "$T/profile.XXXXXX")" \
        --enable-logging=stderr --v=0 "$@"
}

# Control: the console check must see a page's console error and script error.
printf '<!DOCTYPE html><body><script>console.error("control");nosuch();</script>' \
    >"$T/control.html"
chrome --dump-dom "file://$T/control.html" >/dev/null 2>"$T/control.err"
grep -q 'CONSOLE.*"control"' "$T/control.err" && grep -q 'CONSOLE.*nosuch' "$T/control.err"
ok $? "control page: chromium reports its console messages on stderr"

# Two outbound connectors, so the outbound section is rendered too.
printf 'version: 1\noutbound:\n  - name: p1\n    recipient_domains: [p1.test, .p1.test]\n    require: { min_version: TLSv1.3, certificate: verified }\n  - name: p2\n    recipient_domains: p2.test\n    smart_hosts: "[mx.p2.test]:2525"\n    mode: monitor\n    require: { tls: true }\n' \
    >"$T/outbound.yaml"
"$TLSPOLICY" report --format html -c "$T/outbound.yaml" "$T"/logs/* >"$ART/report.html" 2>/dev/null
rc=$?
[ "$rc" = 1 ]
ok $? "html report written despite the bad lines (exit $rc)"

chrome --dump-dom "file://$(cd "$ART" && pwd)/report.html" >"$T/dom.html" 2>"$T/dom.err"
ok $? "chromium loads the report"
! grep -q 'CONSOLE' "$T/dom.err"
ok $? "no console message while loading"
grep 'CONSOLE' "$T/dom.err" | head -3 | sed 's/^/# /'

# Count connectors in the JSON report, then charts in the rendered DOM.
nconn=$("$TLSPOLICY" report --format json "$T"/logs/* 2>/dev/null \
        | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["connectors"]))')
ntime=$(grep -o '<svg class="chart timeline"' "$T/dom.html" | wc -l)
ntls=$(grep -o '<svg class="chart tls"' "$T/dom.html" | wc -l)
[ "$nconn" -gt 3 ] && [ "$ntime" = "$nconn" ]
ok $? "one timeline chart per connector in the DOM ($ntime of $nconn)"
[ "$ntls" = $((nconn + 1)) ]
ok $? "one TLS chart per connector and one overall ($ntls)"
grep -q '<rect[^>]*fill="#2e7d32"' "$T/dom.html" && grep -q 'id="partners"' "$T/dom.html"
ok $? "bars drawn and the partner table present"
nob=$(python3 - "$T/dom.html" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
m = re.search(r'<section id="outbound">(.*?)</section>', dom, re.S)
print(len(re.findall(r'<tr><td>p[12]</td>', m.group(1))) if m else -1)
PY
)
[ "$nob" = 2 ]
ok $? "the outbound section lists both outbound connectors in the DOM ($nob)"

chrome --screenshot="$(cd "$ART" && pwd)/report.png" --window-size=1200,2400 \
    "file://$(cd "$ART" && pwd)/report.html" >/dev/null 2>"$T/shot.err"
[ -s "$ART/report.png" ] && [ "$(head -c 8 "$ART/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
ok $? "screenshot kept: $ART/report.png"

echo "1..$n"
[ "$fails" = 0 ]
