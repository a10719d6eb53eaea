#!/bin/sh
# run-audit-log.sh -- the audit trail of the REAL daemon (miltertest drives it):
# host, policy and schema in every JSON record; the hash chain across a
# SIGUSR2 rotation, a SIGUSR1 reload and a restart, checked by
# `tlspolicy verify-log`; and settings.on_log_error on a full filesystem (a
# small tmpfs mounted here) and after a permission loss (an ext4 image on a
# loop device, the log file made immutable). Output is TAP. Every process
# started here is stopped on exit, every mount undone; every wait is bounded.
# Environment: MILTERTEST (empty = skip), TLSPOLICY_TEST_PKI, top_srcdir,
# top_builddir (set by "make check").
set -u

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-$(pwd)}
MT=${MILTERTEST:-}
DAEMON=$builddir/milter/milter-tlspolicy
TP=$builddir/tools/tlspolicy

if [ -z "$MT" ] || [ ! -x "$MT" ]; then
    echo "1..0 # SKIP miltertest not installed"
    exit 0
fi
if [ -z "${TLSPOLICY_TEST_PKI:-}" ] || [ ! -f "$TLSPOLICY_TEST_PKI/trust.pem" ]; then
    echo "Bail out! TLSPOLICY_TEST_PKI/trust.pem not found (run tests/pki/mkpki.sh)"
    exit 1
fi
command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 not installed"; exit 0; }

T=$(mktemp -d "${TMPDIR:-/tmp}/audit-tlspolicy.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
dpid=
mounts=
loopdev=
n=0
ROOTFLAG=
[ "$(id -u)" -eq 0 ] && ROOTFLAG=-R

stop_daemon() {
    [ -n "$dpid" ] || return 0
    if kill -0 "$dpid" 2>/dev/null; then
        kill -TERM "$dpid" 2>/dev/null
        i=0
        while [ $i -lt 10 ] && kill -0 "$dpid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$dpid" 2>/dev/null
    fi
    wait "$dpid" 2>/dev/null
    dpid=
}
cleanup() {
    stop_daemon
    for m in $mounts; do
        chattr -i "$m"/* 2>/dev/null
        umount "$m" 2>/dev/null
    done
    [ -n "$loopdev" ] && losetup -d "$loopdev" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ok() {      # ok NAME CONDITION-EXIT-STATUS [DETAIL]
    n=$((n + 1))
    if [ "$2" -eq 0 ]; then
        echo "ok $n - $1"
    else
        echo "not ok $n - $1"
        [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /' | head -20
    fi
}
skip() {    # skip NAME REASON
    n=$((n + 1)); echo "ok $n - $1 # SKIP $2"
}

policy() {  # policy FILE LOG EXTRA-SETTINGS
    cat > "$1" <<EOF
version: 1
settings:
  trust_store: $TLSPOLICY_TEST_PKI/trust.pem
  log_json: $2
  hostname: mx1.test
$3
connectors:
  - name: partner-a
    match: {sender_domains: [partner-a.test]}
    require: {tls: true}
    on_fail: reject
EOF
}

start_daemon() {   # start_daemon CONF
    # every daemon's stderr is kept for the sanitizer check at the end
    [ -f "$T/daemon.log" ] && cat "$T/daemon.log" >> "$T/daemons.log"
    : > "$T/daemon.log"
    "$DAEMON" -f $ROOTFLAG -c "$1" -p "unix:$T/m.sock" -P "$T/pid" 2>>"$T/daemon.log" &
    dpid=$!
    i=0
    while [ $i -lt 50 ] && [ ! -S "$T/m.sock" ]; do sleep 0.1; i=$((i + 1)); done
    [ -S "$T/m.sock" ]
}

# send N: N messages from partner-a over TLS 1.3; prints the end-of-message
# answer of each ("c" delivered, "y" refused with a reply), one a line.
cat > "$T/send.lua" <<'LUA'
dofile(SRCDIR .. "/tests/milter/common.lua")
for i = 1, tonumber(N) do
  local r = session{ cmacros = PF_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
                     tls = tls("TLSv1.3", TLS13, "256", PF_A),
                     mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
                     rcpts = { "r" .. i .. "@example.test" }, qid = "Q" .. i }
  mt.echo("eom=" .. reply_name(r.eom))
end
LUA
send() {
    "$MT" -D "SOCK=$T/m.sock" -D "SRCDIR=$srcdir" -D "N=$1" -s "$T/send.lua" 2>&1 \
        | sed -n 's/^eom=//p' | tr -d '\n'
}
# wait_log TEXT: bounded wait for the daemon's stderr to say TEXT
wait_log() {
    i=0
    while [ $i -lt 50 ] && ! grep -q "$1" "$T/daemon.log"; do sleep 0.1; i=$((i + 1)); done
    grep -q "$1" "$T/daemon.log"
}

# ------------------------------------------------------------ records and chain
mkdir -p "$T/logs"
policy "$T/chain.yaml" "$T/logs/posture.jsonl" "  log_json_chain: true"
if ! start_daemon "$T/chain.yaml"; then
    echo "Bail out! daemon did not start: $(cat "$T/daemon.log")"
    exit 1
fi
got=$(send 3)
[ "$got" = ccc ]; ok "chain: three messages delivered" $? "eom answers: $got"
want_policy="sha256:$(sha256sum < "$T/chain.yaml" | cut -c1-16)"
python3 - "$T/logs/posture.jsonl" "$want_policy" > "$T/fields.out" 2>&1 <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
first = json.loads(lines[0])
assert first == {**first, "schema": 1, "type": "link", "prev": "genesis", "host": "mx1.test"}, first
recs = [json.loads(l) for l in lines[1:]]
assert len(recs) == 3, lines
for r in recs:
    assert r["schema"] == 1 and r["host"] == "mx1.test" and r["policy"] == sys.argv[2], r
    assert len(r["prev"]) == 64, r
PY
ok "chain: a genesis link line, then records naming host, policy hash and schema" $? \
    "$(cat "$T/fields.out")"

mv "$T/logs/posture.jsonl" "$T/logs/posture.jsonl.1"
kill -USR2 "$dpid"
wait_log "reopening the JSON posture log"
i=0
while [ $i -lt 50 ] && [ ! -s "$T/logs/posture.jsonl" ]; do sleep 0.1; i=$((i + 1)); done
got=$(send 2)
kill -USR1 "$dpid"
wait_log "reloaded"
got=$got$(send 1)
stop_daemon
start_daemon "$T/chain.yaml" || echo "# restart failed: $(cat "$T/daemon.log")"
got=$got$(send 2)
stop_daemon
[ "$got" = ccccc ]; ok "chain: messages around a rotation, a reload and a restart delivered" $? \
    "eom answers: $got"
head -c 200 "$T/logs/posture.jsonl" | grep -q '"type":"link"'
ok "chain: the rotated-to file starts with a link line" $? "$(head -1 "$T/logs/posture.jsonl")"
links=$(grep -c '"type":"link"' "$T/logs/posture.jsonl")
[ "$links" -eq 3 ]; ok "chain: one link line per opening (SIGUSR2, SIGUSR1, restart)" $? \
    "$links link lines"
out=$("$TP" verify-log "$T/logs/posture.jsonl.1" "$T/logs/posture.jsonl" 2>&1); r=$?
[ $r -eq 0 ] && printf '%s' "$out" | grep -q "intact: 12 lines"
ok "verify-log: the daemon's chain is intact across rotation, reload and restart" $? \
    "exit $r: $out"
gzip -k "$T/logs/posture.jsonl.1"
out=$("$TP" verify-log "$T/logs/posture.jsonl.1.gz" "$T/logs/posture.jsonl" 2>&1); r=$?
[ $r -eq 0 ]; ok "verify-log: a gzip-compressed rotated file is read too" $? "exit $r: $out"
out=$("$TP" verify-log "$T/logs/posture.jsonl" "$T/logs/posture.jsonl.1" 2>&1); r=$?
[ $r -eq 1 ]; ok "verify-log: files out of order are a break (exit 1)" $? "exit $r: $out"
sed '3d' "$T/logs/posture.jsonl" > "$T/removed.jsonl"
out=$("$TP" verify-log "$T/logs/posture.jsonl.1" "$T/removed.jsonl" 2>&1); r=$?
[ $r -eq 1 ] && printf '%s' "$out" | grep -q "removed.jsonl:3: the chain breaks: line 2"
ok "verify-log: a line removed from the daemon's file is named" $? "exit $r: $out"
sed '3s/"verdict":"[a-z]*"/"verdict":"fail"/' "$T/logs/posture.jsonl" > "$T/edited.jsonl"
out=$("$TP" verify-log "$T/edited.jsonl" 2>&1); r=$?
[ $r -eq 1 ] && printf '%s' "$out" | grep -q "edited.jsonl:4: the chain breaks: line 3 was altered"
ok "verify-log: an edited line of the daemon's file is named" $? "exit $r: $out"
awk 'NR == 2 { held = $0; next } { print } NR == 3 { print held }' "$T/logs/posture.jsonl" \
    > "$T/swapped.jsonl"
out=$("$TP" verify-log "$T/swapped.jsonl" 2>&1); r=$?
[ $r -eq 1 ] && printf '%s' "$out" | grep -q "swapped.jsonl:2: reordered"
ok "verify-log: two swapped lines of the daemon's file are named" $? "exit $r: $out"
head -c -30 "$T/logs/posture.jsonl" > "$T/cuttail.jsonl"
out=$("$TP" verify-log "$T/cuttail.jsonl" 2>&1); r=$?
[ $r -eq 1 ] && printf '%s' "$out" | grep -q "cuttail.jsonl:8: not a JSON record"
ok "verify-log: the daemon's file with its tail cut short" $? "exit $r: $out"
sed '$d' "$T/logs/posture.jsonl.1" > "$T/cut.jsonl"
out=$("$TP" verify-log "$T/cut.jsonl" "$T/logs/posture.jsonl" 2>&1); r=$?
[ $r -eq 1 ] && printf '%s' "$out" | grep -q "posture.jsonl:1: the chain breaks: the last line of"
ok "verify-log: the tail of a rotated file removed is caught at the next file's link" $? \
    "exit $r: $out"

# ------------------------------------------------------------ full filesystem
if [ "$(id -u)" -ne 0 ] || ! mkdir -p "$T/full" \
        || ! mount -t tmpfs -o size=64k,mode=0755 tmpfs "$T/full" 2>"$T/mount.err"; then
    for w in "tempfail" "once a minute" "no half line" "written again" "chain intact" \
             "continue"; do
        skip "full filesystem: $w" "cannot mount a tmpfs: $(cat "$T/mount.err" 2>/dev/null)"
    done
else
    mounts="$T/full"
    policy "$T/full.yaml" "$T/full/posture.jsonl" "  log_json_chain: true"
    start_daemon "$T/full.yaml" || echo "# start failed: $(cat "$T/daemon.log")"
    got=$(send 1)
    # Fill what is left. The log's last page still has room for a few records
    # (how many depends on their size), so send until it is full: every answer
    # after the first refusal must be a refusal too.
    dd if=/dev/zero of="$T/full/filler" bs=1k count=200 2>/dev/null
    got=$got$(send 16)
    refused=$(printf '%s' "$got" | tr -cd y | wc -c)
    printf '%s' "$got" | grep -Eq '^c+y+$' && [ "$refused" -ge 2 ]
    ok "full filesystem: on_log_error tempfail refuses the message at end of data" $? \
        "eom answers: $got; $(cat "$T/daemon.log")"
    c=$(grep -c "record not written" "$T/daemon.log")
    [ "$c" -eq 1 ] && grep -q "record not written (writing: No space left on device)" \
        "$T/daemon.log"
    ok "full filesystem: the failure is logged once, not once per message" $? \
        "$c lines: $(cat "$T/daemon.log")"
    [ "$(tail -c 1 "$T/full/posture.jsonl" | od -An -c | tr -d ' ')" = '\n' ] \
        && python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' \
            "$T/full/posture.jsonl"
    ok "full filesystem: no half record is left in the file" $? \
        "$(tail -c 300 "$T/full/posture.jsonl")"
    rm -f "$T/full/filler"
    got=$(send 1)
    [ "$got" = c ] && grep -q "written again; $refused records were not written" "$T/daemon.log"
    ok "full filesystem: once space is back, mail flows and the count of lost records is logged" $? \
        "eom answers: $got; $(cat "$T/daemon.log")"
    out=$("$TP" verify-log "$T/full/posture.jsonl" 2>&1); r=$?
    [ $r -eq 0 ]; ok "full filesystem: the chain is intact (refused messages never entered it)" $? \
        "exit $r: $out"
    stop_daemon
    policy "$T/cont.yaml" "$T/full/posture.jsonl" "  on_log_error: continue"
    start_daemon "$T/cont.yaml" || echo "# start failed: $(cat "$T/daemon.log")"
    dd if=/dev/zero of="$T/full/filler" bs=1k count=200 2>/dev/null
    got=$(send 16)
    [ "$got" = cccccccccccccccc ] && grep -q "record not written" "$T/daemon.log"
    ok "full filesystem: on_log_error continue delivers and logs the failure" $? \
        "eom answers: $got; $(cat "$T/daemon.log")"
    stop_daemon
    rm -f "$T/full/filler"
fi

# ------------------------------------------------------------ permission loss
# An ext4 image: its immutable flag refuses writes even on the descriptor the
# daemon already holds, as a lost permission does.
if [ "$(id -u)" -ne 0 ] || ! command -v mkfs.ext4 >/dev/null 2>&1 \
        || ! truncate -s 8M "$T/ext4.img" || ! mkfs.ext4 -q -F "$T/ext4.img" >/dev/null 2>&1 \
        || ! loopdev=$(losetup -f --show "$T/ext4.img" 2>"$T/loop.err") \
        || ! mkdir -p "$T/perm" || ! mount "$loopdev" "$T/perm" 2>>"$T/loop.err"; then
    skip "permission loss: tempfail" "no loop device or ext4: $(cat "$T/loop.err" 2>/dev/null)"
else
    mounts="$mounts $T/perm"
    policy "$T/perm.yaml" "$T/perm/posture.jsonl" ""
    start_daemon "$T/perm.yaml" || echo "# start failed: $(cat "$T/daemon.log")"
    got=$(send 1)
    chattr +i "$T/perm/posture.jsonl"
    got=$got$(send 2)
    chattr -i "$T/perm/posture.jsonl"
    [ "$got" = cyy ] && grep -q "record not written (writing: Operation not permitted)" \
        "$T/daemon.log"
    ok "permission loss: the message is refused and the error is logged" $? \
        "eom answers: $got; $(cat "$T/daemon.log")"
    stop_daemon
fi

# ------------------------------------------------------------ default host
mkdir -p "$T/plain"
policy "$T/plain.yaml" "$T/plain/posture.jsonl" ""
sed -i '/^  hostname: /d' "$T/plain.yaml"
start_daemon "$T/plain.yaml" || echo "# start failed: $(cat "$T/daemon.log")"
got=$(send 1)
stop_daemon
python3 - "$T/plain/posture.jsonl" "$(hostname)" > "$T/host.out" 2>&1 <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 1 and recs[0]["host"] == sys.argv[2], (recs, sys.argv[2])
assert "prev" not in recs[0], "no chain unless asked for"
PY
ok "without settings.hostname the record names the system's host name, and no chain" $? \
    "eom answers: $got; $(cat "$T/host.out")"

cat "$T/daemon.log" >> "$T/daemons.log"
! grep -Eq "AddressSanitizer|LeakSanitizer|runtime error:" "$T/daemons.log"
ok "no sanitizer report from any daemon started here (under --enable-sanitizers)" $? \
    "$(grep -E -A5 "AddressSanitizer|LeakSanitizer|runtime error:" "$T/daemons.log" | head -20)"

echo "1..$n"
