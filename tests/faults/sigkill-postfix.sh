#!/usr/bin/env bash
# tests/faults/sigkill-postfix.sh -- milter-tlspolicy killed with SIGKILL in the middle of
# an SMTP session behind a real Postfix (milter_default_action = tempfail): the client is
# told 4xx, nothing of that session is queued or delivered, and once the daemon is started
# again mail flows and is tagged. Two kill points: after MAIL FROM (the milter has seen
# connect, HELO and MAIL) and inside DATA (headers and body sent, final dot not yet).
# Uses the end-to-end rig (tests/e2e/lib.sh): needs root and postfix, else SKIP, and a
# swaks that can do STARTTLS, else "Bail out!".
# Never: touches a system Postfix; everything lives in one mktemp -d, stopped at exit.
set -u
. "$(dirname "$0")/common.sh"

e2e_require_common
command -v postfix >/dev/null || skip_all "postfix not installed (apt-get install postfix)"
e2e_init sigkill
e2e_pki

PF=$T/pf
MILTER_DIR=$T/milter
mkdir -p "$MILTER_DIR"
JSON_LOG=$MILTER_DIR/posture.jsonl
cat >"$MILTER_DIR/connectors.yaml" <<EOF
version: 1
settings:
  trust_store: $P/trust.pem
  log_json: $JSON_LOG
connectors:
  - name: partner-a
    match:
      sender_domains: [partner-a.test]
    require:
      min_version: TLSv1.2
      certificate: verified
      certificate_names: [mail.partner-a.test]
    on_fail: reject
EOF
chmod -R a+rX "$MILTER_DIR"
milter_start "$MILTER_DIR/connectors.yaml" || bail_out "milter-tlspolicy did not start"
SMTP_PORT=$(free_port) || bail_out "no free port"
pf_start "$PF" "$SMTP_PORT" "$MILTER_SOCK" || bail_out "private Postfix did not start"
diag "postfix $(postconf -d -h mail_version 2>/dev/null) on 127.0.0.1:$SMTP_PORT, milter_default_action=tempfail"

FROM=alice@partner-a.test
# The held sessions are plaintext from a sender no connector claims: while the daemon
# runs they would be accepted (tagged), so a 4xx can only come from the kill.
HELD_FROM=bob@ordinary.test
sink_files() { find "$PF/sink" -name "*.$1" 2>/dev/null | wc -l | tr -d ' '; }
queue_files() { find "$PF/spool/incoming" "$PF/spool/active" "$PF/spool/deferred" \
    "$PF/spool/hold" "$PF/spool/maildrop" -type f 2>/dev/null | wc -l | tr -d ' '; }

# flows NAME RCPT: a verified partner-a session is accepted, delivered and tagged
flows() {
    local n=$1 rcpt=$2 q copy
    mark
    # shellcheck disable=SC2046
    smtp "$n" --from "$FROM" --to "$rcpt" --tls $(cert_chain partner-a)
    q=$(qid "$n")
    like "$(code "$n" 'RCPT TO:')/$q" '^250/[0-9A-Za-z]+$' "$n: accepted and queued" ||
        diag_file "$OUT/$n.txt"
    copy=$(pf_copy "$PF" "$q" "$rcpt")
    if pf_wait_delivery "$PF" "$q" "$rcpt"; then
        like "$(headers "$copy" X-TLS-Policy)" '^pass \(connector=partner-a;' \
            "$n: delivered with the posture header"
    else
        _tap_line 1 "$n: delivered with the posture header"
        diag "no copy $copy"
    fi
}

# held_data NAME FROM RCPT GATE: a plaintext session that sends the whole message except
# the final dot, then waits (at most 30 s) for GATE; transcript in swaks' notation.
held_data() {
    local name=$1 from=$2 rcpt=$3 gate=$4 line i
    {
        exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT" || exit 1
        # shellcheck source=tests/e2e/smtp-talk.sh
        . "$E2E_HERE/smtp-talk.sh"
        hear && say "EHLO held.faults.test" && hear && say "MAIL FROM:<$from>" && hear &&
            say "RCPT TO:<$rcpt>" && hear && say DATA && hear && [ "${line:0:3}" = 354 ] &&
            printf 'Subject: %s\r\nFrom: <%s>\r\nTo: <%s>\r\n\r\nkilled mid-DATA\r\n' \
                "$name" "$from" "$rcpt" >&3 && printf ' -> <headers and body>\n' &&
            for ((i = 0; i < 600; i++)); do [ -e "$gate" ] && break; sleep 0.05; done &&
            say . && hear
        say QUIT && hear
        exec 3>&-
    } >"$OUT/$name.txt" 2>&1
}

# kill_milter: SIGKILL, no chance to answer or clean up
kill_milter() {
    kill -KILL "$E2E_MILTER_PID" 2>/dev/null
    wait "$E2E_MILTER_PID" 2>/dev/null
    E2E_MILTER_PID=""
}
restart() {
    milter_start "$MILTER_DIR/connectors.yaml" || { diag "restart failed"; return 1; }
}

flows before-kill before@example.net

# --- 1. killed after MAIL FROM (the session holds before RCPT)
n=kill-after-mail
held_session $n "$HELD_FROM" kill1@example.net "$T/gate1" &
HELD=$!
E2E_BG_PIDS+=("$HELD")
wait_for 20 eval "grep -A1 -e '-> MAIL FROM' \"$OUT/$n.txt\" | grep -q '<- 2'"
kill_milter
touch "$T/gate1"
wait "$HELD" 2>/dev/null
like "$(code $n 'RCPT TO:')" '^4[0-9][0-9]$' "$n: the client is told to try later (4xx at RCPT)" ||
    diag_file "$OUT/$n.txt"
unlike "$(cat "$OUT/$n.txt")" ' <- 354' "$n: DATA was not accepted"
sleep 1
is "$(sink_files kill1@example.net)/$(queue_files)" "0/0" "$n: nothing delivered or queued"

ok "the daemon starts again on the same socket" restart
flows after-kill-1 after1@example.net

# --- 2. killed inside DATA (headers and body sent, final dot not yet)
n=kill-in-data
held_data $n "$HELD_FROM" kill2@example.net "$T/gate2" &
HELD=$!
E2E_BG_PIDS+=("$HELD")
wait_for 20 grep -q 'headers and body' "$OUT/$n.txt"
sleep 0.3   # let cleanup(8) pass the headers to the milter
kill_milter
touch "$T/gate2"
wait "$HELD" 2>/dev/null
is "$(code $n 'RCPT TO:')" 250 "$n: recipient accepted while the milter ran"
like "$(reply $n '-> .')" '^4[0-9][0-9] ' "$n: the end of DATA is answered 4xx" ||
    diag_file "$OUT/$n.txt"
unlike "$(cat "$OUT/$n.txt")" 'queued as' "$n: no queue id given"
sleep 1
is "$(sink_files kill2@example.net)/$(queue_files)" "0/0" "$n: nothing delivered or queued"

ok "the daemon starts again after the second kill" restart
flows after-kill-2 after2@example.net

unlike "$(grep -E 'fatal|panic' "$PF/log/maillog" 2>/dev/null)" . "postfix logged no fatal or panic"
diag "postfix logged:" "$(grep -E 'warning: milter|milter-reject' "$PF/log/maillog" | sed 's/^.*: warning: /warning: /; s/^.*: NOQUEUE: /NOQUEUE: /; s/^.*: \([0-9A-F]*\): /\1: /' | cut -c1-160)"
diag "figures: kills=2 (after MAIL, inside DATA) replies: $(code kill-after-mail 'RCPT TO:') at RCPT, $(reply kill-in-data '-> .' | cut -c1-3) at end of DATA; messages lost=0 wrongly accepted=0"
tap_done
