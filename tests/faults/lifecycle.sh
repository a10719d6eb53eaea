#!/usr/bin/env bash
# tests/faults/lifecycle.sh -- the daemon's operator path and its hardening: start-up
# errors reach stderr with the documented exit status, SIGTERM stops an idle daemon
# promptly, SIGUSR2 reopens the JSON log without re-reading the connectors file, the
# socket is handed to the -u user without following a symlink, an idle connection is
# given -T, and a real session is still served while 2,000 idle
# connections are open. Figures (stop times, descriptor counts) are TAP comments; no
# pass/fail depends on a timing except generous bounded waits.
# Never: talks to anything but unix sockets under its own mktemp -d, or leaves a
# process running (lib.sh's e2e_cleanup stops everything).
set -u
. "$(dirname "$0")/common.sh"

faults_require "$SHOT_BIN"
[ "$(id -u)" = 0 ] || skip_all "needs root (-u, socket ownership)"
getent passwd nobody >/dev/null || skip_all "no user nobody"
e2e_init lifecycle

JSON_LOG=$T/posture.jsonl
cat >"$T/policy.yaml" <<EOF
version: 1
settings:
  log_json: $JSON_LOG
connectors: []
EOF

# gone PID: not running any more (a zombie counts as gone)
gone() { ! alive "$1"; }
# ms_since NS: milliseconds since a date +%s%N stamp
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# one plain session, every stage answered
cat >"$T/session.script" <<'EOF'
connect localhost 127.0.0.1
helo client.faults.test
mail <a@example.test>
rcpt <b@example.test>
data
header Subject lifecycle
eoh
body hello\r\n
eom
quit
EOF
shot() { timeout 20 "$SHOT_BIN" "unix:$MILTER_SOCK" <"$T/session.script" >"$T/$1.out" 2>&1; }

# ------------------------------------------------------------------ start-up errors
out=$("$MILTER_BIN" -c "$T/policy.yaml" -p "unix:$T/sock" </dev/null 2>&1 >/dev/null)
is "$?" 2 "root without -u exits 2"
like "$out" "refusing to run as root" "root without -u says why on stderr"

out=$("$MILTER_BIN" -u nobody -c "$T/policy.yaml" -p "unix:$T/no-such-dir/s.sock" \
      </dev/null 2>&1 >/dev/null)
is "$?" 1 "an unusable socket path exits 1 (run-time failure)"
like "$out" "cannot create socket unix:$T/no-such-dir/s.sock" \
    "the daemonising start names the socket on stderr"

mkdir -p "$T/pd"
out=$("$MILTER_BIN" -u nobody -c "$T/policy.yaml" -p "unix:$T/pd/s.sock" \
      -P "$T/no-such-dir/pid" </dev/null 2>&1 >/dev/null)
is "$?" 1 "an unwritable pidfile exits 1"
like "$out" "cannot write pidfile $T/no-such-dir/pid" \
    "an error after the fork still reaches stderr"

out=$("$MILTER_BIN" -T 0 -c "$T/policy.yaml" 2>&1 >/dev/null)
is "$?" 2 "-T 0 is a usage error (exit 2)"
like "$out" "-T 0: expected whole seconds" "-T says what it expects"

# ------------------------------------------------------------------ SIGTERM
daemon_start "$T/policy.yaml" || bail_out "milter-tlspolicy did not start"
t0=$(date +%s%N)
kill -TERM "$E2E_MILTER_PID"
wait_for 10 gone "$E2E_MILTER_PID"
ok "SIGTERM stops an idle daemon (bounded wait 10 s)" gone "$E2E_MILTER_PID"
diag "idle stop after SIGTERM: $(ms_since "$t0") ms (was about 4,000 ms)"
wait "$E2E_MILTER_PID"
is "$?" 0 "a SIGTERM stop exits 0"

daemon_start "$T/policy.yaml" || bail_out "milter-tlspolicy did not start"
shot served
ok "a session is served" grep -qx 'eom continue' "$T/served.out" ||
    diag_file "$T/served.out"
t0=$(date +%s%N)
kill -TERM "$E2E_MILTER_PID"
wait_for 10 gone "$E2E_MILTER_PID"
ok "SIGTERM stops the daemon after a session (bounded wait 10 s)" gone "$E2E_MILTER_PID"
diag "stop after one served session: $(ms_since "$t0") ms"
wait "$E2E_MILTER_PID" 2>/dev/null

# ------------------------------------------------------------------ -d (policy delegation)
out=$("$MILTER_BIN" -d inet:10026@192.0.2.1 -c "$T/policy.yaml" 2>&1 >/dev/null)
is "$?" 2 "-d on a non-loopback address is a usage error (exit 2)"
like "$out" "-d inet:10026@192.0.2.1: expected a loopback address" "-d says what it expects"
echo keep >"$T/not-a-socket"
out=$("$MILTER_BIN" -u nobody -c "$T/policy.yaml" -p "unix:$T/pd/d.sock"       -d "unix:$T/not-a-socket" </dev/null 2>&1 >/dev/null)
is "$?" 1 "-d on a path that is not a socket exits 1"
like "$out" "exists and is not a socket; not replacing it" "-d leaves a file at its path alone"
is "$(cat "$T/not-a-socket")" keep "the file is untouched"
daemon_start "$T/policy.yaml" -d "unix:$T/policyd.sock" || bail_out "milter-tlspolicy -d did not start"
ok "-d creates its socket" test -S "$T/policyd.sock"
# one policy connection left open with half a request, as a stuck smtpd would
exec 7> >(perl -MIO::Socket::UNIX -e '
    my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or exit 1;
    print $s "request=smtpd_access_policy\nprotocol_state=RC"; $s->flush; sleep 30' "$T/policyd.sock")
sleep 0.3
t0=$(date +%s%N)
kill -TERM "$E2E_MILTER_PID"
wait_for 10 gone "$E2E_MILTER_PID"
ok "SIGTERM stops a -d daemon with a policy connection open (bounded wait 10 s)" \
    gone "$E2E_MILTER_PID"
diag "stop with -d and an open policy connection: $(ms_since "$t0") ms"
wait "$E2E_MILTER_PID"
is "$?" 0 "the -d stop exits 0"
exec 7>&-
ok "the stop logs the policy delegation counts" \
    grep -q 'policy delegation: 0 request(s) stored' "$MILTER_LOG"
ok "the -d socket is removed at stop" not test -e "$T/policyd.sock"

# ------------------------------------------------------------------ descriptor limit
hard=$(ulimit -Hn)
if command -v prlimit >/dev/null && [ "$hard" != unlimited ] && [ "$hard" -gt 256 ]; then
    prlimit --nofile="256:$hard" "$MILTER_BIN" -f -R -c "$T/policy.yaml" \
        -p "unix:$T/nofile.sock" >>"$T/nofile.log" 2>&1 &
    nf_pid=$!
    wait_for 10 test -S "$T/nofile.sock"
    is "$(awk '/Max open files/ {print $4}' "/proc/$nf_pid/limits" 2>/dev/null)" "$hard" \
        "started with a soft limit of 256, the daemon raises it to the hard limit"
    stop_pid "$nf_pid" 10
else
    skip "the daemon raises its descriptor limit" "no prlimit, or hard limit $hard"
fi

# ------------------------------------------------------------------ SIGUSR2
daemon_start "$T/policy.yaml" || bail_out "milter-tlspolicy did not start"
ok "the JSON log is open" test -e "$JSON_LOG"
mv "$JSON_LOG" "$JSON_LOG.1"
cp "$T/policy.yaml" "$T/policy.good"
printf 'version: 1\nconnectors: [\n' >"$T/policy.yaml"      # half-edited
kill -USR2 "$E2E_MILTER_PID"
wait_for 10 test -e "$JSON_LOG"
ok "SIGUSR2 reopens the rotated JSON log" test -e "$JSON_LOG"
ok "SIGUSR2 does not re-read the (half-edited) connectors file" \
    not grep -qE 'reload|reloaded' "$MILTER_LOG"
shot after-usr2
ok "sessions are still served after SIGUSR2" grep -qx 'eom continue' "$T/after-usr2.out"
ok "SIGUSR1 still reloads, and keeps the policy on a broken file" reload_wait
ok "the broken file was reported" grep -q 'reload of .* failed' "$MILTER_LOG"
cp "$T/policy.good" "$T/policy.yaml"
milter_stop

# ------------------------------------------------------------------ socket ownership
# The daemon user owns the socket directory (the documented layout) and can swap the
# socket for a symlink. A root-only file must never change hands.
SD=$T/sockdir
mkdir -p "$SD"
chown nobody "$SD"
echo secret >"$T/victim"
chmod 600 "$T/victim"
start_as_nobody() {
    "$MILTER_BIN" -f -u nobody -c "$T/policy.yaml" -p "unix:$SD/s.sock" >>"$T/own.log" 2>&1 &
    E2E_MILTER_PID=$!
}
if command -v strace >/dev/null; then
    strace -f -qq -e trace=chown,lchown,fchown,fchownat -o "$T/strace.out" \
        "$MILTER_BIN" -f -u nobody -c "$T/policy.yaml" -p "unix:$SD/s.sock" \
        >>"$T/own.log" 2>&1 &
    E2E_MILTER_PID=$!
    wait_for 10 test -S "$SD/s.sock"
    is "$(stat -c %U "$SD/s.sock")" nobody "the socket belongs to the -u user"
    milter_stop
    ok "no ownership call on the socket path follows symlinks" \
        not grep -E "chown\(\"$SD/s.sock\"|fchownat\([^)]*\"$SD/s.sock\"[^)]*, 0\)" \
        "$T/strace.out" || diag_file "$T/strace.out"
    ok "the socket path was handed over with AT_SYMLINK_NOFOLLOW" \
        grep -q "fchownat(AT_FDCWD, \"$SD/s.sock\".*AT_SYMLINK_NOFOLLOW" "$T/strace.out" ||
        diag_file "$T/strace.out"
else
    skip "no ownership call follows symlinks" "strace not installed"
    skip "the socket path was handed over with AT_SYMLINK_NOFOLLOW" "strace not installed"
fi
# The race the report reproduced: swap the socket for a link as fast as possible while
# the daemon restarts 25 times.
perl -e 'my ($s, $v) = @ARGV; my $end = time + 60;
         while (time < $end) { unlink $s; symlink $v, $s; }' "$SD/s.sock" "$T/victim" &
E2E_BG_PIDS+=($!)
for ((i = 0; i < 25; i++)); do
    start_as_nobody
    wait_for 2 eval "grep -q 'listening on\|cannot\|no longer a socket' \"$T/own.log\""
    milter_stop
    : >"$T/own.log"
done
kill -KILL "${E2E_BG_PIDS[-1]}" 2>/dev/null
is "$(stat -c %U:%a "$T/victim")" root:600 \
    "after 25 restarts against a symlink swapper the root-only file is still root's"

# ------------------------------------------------------------------ idle load
# idle COUNT SECONDS FILE: open COUNT connections, write "open N" to FILE, then wait at
# most SECONDS and write "closed K" (how many the daemon closed) and exit.
idle() {
    perl -MIO::Socket::UNIX -MIO::Select -e '
        my ($path, $n, $secs, $file) = @ARGV; my @s;
        for (1 .. $n) { my $c = IO::Socket::UNIX->new(Peer => $path) or last; push @s, $c; }
        open my $f, ">", $file or die; print $f "open ", scalar(@s), "\n"; close $f;
        my $sel = IO::Select->new(@s); my $closed = 0; my $end = time + $secs;
        while ($sel->count && time < $end) {
            for my $c ($sel->can_read(0.5)) {
                my $b; if (!sysread($c, $b, 1)) { $sel->remove($c); $closed++; } }
        }
        open $f, ">>", $file or die; print $f "closed $closed\n"; close $f;
    ' "$MILTER_SOCK" "$1" "$2" "$3"
}
# -T reaches libmilter (smfi_settimeout). Its expiry is not tested here: Debian's
# libmilter, built with its worker pool, looks for expired idle sessions only every
# few minutes, longer than a bounded test should wait.
daemon_start "$T/policy.yaml" || bail_out "milter-tlspolicy did not start"
idle 2000 60 "$T/idle2000" &
E2E_BG_PIDS+=($!)
wait_for 30 grep -qs '^open' "$T/idle2000"
is "$(sed -n 's/^open //p' "$T/idle2000")" 2000 "2,000 idle connections are open"
wait_for 10 eval "[ \"\$(fd_count \"$E2E_MILTER_PID\")\" -ge 2000 ]"
nfd=$(fd_count "$E2E_MILTER_PID")
diag "daemon descriptors with 2,000 idle connections: $nfd (soft limit: $(awk '/Max open files/ {print $4}' "/proc/$E2E_MILTER_PID/limits"))"
ok "the daemon accepted them all (descriptors >= 2,000)" test "$nfd" -ge 2000
shot busy
ok "a real session is served while 2,000 idle connections are open" \
    grep -qx 'eom continue' "$T/busy.out" || diag_file "$T/busy.out"
t0=$(date +%s%N)
kill -TERM "$E2E_MILTER_PID"
wait_for 10 gone "$E2E_MILTER_PID"
ok "SIGTERM stops the daemon holding 2,000 connections (bounded wait 10 s)" \
    gone "$E2E_MILTER_PID"
diag "stop with 2,000 idle connections: $(ms_since "$t0") ms"
wait "$E2E_MILTER_PID" 2>/dev/null
E2E_MILTER_PID=""

tap_done
