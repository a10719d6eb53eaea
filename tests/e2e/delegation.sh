#!/usr/bin/env bash
# tests/e2e/delegation.sh -- end-to-end proof of the certificate facts that Postfix gives
# only through policy delegation (milter-tlspolicy -d), and Sendmail through {cert_fp}:
# swaks -> real Postfix 3.x (check_policy_service to the daemon's -d socket) / real
# Sendmail 8.17 (CertFingerprintAlgorithm=sha256) -> milter-tlspolicy.
# Owns: the delegation join on the wire (a self-signed partner certificate in no CAfile is
# presented, not verified, with openssl's SHA-256; untrusted and absent told apart; no -d,
# and -d with nothing sent, each fail closed with their own reason), the policy socket's
# answers to truncated, oversized and garbage requests, and the Sendmail {cert_fp} row.
# Never: touches a system MTA, or runs Sendmail outside its loopback-only namespace.
set -u
. "$(dirname "$0")/lib.sh"

e2e_require_common
command -v postfix >/dev/null || skip_all "postfix not installed (apt-get install postfix)"
e2e_init delegation
e2e_pki

MILTER_DIR=$T/milter
mkdir -p "$MILTER_DIR"
chown postfix:postfix "$MILTER_DIR"
JSON_LOG=$MILTER_DIR/posture.jsonl
POLICY_SOCK=$MILTER_DIR/policy.sock
CONF=$MILTER_DIR/connectors.yaml
cat >"$CONF" <<YAML
version: 1
settings:
  mode: enforce
  trust_store: $P/trust.pem
  header: X-TLS-Policy
  authserv_id: mx.local.test
  log_json: $MILTER_DIR/posture.jsonl
  on_error: tempfail
defaults:
  require: {}
  on_fail: tag
connectors:
  - name: presented
    match: { sender_domains: [presented.test] }
    require: { tls: true, certificate: presented }
    on_fail: reject
  - name: verified
    match: { sender_domains: [verified.test] }
    require: { tls: true, certificate: verified }
    on_fail: reject
YAML
chmod 644 "$CONF"

# Pins (require.certificate_fingerprints / public_key_fingerprints, from the pins work):
# the partner's self-signed certificate, a renewal with the same key and a rekeyed one
# with the same name. The rows run when the loader knows the keys; they skip with
# "pins not merged" only when it rejects them as unknown.
SS=partner-c-selfsigned
PINS=$T/pins
mkdir -p "$PINS"
SS_SUBJ="/C=FR/O=Partner C SA/CN=selfsigned.partner-c.test"
openssl req -x509 -new -key "$P/$SS.key" -subj "$SS_SUBJ" -days 900 -set_serial 4242 \
    -out "$PINS/renewed.crt" 2>"$PINS/openssl.log" &&
    cp "$P/$SS.key" "$PINS/renewed.key" &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PINS/rekeyed.key" -subj "$SS_SUBJ" \
        -days 825 -out "$PINS/rekeyed.crt" 2>>"$PINS/openssl.log" ||
    { diag_file "$PINS/openssl.log"; bail_out "cannot make the renewed and rekeyed certificates"; }
chmod -R a+rX "$PINS"
cert_sha() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }
spki_sha() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1; }
CONF_PINS=$MILTER_DIR/connectors-pins.yaml
{ cat "$CONF"; cat <<YAML
  - name: pin-cert
    match: { sender_domains: [pin-cert.test] }
    require: { tls: true, certificate_fingerprints: ["sha256:$(cert_sha "$P/$SS.crt")"] }
    on_fail: reject
  - name: pin-key
    match: { sender_domains: [pin-key.test] }
    require: { tls: true, public_key_fingerprints: ["sha256:$(spki_sha "$P/$SS.crt")"] }
    on_fail: reject
YAML
} >"$CONF_PINS"
chmod 644 "$CONF_PINS"
PINS_OK=0
pins_why=$("$MILTER_BIN" -n -c "$CONF_PINS" 2>&1)
if [ $? = 0 ]; then
    PINS_OK=1
    CONF=$CONF_PINS
elif ! grep -q 'fingerprints' <<<"$pins_why"; then
    bail_out "the pin connectors fail to load for another reason: $pins_why"
fi

TO=rcpt@example.test
# openssl's SHA-256 of the DER certificate, as the milter normalises it
ss_sha256=$(openssl x509 -in "$P/$SS.crt" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' |
            tr 'A-F' 'a-f')

# rcpt_line NAME: the daemon's -v line for the session's recipient
rcpt_line() { log_since_mark | grep -E "rcpt=<$TO> connector=.* cert_presented=" | tail -1; }

start_postfix() {   # DIR RESTRICTIONS
    SMTP_PORT=$(free_port) || bail_out "no free port"
    pf_start "$1" "$SMTP_PORT" "$MILTER_SOCK" "smtpd_recipient_restrictions = $2" \
        "smtpd_tls_fingerprint_digest = sha256" ||
        bail_out "private Postfix did not start"
}

# ----------------------------------------------------------------- A: Postfix with -d
MILTER_ARGS=(-v -d "unix:$POLICY_SOCK")
milter_start "$CONF" || bail_out "milter-tlspolicy -d did not start"
ok "the -d socket exists and belongs to the daemon's user (-u postfix)" \
    test -S "$POLICY_SOCK" -a "$(stat -c %U "$POLICY_SOCK")" = postfix
PF=$T/pf-a
start_postfix "$PF" "check_policy_service unix:$POLICY_SOCK, permit_mynetworks, reject"
diag "postfix $(postconf -d -h mail_version 2>/dev/null) with check_policy_service unix:$POLICY_SOCK"

n=a-selfsigned-presented; mark
smtp $n --from a@presented.test --to "$TO" --tls $(cert_leaf $SS)
is "$(code $n "RCPT TO:")" 250 "$n: certificate: presented passes for a self-signed certificate in no CAfile"
like "$(rcpt_line)" "cert_presented=yes cert_sha256=$ss_sha256\$" \
    "$n: the milter saw it presented, with openssl's SHA-256 ($ss_sha256)"
wait_json 1
is "$(json_get verified)" no "$n: and not verified (JSON log)"

n=a-selfsigned-verified; mark
smtp $n --from a@verified.test --to "$TO" --tls $(cert_leaf $SS)
is "$(code $n "RCPT TO:")" 550 "$n: certificate: verified refuses it"
like "$(reply $n "RCPT TO:")" "client certificate did not verify" "$n: the reason says it did not verify"

n=a-nocert-verified; mark
smtp $n --from a@verified.test --to "$TO" --tls
is "$(code $n "RCPT TO:")" 550 "$n: TLS without a certificate is refused"
like "$(reply $n "RCPT TO:")" "no client certificate" "$n: untrusted and absent are told apart: 'no client certificate'"
like "$(rcpt_line)" "cert_presented=no cert_sha256=-\$" "$n: the milter saw no certificate (not unknown)"

n=a-nocert-presented; mark
smtp $n --from a@presented.test --to "$TO" --tls
is "$(code $n "RCPT TO:")" 550 "$n: certificate: presented refuses TLS without a certificate"

n=a-partner-a-verified; mark
smtp $n --from a@verified.test --to "$TO" --tls $(cert_chain partner-a)
is "$(code $n "RCPT TO:")" 250 "$n: a verified partner passes certificate: verified"
pa_sha256=$(openssl x509 -in "$P/partner-a.crt" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
like "$(rcpt_line)" "cert_sha256=$pa_sha256\$" "$n: its SHA-256 is openssl's too"

n=a-two-rcpts; mark
smtp $n --from a@presented.test --to "$TO,second@example.test" --tls $(cert_leaf $SS)
is "$(code $n "RCPT TO:<second@example.test>")" 250 "$n: the second recipient of the message passes too"

n_pf_rcpts=8
if [ "$PINS_OK" = 1 ]; then
    n=a-pin-selfsigned; mark
    smtp $n --from a@pin-cert.test --to "$TO" --tls $(cert_leaf $SS)
    is "$(code $n "RCPT TO:")" 250 "$n: a pinned self-signed partner certificate passes (Postfix, -d)"
    n=a-pin-rekeyed-cert; mark
    smtp $n --from a@pin-cert.test --to "$TO" --tls --tls-cert "$PINS/rekeyed.crt" --tls-key "$PINS/rekeyed.key"
    is "$(code $n "RCPT TO:")" 550 "$n: the same name with another key fails the certificate pin"
    n=a-pin-rekeyed-key; mark
    smtp $n --from a@pin-key.test --to "$TO" --tls --tls-cert "$PINS/rekeyed.crt" --tls-key "$PINS/rekeyed.key"
    is "$(code $n "RCPT TO:")" 550 "$n: the same name with another key fails the public-key pin"
    n=a-pin-renewed-key; mark
    smtp $n --from a@pin-key.test --to "$TO" --tls --tls-cert "$PINS/renewed.crt" --tls-key "$PINS/renewed.key"
    is "$(code $n "RCPT TO:")" 250 "$n: a renewed certificate with the same key passes the public-key pin"
    n=a-pin-renewed-cert; mark
    smtp $n --from a@pin-cert.test --to "$TO" --tls --tls-cert "$PINS/renewed.crt" --tls-key "$PINS/renewed.key"
    is "$(code $n "RCPT TO:")" 550 "$n: and fails the certificate pin"
    n_pf_rcpts=$((n_pf_rcpts + 5))
else
    for r in "a pinned self-signed partner certificate passes" \
             "the same name with another key fails the certificate pin" \
             "the same name with another key fails the public-key pin" \
             "a renewed certificate with the same key passes the public-key pin" \
             "a renewed certificate with the same key fails the certificate pin"; do
        skip "$r" "pins not merged (the loader rejects certificate_fingerprints)"
    done
fi

# Bad input straight on the policy socket: each is logged with what was expected and
# its connection closed; a request without a milter session is answered and kept apart.
policy_send() {   # NAME: writes stdin to the socket, prints what came back (at most 5 s)
    perl -MIO::Socket::UNIX -e '
        my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect: $!";
        local $/; my $in = <STDIN>; print $s $in; shutdown($s, 1);
        $SIG{ALRM} = sub { exit 0 }; alarm 5; while (my $l = <$s>) { print $l }' "$POLICY_SOCK"
}
mark
printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=127.0.0.1\nclient_port=1\nserver_address=127.0.0.1\nserver_port=%s\nsender=x@y.test\nrecipient=%s\nccert_fingerprint=AA:BB\n\n' \
    "$SMTP_PORT" "$TO" | policy_send >"$OUT/p-orphan.txt"
is "$(cat "$OUT/p-orphan.txt")" "action=DUNNO" "policy request with no milter session: answered DUNNO, stored for nobody"
printf 'hello world\n\n' | policy_send >"$OUT/p-garbage.txt"
is "$(cat "$OUT/p-garbage.txt")" "" "garbage request: no answer, connection closed"
wait_for 3 log_has 'policy delegation: connection [0-9]+: malformed request: line 1, column 6: expected name=value'
ok "garbage request: logged with line, column and what was expected" \
    log_has 'malformed request: line 1, column 6: expected name=value'
printf 'request=smtpd_access_policy\nclient_addr' | policy_send >"$OUT/p-trunc.txt"
wait_for 3 log_has 'truncated request'
ok "truncated request: logged" log_has 'truncated request: the peer closed after [0-9]+ bytes, expected the empty line'
head -c 20000 /dev/zero | tr '\0' a | policy_send >"$OUT/p-big.txt"
wait_for 3 log_has 'oversized request'
ok "oversized request: logged" log_has 'oversized request: more than 16384 bytes without the empty line'
printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=127.0.0.1\nclient_port=99999\nserver_address=127.0.0.1\nserver_port=25\n\n' |
    policy_send >"$OUT/p-badport.txt"
wait_for 3 log_has 'request without its connection'
ok "request with a bad client_port: logged" log_has 'request without its connection: client_port: expected a port number'
ok "the daemon survives the bad requests" alive "$E2E_MILTER_PID"
n=a-after-bad; mark
smtp $n --from a@presented.test --to "$TO" --tls $(cert_leaf $SS)
is "$(code $n "RCPT TO:")" 250 "$n: delegation still works after them"

pf_stop "$PF"
milter_stop
stats=$(grep 'policy delegation: .* request(s) stored' "$MILTER_LOG" | tail -1)
diag "$stats"
# every recipient Postfix asked about, + 1 orphan request; every Postfix one was taken
like "$stats" " $((n_pf_rcpts + 1)) request\(s\) stored, $n_pf_rcpts taken by a milter RCPT, 0 RCPT\(s\) found none" \
    "every Postfix request was joined to its milter RCPT; the orphan was not"

# ----------------------------------------------------------------- B: Postfix without -d
MILTER_ARGS=(-v)
milter_start "$CONF" || bail_out "milter-tlspolicy did not start"
PF=$T/pf-b
start_postfix "$PF" "permit_mynetworks, reject"
n=b-selfsigned-presented; mark
smtp $n --from a@presented.test --to "$TO" --tls $(cert_leaf $SS)
is "$(code $n "RCPT TO:")" 550 "$n: without -d a self-signed certificate cannot pass certificate: presented"
like "$(reply $n "RCPT TO:")" "enable policy delegation \(-d\)" "$n: the reason says how to get the fact"
like "$(rcpt_line)" "cert_presented=unknown" "$n: the certificate is unknown, not absent"
pf_stop "$PF"
milter_stop

# ----------------------------------------------------------------- C: -d, but permit first
MILTER_ARGS=(-v -d "unix:$POLICY_SOCK")
milter_start "$CONF" || bail_out "milter-tlspolicy -d did not start"
PF=$T/pf-c
start_postfix "$PF" "permit_mynetworks, check_policy_service unix:$POLICY_SOCK, reject"
n=c-permit-first; mark
smtp $n --from a@presented.test --to "$TO" --tls $(cert_leaf $SS)
is "$(code $n "RCPT TO:")" 550 "$n: delegation configured but skipped: fail closed"
like "$(reply $n "RCPT TO:")" "policy delegation sent nothing for this connection" \
    "$n: the reason says delegation sent nothing and where check_policy_service goes"
pf_stop "$PF"
milter_stop

# ----------------------------------------------------------------- D: Sendmail {cert_fp}
SM=$T/sm
if ! sm_fetch "$SM" >"$T/sm-fetch.why"; then
    skip "sendmail {cert_fp} rows" "Sendmail rig unavailable: $(cat "$T/sm-fetch.why")"
else
    MILTER_ARGS=(-v)
    milter_start "$CONF" || bail_out "milter-tlspolicy did not start"
    SMTP_PORT=$(free_port) || bail_out "no free port"
    SM_MC_EXTRA="define(\`confCERT_FINGERPRINT_ALGORITHM', \`sha256')dnl"
    sm_start "$SM" "$SMTP_PORT" "$MILTER_SOCK" || bail_out "private Sendmail did not start"
    SMTP_WRAP=(nsenter --net="/proc/$SM_PID/ns/net")
    like "$(grep '^O CertFingerprintAlgorithm' "$SM/sendmail.cf")" '=sha256' \
        "sendmail.cf: O CertFingerprintAlgorithm=sha256 from the .mc line"
    n=d-sm-selfsigned; mark
    smtp $n --from a@presented.test --to "$TO" --tls $(cert_leaf $SS)
    is "$(code $n "RCPT TO:")" 250 "$n: Sendmail: the self-signed certificate is presented"
    like "$(rcpt_line)" "cert_presented=yes cert_sha256=$ss_sha256\$" \
        "$n: Sendmail's {cert_fp} is openssl's SHA-256"
    n=d-sm-nocert; mark
    smtp $n --from a@presented.test --to "$TO" --tls
    is "$(code $n "RCPT TO:")" 550 "$n: Sendmail without a certificate: refused"
    like "$(rcpt_line)" "cert_presented=no cert_sha256=-\$" "$n: no certificate, no fingerprint"
    # The pins through Sendmail: {cert_fp} is the certificate's SHA-256 (Sendmail has
    # no public-key fingerprint, so a key pin must say so rather than pass or guess).
    if [ "$PINS_OK" = 1 ]; then
        n=d-sm-pin-selfsigned; mark
        smtp $n --from a@pin-cert.test --to "$TO" --tls $(cert_leaf $SS)
        is "$(code $n "RCPT TO:")" 250 "$n: a pinned self-signed certificate in no CAcert passes (Sendmail)"
        n=d-sm-pin-rekeyed; mark
        smtp $n --from a@pin-cert.test --to "$TO" --tls --tls-cert "$PINS/rekeyed.crt" --tls-key "$PINS/rekeyed.key"
        is "$(code $n "RCPT TO:")" 550 "$n: the same name with another key fails the certificate pin (Sendmail)"
        n=d-sm-pin-renewed; mark
        smtp $n --from a@pin-cert.test --to "$TO" --tls --tls-cert "$PINS/renewed.crt" --tls-key "$PINS/renewed.key"
        is "$(code $n "RCPT TO:")" 550 "$n: a renewed certificate fails the certificate pin (Sendmail)"
        n=d-sm-pin-key; mark
        smtp $n --from a@pin-key.test --to "$TO" --tls --tls-cert "$PINS/renewed.crt" --tls-key "$PINS/renewed.key"
        is "$(code $n "RCPT TO:")" 550 "$n: a public-key pin cannot be answered by Sendmail: refused"
        like "$(reply $n "RCPT TO:")" "public.key|key fingerprint" "$n: and the reason says the key fingerprint is missing"
    else
        for r in "sendmail: pinned self-signed passes" "sendmail: rekeyed fails" \
                 "sendmail: renewed fails the certificate pin" "sendmail: key pin refused" \
                 "sendmail: key pin reason"; do
            skip "$r" "pins not merged (the loader rejects certificate_fingerprints)"
        done
    fi
    SMTP_WRAP=()
fi

unlike "$(cat "$T"/pf-*/log/maillog 2>/dev/null | grep -E 'warning: .*(milter|policy)|fatal|panic')" . \
    "postfix logged no milter or policy warning, fatal or panic"
tap_done
