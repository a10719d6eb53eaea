#!/usr/bin/env bash
# tests/e2e/outbound.sh -- end-to-end proof of "tlspolicy export postfix": a private sending
# Postfix 3.x runs with the exported smtp_tls_policy_maps, tafile= roots and transport_maps
# (built with postmap) and delivers to receivers on loopback, one per case (outbound-rx.py:
# real STARTTLS with certificates from the test PKI). The outcome is read from the sender's
# log and from what each receiver wrote.
# Owns: the outbound cases (compliant, no STARTTLS, wrong name, other root, TLS 1.2 cap,
# no connector, monitor). Never: touches /etc/postfix or a system Postfix, listens beyond
# 127.0.0.1, or waits without a bound; everything lives in one mktemp -d, stopped at exit.
set -u
. "$(dirname "$0")/lib.sh"

e2e_require_common
command -v postfix >/dev/null || skip_all "postfix not installed (apt-get install postfix)"
command -v postmap >/dev/null || skip_all "postmap not installed"
command -v python3 >/dev/null || skip_all "python3 not installed"
TLSPOLICY=${TLSPOLICY_TOOL:-$top_builddir/tools/tlspolicy}
[ -x "$TLSPOLICY" ] || skip_all "tlspolicy not built ($TLSPOLICY)"
e2e_init outbound
e2e_pki

# ------------------------------------------------------------------ receivers
RX=$T/rx
mkdir -p "$RX"
declare -A PORT
used=" "
for c in good plain wrongname otherroot tls12 open monitor; do
    for _ in 1 2 3 4 5; do
        p=$(free_port) || bail_out "no free port"
        case $used in *" $p "*) continue ;; esac
        break
    done
    PORT[$c]=$p
    used="$used$p "
done
python3 "$E2E_HERE/outbound-rx.py" --dir "$RX" --lifetime 300 \
    --listen "good:${PORT[good]}:starttls:$P/server.chain.pem:$P/server.key" \
    --listen "plain:${PORT[plain]}:plain" \
    --listen "wrongname:${PORT[wrongname]}:starttls:$P/partner-a.chain.pem:$P/partner-a.key" \
    --listen "otherroot:${PORT[otherroot]}:starttls:$P/partner-b.chain.pem:$P/partner-b.key" \
    --listen "tls12:${PORT[tls12]}:starttls:$P/server.chain.pem:$P/server.key:max12" \
    --listen "open:${PORT[open]}:starttls:$P/server.chain.pem:$P/server.key" \
    --listen "monitor:${PORT[monitor]}:starttls:$P/partner-b.chain.pem:$P/partner-b.key" \
    >"$T/rx.log" 2>&1 &
RX_PID=$!
E2E_BG_PIDS+=("$RX_PID")
for c in "${!PORT[@]}"; do
    wait_for 10 listening "${PORT[$c]}" || { diag_file "$T/rx.log"; bail_out "receiver $c is not listening"; }
done

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
    smart_hosts: "[127.0.0.1]:${PORT[good]}"
    require: { min_version: TLSv1.3, certificate: verified,
               certificate_names: [mx.local.test], root_issuers: [Test Root CA R1] }
  - name: plain
    recipient_domains: [plain.test]
    smart_hosts: "[127.0.0.1]:${PORT[plain]}"
    require: { tls: true }
  - name: wrongname
    recipient_domains: [wrongname.test]
    smart_hosts: "[127.0.0.1]:${PORT[wrongname]}"
    require: { certificate: verified, certificate_names: [mx.local.test],
               root_issuers: [Test Root CA R1] }
  - name: otherroot
    recipient_domains: [otherroot.test]
    smart_hosts: "[127.0.0.1]:${PORT[otherroot]}"
    require: { certificate: verified, certificate_names: [mail.partner-b.test],
               root_issuers: [Test Root CA R1] }
  - name: tls12
    recipient_domains: [tls12.test]
    smart_hosts: "[127.0.0.1]:${PORT[tls12]}"
    require: { min_version: TLSv1.3 }
  - name: monitor
    mode: monitor
    recipient_domains: [monitor.test]
    smart_hosts: "[127.0.0.1]:${PORT[monitor]}"
    require: { certificate: verified, certificate_names: [mx.local.test],
               root_issuers: [Test Root CA R1] }
EOF
"$TLSPOLICY" export postfix -c "$T/connectors.yaml" --dir "$EXP" >"$T/maincf.txt" 2>"$T/export.err"
is "$?" 0 "export postfix succeeds"
diag_file "$T/export.err"
like "$(head -1 "$EXP/tls_policy")" "^# .*sha256 $(sha256sum "$T/connectors.yaml" | cut -c1-64)" \
    "the policy table names its source file and its SHA-256"
cp -R "$EXP" "$T/export.1"
"$TLSPOLICY" export postfix -c "$T/connectors.yaml" --dir "$EXP" >/dev/null 2>&1
ok "a second export is byte-identical" diff -r "$EXP" "$T/export.1"
like "$(cat "$EXP/tls_policy")" "\[127\.0\.0\.1\]:${PORT[good]}	secure match=mx\.local\.test protocols=>=TLSv1\.3 tafile=$EXP/tafile-good\.pem" \
    "the compliant partner's policy is keyed by its next hop"
ok "the tafile holds Test Root CA R1" grep -q "cn=Test Root CA R1" "$EXP/tafile-good.pem"

# ------------------------------------------------------------------ the sending Postfix
S=$T/sender
mkdir -p "$S/etc" "$S/spool" "$S/data" "$S/log"
chown postfix:postfix "$S/data" "$S/log"
chmod -R a+rX "$EXP"
cat >"$S/etc/main.cf" <<EOF
# sending instance of the milter-tlspolicy outbound test
compatibility_level = 3.6
queue_directory = $S/spool
data_directory = $S/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = tlspolicy-outbound
maillog_file = $S/log/maillog
maillog_file_prefixes = $S/log
myhostname = sender.local.test
mydomain = local.test
myorigin = local.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
local_recipient_maps =
default_transport = smtp
relay_transport = smtp
bounce_queue_lifetime = 0
maximal_queue_lifetime = 1h
delay_warning_time = 0
smtp_connect_timeout = 5s
smtp_tls_security_level = may
# Every root of the test PKI is trusted globally: only tafile= can make the
# other-root case fail, which is what it must prove.
smtp_tls_CAfile = $P/trust.pem
smtp_tls_loglevel = 1
smtp_tls_session_cache_database =
EOF
# The main.cf lines as the exporter printed them (its smtp_tls_loglevel is set above).
grep -E '^(smtp_tls_policy_maps|transport_maps) = ' "$T/maincf.txt" >>"$S/etc/main.cf"
# The domain without an outbound connector goes to its receiver by a transport entry of
# the test's own; no policy names that next hop, so the global level (may) applies.
printf 'open.test\tsmtp:[127.0.0.1]:%s\n' "${PORT[open]}" >"$T/transport.test"
sed -i "s|^transport_maps = .*|&, hash:$T/transport.test|" "$S/etc/main.cf"
ok "the printed main.cf lines name both maps" \
    grep -q "^transport_maps = hash:$EXP/transport, hash:$T/transport.test\$" "$S/etc/main.cf"
cat >"$S/etc/master.cf" <<'EOF'
pickup     unix  n - n 60    1 pickup
cleanup    unix  n - n -     0 cleanup
qmgr       unix  n - n 300   1 qmgr
tlsmgr     unix  - - n 1000? 1 tlsmgr
rewrite    unix  - - n -     - trivial-rewrite
bounce     unix  - - n -     0 bounce
defer      unix  - - n -     0 bounce
trace      unix  - - n -     0 bounce
verify     unix  - - n -     1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -     - proxymap
smtp       unix  - - n -     - smtp
showq      unix  n - n -     - showq
error      unix  - - n -     - error
retry      unix  - - n -     - error
discard    unix  - - n -     - discard
anvil      unix  - - n -     1 anvil
scache     unix  - - n -     1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF
# Postfix programs sleep when main.cf changed in the last seconds: backdate it.
touch -d '-10 seconds' "$S/etc/main.cf" "$S/etc/master.cf"
{ postmap -c "$S/etc" "hash:$EXP/tls_policy" && postmap -c "$S/etc" "hash:$EXP/transport" &&
  postmap -c "$S/etc" "hash:$T/transport.test"; } 2>"$T/postmap.err" ||
    { diag_file "$T/postmap.err"; bail_out "postmap failed"; }
E2E_PF_DIRS+=("$S")
postfix -c "$S/etc" check >"$S/log/check.log" 2>&1 ||
    { diag_file "$S/log/check.log"; bail_out "postfix check failed"; }
touch "$S/spool/quick-start"
postfix -c "$S/etc" start >"$S/log/start.log" 2>&1 ||
    { diag_file "$S/log/start.log"; bail_out "sending Postfix did not start"; }
diag "postfix $(postconf -d -h mail_version 2>/dev/null) sending, state in $T"

# ------------------------------------------------------------------ cases
CASES="good plain wrongname otherroot tls12 open monitor"
send() {   # CASE: one message to user@CASE.test
    printf 'From: sender@local.test\nTo: user@%s.test\nSubject: outbound %s\n\nbody\n' "$1" "$1" |
        sendmail -C "$S/etc" -f sender@local.test "user@$1.test"
}
# The last status line of user@CASE.test in the sender's log, once written.
status_of() { grep -E "to=<user@$1\.test>.*status=(sent|deferred|bounced)" "$S/log/maillog" | tail -1; }
has_status() { [ -n "$(status_of "$1")" ]; }
rx_copy() { find "$RX" -name "$1.*.eml" | head -1; }
for c in $CASES; do send "$c"; done
for c in $CASES; do
    wait_for 30 has_status "$c" || diag "no delivery status for $c within 30 s"
done

like "$(status_of good)" "status=sent" "compliant: delivered"
like "$(head -1 "$(rx_copy good)" 2>/dev/null)" "^X-Rx-TLS: TLSv1\.3 " "compliant: over TLS 1.3"
like "$(grep -F "127.0.0.1[127.0.0.1]:${PORT[good]}" "$S/log/maillog")" \
    "Verified TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:${PORT[good]}: TLSv1\.3" \
    "compliant: the certificate was verified"

like "$(status_of plain)" "status=deferred .*TLS is required, but was not offered" \
    "no STARTTLS: deferred, TLS is required but was not offered"
is "$(rx_copy plain)" "" "no STARTTLS: nothing reached the receiver"

like "$(status_of wrongname)" "status=deferred .*Server certificate not verified" \
    "wrong certificate name: deferred"
like "$(grep -F "127.0.0.1[127.0.0.1]:${PORT[wrongname]}" "$S/log/maillog")" "num=62:hostname mismatch" \
    "wrong certificate name: the name check (match=) refused it"
is "$(rx_copy wrongname)" "" "wrong certificate name: nothing reached the receiver"

like "$(status_of otherroot)" "status=deferred .*Server certificate not verified" \
    "certificate under another root (trusted by smtp_tls_CAfile): deferred by the tafile"
like "$(grep -F "127.0.0.1[127.0.0.1]:${PORT[otherroot]}" "$S/log/maillog")" "num=65:no matching DANE TLSA records" \
    "another root: the tafile (Postfix's DANE code) refused it"
is "$(rx_copy otherroot)" "" "another root: nothing reached the receiver"

like "$(status_of tls12)" "status=deferred .*Cannot start TLS: handshake failure" \
    "TLS 1.2 at most, min_version TLSv1.3: deferred"
is "$(rx_copy tls12)" "" "TLS 1.2 cap: nothing reached the receiver"

like "$(status_of open)" "status=sent" "no outbound connector: delivered"
like "$(head -1 "$(rx_copy open)" 2>/dev/null)" "^X-Rx-TLS: TLSv1\.[23] " \
    "no outbound connector: opportunistic TLS was used"

like "$(status_of monitor)" "status=sent" \
    "monitor mode: delivered although the certificate fails the contract"
like "$(grep -F "127.0.0.1[127.0.0.1]:${PORT[monitor]}" "$S/log/maillog")" \
    "TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:${PORT[monitor]}" \
    "monitor mode: the session's TLS is logged"

unlike "$(grep -E 'client TLS configuration problem|warning: .*(policy|tafile)|fatal|panic' "$S/log/maillog")" . \
    "the sender logged no TLS configuration problem, fatal or panic"
[ "$TAP_FAILED" -eq 0 ] || diag_file "$S/log/maillog" 80
stop_pid "$RX_PID"
tap_done
