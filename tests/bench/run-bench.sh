#!/usr/bin/env bash
# run-bench.sh -- `make bench`: every benchmark figure of milter-tlspolicy in one
# table after one machine line: (a) the milter protocol path against two
# baselines, the null milter and the null milter adding one posture-sized header,
# at C=1 and C=200 with a 10,000-connector policy, (b) the real pipeline
# smtp-source -> private Postfix (tests/e2e/lib.sh rig) -> discard, against the
# same two, (c) policy scale figures from policy_bench. Runs alternate between
# the milters and the median of several runs is reported.
# Never: talks to anything but loopback, waits without a bound, or leaves a
# process behind (everything it starts is stopped by the EXIT trap).
set -u

usage() {
	echo "usage: run-bench.sh [--quick] [--runs N] [--only a|b|c]" >&2
	exit 2
}
RUNS=7
QUICK=0
ONLY=abc
PRUNS=3
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--runs) [ $# -ge 2 ] || usage; RUNS=$2; shift ;;
	--only) [ $# -ge 2 ] || usage; case $2 in a | b | c) ONLY=$2 ;; *) usage ;; esac; shift ;;
	*) usage ;;
	esac
	shift
done
case $RUNS in '' | *[!0-9]* | 0) usage ;; esac

HERE=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$HERE/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
B=$top_builddir/tests/bench
DAEMON=$top_builddir/milter/milter-tlspolicy
for prog in "$B/milterload" "$B/nullmilter" "$B/policy_bench"; do
	[ -x "$prog" ] || { echo "run-bench.sh: $prog is not built (run make bench)" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-bench.XXXXXX") || exit 1
chmod 755 "$T"
BG_PIDS=()
PF_STARTED=()

# TERM, then KILL after 1 s: libmilter takes ~5 s to stop after a session.
bench_stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
cleanup() {
	# remove the stand-in /dev/log only if this run created it
	if [ -n "${DEVLOG_PID:-}" ]; then bench_stop "$DEVLOG_PID"; rm -f /dev/log; fi
	local p d
	for d in "${PF_STARTED[@]}"; do pf_stop "$d"; done
	for p in "${BG_PIDS[@]}"; do bench_stop "$p"; done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "# state kept in $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

wait_socket() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ -S "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# median of the numbers on stdin (full precision: it also takes ratios near 1)
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.10g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# paired_ratio TP-FILE NULL-FILE: median over runs of tp/null, each run paired with
# the baseline run next to it (robust against the machine's drift during the bench)
paired_ratio() { paste "$1" "$2" | awk 'NF == 2 && $2 > 0 { printf "%.4f\n", $1 / $2 }' | median | awk '{ if ($1 == "n/a") print $1; else printf "%.3f\n", $1 }'; }
# hdr_size FILE: bytes of SMFIR_ADDHEADER payload per added header over the RESULT
# lines of FILE (what the MTA receives per header: name, value, two NULs)
hdr_size() { awk '{ for (f = 1; f <= NF; f++) { split($f, kv, "=")
	if (kv[1] == "addheader") n += kv[2]; else if (kv[1] == "addheader_bytes") b += kv[2] } }
	END { if (n) printf "%.0f\n", b / n; else print "n/a" }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.3f\n", a / b }'; }
# verdict VALUE OP GOAL: PASS/MISS
verdict() { awk -v v="$1" -v op="$2" -v g="$3" 'BEGIN {
	if (v == "n/a") { print "n/a"; exit }
	ok = (op == ">=") ? (v + 0 >= g + 0) : (v + 0 < g + 0)
	print ok ? "PASS" : "MISS" }'; }

ROWS=()
# row8 FIGURE TLSPOLICY BASELINE BASELINE+HDR RATIO RATIO/HDR GOAL RESULT
ROWFMT='%-46s %9s %9s %9s %7s %7s %8s %6s'
row8() { ROWS+=("$(printf "$ROWFMT" "$@")"); }
# row FIGURE TLSPOLICY BASELINE RATIO GOAL RESULT: a figure with one baseline
row() { row8 "$1" "$2" "$3" "-" "$4" "-" "$5" "$6"; }

# ------------------------------------------------------------------ machine line
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
echo "machine: nproc=$(nproc) cpu=\"${cpu:-unknown}\" kernel=$(uname -r) date=$(date -u +%Y-%m-%dT%H:%M:%SZ) runs=$RUNS$([ "$QUICK" = 1 ] && echo " quick")"

PKI=${TLSPOLICY_TEST_PKI:-}
if [ -n "$PKI" ] && [ -f "$PKI/trust.pem" ]; then
	cp "$PKI/trust.pem" "$T/trust.pem"
else
	cp /etc/ssl/certs/ca-certificates.crt "$T/trust.pem" 2>/dev/null ||
		{ echo "run-bench.sh: no trust store (set TLSPOLICY_TEST_PKI)" >&2; exit 1; }
fi
chmod 644 "$T/trust.pem"
"$HERE/genpolicy.sh" 10000 "$T/trust.pem" "$T/p10000.yaml"
chmod 644 "$T/p10000.yaml"

# ------------------------------------------------------------------ (a) protocol path
# Runs of one to two seconds: shorter ones are at the mercy of the neighbours
# of a shared 2-core VM (they spread from 0.85 to 1.06 at 2,000 messages).
if [ "$QUICK" = 1 ]; then
	A1="-c 1 -n 40 -m 10"; A200="-c 200 -n 1 -m 5"
else
	A1="-c 1 -n 1000 -m 10"; A200="-c 200 -n 10 -m 10"
fi
LOAD_COMMON="-r 2 --mix tls=70,plain=30 --domains 10000 --hit 50 -t 120 --timeout 30 -q"
# The second baseline, the null milter adding one header (nullmilter -a): the floor
# of the daemon's job, since it must add one header per message. 176 value bytes is
# what the daemon adds on average under this very load, measured with
#   milterload $LOAD_COMMON -c 1 -n 200 -m 10   (10,000-connector policy)
# as addheader_bytes / addheader = 190 bytes of SMFIR_ADDHEADER payload per message:
# "X-TLS-Policy", NUL, 176 value bytes, NUL. TLS sessions get 217-238 bytes, plaintext
# ones 82-148 (about 70/30). The "header bytes" row re-measures both every run, so a
# change of the daemon's header shows up as a mismatch there.
HDR_BYTES=176

# The daemon runs as in production (contrib/milter-tlspolicy.service): forked,
# without -f, so it logs to syslog only. A host has a syslog daemon behind
# /dev/log; where there is none (a container), every syslog() call would retry a
# failed connect, a cost no real host pays, so a receiver that discards the lines
# stands in for the duration of the run.
start_devlog() {
	[ -e /dev/log ] && return 0
	command -v python3 >/dev/null 2>&1 || return 0
	python3 -c 'import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log"); os.chmod("/dev/log", 0o666)
sys.stdout.write("ready\n"); sys.stdout.flush()
while True: s.recv(65536)' >"$T/devlog.out" 2>&1 &
	DEVLOG_PID=$!
	BG_PIDS+=($DEVLOG_PID)
	local i=0
	while [ ! -s "$T/devlog.out" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	echo "# no syslog daemon: a /dev/log receiver stands in for it during the run" >&2
}

start_milters() {
	"$B/nullmilter" "unix:$T/null.sock" >"$T/null.log" 2>&1 &
	BG_PIDS+=($!)
	"$B/nullmilter" -a "$HDR_BYTES" "unix:$T/nullh.sock" >"$T/nullh.log" 2>&1 &
	BG_PIDS+=($!)
	# a second, identical null milter: its ratio to the first is the noise floor
	"$B/nullmilter" "unix:$T/null2.sock" >"$T/null2.log" 2>&1 &
	BG_PIDS+=($!)
	start_devlog
	"$DAEMON" -R -c "$T/p10000.yaml" -p "unix:$T/tp.sock" -P "$T/tp.pid" >"$T/tp.log" 2>&1 ||
		return 1
	TP_PID=$(cat "$T/tp.pid")
	BG_PIDS+=($TP_PID)
	# The same policy without the posture header: what the one header packet
	# per message costs, apart from evaluating and logging.
	sed 's/^  header: .*/  header: ""/' "$T/p10000.yaml" >"$T/p10000-nohdr.yaml"
	chmod 644 "$T/p10000-nohdr.yaml"
	"$DAEMON" -R -c "$T/p10000-nohdr.yaml" -p "unix:$T/tp0.sock" -P "$T/tp0.pid" \
		>"$T/tp0.log" 2>&1 || return 1
	BG_PIDS+=($(cat "$T/tp0.pid"))
	wait_socket "$T/null.sock" && wait_socket "$T/nullh.sock" && wait_socket "$T/null2.sock" &&
		wait_socket "$T/tp.sock" &&
		wait_socket "$T/tp0.sock"
}

if [ "${ONLY#*a}" = "$ONLY" ]; then
	:   # --only: not this part
elif [ ! -x "$DAEMON" ]; then
	row "(a) protocol path: skipped" "-" "-" "-" "-" "SKIP"
	echo "# (a) skipped: $DAEMON is not built" >&2
elif ! start_milters; then
	row "(a) protocol path: milters did not start" "-" "-" "-" "-" "FAIL"
	sed 's/^/# daemon: /' "$T/tp.log" >&2
else
	for c in 1 200; do
		args=$A1
		[ $c = 200 ] && args=$A200
		for m in null nullh tp tp0 null2; do : >"$T/a$c.$m"; done
		for ((i = 1; i <= RUNS; i++)); do
			# alternate the order so neither milter always runs on a warmer machine
			# (milter-tlspolicy always between its two baselines)
			if ((i % 2)); then order="null tp nullh null2 tp0"; else order="tp0 null2 nullh tp null"; fi
			for m in $order; do
				# shellcheck disable=SC2086
				if ! timeout 300 "$B/milterload" -s "unix:$T/$m.sock" $args $LOAD_COMMON \
					--seed "$i" >>"$T/a$c.$m" 2>"$T/a$c.$m.err"; then
					echo "# (a) C=$c $m run $i failed: $(cat "$T/a$c.$m.err")" >&2
				fi
			done
		done
		for m in null nullh tp tp0 null2; do
			grep -o ' rate=[0-9.]*' "$T/a$c.$m" | cut -d= -f2 >"$T/a$c.$m.rates"
			eval "rate_$m=\$(median <\"\$T/a$c.$m.rates\")"
			eval "p50_$m=\$(grep -o ' p50_us=[0-9.]*' \"\$T/a$c.$m\" | cut -d= -f2 | median)"
			eval "p99_$m=\$(grep -o ' p99_us=[0-9.]*' \"\$T/a$c.$m\" | cut -d= -f2 | median)"
			eval "hdr_$m=\$(hdr_size \"\$T/a$c.$m\")"
		done
		r=$(paired_ratio "$T/a$c.tp.rates" "$T/a$c.null.rates")
		rh=$(paired_ratio "$T/a$c.tp.rates" "$T/a$c.nullh.rates")
		row8 "(a) milter protocol C=$c msg/s" "$rate_tp" "$rate_null" "$rate_nullh" "$r" "$rh" ">=0.95" "$(verdict "$r" ">=" 0.95)"
		row8 "(a) C=$c p50 latency us" "$p50_tp" "$p50_null" "$p50_nullh" "$(ratio "$p50_null" "$p50_tp")" "$(ratio "$p50_nullh" "$p50_tp")" "-" "-"
		row8 "(a) C=$c p99 latency us" "$p99_tp" "$p99_null" "$p99_nullh" "$(ratio "$p99_null" "$p99_tp")" "$(ratio "$p99_nullh" "$p99_tp")" "-" "-"
		r=$(paired_ratio "$T/a$c.tp0.rates" "$T/a$c.null.rates")
		rh=$(paired_ratio "$T/a$c.tp0.rates" "$T/a$c.nullh.rates")
		row8 "(a) C=$c msg/s, posture header off" "$rate_tp0" "$rate_null" "$rate_nullh" "$r" "$rh" "-" "-"
		r=$(paired_ratio "$T/a$c.nullh.rates" "$T/a$c.null.rates")
		row "(a) C=$c msg/s, null+hdr vs null" "$rate_nullh" "$rate_null" "$r" "-" "-"
		row8 "(a) C=$c header bytes per added header" "$hdr_tp" "-" "$hdr_nullh" "-" "-" "-" "-"
		r=$(paired_ratio "$T/a$c.null2.rates" "$T/a$c.null.rates")
		span=$(paste "$T/a$c.null2.rates" "$T/a$c.null.rates" |
			awk 'NF == 2 && $2 > 0 { v = $1 / $2; if (n++ == 0 || v < lo) lo = v; if (v > hi) hi = v }
				END { if (n) printf "%.2f-%.2f", lo, hi; else print "n/a" }')
		row "(a) C=$c noise: null vs null (runs $span)" "$rate_null2" "$rate_null" "$r" "-" "-"
	done
	refused=$(grep -o ' rcpt_refused=[0-9]*' "$T/a1.tp" | cut -d= -f2 | median)
	errors=$(cat "$T"/a*.tp "$T"/a*.tp0 "$T"/a*.null "$T"/a*.nullh "$T"/a*.null2 | grep -o ' errors=[0-9]*' | cut -d= -f2 | awk '{ s += $1 } END { print s + 0 }')
	row "(a) refused rcpts per C=1 run; protocol errors" "$refused" "$errors" "-" "errors=0" "$([ "$errors" = 0 ] && echo PASS || echo MISS)"
	kill -0 "$TP_PID" 2>/dev/null || row "(a) milter-tlspolicy died during the runs" "-" "-" "-" "-" "FAIL"
fi

# ------------------------------------------------------------------ (b) real pipeline
pipeline_skip() {
	row "(b) smtp-source -> Postfix -> discard: skipped" "-" "-" "-" ">=0.97" "SKIP"
	echo "# (b) skipped: $1" >&2
}
LIB=$top_srcdir/tests/e2e/lib.sh
if [ "${ONLY#*b}" = "$ONLY" ]; then
	:
elif [ ! -f "$LIB" ]; then
	pipeline_skip "the Postfix rig tests/e2e/lib.sh is not in this tree"
elif [ "$(id -u)" != 0 ]; then
	pipeline_skip "needs root for a private Postfix instance"
elif ! command -v postfix >/dev/null || [ ! -x /usr/sbin/smtp-source ] || ! getent passwd postfix >/dev/null; then
	pipeline_skip "postfix or /usr/sbin/smtp-source missing (apt-get install postfix)"
elif [ ! -x "$DAEMON" ]; then
	pipeline_skip "$DAEMON is not built"
else
	# shellcheck source=../e2e/lib.sh
	. "$LIB"
	P=$T/pki
	mkdir -p "$P"
	if [ -n "$PKI" ] && [ -f "$PKI/server.chain.pem" ]; then
		cp -R "$PKI/." "$P/"
	else
		sh "$top_srcdir/tests/pki/mkpki.sh" "$P" >"$T/mkpki.log" 2>&1
	fi
	chmod -R a+rX "$P"
	mkdir -p "$T/pm"
	chmod 755 "$T/pm"
	chown postfix:postfix "$T/pm"
	# Postfix runs as user postfix: both milters run as postfix too.
	"$B/nullmilter" "unix:$T/pm/null.sock" >"$T/pm/null.log" 2>&1 &
	BG_PIDS+=($!)
	"$B/nullmilter" -a "$HDR_BYTES" "unix:$T/pm/nullh.sock" >"$T/pm/nullh.log" 2>&1 &
	BG_PIDS+=($!)
	# behind a third Postfix, a second null milter: the noise floor of (b)
	"$B/nullmilter" "unix:$T/pm/null2.sock" >"$T/pm/null2.log" 2>&1 &
	BG_PIDS+=($!)
	"$DAEMON" -f -c "$T/p10000.yaml" -p "unix:$T/pm/tp.sock" -u postfix >"$T/pm/tp.log" 2>&1 &
	BG_PIDS+=($!)
	# smtp-source cannot STARTTLS: Postfix fills in TLS macro values for its plaintext
	# sessions (milter_macro_defaults) so that the milter does its full TLS work.
	PF_PARAMS=("default_transport=discard" "relay_transport=discard" "local_transport=discard"
		"smtpd_tls_received_header=no"
		"milter_macro_defaults={tls_version}=TLSv1.3, {cipher}=TLS_AES_256_GCM_SHA384, {cipher_bits}=256")
	if ! wait_socket "$T/pm/null.sock" || ! wait_socket "$T/pm/nullh.sock" ||
		! wait_socket "$T/pm/null2.sock" ||
		! wait_socket "$T/pm/tp.sock"; then
		pipeline_skip "the milters did not start for Postfix: $(tail -n 3 "$T/pm/tp.log")"
	else
		ok_pf=1
		for m in null tp nullh null2; do
			port=$(free_port) || { ok_pf=0; break; }
			eval "PORT_$m=$port"
			PF_STARTED+=("$T/pf-$m")
			if ! pf_start "$T/pf-$m" "$port" "$T/pm/$m.sock" "${PF_PARAMS[@]}" >"$T/pf-$m.start" 2>&1; then
				ok_pf=0
				cat "$T/pf-$m.start" >&2
				break
			fi
		done
		if [ $ok_pf = 0 ]; then
			pipeline_skip "the private Postfix did not start"
		else
			if [ "$QUICK" = 1 ]; then SS_MSGS=200; else SS_MSGS=2000; fi
			SS_SESS=20
			for m in null tp nullh null2; do : >"$T/b.$m"; done
			for ((i = 1; i <= RUNS; i++)); do
				if ((i % 2)); then order="null tp nullh null2"; else order="null2 nullh tp null"; fi
				for m in $order; do
					eval "port=\$PORT_$m"
					t0=$(date +%s.%N)
					if timeout 300 /usr/sbin/smtp-source -s "$SS_SESS" -m "$SS_MSGS" -l 2048 \
						-f "sender@p4.bench.test" -t "user@example.test" \
						-M client.bench.test "127.0.0.1:$port" >"$T/b.$m.err" 2>&1; then
						t1=$(date +%s.%N)
						awk -v a="$t0" -v b="$t1" -v n="$SS_MSGS" 'BEGIN { printf "%.1f\n", n / (b - a) }' >>"$T/b.$m"
					else
						echo "# (b) smtp-source via $m failed: $(head -n 3 "$T/b.$m.err")" >&2
					fi
				done
			done
			b_null=$(median <"$T/b.null")
			b_tp=$(median <"$T/b.tp")
			r=$(paired_ratio "$T/b.tp" "$T/b.null")
			rh=$(paired_ratio "$T/b.tp" "$T/b.nullh")
			row8 "(b) smtp-source->Postfix->discard msg/s" "$b_tp" "$b_null" "$(median <"$T/b.nullh")" "$r" "$rh" ">=0.97" "$(verdict "$r" ">=" 0.97)"
			r=$(paired_ratio "$T/b.null2" "$T/b.null")
			row "(b) noise: null milter vs itself" "$(median <"$T/b.null2")" "$b_null" "$r" "-" "-"
			rej=$(grep -c 'milter-reject' "$T/pf-tp/log/maillog" 2>/dev/null)
			row "(b) milter-reject lines in Postfix log" "${rej:-0}" "-" "-" "0" "$([ "${rej:-0}" = 0 ] && echo PASS || echo MISS)"
		fi
	fi
fi

# ------------------------------------------------------------------ (c) policy scale
if [ "${ONLY#*c}" != "$ONLY" ]; then
	if [ "$QUICK" = 1 ]; then ITER=200000; PRUNS=1; else ITER=2000000; PRUNS=3; fi
	for n in 10 1000 100000; do
		"$HERE/genpolicy.sh" "$n" "$T/trust.pem" "$T/c$n.yaml"
		: >"$T/c$n.out"
		for ((i = 1; i <= PRUNS; i++)); do
			# one process per run: VmHWM is per process
			timeout 300 "$B/policy_bench" -i "$ITER" "$T/c$n.yaml" >>"$T/c$n.out" 2>"$T/c$n.err" ||
				echo "# (c) policy_bench $n failed: $(head -n 3 "$T/c$n.err")" >&2
		done
		eval "load_$n=\$(grep -o ' load_ms=[0-9.]*' \"\$T/c$n.out\" | cut -d= -f2 | median)"
		eval "hwm_$n=\$(grep -o ' hwm_kb=[0-9]*' \"\$T/c$n.out\" | cut -d= -f2 | median)"
		eval "eval_$n=\$(grep -o ' eval_ns=[0-9.]*' \"\$T/c$n.out\" | cut -d= -f2 | median)"
	done
	# The system CA bundle alone (once a pass/fail unit test, which a loaded
	# machine failed): what every load and reload pays for the default trust store.
	load_sys=n/a
	if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
		printf 'version: 1\nsettings:\n  trust_store: /etc/ssl/certs/ca-certificates.crt\n' >"$T/sysca.yaml"
		: >"$T/sysca.out"
		for ((i = 1; i <= PRUNS; i++)); do
			timeout 300 "$B/policy_bench" -i 1000 "$T/sysca.yaml" >>"$T/sysca.out" 2>"$T/sysca.err" ||
				echo "# (c) policy_bench system bundle failed: $(head -n 3 "$T/sysca.err")" >&2
		done
		load_sys=$(grep -o ' load_ms=[0-9.]*' "$T/sysca.out" | cut -d= -f2 | median)
	fi
	mb() { awk -v k="$1" 'BEGIN { if (k == "n/a") print k; else printf "%.1f\n", k / 1024 }'; }
	row "(c) load system CA bundle only ms" "$load_sys" "-" "-" "<100" "$(verdict "$load_sys" "<" 100)"
	row "(c) load 10 connectors ms" "$load_10" "-" "-" "-" "-"
	row "(c) load 1,000 connectors ms" "$load_1000" "-" "-" "-" "-"
	row "(c) load 100,000 connectors ms" "$load_100000" "-" "-" "<1000" "$(verdict "$load_100000" "<" 1000)"
	row "(c) peak RSS (VmHWM) 100,000 connectors MB" "$(mb "$hwm_100000")" "$(mb "$hwm_10")" "-" "<100" "$(verdict "$(mb "$hwm_100000")" "<" 100)"
	row "(c) policy_eval ns at 10 / 1,000" "$eval_10" "$eval_1000" "-" "-" "-"
	r=$(ratio "$eval_100000" "$eval_10")
	row "(c) policy_eval ns at 100,000 (vs 10)" "$eval_100000" "$eval_10" "$r" "<1.5" "$(verdict "$r" "<" 1.5)"
fi

echo
printf "$ROWFMT\n" "figure" "tlspolicy" "null" "null+hdr" "ratio" "r/hdr" "goal" "result"
printf '%s\n' "${ROWS[@]}"
echo
echo "(a): milterload (milter protocol 6, Postfix macro sets, -r 2, mix tls=70,plain=30, half the"
echo "     senders partners of the 10,000-connector policy) against nullmilter (same protocol"
echo "     steps as the daemon); median of $RUNS alternating runs; \"header off\": the same policy"
echo "     with settings.header \"\", to show what the one added header packet costs; \"noise\":"
echo "     a second null milter measured the same way (how far from 1.000 this machine strays)."
echo "     null+hdr: the null milter adding one $HDR_BYTES-byte X-TLS-Policy header per message"
echo "     (nullmilter -a), the floor of the daemon's job; ratio = against null (the goal's),"
echo "     r/hdr = against null+hdr; latency ratios are baseline/tlspolicy."
echo "     (b): baselines = nullmilter (and -a) behind the same Postfix; smtp-source sends"
echo "     plaintext from a partner (p4, requires TLS 1.2+), Postfix supplies TLS macro defaults."
echo "     Rates are medians; a ratio is the median of the per-run ratios of neighbouring runs."
echo "     (c): policy_bench on genpolicy.sh files, median of $PRUNS process(es) per size."
