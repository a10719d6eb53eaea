#!/bin/sh
# run-miltertest.sh -- runs the miltertest scripts (postfix.lua, sendmail.lua,
# reload.lua) against the REAL milter-tlspolicy daemon on a unix socket in a
# temp dir, plus checks of the daemon's options, socket, logs and JSON log.
# Output is TAP (one line per check). Every process started here is stopped on
# exit, whatever happens; every wait is bounded.
# Environment: MILTERTEST (path, empty = skip), TLSPOLICY_TEST_PKI, top_srcdir,
# top_builddir (set by "make check"); MILTER_WRAPPER (a command the main daemon
# is started under, e.g. valgrind by "make check-valgrind"). The main daemon is
# stopped with SIGTERM and must exit 0 on its own: that is when ASan's leak
# check, or valgrind's, runs (given 15 s under a wrapper, 8 s otherwise).
set -u

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-$(pwd)}
MT=${MILTERTEST:-}
DAEMON=$builddir/milter/milter-tlspolicy
WRAPPER=${MILTER_WRAPPER:-}
# tenths of a second: the start is slower under a wrapper, and the main
# daemon's stop must not be cut short by SIGKILL, or no leak check runs
if [ -n "$WRAPPER" ]; then start_wait=300; main_stop_wait=150; else start_wait=50; main_stop_wait=80; fi

if [ -z "$MT" ] || [ ! -x "$MT" ]; then
    echo "1..0 # SKIP miltertest not installed"
    exit 0
fi
if [ -z "${TLSPOLICY_TEST_PKI:-}" ] || [ ! -f "$TLSPOLICY_TEST_PKI/trust.pem" ]; then
    echo "Bail out! TLSPOLICY_TEST_PKI/trust.pem not found (run tests/pki/mkpki.sh)"
    exit 1
fi
if [ ! -x "$DAEMON" ]; then
    echo "Bail out! $DAEMON not built"
    exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/mt-tlspolicy.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
dpid=
spid=
mpid=
n=0

stop_daemon() {
    [ -n "$dpid" ] || return 0
    if kill -0 "$dpid" 2>/dev/null; then
        kill -TERM "$dpid" 2>/dev/null
        # libmilter takes ~5 s to stop after a session (doc/mta-facts.md 8): 1 s, then KILL
        i=0
        while [ $i -lt 10 ] && kill -0 "$dpid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$dpid" 2>/dev/null
    fi
    wait "$dpid" 2>/dev/null
    dpid=
}
cleanup() {
    stop_daemon
    if [ -n "$mpid" ]; then kill -KILL "$mpid" 2>/dev/null; wait "$mpid" 2>/dev/null; fi
    if [ -n "$spid" ]; then kill -KILL "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; fi
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

# ------------------------------------------------------------ policy files
header() {   # header EXTRA-SETTINGS
    printf 'version: 1\nsettings:\n  trust_store: %s/trust.pem\n  authserv_id: mx.local.test\n  log_json: %s/posture.jsonl\n%s' \
        "$TLSPOLICY_TEST_PKI" "$T" "$1"
}
connectors() {
cat <<'YAML'
defaults:
  require: {}
  on_fail: tag
connectors:
  - name: rcpt-strict
    match: {recipient_domains: [strict.example]}
    require: {tls: true, min_version: TLSv1.3}
    on_fail: reject
  - name: rcpt-watch
    mode: monitor
    match: {recipient_domains: [watch.example]}
    require: {tls: true}
    on_fail: reject
  - name: partner-a
    match:
      sender_domains: [partner-a.test]
      client_addresses: [127.0.0.0/8, 192.0.2.0/24]
    require:
      tls: true
      min_version: TLSv1.2
      min_cipher_bits: 128
      forward_secrecy: true
      certificate: verified
      certificate_names: [mail.partner-a.test]
      issuers: ["Test Issuing CA 1"]
      root_issuers: ["Test Root CA R1"]
    restrict_sender_domains: true
    on_fail: reject
    reply: "5.7.1 partner-a must use verified TLS 1.2+"
  - name: partner-b
    match: {sender_domains: [partner-b.test]}
    require: {tls: true, certificate: verified, root_issuers: ["Other Root CA"]}
    on_fail: tempfail
  - name: quarantine-c
    match: {sender_domains: [partner-c.test]}
    require: {tls: true}
    on_fail: quarantine
  - name: tag-d
    match: {sender_domains: [partner-d.test]}
    require: {tls: true}
    on_fail: tag
  - name: accept-e
    match: {sender_domains: [partner-e.test]}
    require: {tls: true}
    on_fail: accept
  - name: monitor-f
    mode: monitor
    match: {sender_domains: [partner-f.test]}
    require: {tls: true}
    on_fail: reject
YAML
}
{ header ""; connectors; } > "$T/base.yaml"
{ header "  mode: monitor
"; connectors; } > "$T/monitor.yaml"
{ header ""; printf 'connectors:\n  - name: broken\n    match: {sender_domains: [x.test]}\n    on_fail: explode\n'; } > "$T/broken.yaml"
cp "$T/base.yaml" "$T/connectors.yaml"

# ------------------------------------------------------------ option checks
out=$("$DAEMON" -V 2>&1); ok "milter-tlspolicy -V prints the version" $? "$out"
case $out in "milter-tlspolicy "*) r=0 ;; *) r=1 ;; esac
ok "-V output names the program" $r "$out"

out=$("$DAEMON" -n -c "$T/base.yaml" 2>&1); r=$?
ok "-n on a good file exits 0" $r "$out"
case $out in *"OK: 8 connectors"*) r=0 ;; *) r=1 ;; esac
ok "-n on a good file prints OK: N connectors" $r "$out"

out=$("$DAEMON" -n -c "$T/broken.yaml" 2>&1); r=$?
[ $r -eq 2 ]; ok "-n on a broken file exits 2" $? "exit $r: $out"
printf '%s\n' "$out" | grep -q "^$T/broken.yaml:[0-9]*:[0-9]*: "
ok "-n prints each diagnostic as file:line:column" $? "$out"

"$DAEMON" -X >/dev/null 2>&1; r=$?
[ $r -eq 2 ]; ok "an unknown option exits 2" $? "exit $r"
out=$("$DAEMON" -p "tcp:25" -n -c "$T/base.yaml" 2>&1); r=$?
[ $r -eq 2 ]; ok "a bad socket spec exits 2" $? "exit $r: $out"

if [ "$(id -u)" -eq 0 ]; then
    out=$("$DAEMON" -f -c "$T/base.yaml" -p "unix:$T/root.sock" 2>&1); r=$?
    [ $r -eq 2 ] && [ ! -S "$T/root.sock" ]
    ok "as root without -u or -R the daemon refuses to start" $? "exit $r: $out"
    ROOTFLAG=-R
else
    n=$((n + 1)); echo "ok $n - as root without -u or -R the daemon refuses to start # SKIP not root"
    ROOTFLAG=
fi

# ------------------------------------------------------------ background mode
"$DAEMON" $ROOTFLAG -c "$T/base.yaml" -p "unix:$T/bg.sock" -P "$T/bg.pid" 2>"$T/bg.err"; r=$?
bgpid=$(cat "$T/bg.pid" 2>/dev/null)
[ $r -eq 0 ] && [ -n "$bgpid" ] && kill -0 "$bgpid" 2>/dev/null && [ -S "$T/bg.sock" ]
ok "without -f the command returns 0 once the daemon is ready (pidfile, socket)" $? \
    "exit $r, pid '$bgpid', $(cat "$T/bg.err")"
[ -n "$bgpid" ] && kill -KILL "$bgpid" 2>/dev/null
"$DAEMON" $ROOTFLAG -c "$T/base.yaml" -p "unix:$T/bg2.sock" -P "$T/no/such/dir/pid" 2>/dev/null; r=$?
[ $r -eq 1 ]; ok "a start that fails after going to the background exits 1" $? "exit $r"

# ------------------------------------------------------------ clean stop (start)
"$DAEMON" -f $ROOTFLAG -c "$T/base.yaml" -p "unix:$T/s.sock" -P "$T/s.pid" 2>>"$T/daemon-s.log" &
spid=$!
i=0
while [ $i -lt 50 ] && [ ! -S "$T/s.sock" ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM "$spid" 2>/dev/null

# ------------------------------------------------------------ the daemon
: > "$T/daemon.log"
# shellcheck disable=SC2086
$WRAPPER "$DAEMON" -f $ROOTFLAG -c "$T/connectors.yaml" -p "unix:$T/m.sock" -P "$T/pid" \
    2>>"$T/daemon.log" &
dpid=$!
i=0
while [ $i -lt "$start_wait" ] && [ ! -S "$T/m.sock" ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$T/m.sock" ]; ok "the daemon creates its unix socket" $? "$(cat "$T/daemon.log")"
if [ ! -S "$T/m.sock" ]; then
    echo "Bail out! daemon did not start"
    exit 1
fi
mode=$(stat -c %a "$T/m.sock")
[ "$mode" = 770 ]; ok "the socket is group-writable and not world-accessible (770)" $? "mode $mode"
[ "$(cat "$T/pid" 2>/dev/null)" = "$dpid" ]; ok "the pidfile holds the daemon's pid" $?

run_lua() {   # run_lua SCRIPT [-D VAR=VALUE...]
    script=$1; shift
    "$MT" -D "SOCK=$T/m.sock" -D "SRCDIR=$srcdir" "$@" -s "$srcdir/tests/milter/$script" \
        > "$T/lua.out" 2>&1
    rc=$?
    planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$T/lua.out" | tail -1)
    seen=0
    while IFS= read -r line; do
        case $line in
        "ok "*|"not ok "*)
            n=$((n + 1)); seen=$((seen + 1))
            printf '%s\n' "$line" | sed "s/^\(not \)\{0,1\}ok [0-9]* /\1ok $n /" ;;
        "#"*) printf '%s\n' "$line" ;;
        esac
    done < "$T/lua.out"
    [ $rc -eq 0 ] && [ -n "$planned" ] && [ "$planned" -eq "$seen" ]
    ok "$script ran to its plan ($seen checks, miltertest exit $rc)" $? "$(tail -5 "$T/lua.out")"
}

run_lua postfix.lua
run_lua sendmail.lua
run_lua reload.lua -D "CONF=$T/connectors.yaml" -D "CONF_BASE=$T/base.yaml" \
    -D "CONF_MONITOR=$T/monitor.yaml" -D "CONF_BROKEN=$T/broken.yaml" \
    -D "PIDFILE=$T/pid" -D "LOG=$T/daemon.log"

# ------------------------------------------------------------ logs
L=$T/daemon.log
grep -q "PFPASS1: connector=partner-a verdict=pass action=accept mode=enforce client=mail.partner-a.test\[127.0.0.2\] from=<s@partner-a.test> rcpts=1 tls=TLSv1.3" "$L"
ok "one Postfix-style log line per message, starting with the queue id" $? "$(grep PFPASS1 "$L")"
grep -q "SMPASS1: connector=partner-a verdict=pass" "$L"
ok "the queue id from Sendmail's MAIL-stage i macro is used" $? "$(grep SMPASS1 "$L")"
grep -q "NOQUEUE: refused rcpt=<r@example.test> connector=partner-a verdict=fail action=reject reason=\"" "$L"
ok "a refused recipient gets its own NOQUEUE line with the reason" $?
grep -q "SMREJ1: refused rcpt=<r@example.test> connector=partner-a verdict=fail action=reject" "$L"
ok "a refused recipient's line carries the queue id when known (Sendmail)" $? "$(grep SMREJ1 "$L")"
grep -q "refused rcpt=<r@example.test> connector=partner-b verdict=fail action=tempfail" "$L"
ok "the tempfail connector refuses with action=tempfail" $?
grep -q "PFMULTI: .* rcpts=2 " "$L"
ok "rcpts= counts the accepted recipients" $? "$(grep PFMULTI "$L")"
grep -q 'cert="crlf\\x0D\\x0AX-Evil: yes"' "$L" && ! grep -q "^X-Evil" "$L"
ok "control bytes are escaped in log lines" $? "$(grep -a crlf "$L" | head -3)"
grep -q "removed 1 inbound X-TLS-Policy header" "$L"
ok "removing a forged header is logged" $?

J=$T/posture.jsonl
if command -v python3 >/dev/null 2>&1; then
    out=$(python3 - "$J" "$L" <<'PY'
import json, re, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
assert lines[-1] == b"", "last line not terminated"
objs = [json.loads(l) for l in lines[:-1]]
log = open(sys.argv[2], "rb").read()
msgs = len(re.findall(rb"\S+: connector=\S+ verdict=", log))
done = [o for o in objs if o.get("delivered") is True]
assert len(done) == msgs, "delivered json lines %d, log lines %d" % (len(done), msgs)
for o in objs:
    for k in ("time", "queue_id", "delivered", "connector", "verdict", "action", "mode",
              "recipients", "reasons"):
        assert k in o, "missing %s in %r" % (k, o)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", o["time"]), o["time"]
m = [o for o in objs if o.get("queue_id") == "PFMULTI"][0]
assert m["delivered"] is True, m
assert [r["rcpt"] for r in m["recipients"]] == ["a@example.test", "b@strict.example", "c@example.test"], m
assert [r["refused"] for r in m["recipients"]] == [False, True, False], m
print("%d lines, %d delivered" % (len(objs), len(done)))
PY
)
    ok "the JSON log has one valid object per delivered message, with recipients" $? "$out"
    out=$(python3 - "$J" "$L" <<'PY'
import json, re, sys
objs = [json.loads(l) for l in open(sys.argv[1], "rb").read().split(b"\n")[:-1]]
log = open(sys.argv[2], "rb").read()
# every refused recipient in the syslog appears refused in exactly one JSON line
refused_log = len(re.findall(rb": refused rcpt=<", log))
refused_json = sum(1 for o in objs for r in o["recipients"] if r["refused"])
assert refused_log == refused_json, "refused: log %d, json %d" % (refused_log, refused_json)
und = [o for o in objs if o["delivered"] is False]
assert und, "no line for a transaction without a message"
for o in und:
    assert o["recipients"] and all(r["refused"] and r["reasons"] for r in o["recipients"]), o
    assert o["rcpts"] == 0 and o["verdict"] == "fail", o
sm = [o for o in und if o["queue_id"] == "SMREJ1"]
assert len(sm) == 1 and sm[0]["recipients"][0]["rcpt"] == "r@example.test", sm
assert sm[0]["connector"] == "partner-a" and sm[0]["action"] == "reject", sm
pf = [o for o in und if o["queue_id"] is None and o["from"] == "s@partner-b.test"]
assert len(pf) == 1 and pf[0]["action"] == "tempfail", pf
print("%d refused transactions" % len(und))
PY
)
    ok "a transaction whose recipients were all refused gets one JSON line (delivered false)" $? "$out"
else
    for what in "delivered messages" "refused transactions"; do
        n=$((n + 1)); echo "ok $n - JSON log check: $what # SKIP python3 not found"
    done
fi

# The main daemon stops while the checks below run; its exit status is read
# at the end.
mpid=$dpid
dpid=
kill -TERM "$mpid" 2>/dev/null

# ------------------------------------------------------------ -u USER:GROUP
# As root: a second daemon drops to nobody; the socket must belong to it and
# no root id may remain. The policy is read before the drop, so it may stay
# in the root-only temp dir.
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null 2>&1; then
    nuid=$(id -u nobody); ngid=$(getent group nogroup | cut -d: -f3)
    # The JSON log is opened after the drop and must belong to the daemon's
    # user, so this daemon logs into a directory nobody owns.
    chmod 711 "$T"; mkdir -p "$T/ulog"; chown nobody:nogroup "$T/ulog"
    sed "s|log_json: .*|log_json: $T/ulog/posture.jsonl|" "$T/base.yaml" > "$T/u.yaml"
    "$DAEMON" -f -u nobody:nogroup -c "$T/u.yaml" -p "unix:$T/u.sock" -P "$T/u.pid" \
        2>>"$T/daemon-u.log" &
    dpid=$!
    i=0
    while [ $i -lt 50 ] && [ ! -S "$T/u.sock" ]; do sleep 0.1; i=$((i + 1)); done
    owner=$(stat -c %u:%g "$T/u.sock" 2>/dev/null)
    [ "$owner" = "$nuid:$ngid" ]
    ok "-u nobody:nogroup: the socket belongs to nobody:nogroup" $? "owner $owner; $(cat "$T/daemon-u.log")"
    # The socket is handed over before the daemon drops its ids: wait (bounded)
    # for the drop rather than read the ids once.
    want="$nuid $nuid $nuid $nuid $ngid $ngid $ngid $ngid "
    i=0
    while :; do
        ids=$(awk '/^Uid:|^Gid:/ { print $2, $3, $4, $5 }' "/proc/$dpid/status" 2>/dev/null | tr '\n' ' ')
        [ "$ids" = "$want" ] || [ $i -ge 50 ] && break
        sleep 0.1; i=$((i + 1))
    done
    [ "$ids" = "$want" ]
    ok "-u nobody:nogroup: real, effective and saved ids all dropped" $? "ids: $ids"
    [ "$(cat "$T/u.pid" 2>/dev/null)" = "$dpid" ]
    ok "-u: the pidfile was written before dropping privileges" $?
    cat > "$T/u.lua" <<'LUA'
dofile(SRCDIR .. "/tests/milter/common.lua")
local r = session{ cmacros = PF_CONN, host = "mail.partner-a.test", addr = "127.0.0.2",
                   tls = tls("TLSv1.3", TLS13, "256", PF_A),
                   mail = "<s@partner-a.test>", mail_macro = "s@partner-a.test",
                   rcpts = { "r@example.test" } }
check("-u: the unprivileged daemon still decides (verified partner-a passes)",
      accepted(r) and has(r.hdr, "pass (connector=partner-a"), describe(r))
done()
LUA
    "$MT" -D "SOCK=$T/u.sock" -D "SRCDIR=$srcdir" -s "$T/u.lua" > "$T/lua.out" 2>&1
    grep -q "^ok 1 " "$T/lua.out"
    ok "-u: the unprivileged daemon still decides (verified partner-a passes)" $? "$(cat "$T/lua.out")"
    stop_daemon
else
    for what in "socket owner" "ids dropped" "pidfile" "decides"; do
        n=$((n + 1)); echo "ok $n - -u nobody:nogroup: $what # SKIP not root or no nobody/nogroup"
    done
fi

# ------------------------------------------------------------ inet socket
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null)
if [ -n "$port" ]; then
    : > "$T/daemon-i.log"
    "$DAEMON" -f $ROOTFLAG -c "$T/base.yaml" -p "inet:$port@127.0.0.1" 2>>"$T/daemon-i.log" &
    dpid=$!
    i=0
    while [ $i -lt 50 ] && ! grep -q "listening on inet:$port@127.0.0.1" "$T/daemon-i.log"; do
        sleep 0.1; i=$((i + 1))
    done
    cat > "$T/i.lua" <<'LUA'
dofile(SRCDIR .. "/tests/milter/common.lua")
local r = session{ cmacros = PF_CONN, host = "mx.other.test", addr = "203.0.113.5",
                   mail = "<s@other.test>", mail_macro = "s@other.test", rcpts = { "r@example.test" } }
check("inet socket", accepted(r) and has(r.hdr, "none (connector=default"), describe(r))
done()
LUA
    "$MT" -D "CONNSPEC=inet:$port@127.0.0.1" -D "SRCDIR=$srcdir" -s "$T/i.lua" > "$T/lua.out" 2>&1
    grep -q "^ok 1 " "$T/lua.out"
    ok "-p inet:PORT@127.0.0.1: the daemon serves a session over TCP" $? \
        "$(cat "$T/lua.out" "$T/daemon-i.log")"
    kill -KILL "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; dpid=
else
    n=$((n + 1)); echo "ok $n - -p inet:PORT@127.0.0.1 # SKIP python3 not found"
fi

# ------------------------------------------------------------ clean stop (result)
# Started (and sent SIGTERM) before the suite; libmilter's listener notices
# only every ~5 s, so the wait overlaps with the other checks.
i=0
while [ $i -lt 80 ] && kill -0 "$spid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$spid" 2>/dev/null; then r=1; else wait "$spid"; r=$?; spid=; fi
ok "SIGTERM stops the daemon cleanly (exit 0)" $r "exit $r; $(cat "$T/daemon-s.log")"
[ ! -e "$T/s.pid" ]; ok "a clean stop removes the pidfile" $?
grep -q "stopped" "$T/daemon-s.log"; ok "a clean stop is logged" $? "$(cat "$T/daemon-s.log")"

# ------------------------------------------------------------ main daemon's stop
i=0
while [ $i -lt "$main_stop_wait" ] && kill -0 "$mpid" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$mpid" 2>/dev/null; then r=124; else wait "$mpid"; r=$?; mpid=; fi
ok "after serving sessions the daemon${WRAPPER:+ (under MILTER_WRAPPER)} stops on SIGTERM with exit 0" $r \
    "exit $r (124: still running; 99: valgrind errors or definite leaks; 1: a sanitizer report); $(tail -5 "$T/daemon.log")"

echo "1..$n"
