#!/usr/bin/env bash
# tests/faults/reload-storm.sh -- 100 reloads (good file A, good file B, broken file, in
# turn) while milterload keeps 200 sessions running: no session error, every connection
# decided by one snapshot (A or B, never a mix, never the broken file), each broken file
# refused with a positioned error while the daemon keeps serving.
# How a mix would show: A rejects plaintext mail to example.test and B only tags it, and
# the connectors are named after their file, so every JSON posture line says which
# snapshot decided it; the sender domain (one per milterload session) groups the lines
# by connection. TAP on stdout; everything runs in one mktemp -d, stopped at exit.
set -u
. "$(dirname "$0")/common.sh"

faults_require "$LOAD_BIN"
e2e_init reload-storm
faults_pki

RELOADS=${STORM_RELOADS:-100}
M=5                   # messages per milterload session: the unit of the per-connection check
JSON_LOG=$T/posture.jsonl

# policy NAME ACTION: connector "snap-NAME" claims every recipient at example.test
# (milterload's recipients) and wants TLS; a plaintext session gets ACTION.
policy() {
    cat <<EOF
version: 1
settings:
  trust_store: $TRUST
  log_json: $JSON_LOG
connectors:
  - name: snap-$1
    match:
      recipient_domains: [example.test]
    require:
      tls: true
    on_fail: $2
EOF
}
policy a reject >"$T/a.yaml"
policy b tag >"$T/b.yaml"
# the broken file would name its connector snap-broken; its error sits on line 10
policy broken tag | sed 's/tls: true/min_version: TLSv1.4/' >"$T/broken.yaml"
ln -s "$T/a.yaml" "$T/current.yaml"

# swap the file the daemon reads (rename is atomic), then ask for a reload
use() { ln -s "$T/$1.yaml" "$T/current.tmp" && mv -T "$T/current.tmp" "$T/current.yaml"; }

daemon_start "$T/current.yaml" || bail_out "milter-tlspolicy did not start"
fd_before=$(fd_count "$E2E_MILTER_PID")

# The reloader: B, broken, A, B, broken, A, ... (the 100th is B), each one confirmed in
# the log before the next, so no signal is merged with another.
reloader() {
    local i f
    for ((i = 1; i <= RELOADS; i++)); do
        case $((i % 3)) in 1) f=b ;; 2) f=broken ;; 0) f=a ;; esac
        use $f || { echo "swap $i failed"; return 1; }
        reload_wait || { echo "reload $i ($f) not logged within 10 s"; return 1; }
        echo "$i $f $(date +%s.%N)"
        sleep 0.02
    done
    echo "all done"
}
reloader >"$T/reloader.out" 2>&1 &
RELOADER=$!
E2E_BG_PIDS+=("$RELOADER")

# Load in batches of 200 concurrent sessions x 2 sessions per worker x M messages, each
# batch with its own seed (its own sender domains), until the reloader has finished. Every
# batch runs to completion (no time limit cuts a session short), so every connection
# has exactly M messages.
t0=$(date +%s.%N)
batch=0
load_rc=0
while alive "$RELOADER" || [ "$batch" -eq 0 ]; do
    batch=$((batch + 1))
    "$LOAD_BIN" -s "unix:$MILTER_SOCK" -c 200 -n 2 -m $M -r 1 --mix tls=1,plain=1 \
        --hit 100 --domains 100000000 --seed "$batch" -t 120 --timeout 30 \
        >"$T/load.$batch" 2>&1 || load_rc=1
    [ "$batch" -lt 200 ] || break
done
t1=$(date +%s.%N)
wait "$RELOADER" 2>/dev/null

sum() { local f t=0 v; for ((f = 1; f <= batch; f++)); do v=$(rfield "$1" "$T/load.$f"); t=$((t + ${v:-0})); done; echo $t; }
sessions=$(sum sessions)
messages=$(sum messages)
refused=$(sum rcpt_refused)
errors=$(sum errors)
dropped=$(sum dropped)
srefused=$(sum sessions_refused)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

diag "load: $batch batches of milterload -c 200 -n 2 -m $M: $sessions sessions, $messages messages in $secs s"
ok "the reloader finished all $RELOADS reloads while the load ran" grep -qx "all done" "$T/reloader.out" ||
    diag_file "$T/reloader.out"
is "$load_rc/$errors/$dropped/$srefused" "0/0/0/0" \
    "no session error: milterload exit/errors/unexpected closes/refused sessions" ||
    for ((f = 1; f <= batch; f++)); do grep -h 'errors in\|milterload:' "$T/load.$f" | diag_file /dev/stdin 5; done
is "$messages" "$((sessions * M))" "every session ran its $M messages"
diag "reloads: $(grep -c 'reloaded ' "$MILTER_LOG") good, $(grep -c 'reload of .* failed' "$MILTER_LOG") refused"

nbroken=$((RELOADS / 3 + (RELOADS % 3 >= 2 ? 1 : 0)))
is "$(grep -c "reloaded $T/current.yaml: 1 connectors" "$MILTER_LOG")" "$((RELOADS - nbroken))" \
    "every good file was reloaded"
is "$(grep -c "reload of $T/current.yaml failed, keeping the previous policy" "$MILTER_LOG")" "$nbroken" \
    "every broken file was refused"
is "$(grep -cE "current\.yaml:10:20: error: min_version: 'TLSv1\.4' is not a TLS version" "$MILTER_LOG")" "$nbroken" \
    "each refusal logged the error with file, line and column"

# Per-connection check, from the JSON posture lines: one per transaction, delivered or
# not (with -r 1 a message is either refused at RCPT by A or reaches its end). The daemon
# writes the fields in a fixed order, so they are read with patterns: JSON::PP needs
# about 0.4 ms a line, too slow for every one of ~50,000 lines, so it checks every 25th.
perl -MJSON::PP -e '
    my $m = shift; my (%by, %conn, $lines, $bad, $other, $msgmix);
    while (my $l = <STDIN>) {
        $lines++;
        $bad++ if $lines % 25 == 1 && !eval { JSON::PP->new->decode($l) };
        my @c = $l =~ /"connector":"([^"]*)"/g;
        my ($dom) = $l =~ /"from":"[^"\@]*\@([^"]*)"/;
        my ($tls) = $l =~ /"tls":("[^"]*"|null)/;
        my ($verdict, $action) = $l =~ /"verdict":"([^"]*)","action":"([^"]*)"/;
        my ($dlv) = $l =~ /"delivered":(true|false)/;
        if (!@c || !defined $dom || !defined $tls || !defined $action || !defined $dlv) { $bad++; next }
        my $c = $c[0];
        $other++ unless $c eq "snap-a" || $c eq "snap-b";
        $msgmix++ if grep { $_ ne $c } @c;
        $by{$dom}{$c}++;
        $conn{"$c/" . ($tls eq "null" ? "plain" : "tls") . "/$verdict/$action/" . ($dlv eq "true" ? "delivered" : "refused")}++;
    }
    my ($ca, $cb, $coll, $mix) = (0, 0, 0, 0);
    for my $d (keys %by) {
        my ($na, $nb) = ($by{$d}{"snap-a"} // 0, $by{$d}{"snap-b"} // 0);
        if (($na + $nb) % $m) { $mix++; print STDERR "mixed: $d a=$na b=$nb\n"; next }
        if ($na && $nb) {
            # two sessions that drew the same sender domain, each consistent
            if ($na % $m == 0 && $nb % $m == 0) { $coll++ } else { $mix++; print STDERR "mixed: $d a=$na b=$nb\n" }
            next;
        }
        $na ? $ca++ : $cb++;
    }
    printf "lines=%d invalid=%d other=%d msgmix=%d mixed=%d conn_a=%d conn_b=%d collisions=%d %s\n",
        $lines, $bad // 0, $other // 0, $msgmix // 0, $mix, $ca, $cb, $coll,
        join(" ", map { "$_=$conn{$_}" } sort keys %conn);
' $M <"$JSON_LOG" >"$T/check.out" 2>"$T/check.err"
check=$(cat "$T/check.out")
diag "json: $check"
jf() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" "$T/check.out"; }
is "$(jf invalid)/$(jf other)/$(jf msgmix)" "0/0/0" \
    "every JSON line is valid and decided by snap-a or snap-b alone (never the broken file)"
is "$(jf mixed)" 0 "no connection mixes the verdicts of two snapshots" || diag_file "$T/check.err" 10
is "$(jf lines)" "$messages" "one JSON line per message"
like "$(jf conn_a)/$(jf conn_b)" '^[1-9][0-9]*/[1-9][0-9]*$' "both snapshots decided whole connections during the storm"
jn() { sed -n "s|.* $1=\([0-9]*\).*|\1|p" "$T/check.out"; }
is "$(jn 'snap-a/plain/fail/reject/refused')" "$refused" \
    "A refused every plaintext recipient it decided ($refused), each on record as not delivered"
unlike "$check" 'snap-a/plain/[^ ]*/delivered|snap-b/plain/[^ ]*/refused' \
    "A never delivered a plaintext message and B never refused one"
like "$(jn 'snap-b/plain/fail/tag/delivered')" '^[1-9]' "B tagged plaintext messages"
like "$(jn 'snap-a/tls/pass/accept/delivered')/$(jn 'snap-b/tls/pass/accept/delivered')" \
    '^[1-9][0-9]*/[1-9][0-9]*$' "both snapshots passed TLS messages"

# After the storm the last good file serves (B after 100 reloads), and the daemon runs.
last=a
for ((i = RELOADS; i > 0; i--)); do
    case $((i % 3)) in 1) last=b; break ;; 0) last=a; break ;; esac
done
[ "$last" = a ] && want_action=reject || want_action=tag
ok "milter-tlspolicy is still running" alive "$E2E_MILTER_PID"
# every reload reopens the JSON log: the old descriptor must be closed each time
wait_for 5 eval "[ \"\$(fd_count $E2E_MILTER_PID)\" -le $fd_before ]"
fd_after=$(fd_count "$E2E_MILTER_PID")
is "$fd_after" "$fd_before" "no descriptor left open by $RELOADS reloads (idle count before and after)"
mark
"$LOAD_BIN" -s "unix:$MILTER_SOCK" -c 1 -n 1 -m 1 --mix plain=1 -t 20 --seed 999 >"$T/after.out" 2>&1
wait_json 1
is "$(json_get connector)/$(json_get action)" "snap-$last/$want_action" \
    "after the storm the last good file ($last) decides"
unlike "$(grep -E 'out of memory|internal error|fatal|panic' "$MILTER_LOG")" . \
    "the daemon logged no internal error"
diag "figures: reloads=$RELOADS (good=$((RELOADS - nbroken)) broken=$nbroken) sessions=$sessions messages=$messages connections_a=$(jf conn_a) connections_b=$(jf conn_b) domain_collisions=$(jf collisions) seconds=$secs fds_idle=$fd_before/$fd_after"
tap_done
