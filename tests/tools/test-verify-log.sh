#!/bin/sh
# test-verify-log.sh -- "tlspolicy verify-log" on crafted hash chains: python3
# builds chains with its own hashlib (none of the C code), then each kind of
# tampering is applied and the first break must be named by file:line with the
# right words and exit 1; an intact chain exits 0, unreadable input 2. The real
# daemon's chain is checked in tests/milter/run-audit-log.sh. TAP output.
set -u

TLSPOLICY=${TLSPOLICY:-${top_builddir:-.}/tools/tlspolicy}

if ! command -v python3 >/dev/null 2>&1; then
    echo "1..0 # SKIP python3 is needed to build chains independently"
    exit 0
fi
if [ ! -x "$TLSPOLICY" ]; then
    echo "Bail out! $TLSPOLICY is not built"
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/verify-log.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf "$T"' EXIT
n=0

# chain FILE COUNT [PREV]: a link line then COUNT records, each naming the hash
# of the line before; the link continues from PREV (default genesis).
chain() {
    python3 - "$@" <<'PY'
import hashlib, json, sys
path, count = sys.argv[1], int(sys.argv[2])
prev = sys.argv[3] if len(sys.argv) > 3 else "genesis"
out = []
line = json.dumps({"schema": 1, "type": "link", "time": "2026-01-01T00:00:00Z",
                   "host": "mx1", "prev": prev}, separators=(",", ":"))
out.append(line)
for i in range(count):
    prev = hashlib.sha256(line.encode()).hexdigest()
    line = json.dumps({"schema": 1, "time": "2026-01-01T00:00:%02dZ" % i, "host": "mx1",
                       "queue_id": "Q%d" % i, "connector": "bank", "verdict": "pass",
                       "prev": prev}, separators=(",", ":"))
    out.append(line)
open(path, "w").write("\n".join(out) + "\n")
PY
}
last_hash() {
    tail -n 1 "$1" | tr -d '\n' | sha256sum | cut -c1-64
}

# check NAME WANT_EXIT WANT_TEXT FILE...
check() {
    name=$1 want=$2 text=$3
    shift 3
    out=$("$TLSPOLICY" verify-log "$@" 2>&1)
    rc=$?
    n=$((n + 1))
    if [ "$rc" -eq "$want" ] && printf '%s\n' "$out" | grep -qF -- "$text"; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"
        echo "# exit $rc (want $want), want text: $text"
        printf '%s\n' "$out" | sed 's/^/# /' | head -5
    fi
}

chain "$T/a.jsonl" 10
chain "$T/b.jsonl" 5 "$(last_hash "$T/a.jsonl")"
check "an intact chain" 0 "hash chain intact: 11 lines (1 link lines) in 1 file" "$T/a.jsonl"
check "an intact chain over two files (a rotation)" 0 "intact: 17 lines (2 link lines) in 2 files" \
    "$T/a.jsonl" "$T/b.jsonl"
gzip -k "$T/a.jsonl"
check "a gzip-compressed first file" 0 "intact" "$T/a.jsonl.gz" "$T/b.jsonl"

sed '5d' "$T/a.jsonl" > "$T/removed.jsonl"
check "a removed line: the break is named at the line after the gap" 1 \
    "removed.jsonl:5: the chain breaks: line 4 was altered, or lines were removed" \
    "$T/removed.jsonl"

sed '6s/"verdict":"pass"/"verdict":"fail"/' "$T/a.jsonl" > "$T/edited.jsonl"
check "an edited line: the line after it names the edited one" 1 \
    "edited.jsonl:7: the chain breaks: line 6 was altered" "$T/edited.jsonl"

awk 'NR == 4 { held = $0; next } { print } NR == 5 { print held }' "$T/a.jsonl" \
    > "$T/swapped.jsonl"
check "two swapped lines are named as reordered" 1 \
    "swapped.jsonl:4: reordered: this line names the line after it as its predecessor (lines 4 and 5 were swapped)" \
    "$T/swapped.jsonl"

head -c -40 "$T/a.jsonl" > "$T/cut.jsonl"
check "a truncated tail (the last line cut short)" 1 \
    "cut.jsonl:11: not a JSON record: this line was altered or cut short" "$T/cut.jsonl"

head -n 8 "$T/a.jsonl" > "$T/short.jsonl"
check "whole lines cut from the end of a rotated file: caught at the next file's link" 1 \
    "b.jsonl:1: the chain breaks: the last line of" "$T/short.jsonl" "$T/b.jsonl"

check "files out of order: the older file's genesis is named" 1 "a.jsonl:1: a new chain starts here" \
    "$T/b.jsonl" "$T/a.jsonl"

chain "$T/g.jsonl" 2
check "a new genesis in the middle is a break" 1 \
    "g.jsonl:1: a new chain starts here" "$T/a.jsonl" "$T/g.jsonl"

sed '3s/,"prev":"[0-9a-f]*"//' "$T/a.jsonl" > "$T/noprev.jsonl"
check "a record without prev" 1 "noprev.jsonl:3: no \"prev\"" "$T/noprev.jsonl"

sed '1d' "$T/a.jsonl" > "$T/headless.jsonl"
check "a file that starts inside a chain is checked from there, with a note" 0 \
    "note: the chain starts with a record, not a link line" "$T/headless.jsonl"

esc=$(printf '\033')
printf 'bad\n' > "$T/x${esc}[31my.jsonl"
out=$("$TLSPOLICY" verify-log "$T/x${esc}[31my.jsonl" 2>&1)
n=$((n + 1))
if printf '%s' "$out" | grep -q "$esc" || ! printf '%s' "$out" | grep -q "not a JSON record"; then
    echo "not ok $n - no byte of a file name reaches the terminal unescaped"
else
    echo "ok $n - no byte of a file name reaches the terminal unescaped"
fi

check "a missing file exits 2" 2 "cannot open" "$T/nope.jsonl"
check "no file exits 2" 2 "expected one or more FILE"
: > "$T/empty.jsonl"
check "an empty file is not an intact chain" 1 "no lines" "$T/empty.jsonl"

echo "1..$n"
