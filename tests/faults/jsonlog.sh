#!/usr/bin/env bash
# tests/faults/jsonlog.sh -- the JSON posture log is an audit trail: the daemon refuses
# to start when it cannot open it safely (a symbolic link, a FIFO, a file writable by
# group or others, a file owned by another user), says which rule failed on stderr with
# exit status 1, and starts with a fine file; a SIGUSR2 reopen that meets a bad file
# keeps the old descriptor. -n reports what it can tell without the daemon's user.
# Never: talks to anything but unix sockets under its own mktemp -d, or leaves a
# process running (lib.sh's e2e_cleanup stops everything).
set -u
. "$(dirname "$0")/common.sh"

faults_require
e2e_init jsonlog

# policy FILE JSONPATH: a connectors file that names JSONPATH as its JSON log
policy() {
    printf 'version: 1\nsettings:\n  log_json: %s\nconnectors: []\n' "$2" >"$1"
}
# start_fails NAME: the daemon, in the foreground, must exit (bounded: a FIFO must not
# block it) with status 1 and say why; $out holds what it said
start_fails() {
    policy "$T/$1.yaml" "$T/$1.jsonl"
    out=$(timeout 20 "$MILTER_BIN" -f -R -c "$T/$1.yaml" -p "unix:$T/$1.sock" </dev/null 2>&1)
    rc=$?
}

# ------------------------------------------------------------------ symbolic link
echo "precious" >"$T/target"
ln -s "$T/target" "$T/link.jsonl"
start_fails link
is "$rc" 1 "symlink: the daemon refuses to start (exit 1)"
like "$out" "link.jsonl\" is a symbolic link" "symlink: stderr names the path and the rule"
is "$(cat "$T/target")" "precious" "symlink: the file it points at is untouched"
out=$("$MILTER_BIN" -n -c "$T/link.yaml" 2>&1)
is "$?" 2 "symlink: -n exits 2"
like "$out" "is a symbolic link" "symlink: -n says why"

# ------------------------------------------------------------------ FIFO
mkfifo "$T/fifo.jsonl"
start_fails fifo
is "$rc" 1 "FIFO without a reader: refused (exit 1), not blocked"
like "$out" "fifo.jsonl\" is a FIFO" "FIFO: stderr names the path and the rule"
out=$("$MILTER_BIN" -n -c "$T/fifo.yaml" 2>&1)
is "$?" 2 "FIFO: -n exits 2"
like "$out" "is a FIFO, not a regular file" "FIFO: -n says why"
# a FIFO that has a reader opens (this shell holds it open read-write, which Linux allows
# without blocking): fstat must still refuse it
exec 7<>"$T/fifo.jsonl"
start_fails fifo
is "$rc" 1 "FIFO with a reader: refused (exit 1)"
like "$out" "is a FIFO, not a regular file" "FIFO with a reader: stderr says why"
exec 7>&-

# ------------------------------------------------------------------ writable by others
install -m 0666 /dev/null "$T/other.jsonl"
start_fails other
is "$rc" 1 "other-writable: refused (exit 1)"
like "$out" "other.jsonl\" is writable by others \\(mode 0666\\)" "other-writable: says which rule"
out=$("$MILTER_BIN" -n -c "$T/other.yaml" 2>&1)
is "$?" 2 "other-writable: -n exits 2"
install -m 0620 /dev/null "$T/group.jsonl"
start_fails group
is "$rc" 1 "group-writable: refused (exit 1)"
like "$out" "writable by its group \\(mode 0620\\)" "group-writable: says which rule"

# ------------------------------------------------------------------ owned by another user
if [ "$(id -u)" = 0 ] && getent passwd nobody >/dev/null; then
    install -m 0640 -o nobody /dev/null "$T/owner.jsonl"
    start_fails owner
    is "$rc" 1 "another user's file: refused (exit 1)"
    like "$out" "owner.jsonl\" is owned by uid $(id -u nobody), not by the daemon's user \\(uid 0\\)" \
        "another user's file: names both uids"
else
    skip "another user's file: refused" "needs root and user nobody"
    skip "another user's file: names both uids" "needs root and user nobody"
fi

# ------------------------------------------------------------------ a fine file
JSON_LOG=$T/fine.jsonl
install -m 0640 /dev/null "$JSON_LOG"
policy "$T/fine.yaml" "$JSON_LOG"
out=$("$MILTER_BIN" -n -c "$T/fine.yaml" 2>&1)
is "$?" 0 "fine file: -n exits 0"
daemon_start "$T/fine.yaml" || bail_out "milter-tlspolicy did not start with a fine JSON log"
ok "fine file: the daemon runs" alive "$E2E_MILTER_PID"
# rotation meets a symlink: the daemon keeps the old file and says why
mv "$JSON_LOG" "$JSON_LOG.1"
ln -s "$T/target" "$JSON_LOG"
kill -USR2 "$E2E_MILTER_PID"
wait_for 10 grep -q "keeping the previous JSON posture log" "$MILTER_LOG"
like "$(cat "$MILTER_LOG")" "fine.jsonl\" is a symbolic link; it must be a regular file; keeping the previous" \
    "SIGUSR2 onto a symlink: refused, the old log kept, and said"
ok "SIGUSR2 onto a symlink: the daemon still runs" alive "$E2E_MILTER_PID"
is "$(cat "$T/target")" "precious" "SIGUSR2 onto a symlink: the target is untouched"
ls -l /proc/"$E2E_MILTER_PID"/fd 2>/dev/null | grep -q "fine.jsonl.1"
ok "SIGUSR2 onto a symlink: the old descriptor is still open" test $? = 0
milter_stop

tap_done
