#!/usr/bin/env bash
# tests/faults/growth.sh -- no file-descriptor or memory growth over 100,000 messages:
# milterload drives every session kind (TLS, plaintext, anonymous, legacy, Sendmail,
# wrong certificate; two recipients each; reject, tempfail, quarantine, tag and accept
# decisions, JSON log on) in sessions of 10 messages. The daemon's descriptors and VmRSS
# are sampled when idle after 10,000 messages (allocator warm-up done) and after 100,000.
# Never: measures anything but the daemon's own /proc entries; TAP on stdout, figures as
# TAP comments, everything in one mktemp -d and stopped at exit.
set -u
. "$(dirname "$0")/common.sh"

faults_require "$LOAD_BIN"
e2e_init growth
faults_pki

TOTAL=${GROWTH_MESSAGES:-100000}
WARM=$((TOTAL / 10))
C=8                          # concurrent sessions
M=10                         # messages per session
FD_SLACK=0                   # descriptors: no growth at all
# memory: allocator noise after warm-up (observed: under 100 kB); a leak of 17 bytes or
# more per message would exceed it over the 90,000 messages after warm-up
RSS_SLACK_KB=1536

"$top_srcdir/tests/bench/genpolicy.sh" 100 "$TRUST" "$T/policy.yaml" ||
    bail_out "tests/bench/genpolicy.sh failed"
# the generated file has no log_json: add it, so the JSON path is part of every message
sed -i "s|^settings:|settings:\n  log_json: $T/posture.jsonl|" "$T/policy.yaml"
daemon_start "$T/policy.yaml" || bail_out "milter-tlspolicy did not start"
PID=$E2E_MILTER_PID

# run_load MESSAGES SEED NAME: MESSAGES more messages, in sessions of M
run_load() {
    local n=$(($1 / (C * M)))
    "$LOAD_BIN" -s "unix:$MILTER_SOCK" -c $C -n $n -m $M -r 2 \
        --mix tls=3,plain=2,anon=1,legacy=1,sendmail=2,badcert=1 --domains 100 --hit 70 \
        --seed "$2" -t 600 --timeout 30 -q >"$T/$3.out" 2>&1
}
threads() { awk '/^Threads:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# idle_sample [THREADS]: once every session is closed -- the daemon is back to THREADS
# threads (libmilter runs one per connection) and its descriptor count has stopped
# changing; at most 5 s -- print "FDS RSS_KB THREADS"
idle_sample() {
    local i prev=-1 cur
    for ((i = 0; i < 50; i++)); do
        cur=$(fd_count "$PID")
        if [ "$cur" = "$prev" ] && { [ -z "${1:-}" ] || [ "$(threads "$PID")" -le "$1" ]; }; then
            break
        fi
        prev=$cur
        sleep 0.1
    done
    echo "$cur $(rss_kb "$PID") $(threads "$PID")"
}

read -r fd0 rss0 th0 <<<"$(idle_sample)"
t0=$(date +%s.%N)
run_load "$WARM" 1 warm
rc1=$?
read -r fd1 rss1 th1 <<<"$(idle_sample "$th0")"
run_load $((TOTAL - WARM)) 2 rest
rc2=$?
read -r fd2 rss2 th2 <<<"$(idle_sample "$th0")"
t2=$(date +%s.%N)

m1=$(rfield messages "$T/warm.out")
m2=$(rfield messages "$T/rest.out")
secs=$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.1f", b - a }')
rate=$(awk -v n="$((${m1:-0} + ${m2:-0}))" -v a="$t0" -v b="$t2" 'BEGIN { printf "%.0f", n / (b - a) }')
diag "milterload -c $C -m $M -r 2 (all six session kinds): $((${m1:-0} + ${m2:-0})) messages in $secs s ($rate msg/s)"
diag "start:        fds=$fd0 VmRSS=${rss0} kB threads=$th0"
diag "after ${m1:-0}:  fds=$fd1 VmRSS=${rss1} kB threads=$th1"
diag "after $((${m1:-0} + ${m2:-0})): fds=$fd2 VmRSS=${rss2} kB threads=$th2"

is "$rc1/$rc2/$(rfield errors "$T/warm.out")/$(rfield errors "$T/rest.out")/$(rfield dropped "$T/rest.out")" \
    "0/0/0/0/0" "milterload saw no error and no dropped session" ||
    { diag_file "$T/warm.out"; diag_file "$T/rest.out"; }
is "$((${m1:-0} + ${m2:-0}))" "$TOTAL" "all $TOTAL messages were decided"
like "$(rfield rcpt_refused "$T/rest.out")/$(rfield quarantine "$T/rest.out")/$(rfield addheader "$T/rest.out")" \
    '^[1-9][0-9]*/[1-9][0-9]*/[1-9][0-9]*$' "the load refused, quarantined and tagged (every code path ran)"
ok "milter-tlspolicy is still running" alive "$PID"
is "$(lines "$T/posture.jsonl")" "$TOTAL" "one JSON line per message"

ok "no descriptor growth from ${m1:-0} to $TOTAL messages ($fd1 -> $fd2, tolerance $FD_SLACK)" \
    test "$fd2" -le $((fd1 + FD_SLACK))
is "$th2" "$th0" "no thread left behind by the closed sessions ($th0 at start, $th2 at the end)"
limit=$((rss1 + RSS_SLACK_KB))
ok "no memory growth from ${m1:-0} to $TOTAL messages ($rss1 -> $rss2 kB, limit $limit kB)" \
    test "$rss2" -le "$limit"
diag "figures: messages=$TOTAL seconds=$secs rate=$rate fd_start=$fd0 fd_10k=$fd1 fd_100k=$fd2 rss_start_kb=$rss0 rss_10k_kb=$rss1 rss_100k_kb=$rss2 rss_growth_kb=$((rss2 - rss1)) threads_idle=$th0/$th1/$th2"
tap_done
