#!/bin/sh
# smoke.sh -- `make check` part of the benchmarks: proves in a few seconds that
# genpolicy.sh, policy_bench, nullmilter (both baselines: plain and -a, adding a
# header) and milterload work (and milterload against the real daemon when it is
# built). TAP output, one line per check.
# Never: measures speed (that is `make bench`), leaves a process behind, or waits
# without a bound.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
B=$top_builddir/tests/bench
DAEMON=$top_builddir/milter/milter-tlspolicy
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-smoke.XXXXXX") || exit 1
chmod 755 "$T"
PIDS=

stop_pid() {
	# libmilter needs ~5 s to stop after a session: TERM, then KILL after 1 s.
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 10 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
cleanup() {
	for p in $PIDS; do stop_pid "$p"; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n - $1"
	[ $# -ge 2 ] && [ -f "$2" ] && sed 's/^/# /' "$2"
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# field NAME FILE: the value of NAME=... on the RESULT/POLICY line
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$2" | tail -n 1; }

wait_socket() {
	i=0
	while [ ! -S "$1" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -S "$1" ]
}

echo "1..15"
PKI=${TLSPOLICY_TEST_PKI:-}
TRUST=$PKI/trust.pem
[ -n "$PKI" ] && [ -f "$TRUST" ] || TRUST=/etc/ssl/certs/ca-certificates.crt

# 1. genpolicy writes the number of connectors asked for
"$top_srcdir/tests/bench/genpolicy.sh" 1000 "$TRUST" "$T/p1000.yaml"
"$top_srcdir/tests/bench/genpolicy.sh" 10 "$TRUST" "$T/p10.yaml"
got=$(grep -c '^  - name: ' "$T/p1000.yaml")
if [ "$got" = 1000 ]; then ok "genpolicy.sh 1000 connectors"; else notok "genpolicy.sh: got $got connectors, want 1000"; fi

# 2-3. policy_bench loads generated files and evaluates
for f in p10 p1000; do
	want=${f#p}
	if "$B/policy_bench" -i 2000 "$T/$f.yaml" >"$T/$f.out" 2>&1; then
		got=$(field connectors "$T/$f.out")
		m=$(field matched "$T/$f.out")
		if [ "$got" = "$want" ] && [ "${m:-0}" -gt 0 ]; then
			ok "policy_bench $want connectors (load $(field load_ms "$T/$f.out") ms, $(field eval_ns "$T/$f.out") ns/eval)"
		else
			notok "policy_bench $f: got connectors=$got matched=$m, want $want and >0" "$T/$f.out"
		fi
	else
		notok "policy_bench $f failed" "$T/$f.out"
	fi
done

# 4-7. milterload against the null milter
"$B/nullmilter" "unix:$T/null.sock" "$T/null.pid" 2>"$T/null.err" &
PIDS="$PIDS $!"
if wait_socket "$T/null.sock"; then
	"$B/milterload" -s "unix:$T/null.sock" -c 4 -n 2 -m 3 -r 2 -t 20 \
		--mix tls=1,plain=1,anon=1,legacy=1,sendmail=1,badcert=1 >"$T/l1.out" 2>&1
	rc=$?
	if [ $rc = 0 ] && [ "$(field messages "$T/l1.out")" = 24 ] && [ "$(field delivered "$T/l1.out")" = 24 ]; then
		ok "milterload: 24 messages through the null milter, all delivered"
	else
		notok "milterload vs null milter: rc=$rc, want 24 delivered" "$T/l1.out"
	fi
	"$B/milterload" -s "unix:$T/null.sock" -c 50 -m 2 -t 20 -q >"$T/l2.out" 2>&1
	rc=$?
	if [ $rc = 0 ] && [ "$(field messages "$T/l2.out")" = 100 ] && [ "$(field sessions "$T/l2.out")" = 50 ]; then
		ok "milterload: 50 concurrent sessions"
	else
		notok "milterload -c 50: rc=$rc, want 50 sessions, 100 messages" "$T/l2.out"
	fi
	"$B/milterload" -s "unix:$T/null.sock" -c 2 -m 2 -t 20 --mix tls=1 --macro-size 60000 >"$T/l3.out" 2>&1
	rc=$?
	if [ $rc = 0 ] && [ "$(field messages "$T/l3.out")" = 4 ] && [ "$(field dropped "$T/l3.out")" = 0 ]; then
		ok "milterload: 60000-byte macros"
	else
		notok "milterload --macro-size: rc=$rc" "$T/l3.out"
	fi
else
	notok "null milter did not create its socket" "$T/null.err"
	notok "milterload -c 50 (no null milter)"
	notok "milterload --macro-size (no null milter)"
fi
"$B/milterload" -s "unix:$T/none.sock" -t 5 >"$T/l4.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "connect unix:$T/none.sock" "$T/l4.out"; then
	ok "milterload: clear failure on a missing socket"
else
	notok "milterload on a missing socket: rc=$rc, want 1 and a connect message" "$T/l4.out"
fi

# 8-9. the second baseline: nullmilter -a adds one header of the size asked at end
#    of every message, and refuses a size that cannot be one
"$B/nullmilter" -a 176 "unix:$T/nullh.sock" 2>"$T/nullh.err" &
PIDS="$PIDS $!"
if wait_socket "$T/nullh.sock"; then
	"$B/milterload" -s "unix:$T/nullh.sock" -c 3 -m 4 -r 2 -t 20 >"$T/h1.out" 2>&1
	rc=$?
	# per header: "X-TLS-Policy", NUL, 176 value bytes, NUL
	if [ $rc = 0 ] && [ "$(field delivered "$T/h1.out")" = 12 ] &&
		[ "$(field addheader "$T/h1.out")" = 12 ] &&
		[ "$(field addheader_bytes "$T/h1.out")" = $((12 * (13 + 176 + 1))) ]; then
		ok "nullmilter -a 176: 12 messages delivered, each with one 176-byte header added"
	else
		notok "nullmilter -a 176: rc=$rc, want 12 delivered, addheader=12, addheader_bytes=2280" "$T/h1.out"
	fi
else
	notok "nullmilter -a did not create its socket" "$T/nullh.err"
fi
"$B/nullmilter" -a 0 "unix:$T/zero.sock" >"$T/h2.out" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "expected a number of bytes" "$T/h2.out" && [ ! -e "$T/zero.sock" ]; then
	ok "nullmilter -a 0: refused with a usage error"
else
	notok "nullmilter -a 0: rc=$rc, want 2 and a message naming the expected range" "$T/h2.out"
fi

# 10. a milter that answers the negotiation with garbage is a protocol error
if command -v python3 >/dev/null 2>&1; then
	python3 - "$T/bad.sock" <<'EOF' >"$T/bad.err" 2>&1 &
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1); s.settimeout(10)
c, _ = s.accept(); c.settimeout(10)
c.recv(17)
c.sendall(b"\x00\x00\x00\x01Z")
c.recv(100)
EOF
	PIDS="$PIDS $!"
	wait_socket "$T/bad.sock"
	"$B/milterload" -s "unix:$T/bad.sock" -t 5 --timeout 5 >"$T/l5.out" 2>&1
	rc=$?
	if [ $rc = 1 ] && grep -q "protocol error" "$T/l5.out"; then
		ok "milterload: protocol error reported"
	else
		notok "milterload vs a broken milter: rc=$rc, want 1 and 'protocol error'" "$T/l5.out"
	fi
else
	skip "milterload: protocol error reported" "python3 not installed"
fi

# 11. a milter that asks for no HELO/DATA, no replies and its own macro list:
#    milterload must not send what was declined, nor wait for replies that never come
if command -v python3 >/dev/null 2>&1; then
	python3 - "$T/nr.sock" "$T/nr.out" <<'EOF' >"$T/nr.err" 2>&1 &
import socket, struct, sys
NOHELO, NODATA, NR_CONN, NR_MAIL, NR_RCPT, NR_HDR, NR_EOH, NR_BODY = \
    0x2, 0x200, 0x1000, 0x4000, 0x8000, 0x80, 0x40000, 0x80000
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1); s.settimeout(10)
c, _ = s.accept(); c.settimeout(10)
def exact(n):
    # A socket with a timeout is non-blocking inside Python, so MSG_WAITALL can
    # return a part of a packet under load: read until n bytes or end of file.
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            return None
        b += d
    return b
def rd():
    h = exact(4)
    if h is None:
        return None
    d = exact(struct.unpack(">I", h)[0])
    if not d:
        return None
    return d[:1], d[1:]
def wr(cmd, data=b""):
    c.sendall(struct.pack(">I", len(data) + 1) + cmd + data)
seen, mail_macros = [], None
while True:
    p = rd()
    if p is None:
        break
    cmd, data = p
    seen.append(cmd.decode())
    if cmd == b"O":
        prot = NOHELO | NODATA | NR_CONN | NR_MAIL | NR_RCPT | NR_HDR | NR_EOH | NR_BODY
        wr(b"O", struct.pack(">III", 6, 0x101, prot) + struct.pack(">I", 2) + b"{mail_addr} {tls_version}\0")
    elif cmd == b"D" and data[:1] == b"M":
        mail_macros = " ".join(x.decode() for x in data[1:].split(b"\0")[0::2] if x)
    elif cmd == b"E":
        wr(b"p"); wr(b"h", b"X-Fake\0 yes\0"); wr(b"c")
    elif cmd == b"Q":
        break
open(sys.argv[2], "w").write("H=%d T=%d mail=%s\n" % (seen.count("H"), seen.count("T"), mail_macros))
EOF
	PIDS="$PIDS $!"
	wait_socket "$T/nr.sock"
	"$B/milterload" -s "unix:$T/nr.sock" -m 2 -t 10 --timeout 5 --mix tls=1 >"$T/l6.out" 2>&1
	rc=$?
	i=0
	while [ ! -s "$T/nr.out" ] && [ $i -lt 40 ]; do sleep 0.05; i=$((i + 1)); done
	got=$(cat "$T/nr.out" 2>/dev/null)
	if [ $rc = 0 ] && [ "$(field addheader "$T/l6.out")" = 2 ] &&
		[ "$got" = "H=0 T=0 mail={mail_addr} {tls_version}" ]; then
		ok "milterload honours NOHELO/NODATA, NR_* and the milter's macro list"
	else
		notok "milterload vs negotiated steps: rc=$rc, fake milter saw '$got'" "$T/l6.out"
	fi
else
	skip "milterload honours negotiated steps" "python3 not installed"
fi

# 12-15. the real daemon, when it is built
if [ -x "$DAEMON" ] && [ -f "$TRUST" ]; then
	"$top_srcdir/tests/bench/genpolicy.sh" 100 "$TRUST" "$T/p100.yaml"
	"$DAEMON" -f -R -c "$T/p100.yaml" -p "unix:$T/d.sock" >"$T/d.log" 2>&1 &
	DPID=$!
	PIDS="$PIDS $DPID"
	if wait_socket "$T/d.sock"; then
		ok "milter-tlspolicy started with a 100-connector policy"
		"$B/milterload" -s "unix:$T/d.sock" -c 4 -n 2 -m 2 -t 20 --mix plain=1 \
			--domains 100 --hit 100 >"$T/d1.out" 2>&1
		rc=$?
		refused=$(field rcpt_refused "$T/d1.out")
		if [ $rc = 0 ] && [ "${refused:-0}" -gt 0 ]; then
			ok "milterload counts refusals of plain mail from partners ($refused refused)"
		else
			notok "daemon, plain partner mail: rc=$rc rcpt_refused=$refused, want >0" "$T/d1.out"
		fi
		"$B/milterload" -s "unix:$T/d.sock" -c 4 -n 2 -m 2 -t 20 --mix tls=1 \
			--domains 100 --hit 50 --forged-header >"$T/d2.out" 2>&1
		rc=$?
		hdr=$(field addheader "$T/d2.out")
		chg=$(field chgheader "$T/d2.out")
		if [ $rc = 0 ] && [ "${hdr:-0}" -gt 0 ] && [ "${chg:-0}" -gt 0 ]; then
			ok "milterload sees the posture header added ($hdr) and forged copies removed ($chg)"
		else
			notok "daemon, TLS mail: rc=$rc addheader=$hdr chgheader=$chg, want >0" "$T/d2.out"
		fi
		"$B/milterload" -s "unix:$T/d.sock" -c 2 -m 2 -t 20 --mix tls=1,sendmail=1 \
			--macro-size 60000 >"$T/d3.out" 2>&1
		rc=$?
		if [ $rc = 0 ] && [ "$(field messages "$T/d3.out")" = 4 ] && kill -0 "$DPID" 2>/dev/null; then
			ok "daemon survives 60000-byte macros"
		else
			notok "daemon with 60000-byte macros: rc=$rc or daemon gone" "$T/d3.out"
			sed 's/^/# daemon: /' "$T/d.log" | tail -n 20
		fi
	else
		notok "milter-tlspolicy did not create its socket" "$T/d.log"
		for x in 1 2 3; do notok "daemon check $x (no daemon)"; done
	fi
else
	for x in "daemon start" "refusals counted" "posture header" "oversized macros"; do
		skip "milter-tlspolicy: $x" "daemon not built or no trust store"
	done
fi
exit $failed
