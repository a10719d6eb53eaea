#!/usr/bin/env bash
# tests/e2e/outbound-sendmail.sh -- end-to-end proof of "tlspolicy export sendmail": the
# exported access map, built with Sendmail's own makemap, loaded by a private Sendmail
# 8.17 (FEATURE(access_db) + lookupdotdomain, as the export prints) that delivers to
# receivers on loopback (outbound-rx.py: real STARTTLS, test PKI certificates).
# Owns: the Sendmail outbound cases (compliant, through the smart host the exported
# mailertable names: delivered over TLS, verified; no STARTTLS: deferred; a verified
# certificate with another CN: deferred; root_issuers as CI:, met by a certificate the
# root issued itself: delivered, and by a chain through an intermediate: deferred). Never: runs sendmail, makemap or the receivers
# outside Sendmail's loopback-only network namespace (lib.sh sm_start), touches
# /etc/mail, or waits without a bound.
set -u
. "$(dirname "$0")/lib.sh"

e2e_require_common
command -v python3 >/dev/null || skip_all "python3 not installed"
TLSPOLICY=${TLSPOLICY_TOOL:-$top_builddir/tools/tlspolicy}
[ -x "$TLSPOLICY" ] || skip_all "tlspolicy not built ($TLSPOLICY)"
e2e_init outbound-sendmail
SM=$T/sm
sm_fetch "$SM" >"$T/sm-fetch.why" || skip_all "Sendmail rig unavailable: $(cat "$T/sm-fetch.why")"
SM_MAKEMAP=$SM/root/usr/sbin/makemap
[ -x "$SM_MAKEMAP" ] || skip_all "no makemap in the sendmail-bin package"
e2e_pki

# Sendmail's mailertable cannot name a port, so each case gets its own SMTP mailer
# whose connection arguments name the receiver's port: esmtp -> good, smtp8 -> plain,
# relay -> wrongname. The namespace is Sendmail's own: nothing else listens there.
GOOD_PORT=2601
PLAIN_PORT=2602
WRONG_PORT=2603
ROOTED_PORT=2604        # smtp mailer: CI: met, the certificate is issued by the root itself
# viaint.test goes to the good receiver (esmtp, its chain runs through an intermediate)
# under a CI: requirement; dsmtp, the one mailer left, delivers only on demand (F=%).

# ------------------------------------------------------------------ the outbound contract
EXP=$T/export
mkdir -p "$EXP"
cat >"$T/connectors.yaml" <<EOF
version: 1
settings:
  trust_store: $P/trust.pem
outbound:
  - name: good
    recipient_domains: [good.test]
    smart_hosts: "[smarthost.good.test]"
    require: { min_cipher_bits: 128, certificate: verified,
               certificate_names: [mx.local.test] }
  - name: plain
    recipient_domains: [plain.test]
    require: { tls: true }
  - name: wrongname
    recipient_domains: [wrongname.test]
    require: { certificate: verified, certificate_names: [mx.local.test] }
  - name: rooted
    recipient_domains: [rooted.test]
    require: { certificate: verified, certificate_names: [mx.local.test],
               root_issuers: [Test Root CA R1] }
  - name: viaint
    recipient_domains: [viaint.test]
    require: { certificate: verified, certificate_names: [mx.local.test],
               root_issuers: [Test Root CA R1] }
EOF
# A server certificate issued by Test Root CA R1 itself, for the one case in which
# Sendmail's CI: (the immediate issuer) and root_issuers (the root) name the same CA.
openssl req -new -key "$P/server.key" -subj /CN=mx.local.test -out "$T/rooted.csr" 2>"$T/rooted.err" &&
    printf 'subjectAltName=DNS:mx.local.test\n' >"$T/rooted.ext" &&
    openssl x509 -req -in "$T/rooted.csr" -CA "$P/root-r1.crt" -CAkey "$P/root-r1.key" \
        -CAcreateserial -CAserial "$T/rooted.srl" -days 2 -extfile "$T/rooted.ext" \
        -out "$T/rooted.crt" 2>>"$T/rooted.err" ||
    { diag_file "$T/rooted.err"; bail_out "cannot issue the root-issued test certificate"; }
"$TLSPOLICY" export sendmail -c "$T/connectors.yaml" --dir "$EXP" >"$T/mc.txt" 2>"$T/export.err"
is "$?" 0 "export sendmail succeeds"
diag_file "$T/export.err"
like "$(head -1 "$EXP/access")" "^# .*sha256 $(sha256sum "$T/connectors.yaml" | cut -c1-64)" \
    "the access map names its source file and its SHA-256"
like "$(cat "$EXP/access")" "TLS_Rcpt:good\.test	VERIFY:128\+CN:mx\.local\.test" \
    "the compliant partner: VERIFY:128+CN:mx.local.test"
like "$(cat "$EXP/access")" "TLS_Rcpt:plain\.test	ENCR:1" "the plain partner: ENCR:1"
like "$(cat "$EXP/access")" "TLS_Rcpt:rooted\.test	VERIFY\+CN:mx\.local\.test\+\+CI:/C=DE/O=Test\+20PKI/CN=Test\+20Root\+20CA\+20R1" \
    "root_issuers: ++CI: with the root's DN in xtext"
like "$(grep -v '^#' "$EXP/mailertable")" "^good\.test	esmtp:\[smarthost\.good\.test\]$" \
    "the exported mailertable routes the partner to its smart host"
like "$(cat "$EXP/access")" "TLS_Srv:smarthost\.good\.test	VERIFY:128\+CN:mx\.local\.test" \
    "the smart host gets the same requirement under TLS_Srv:"
# good.test leaves through the exported route; the two partners without a smart
# host get a route of the test's own (their MX would be looked up in DNS).
printf '%s\t%s:[127.0.0.1]\n' plain.test smtp8 wrongname.test relay rooted.test smtp \
    viaint.test esmtp >>"$EXP/mailertable"

# The .mc lines as printed (FEATURE(mailertable) among them), less confCACERT:
# sm_start names its own CA file (the same test roots, plus intermediates, as
# sendmail needs them to verify a chain).
# The smart host: sendmail canonicalises a bracketed name (the result ends in a
# dot) and asks for its IPv6 address before its IPv4 one, so each is listed.
export SM_HOSTS_EXTRA=$'127.0.0.1 smarthost.good.test smarthost.good.test.\n::1 smarthost.good.test smarthost.good.test.\n'
SM_MC_EXTRA="$(grep -v -e '^dnl' -e confCACERT "$T/mc.txt")
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $GOOD_PORT')dnl
define(\`SMTP8_MAILER_ARGS', \`TCP \$h $PLAIN_PORT')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $WRONG_PORT')dnl
define(\`SMTP_MAILER_ARGS', \`TCP \$h $ROOTED_PORT')dnl"
export SM_MC_EXTRA
SMTP_PORT=$(free_port) || bail_out "no free port"
# No message goes through SMTP here, so the milter socket is never opened.
sm_start "$SM" "$SMTP_PORT" "$T/no-milter.sock" || bail_out "private Sendmail did not start"
# Entering a mount namespace moves the caller to that namespace's own root: in a
# chroot (the CI's pristine root) that is the host's, where none of these paths are.
# --root and --wd keep Sendmail's root and working directory, wherever it runs.
NS=(nsenter -t "$SM_PID" --net --mount --uts --root --wd)
diag "sendmail $SM_VERSION in its own network namespace, state in $T"
for m in "$EXP/access" "$EXP/mailertable"; do
    "${NS[@]}" "$SM_MAKEMAP" -C "$SM/sendmail.cf" hash "$m" <"$m" 2>"$T/makemap.err" || { diag_file "$T/makemap.err"; bail_out "makemap $m failed"; }
done
ok "makemap built the exported access map" test -s "$EXP/access.db"

# ------------------------------------------------------------------ receivers
RX=$T/rx
mkdir -p "$RX"
"${NS[@]}" python3 "$E2E_HERE/outbound-rx.py" --dir "$RX" --lifetime 120 \
    --listen "good:$GOOD_PORT:starttls:$P/server.chain.pem:$P/server.key" \
    --listen "plain:$PLAIN_PORT:plain" \
    --listen "wrongname:$WRONG_PORT:starttls:$P/partner-a.chain.pem:$P/partner-a.key" \
    --listen "rooted:$ROOTED_PORT:starttls:$T/rooted.crt:$P/server.key" \
    >"$T/rx.log" 2>&1 &
E2E_BG_PIDS+=("$!")
for p in $GOOD_PORT $PLAIN_PORT $WRONG_PORT $ROOTED_PORT; do
    wait_for 10 listening "$p" "$SM_PID" || { diag_file "$T/rx.log"; bail_out "receiver on $p is not listening"; }
done

# ------------------------------------------------------------------ send, then run the queue
for d in good plain wrongname rooted viaint; do
    printf 'From: a@local.test\nTo: u@%s.test\nSubject: outbound %s\n\nbody\n' "$d" "$d" |
        timeout 30 "${NS[@]}" "$SM_BIN" -C "$SM/sendmail.cf" -odq -f a@local.test "u@$d.test" \
        >"$T/submit-$d.txt" 2>&1
    is "$?" 0 "$d: submitted to the queue"
done
timeout 60 "${NS[@]}" "$SM_BIN" -C "$SM/sendmail.cf" -q -v >"$T/queue-run.txt" 2>&1
diag_file "$T/queue-run.txt" 200

good=$(ls "$RX"/good.*.eml 2>/dev/null | head -1)
ok "good: delivered" test -n "$good"
like "$(head -1 "${good:-/dev/null}")" '^X-Rx-TLS: TLSv1\.[23] ' "good: over TLS"
like "$(cat "$T/queue-run.txt")" 'u@good\.test\.\.\. Connecting to smarthost\.good\.test\. port' \
    "good: through its smart host, as the exported mailertable says"
ok "plain: nothing delivered" test -z "$(ls "$RX"/plain.*.eml 2>/dev/null)"
like "$(grep -A25 -i 'u@plain\.test\.\.\. Connecting' "$T/queue-run.txt")" 'encryption too weak 0 less than 1' \
    "plain: deferred, no TLS (ENCR:1: encryption too weak 0 less than 1)"
ok "wrongname: nothing delivered" test -z "$(ls "$RX"/wrongname.*.eml 2>/dev/null)"
like "$(grep -A25 -i 'u@wrongname\.test\.\.\. Connecting' "$T/queue-run.txt")" 'CN .* does not match mx\.local\.test' \
    "wrongname: deferred, the CN does not match (so good's delivery passed the same check)"
rooted=$(ls "$RX"/rooted.*.eml 2>/dev/null | head -1)
ok "rooted: delivered (CI: names the certificate's issuer, the root)" test -n "$rooted"
like "$(head -1 "${rooted:-/dev/null}")" '^X-Rx-TLS: TLSv1\.[23] ' "rooted: over TLS"
ok "viaint: nothing delivered" bash -c "! grep -qs '^To: u@viaint\.test' '$RX'/*.eml"
like "$(grep -A25 -i 'u@viaint\.test\.\.\. Connecting' "$T/queue-run.txt")" 'Cert Issuer [^ ]*Issuing[^ ]* does not match [^ ]*Root\+20CA\+20R1' \
    "viaint: deferred: CI: is the immediate issuer, an intermediate here (the export's warning)"
ok "plain: still in the queue" grep -qls 'u@plain\.test' "$SM"/mqueue/qf*
ok "good: gone from the queue" bash -c "! grep -qls 'u@good\.test' '$SM'/mqueue/qf* 2>/dev/null"
tap_done
