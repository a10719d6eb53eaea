#!/bin/sh
# test-rsyslog.sh -- the many-hosts recipe of contrib/ for real: two sender
# rsyslogd (contrib/rsyslog-posture-sender.conf, imfile on each host's posture
# file) forward over TCP on loopback to a central rsyslogd
# (contrib/rsyslog-posture-central.conf), and `tlspolicy report --format json`
# over the central file must equal the report over the two originals. The
# contrib files are used as shipped; only the paths, the port, the target and
# the listening address are rewritten for the test. Every rsyslogd runs in the
# foreground with its own config, pidfile and work directory (no /dev/log, no
# system log touched), is stopped on exit, and every wait is bounded. TAP.
set -u

TLSPOLICY=${TLSPOLICY:-${top_builddir:-.}/tools/tlspolicy}
SRCDIR=${top_srcdir:-.}
RSYSLOGD=${RSYSLOGD:-$(command -v rsyslogd 2>/dev/null || echo /usr/sbin/rsyslogd)}

if [ ! -x "$RSYSLOGD" ]; then
    echo "1..0 # SKIP rsyslogd is not installed (apt-get install rsyslog)"
    exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "1..0 # SKIP python3 is needed to compare the reports"
    exit 0
fi
if [ ! -x "$TLSPOLICY" ]; then
    echo "Bail out! $TLSPOLICY is not built"
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/rsyslog-tlspolicy.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
pids=
cleanup() {
    for p in $pids; do kill -TERM "$p" 2>/dev/null; done
    for p in $pids; do
        i=0
        while [ $i -lt 30 ] && kill -0 "$p" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
n=0
ok() {      # ok NAME CONDITION-EXIT-STATUS [DETAIL]
    n=$((n + 1))
    if [ "$2" -eq 0 ]; then
        echo "ok $n - $1"
    else
        echo "not ok $n - $1"
        [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /' | head -20
    fi
}

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# Two hosts' posture logs: the two halves of one generated log, each line
# naming its host, so the files differ and the report can tell them apart.
python3 "$SRCDIR/tests/tools/gen-posture.py" bench "$T/all.jsonl" 400000 || exit 1
total=$(wc -l < "$T/all.jsonl")
half=$((total / 2))
mkdir -p "$T/mx1" "$T/mx2" "$T/central"
# Each host's file is a hash chain as log_json_chain writes it (a link line,
# then each line naming the SHA-256 of the one before), built here by python3.
chain() {   # chain HOST < LINES > FILE
    python3 -c '
import hashlib, json, sys
host = sys.argv[1]
line = json.dumps({"schema": 1, "type": "link", "time": "2025-11-30T00:00:00Z",
                   "host": host, "prev": "genesis"}, separators=(",", ":"))
out = [line]
for raw in sys.stdin:
    r = json.loads(raw)
    r["host"] = host
    r["prev"] = hashlib.sha256(line.encode()).hexdigest()
    line = json.dumps(r, separators=(",", ":"))
    out.append(line)
sys.stdout.write("\n".join(out) + "\n")' "$1"
}
head -n "$half" "$T/all.jsonl" | chain mx1 > "$T/mx1/posture.jsonl"
tail -n +"$((half + 1))" "$T/all.jsonl" | chain mx2 > "$T/mx2/posture.jsonl"
total=$((total + 2))

# The shipped files, with only what a test must change.
sed -e "s|/var/log/milter-tlspolicy/all-hosts.jsonl|$T/central/all-hosts.jsonl|" \
    -e "s|Port=\"6514\" Address=\"0.0.0.0\"|Port=\"$port\" Address=\"127.0.0.1\"|" \
    "$SRCDIR/contrib/rsyslog-posture-central.conf" > "$T/central.conf"
printf 'global(workDirectory="%s")\n' "$T/central" >> "$T/central.conf"
for h in mx1 mx2; do
    sed -e "s|/var/log/milter-tlspolicy/posture.jsonl|$T/$h/posture.jsonl|" \
        -e "s|Target=\"loghost.example\" Port=\"6514\"|Target=\"127.0.0.1\" Port=\"$port\"|" \
        "$SRCDIR/contrib/rsyslog-posture-sender.conf" > "$T/$h.conf"
    printf 'global(workDirectory="%s")\n' "$T/$h" >> "$T/$h.conf"
done

for c in central mx1 mx2; do
    out=$("$RSYSLOGD" -N1 -f "$T/$c.conf" 2>&1); r=$?
    ok "rsyslogd -N1 accepts the $c configuration" $r "$out"
done

"$RSYSLOGD" -n -f "$T/central.conf" -i "$T/central.pid" > "$T/central.log" 2>&1 &
pids="$pids $!"
i=0
while [ $i -lt 50 ] && ! python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null; do
    sleep 0.1; i=$((i + 1))
done
for h in mx1 mx2; do
    "$RSYSLOGD" -n -f "$T/$h.conf" -i "$T/$h.pid" > "$T/$h.log" 2>&1 &
    pids="$pids $!"
done

# Bounded: until the central file holds every line (at most 30 s).
i=0
while [ $i -lt 300 ]; do
    got=$(cat "$T/central/all-hosts.jsonl" 2>/dev/null | wc -l)
    [ "$got" -ge "$total" ] && break
    sleep 0.1; i=$((i + 1))
done
[ "$got" -eq "$total" ]
ok "the central file holds every line of both hosts ($total)" $? \
    "got $got lines; $(cat "$T/central.log" "$T/mx1.log" "$T/mx2.log" | head -10)"

sort "$T/mx1/posture.jsonl" "$T/mx2/posture.jsonl" > "$T/orig.sorted"
sort "$T/central/all-hosts.jsonl" > "$T/central.sorted"
cmp -s "$T/orig.sorted" "$T/central.sorted"
ok "the central lines are the hosts' lines, byte for byte" $? \
    "$(diff "$T/orig.sorted" "$T/central.sorted" | head -4)"

for h in mx1 mx2; do
    out=$(grep "\"host\":\"$h\"" "$T/central/all-hosts.jsonl" | "$TLSPOLICY" verify-log - 2>&1)
    ok "each host's hash chain verifies on its lines of the central file ($h)" $? "$out"
done

"$TLSPOLICY" report --format json "$T/mx1/posture.jsonl" "$T/mx2/posture.jsonl" > "$T/orig.json"
r1=$?
"$TLSPOLICY" report --format json "$T/central/all-hosts.jsonl" > "$T/central.json"
r2=$?
python3 - "$T/orig.json" "$T/central.json" > "$T/cmp.out" 2>&1 <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))
# Only what names the input files may differ: two files on one side, one on
# the other. Every figure must be the same.
for k in ("files", "inputs"):
    a.pop(k, None)
    b.pop(k, None)
if a != b:
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            print("differs:", k, json.dumps(a.get(k))[:200], json.dumps(b.get(k))[:200])
    sys.exit(1)
hosts = json.dumps(a)
assert '"mx1"' in hosts and '"mx2"' in hosts, "both hosts should be in the report"
PY
pr=$?
[ $r1 -eq 0 ] && [ $r2 -eq 0 ]
ok "tlspolicy report: exit 0 on both inputs" $? "exit $r1 and $r2"
[ $pr -eq 0 ]
ok "tlspolicy report --format json over the central file equals the report over the two originals" $? \
    "$(cat "$T/cmp.out")"

echo "1..$n"
