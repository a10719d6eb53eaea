#!/usr/bin/env bash
# tests/e2e/demo.sh -- "make demo": milter-tlspolicy live, in front of a private Postfix
# on 127.0.0.1, with a policy that mirrors contrib/connectors.example.yaml (demo.yaml.in),
# a handful of SMTP sessions, and for each what an administrator would look at: the SMTP
# replies, the posture header of the delivered copy, the milter's log line, the JSON line.
# Each session first states the SMTP result, TLS version and verdict it expects, then
# checks them against what happened (OK or MISMATCH); the demo exits 1 if any differs.
# Owns: the walk-through. Never: builds anything (make builds first), touches /etc/postfix
# or a system MTA, or leaves anything running (everything lives in one mktemp -d and is
# stopped and removed at exit; E2E_KEEP=1 keeps the directory to look around).
set -u
. "$(dirname "$0")/lib.sh"

die() { printf 'demo: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root: it starts a private Postfix and runs the milter as user postfix"
command -v postfix >/dev/null || die "postfix is not installed (apt-get install postfix)"
getent passwd postfix >/dev/null || die "there is no postfix user (apt-get install postfix)"
# a swaks without TLS would turn every TLS session below into an error transcript
why=$(tls_client_problem)
[ -z "$why" ] || die "$why"
[ -x "$MILTER_BIN" ] || die "$MILTER_BIN is not built (run make first)"
# reuse the build tree's test PKI when "make check" made one
if [ -z "${TLSPOLICY_TEST_PKI:-}" ] && [ -f "$top_builddir/tests/pki/out/server.chain.pem" ]; then
    TLSPOLICY_TEST_PKI=$top_builddir/tests/pki/out
fi

bail_out() { die "$*"; }
e2e_init demo
e2e_pki
MILTER_DIR=$T/milter
mkdir -p "$MILTER_DIR"
JSON_LOG=$MILTER_DIR/posture.jsonl
sed -e "s|@PKI@|$P|g" -e "s|@STATE@|$MILTER_DIR|g" "$E2E_HERE/demo.yaml.in" >"$MILTER_DIR/connectors.yaml"
chmod 644 "$MILTER_DIR/connectors.yaml"
milter_start "$MILTER_DIR/connectors.yaml" || die "milter-tlspolicy did not start"
SMTP_PORT=$(free_port) || die "no free port"
PF=$T/pf
pf_start "$PF" "$SMTP_PORT" "$MILTER_SOCK" || die "the private Postfix did not start"

B=; N=
if [ -t 1 ]; then B=$(tput bold 2>/dev/null || true); N=$(tput sgr0 2>/dev/null || true); fi
section() { printf '\n%s%s%s\n' "$B" "$*" "$N"; }
# field LABEL LINE [MORE-LINES...]: an aligned block
field() {
    local label=$1 l; shift
    for l in "$@"; do printf '  %-10s %s\n' "$label" "$l"; label=""; done
}
indent() { sed 's/^/             /'; }

printf '%smilter-tlspolicy live demo%s\n' "$B" "$N"
field policy "$E2E_HERE/demo.yaml.in" \
    "(contrib/connectors.example.yaml with the test PKI's names; in use as" \
    " $MILTER_DIR/connectors.yaml)"
field milter "$MILTER_BIN -f -u postfix -c ... -p unix:$MILTER_SOCK"
field postfix "private instance on 127.0.0.1:$SMTP_PORT, config in $PF/etc" \
    "(/etc/postfix is not touched); smtpd_tls_ask_ccert=yes, milter_default_action=tempfail"
section "At start-up the milter logged:"
indent <"$MILTER_LOG"

# What a session produced, in the words of its expectation:
#   result:  "RCPT <code>, queued" or "RCPT <code>, not queued"
#   tls:     the version the client negotiated (swaks' transcript), or "none"
#   verdict: "<verdict> (connector=<name>)" from the delivered copy's header, or from the
#            milter's log line when nothing was delivered (a refusal has no copy)
got_result() {
    local q=$2
    printf 'RCPT %s, %s' "$(code "$1" "RCPT TO:")" "$([ -n "$q" ] && echo queued || echo 'not queued')"
}
got_tls() {
    local v
    v=$(sed -n 's/^=== TLS started with cipher \([^:]*\):.*/\1/p' "$OUT/$1.txt" | head -1)
    printf '%s' "${v:-none}"
}
got_verdict() {   # NAME QID RCPT
    local line
    if [ -n "$2" ] && [ -s "$(pf_copy "$PF" "$2" "$3")" ]; then
        line=$(headers "$(pf_copy "$PF" "$2" "$3")" X-TLS-Policy | head -1)
        printf '%s (connector=%s)' "${line%% *}" \
            "$(sed -n 's/.*connector=\([^;)]*\).*/\1/p' <<<"$line")"
    else
        line=$(log_since_mark | grep -m1 'verdict=')
        printf '%s (connector=%s)' "$(sed -n 's/.* verdict=\([^ ]*\).*/\1/p' <<<"$line")" \
            "$(sed -n 's/.* connector=\([^ ]*\).*/\1/p' <<<"$line")"
    fi
}

MISMATCHES=()
# demo_session NUMBER TITLE WANT-RESULT WANT-TLS WANT-VERDICT FROM RCPT SWAKS-ARGS...
demo_session() {
    local num=$1 title=$2 want_result=$3 want_tls=$4 want_verdict=$5 from=$6 rcpt=$7
    local name="session-$1" q tls got want; shift 7
    section "$num. $title"
    field expect "$want_result; TLS: $want_tls; verdict: $want_verdict"
    mark
    smtp "$name" --from "$from" --to "$rcpt" "$@"
    field client "swaks --from $from --to $rcpt ${*//$P\//}"
    tls=$(sed -n 's/^=== TLS started with cipher //p' "$OUT/$name.txt" | head -1)
    field TLS "${tls:-none (plain SMTP)}"
    field SMTP "MAIL FROM:<$from>  ->  $(reply "$name" "MAIL FROM:")" \
        "RCPT TO:<$rcpt>  ->  $(reply "$name" "RCPT TO:")"
    q=$(qid "$name")
    if [ -n "$q" ]; then
        field "" "end of DATA  ->  $(grep -o '250 2\.0\.0 Ok: queued as [0-9A-F]*' "$OUT/$name.txt" | head -1)"
        pf_wait_delivery "$PF" "$q" "$rcpt"
        field delivered "$(pf_copy "$PF" "$q" "$rcpt"), its header:"
        awk '/^\r?$/ { exit }
             tolower($0) ~ /^(x-tls-policy|authentication-results):/ { p = 1; print; next }
             p && /^[ \t]/ { print; next }
             { p = 0 }' "$(pf_copy "$PF" "$q" "$rcpt")" | indent
    else
        field delivered "nothing: the recipient was refused, no queue file exists"
    fi
    # the log line is written at end of message, or at RCPT for a refusal
    wait_for 2 eval "[ \$(lines \"\$MILTER_LOG\") -gt $MARK_LOG ]"
    if [ -n "$q" ]; then wait_json 1 2; fi
    field "milter log" ""
    log_since_mark | indent
    if [ "$(json_since_mark | grep -c .)" -gt 0 ]; then
        field "JSON line" ""
        json_since_mark | indent
    fi
    want="$want_result; TLS: $want_tls; verdict: $want_verdict"
    got="$(got_result "$name" "$q"); TLS: $(got_tls "$name"); verdict: $(got_verdict "$name" "$q" "$rcpt")"
    if [ "$got" = "$want" ]; then
        field "=> OK" "$got"
    else
        field "=> MISMATCH" "expected $want" "got      $got"
        if [ ! -s "$OUT/$name.txt" ] || grep -q '^\*\*\*' "$OUT/$name.txt"; then
            field "swaks said" ""
            grep '^\*\*\*' "$OUT/$name.txt" | head -5 | indent
        fi
        MISMATCHES+=("$num")
    fi
}

# shellcheck disable=SC2046
demo_session 1 "The bank sends over verified TLS with its certificate: pass" \
    "RCPT 250, queued" TLSv1.3 "pass (connector=bank-partner)" \
    payments@partner-a.test ops@example.com --tls $(cert_chain partner-a)
# shellcheck disable=SC2046
demo_session 2 "The bank's gateway falls back to TLS 1.2 without forward secrecy: rejected" \
    "RCPT 550, not queued" TLSv1.2 "fail (connector=bank-partner)" \
    payments@partner-a.test ops@example.com --tls $(cert_chain partner-a) \
    --tls-protocol tlsv1_2 --tls-cipher AES256-GCM-SHA384
demo_session 3 "Someone sends as the bank without TLS: rejected" \
    "RCPT 550, not queued" none "fail (connector=bank-partner)" \
    payments@partner-a.test ops@example.com
demo_session 4 "An ordinary sender that no connector claims, no TLS: delivered and tagged" \
    "RCPT 250, queued" none "none (connector=default)" \
    newsletter@example.org ops@example.com
# shellcheck disable=SC2046
demo_session 5 "The health insurer (monitor mode), certificate with the wrong name: delivered, logged as a failure" \
    "RCPT 250, queued" TLSv1.3 "fail (connector=health-insurer)" \
    claims@partner-b.test intake@claims.example.com --tls $(cert_chain partner-b)

section "What to take away"
cat <<TAKEAWAY
  Refusals happen at RCPT TO with the connector's reply (or "5.7.1 TLS policy <name>:
  <reason>"), so nothing is queued for them. Delivered mail carries exactly one
  X-TLS-Policy header (a copy sent by the client is removed first). Every message gets
  one log line (syslog, facility mail) and one JSON line (here $JSON_LOG).
  Monitor mode delivers but says what enforce mode would have done (action=, mode=monitor).
  Reload a changed policy with SIGUSR1; check a file first with: tlspolicy check FILE
TAKEAWAY
milter_stop
pf_stop "$PF"
if [ "${E2E_KEEP:-0}" = 1 ]; then
    printf '\nEverything stopped; the state is kept in %s.\n' "$T"
else
    printf '\nEverything stopped and removed.\n'
fi
if [ ${#MISMATCHES[@]} -gt 0 ]; then
    printf 'demo: FAILED: session(s) %s did not go as expected (MISMATCH above)\n' "${MISMATCHES[*]}"
    exit 1
fi
printf 'demo: all 5 sessions went as expected\n'
