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
