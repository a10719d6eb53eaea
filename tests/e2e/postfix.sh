#!/usr/bin/env bash
# tests/e2e/postfix.sh -- end-to-end: swaks -> real Postfix 3.x (private instance, real
# STARTTLS, client certificates from the test PKI) -> milter-tlspolicy -> delivered copies.
# Owns: the Postfix side of the matrix (where the copies are, how to read them). Never:
# touches /etc/postfix or a running system Postfix; everything lives in one mktemp -d and
# is stopped and removed at exit. TAP on stdout, one line per assertion.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/matrix.sh"

e2e_require_common
command -v postfix >/dev/null || skip_all "postfix not installed (apt-get install postfix)"
e2e_init postfix
e2e_pki

MTA=postfix

PF=$T/pf
has_copy() { [ -n "$1" ] && [ -s "$(pf_copy "$PF" "$1" "$2")" ]; }
copy_wait() { pf_wait_delivery "$PF" "$1" "$2"; }
copy_headers() { has_copy "$1" "$2" && headers "$(pf_copy "$PF" "$1" "$2")" "$3"; }
# smfi_quarantine puts the message on Postfix's hold queue
held() { [ -n "$1" ] && [ -f "$PF/spool/hold/$1" ]; }

MILTER_DIR=$T/milter
mkdir -p "$MILTER_DIR"
JSON_LOG=$MILTER_DIR/posture.jsonl
e2e_policy "$MILTER_DIR/connectors.yaml"
milter_start "$MILTER_DIR/connectors.yaml" || bail_out "milter-tlspolicy did not start"
SMTP_PORT=$(free_port) || bail_out "no free port"
PF_SMTPS_PORT=$(free_port) || bail_out "no free port"
[ "$PF_SMTPS_PORT" != "$SMTP_PORT" ] || PF_SMTPS_PORT=$(free_port)
pf_start "$PF" "$SMTP_PORT" "$MILTER_SOCK" || bail_out "private Postfix did not start"
diag "postfix $(postconf -d -h mail_version 2>/dev/null) on 127.0.0.1:$SMTP_PORT, state in $T"

run_matrix

# Implicit TLS (wrappermode, port 465 style): one HELO only, TLS from the first byte
n=smtps-partner-a; mark
# shellcheck disable=SC2046
SMTP_PORT=$PF_SMTPS_PORT smtp $n --from "$PA" --to "$TO" --tls-on-connect $(cert_chain partner-a)
accepted $n "$TO" pass partner-a accept 'cert=mail\.partner-a\.test;' 'verified=yes'

# Issue 11 items 3 and 4, by hand: swaks cannot declare SMTPUTF8.
# raw_smtp NAME MAIL-ARG RCPT FROM-HEADER: one session; transcript in swaks' notation.
raw_smtp() {
    local name=$1 mail=$2 rcpt=$3 from=$4
    (
        # shellcheck source=tests/e2e/smtp-talk.sh
        . "$E2E_DIR/smtp-talk.sh"
        exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT" || exit 1
        hear && say "EHLO client.e2e.test" && hear || exit 1
        say "MAIL FROM:$mail"; hear
        say "RCPT TO:<$rcpt>"; hear
        if [ "${line:0:1}" = 2 ]; then
            say DATA; hear
            say "From: $from"; say "To: <$rcpt>"; say "Subject: e2e $name"; say ""
            say "body"; say "."; hear
        fi
        say QUIT; hear
    ) >"$OUT/$name.txt" 2>&1
}
end_reply() { sed -n '/^ -> \.$/{n;s/^ <- //p;q}' "$OUT/$1.txt" | tr -d '\r'; }
E2E_DIR=$(dirname "$0")
i=0
for spelling in 'bänk.test SMTPUTF8' 'BÄNK.test SMTPUTF8' 'XN--BNK-QLA.test'; do
    addr=$(printf "${spelling% *}")
    arg="<a@$addr>"; [ "${spelling##* }" = SMTPUTF8 ] && arg="$arg SMTPUTF8"
    i=$((i + 1)); n=idn-spelling-$i; mark
    raw_smtp "$n" "$arg" "$TO" "<a@$addr>"
    refused "$n" "$TO" '^550 5\.7\.1 TLS policy partner-r: '
    logged "$n" "refused rcpt=<$TO> connector=partner-r .*xn--bnk-qla\.test is restricted"
done
n=forged-from; mark
raw_smtp $n "<x@evil.example.org>" "$TO" '"Payments" <pay@partner-r.test>'
is "$(code $n "RCPT TO:<$TO>")" 250 "$n: RCPT accepted (only the header is forged)"
like "$(end_reply $n)" '^550 5\.7\.1 TLS policy partner-r: ' "$n: refused at end of DATA"
is "$(qid $n)" "" "$n: nothing queued"
logged $n "refused rcpt=<$TO> connector=partner-r .*From: header domain partner-r\.test is restricted"
n=honest-from; mark
raw_smtp $n "<$ORD>" "$TO" "Sender <$ORD>"
q=$(qid $n)
ok "$n: queued at end of DATA (queue id ${q:-none})" test -n "$q"
copy_wait "$q" "$TO"
ok "$n: a copy was delivered" has_copy "$q" "$TO"

ok "milter-tlspolicy is still running after the matrix" alive "$E2E_MILTER_PID"

unlike "$(grep -E 'warning: .*milter|fatal|panic' "$PF/log/maillog" 2>/dev/null)" . \
    "postfix logged no milter warning, fatal or panic"

# Fail closed: with the milter gone, milter_default_action=tempfail makes Postfix answer
# 4xx, and nothing is queued.
milter_stop
name="milter-down"
smtp $name --from "$ORD" --to "$TO"
like "$(code $name "MAIL FROM:")$(code $name "RCPT TO:<$TO>")" '^4[0-9][0-9]' \
    "$name: the client is told to try later (4xx)"
is "$(qid $name)" "" "$name: nothing queued"
tap_done
