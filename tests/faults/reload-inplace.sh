#!/usr/bin/env bash
# tests/faults/reload-inplace.sh -- a reload never applies a half-written connectors file:
# the file is rewritten in place (truncated, then written in small chunks with pauses,
# as an editor or a careless script would) while SIGUSR1 arrives in the middle of the
# rewrite. Both files have two connectors; one says version: 1 last (a prefix fails to
# load), the other first (a prefix may load with a connector missing). Every reload must
# instead load the whole file: "reloaded ...: 2 connectors", never a failure, never fewer.
# Bounded: RELOADS rewrites (default 30), each reload confirmed within 10 s.
# Never: talks to anything but unix sockets under its own mktemp -d, or leaves a
# process running (lib.sh's e2e_cleanup stops everything).
set -u
. "$(dirname "$0")/common.sh"

faults_require
command -v python3 >/dev/null || skip_all "python3 not found (the in-place writer)"
e2e_init reload-inplace
faults_pki

RELOADS=${INPLACE_RELOADS:-30}
F=$T/connectors.yaml

# policy NAME: two connectors named after NAME, each with a requirement; the version key
# last, so that no prefix of the file is a valid connectors file with both connectors
policy() {
    cat <<EOF
settings:
  trust_store: $TRUST
connectors:
  - name: $1-one
    match:
      recipient_domains: [one.example]
    require:
      tls: true
      min_version: TLSv1.2
    on_fail: reject
  - name: $1-two
    match:
      recipient_domains: [two.example]
    require:
      tls: true
      certificate: verified
    on_fail: tag
version: 1
EOF
}
policy a >"$T/a.yaml"
# b has version: 1 first, as most files do: a prefix of it with one whole connector
# loads, which is how the half-written file was once applied with a connector lost
{ echo "version: 1"; policy b | sed '/^version:/d'; } >"$T/b.yaml"
cp "$T/a.yaml" "$F"
out=$("$MILTER_BIN" -n -c "$T/a.yaml" 2>&1) || bail_out "the test's own file does not load: $out"
out=$("$MILTER_BIN" -n -c "$T/b.yaml" 2>&1) || bail_out "the test's own file does not load: $out"
# the test is only meaningful if a prefix of a file would be applied wrongly
head -n 11 "$T/b.yaml" >"$T/part.yaml"   # up to the first on_fail
out=$("$MILTER_BIN" -n -c "$T/part.yaml" 2>&1)
like "$out" "OK: 1 connectors" "b cut after its first connector loads with one lost (what a reload must not apply)"

daemon_start "$F" || bail_out "milter-tlspolicy did not start"

# rewrite NAME: truncate the file in place and write it back one line at a time, 20 ms
# apart (far below the daemon's settle interval, so the writer looks busy); whole
# lines, so that a prefix read in between is as likely as can be to load. One python3
# process, not a sleep(1) per line: on a loaded machine a fork per line stalls the
# writer for longer than the settle interval, and a writer that stops for that long
# has, by the only evidence the daemon has, finished.
rewrite() {
    python3 - "$T/$1.yaml" "$F" <<'PY'
import sys, time
src, dst = sys.argv[1], sys.argv[2]
lines = open(src, "rb").read().splitlines(keepends=True)
with open(dst, "r+b") as f:
    f.truncate(0)
    for line in lines:
        f.write(line)
        f.flush()
        time.sleep(0.02)
PY
}

n0=$(reload_count)
for ((i = 1; i <= RELOADS; i++)); do
    if ((i % 2)); then name=b; else name=a; fi
    rewrite $name &
    writer=$!
    E2E_BG_PIDS+=("$writer")
    # signal somewhere inside the rewrite (it takes about 500 ms)
    sleep "$(printf '0.%02d' $((RANDOM % 45 + 1)))"
    reload_wait || { diag "reload $i not logged within 10 s"; break; }
    wait "$writer"
done
outcomes=$(grep -E "$RELOAD_RE" "$MILTER_LOG" | tail -n +"$((n0 + 1))")
whole=$(grep -c 'reloaded .*: 2 connectors' <<<"$outcomes")
failed=$(grep -c 'reload of .* failed' <<<"$outcomes")
partial=$(grep -E 'reloaded .*: [0-9]+ connectors' <<<"$outcomes" | grep -vc ': 2 connectors')
diag "reloads during in-place rewrites: $RELOADS; whole file: $whole; refused: $failed; partial: $partial"
diag "waits logged: $(grep -c 'still being written\|changed while it was read' "$MILTER_LOG")"
is "$whole" "$RELOADS" "every reload during an in-place rewrite loaded the whole file"
is "$failed" 0 "no reload read a half-written file and refused it"
is "$partial" 0 "no reload applied a half-written file"
ok "the daemon still runs" alive "$E2E_MILTER_PID"
milter_stop

tap_done
