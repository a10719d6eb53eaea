#!/usr/bin/env bash
# tests/e2e/sendmail.sh -- end-to-end: swaks -> real Sendmail 8.17 (Debian's packages
# unpacked, not installed; STARTTLS; INPUT_MAIL_FILTER with Sendmail's DEFAULT milter macro
# lists, so the daemon's own smfi_setsymlist requests are what makes it work) ->
# milter-tlspolicy -> queued qf/df files (queue-only delivery).
# Owns: the Sendmail side of the matrix. Never: runs sendmail or its clients outside a
# loopback-only network namespace (sendmail resolves its own name before reading its .cf:
# outside it would query the system resolver). TAP on stdout.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/matrix.sh"

e2e_require_common
e2e_init sendmail
SM=$T/sm
# sm_fetch sets SM_BIN and SM_VERSION; it runs in this shell, its reason goes to a file
sm_fetch "$SM" >"$T/sm-fetch.why" || skip_all "Sendmail rig unavailable: $(cat "$T/sm-fetch.why")"
e2e_pki

MTA=sendmail

# queue-only: an accepted message stays in the queue as qfQID (envelope, headers) + dfQID
has_copy() { [ -n "$1" ] && [ -f "$(sm_qf "$SM" "$1")" ] && sm_rcpts "$(sm_qf "$SM" "$1")" | grep -qixF "$2"; }
copy_wait() { [ -n "$1" ] && wait_for 5 test -f "$(sm_qf "$SM" "$1")"; }
copy_headers() { has_copy "$1" "$2" && sm_headers "$(sm_qf "$SM" "$1")" "$3"; }
# smfi_quarantine: Sendmail renames qf to hf and records the reason in a "q" line
held() {
    [ -n "$1" ] || return 1
    grep -qs '^q' "$SM/mqueue/hf$1" || grep -qs '^q' "$(sm_qf "$SM" "$1")"
}

MILTER_DIR=$T/milter
mkdir -p "$MILTER_DIR"
JSON_LOG=$MILTER_DIR/posture.jsonl
e2e_policy "$MILTER_DIR/connectors.yaml"
milter_start "$MILTER_DIR/connectors.yaml" || bail_out "milter-tlspolicy did not start"
SMTP_PORT=$(free_port) || bail_out "no free port"
sm_start "$SM" "$SMTP_PORT" "$MILTER_SOCK" || bail_out "private Sendmail did not start"
SMTP_WRAP=(nsenter --net="/proc/$SM_PID/ns/net")
diag "sendmail $SM_VERSION on 127.0.0.1:$SMTP_PORT (own network namespace), state in $T"
helo_macros=$(sed -n 's/^O Milter\.macros\.helo=//p' "$SM/sendmail.cf")
like "$helo_macros" '\{cert_subject\}' "sendmail.cf: default HELO milter macros ($helo_macros)"
unlike "$helo_macros" '\{verify\}' "sendmail.cf: {verify} is not in them (the milter must ask for it)"

run_matrix

ok "milter-tlspolicy is still running after the matrix" alive "$E2E_MILTER_PID"
ok "sendmail is still running after the matrix" alive "$SM_PID"

# Fail closed: F=T in INPUT_MAIL_FILTER makes Sendmail tempfail when the milter is gone.
milter_stop
name="milter-down"
smtp $name --from "$ORD" --to "$TO"
like "$(code $name "EHLO")$(code $name "MAIL FROM:")$(code $name "RCPT TO:<$TO>")" '4[0-9][0-9]' \
    "$name: the client is told to try later (4xx)"
is "$(qid $name)" "" "$name: nothing queued"
tap_done
