#!/bin/bash
# report-bench.sh -- "tlspolicy report" on a large generated posture log, with jq
# side by side computing the same per-connector message and verdict counts. Prints
# both times (elapsed and CPU), the ratio and the report's peak RSS, and checks
# that both tools counted the same. Figures only: nothing here fails on a time.
#
#   report-bench.sh [BYTES]     make bench-report passes 1 GB; make check runs it
#                               with the default, 4 MB, as a smoke test.
# The goals (issue 13): 1 GB in under 10 s on one core, under 64 MB RSS, at least
# 5 times faster than jq. The log is written to $TMPDIR and removed afterwards.
set -u

TLSPOLICY=${TLSPOLICY:-${top_builddir:-.}/tools/tlspolicy}
SRCDIR=${top_srcdir:-.}
BYTES=${1:-${REPORT_BENCH_BYTES:-4000000}}

echo "1..2"
for tool in python3 jq /usr/bin/time; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "ok 1 # SKIP $tool is not installed"
        echo "ok 2 # SKIP $tool is not installed"
        exit 0
    fi
done
T=$(mktemp -d "${TMPDIR:-/tmp}/report-bench.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
LOG=$T/posture.jsonl
python3 "$SRCDIR/tests/tools/gen-posture.py" bench "$LOG" "$BYTES" || exit 1
lines=$(wc -l <"$LOG")
size=$(stat -c %s "$LOG")
echo "# input: $size bytes, $lines messages"

# Warm the page cache so both tools read from memory.
cat "$LOG" >/dev/null

/usr/bin/time -f '%e %U %S %M' -o "$T/report.time" \
    taskset -c 0 "$TLSPOLICY" report --format json "$LOG" >"$T/report.json"
rc=$?
/usr/bin/time -f '%e %U %S %M' -o "$T/jq.time" \
    taskset -c 0 jq -n -c 'reduce inputs as $r ({};
        .[$r.connector // "(defaults)"][$r.verdict] += 1)' "$LOG" >"$T/jq.json"
jrc=$?

python3 - "$T/report.json" "$T/jq.json" "$T/report.time" "$T/jq.time" "$size" <<'EOF'
import json, sys
rep = json.load(open(sys.argv[1]))
jq = json.load(open(sys.argv[2]))
size = int(sys.argv[5])
mine = {c["connector"]: {v: c[v] for v in ("pass", "fail", "none", "error") if c[v]}
        for c in rep["connectors"]}
re, ru, rs, rm = (float(x) for x in open(sys.argv[3]).read().split()[-4:])
je, ju, js, jm = (float(x) for x in open(sys.argv[4]).read().split()[-4:])
print("# tlspolicy report: %.2f s elapsed, %.2f s CPU (user+sys), peak RSS %.1f MB"
      % (re, ru + rs, rm / 1024))
print("# jq:               %.2f s elapsed, %.2f s CPU (user+sys), peak RSS %.1f MB"
      % (je, ju + js, jm / 1024))
print("# ratio jq/report:  %.1fx by CPU time, %.1fx by elapsed time"
      % ((ju + js) / max(ru + rs, 0.01), je / max(re, 0.01)))
print("# report per GB:    %.2f s CPU, %.2f s elapsed (goals: < 10 s, < 64 MB, >= 5x jq)"
      % ((ru + rs) * 1e9 / size, re * 1e9 / size))
print("ok 1 - both tools counted the same per-connector verdicts"
      if mine == jq else "not ok 1 - per-connector counts differ from jq's")
EOF
[ "$rc" = 0 ] && [ "$jrc" = 0 ]
if [ $? = 0 ]; then echo "ok 2 - report and jq both ran (exit $rc, $jrc)"; else
    echo "not ok 2 - report exit $rc, jq exit $jrc"; exit 1; fi
