#!/usr/bin/env bash
# tests/faults/hostile-input.sh -- hostile macro values and recipient counts against the
# daemon: macros missing, empty, 64 KiB long (and beyond libmilter's packet limit),
# CR/LF/NUL-free garbage, UTF-8, invalid xtext, certificate names that try to inject a
# header line or a log line, and 5,000 recipients in one transaction. Every command must
# be answered, every decision must be the one the policy gives, the posture header and
# the log lines must carry no raw CR/LF (only the header's own "\n\t" folds) and the
# daemon must keep running. Sessions are played by miltershot (exact macro values) and
# milterload (--macro-size). TAP on stdout; everything in one mktemp -d, stopped at exit.
set -u
. "$(dirname "$0")/common.sh"

faults_require "$LOAD_BIN" "$SHOT_BIN"
e2e_init hostile
faults_pki

JSON_LOG=$T/posture.jsonl
cat >"$T/policy.yaml" <<EOF
version: 1
settings:
  trust_store: $TRUST
  log_json: $JSON_LOG
  authserv_id: mx.local.test
defaults:
  on_fail: tag
connectors:
  - name: need-tls12
    match:
      recipient_domains: [reject.test]
    require:
      min_version: TLSv1.2
    on_fail: reject
  - name: need-tls-soft
    match:
      recipient_domains: [tempfail.test]
    require:
      tls: true
    on_fail: tempfail
  - name: need-cert
    match:
      recipient_domains: [certs.test]
    require:
      certificate: verified
      certificate_names: [mail.partner-a.test]
    on_fail: reject
EOF
daemon_start "$T/policy.yaml" || bail_out "milter-tlspolicy did not start"

# esc VALUE: a script token (see miltershot's usage): printable ASCII stays, the rest
# (space, backslash, control bytes, bytes above 0x7e) becomes \xHH
esc() {
    LC_ALL=C perl -e 'print join "", map { my $o = ord; ($o > 0x20 && $o < 0x7f && $_ ne "\\") ? $_ : sprintf("\\x%02x", $o) } split //, $ARGV[0]' -- "$1"
}

# script QID CONNECT HELO MAIL FROM RCPT...: one Postfix-like session (two HELOs around
# STARTTLS); a macro argument "-" sends no macro packet at all for that stage.
script() {
    local qid=$1 cm=$2 hm=$3 mm=$4 from=$5 r; shift 5
    [ "$cm" = - ] || echo "macro C $cm"
    echo "connect localhost 127.0.0.1"
    echo "helo client.faults.test"
    [ "$hm" = - ] || echo "macro H $hm"
    echo "helo client.faults.test"
    [ "$mm" = - ] || echo "macro M $mm"
    echo "mail <$from>"
    for r in "$@"; do
        [ "$qid" = - ] || echo "macro R {rcpt_addr}=$r"
        echo "rcpt <$r>"
    done
    [ "$qid" = - ] || echo "macro T i=$qid"
    echo "data"
    echo "header Subject hostile\\sinput"
    echo "header X-TLS-Policy pass\\s(forged)"
    echo "eoh"
    printf '%s\n' 'body hello\r\n'
    [ "$qid" = - ] || echo "macro E i=$qid"
    echo "eom"
    echo "quit"
}
# shot NAME: play $T/NAME.script; replies in $T/NAME.out
shot() { "$SHOT_BIN" "unix:$MILTER_SOCK" <"$T/$1.script" >"$T/$1.out" 2>&1; }
# verdicts NAME: the rcpt replies, one word each ("continue", "reject", ... or the code)
verdicts() {
    awk '$1 == "rcpt" { v = $2; if (v == "reply") v = substr($3, 1, 1) == "5" ? "reject" : "tempfail"
                        printf "%s%s", sep, v; sep = " " }
         END { print "" }' "$T/$1.out"
}
# clean_hdr NAME: every header the daemon added or changed is one logical line: no CR,
# no LF except in a fold (LF then a tab or space), nothing else outside printable ASCII
clean_hdr() {
    local h
    h=$(grep '^mod [hmi] ' "$T/$1.out")
    [ -n "$h" ] || return 1
    ! printf '%s\n' "$h" | sed -e 's/\\x0a\\x09//g' -e 's/\\x0a //g' -e 's/\\x5c//g' | grep -q '\\x'
}
posture_hdr() { sed -n 's/^mod [hi] [0-9 ]*X-TLS-Policy  *//p' "$T/$1.out" | head -n 1; }

# case NAME WANT-VERDICTS: answered in full, the wanted rcpt decisions, a clean header,
# one valid JSON line, the daemon still running
check_case() {
    local n=$1 want=$2
    is "$(verdicts "$n")" "$want" "$n: every recipient answered as the policy says" ||
        diag_file "$T/$n.out" 30
    ok "$n: end of message answered (no close, no protocol error)" \
        grep -qx 'eom continue' "$T/$n.out" || diag_file "$T/$n.out" 30
    ok "$n: added headers are single logical lines of printable ASCII" clean_hdr "$n" ||
        grep '^mod' "$T/$n.out" | diag_file /dev/stdin 5
    ok "$n: the daemon is still running" alive "$E2E_MILTER_PID"
}

PF_CONNECT='j=mx.local.test {daemon_name}=mx.local.test v=Postfix\s3.7.11 _=localhost\s[127.0.0.1]'
TLS13='{tls_version}=TLSv1.3 {cipher}=TLS_AES_256_GCM_SHA384 {cipher_bits}=256'
RCPTS=(a@reject.test b@tempfail.test c@certs.test d@ok.test)

# 1. no macro packet at all: no TLS facts, no queue id, no sender macro
n=missing
script - - - - x@sender.test "${RCPTS[@]}" >"$T/$n.script"; shot $n
check_case $n "reject tempfail reject continue"

# 2. every macro present and empty: empty is unknown, and unknown is never a pass
n=empty
E='{tls_version}= {cipher}= {cipher_bits}= {cert_subject}= {cert_issuer}= {verify}='
script H2 'j= {daemon_name}= v= _= {client_addr}= {client_name}=' "$E" '{mail_addr}= i=' \
    x@sender.test "${RCPTS[@]}" >"$T/$n.script"; shot $n
check_case $n "reject tempfail reject continue"

# 3. 64 KiB values in one packet (libmilter's limit is 65535 bytes per packet)
n=long
big=$(head -c 65000 /dev/zero | tr '\0' 'a')
script H3 "$PF_CONNECT" "$TLS13 {cert_subject}=mail.partner-a.test$big {cert_issuer}=Test\\sIssuing\\sCA\\s1" \
    "{mail_addr}=x@sender.test" x@sender.test "${RCPTS[@]}" >"$T/$n.script"; shot $n
check_case $n "continue continue reject continue"
hl=$(posture_hdr $n | wc -c)
ok "$n: the 65,000-byte certificate name is capped in the header ($hl bytes)" test "$hl" -lt 1200
like "$(posture_hdr $n)" 'cert="?mail\.partner-a\.testaaa[a]*\.\.\.' "$n: the capped value ends in '...'"
mlen=$(grep -E '^milter-tlspolicy\[[0-9]+\]: H3: connector' "$MILTER_LOG" | wc -c)
ok "$n: the log line stays bounded ($mlen bytes)" test "$mlen" -gt 0 -a "$mlen" -lt 4000

# 4. CR/LF/NUL-free garbage in every TLS and client macro (bytes 0x01-0xff without 0x0a, 0x0d)
n=garbage
g() { LC_ALL=C perl -e 'srand($ARGV[0]); my $s = ""; while (length $s < $ARGV[1]) { my $c = 1 + int rand 255; $s .= chr $c unless $c == 10 || $c == 13 } print $s' "$1" "$2"; }
gm="{tls_version}=$(esc "$(g 1 20)") {cipher}=$(esc "$(g 2 60)") {cipher_bits}=$(esc "$(g 3 30)")"
gm="$gm {cert_subject}=$(esc "$(g 4 200)") {cert_issuer}=$(esc "$(g 5 200)") {verify}=$(esc "$(g 6 10)")"
# a {tls_version} that is there says TLS was used (tls: true holds); its unknown value
# fails min_version, and the garbage "verify" is no verification
script H4 "j=mx.local.test {client_name}=$(esc "$(g 7 80)") {client_addr}=$(esc "$(g 8 40)") _=$(esc "$(g 9 50)")" \
    "$gm" "{mail_addr}=$(esc "$(g 10 100)")" x@sender.test "${RCPTS[@]}" >"$T/$n.script"; shot $n
check_case $n "reject continue reject continue"
n=garbage-bits
script H5 "$PF_CONNECT" '{tls_version}=TLSv1.3 {cipher}=TLS_AES_256_GCM_SHA384 {cipher_bits}=99999999999999999999999' \
    "{mail_addr}=x@sender.test" x@sender.test "${RCPTS[@]}" >"$T/$n.script"; shot $n
check_case $n "continue continue reject continue"

# 5. UTF-8 names (Postfix passes raw UTF-8)
n=utf8
script H6 "$PF_CONNECT" "$TLS13 {cert_subject}=$(esc 'mäil.pärtner-a.tëst') {cert_issuer}=$(esc 'Tëst 認証局 1')" \
    "{mail_addr}=$(esc 'jörg@sender.test')" x@sender.test "${RCPTS[@]}" >"$T/$n.script"; shot $n
check_case $n "continue continue reject continue"

# 6. Sendmail xtext: invalid escapes, and an encoded CR LF that must not become a line
SM_CONNECT='j=mx.local.test {daemon_name}=MTA _=localhost\s[127.0.0.1] {if_name}=localhost'
SM_TLS='{tls_version}=TLSv1.2 {cipher}=ECDHE-RSA-AES256-GCM-SHA384 {cipher_bits}=256 {verify}=OK'
for x in 'bad-xtext:/C=GB/O=Partner+2/CN=mail.partner-a.test+G1+' \
         'xtext-crlf:/C=GB/O=Partner+20A/CN=mail.partner-a.test+0D+0AX-Evil:+20yes' \
         'xtext-nul:/C=GB/O=Partner/CN=mail.partner-a.test+00.evil.test'; do
    n=${x%%:*}
    script "H7$n" "$SM_CONNECT" "$SM_TLS {cert_subject}=$(esc "${x#*:}") {cert_issuer}=/C=DE/O=Test+20PKI/CN=Test+20Issuing+20CA+201" \
        "{mail_addr}=x@sender.test i=H7$n" x@sender.test "${RCPTS[@]}" >"$T/$n.script"; shot "$n"
    check_case "$n" "continue continue reject continue"
done

# 7. certificate names that try to inject a header line and a log line (raw CR LF and
#    bare LF, as a milter client can send them even though Postfix would not)
n=inject
script H8 "$PF_CONNECT" "$TLS13 {cert_subject}=mail.partner-a.test\\r\\nX-Injected:\\syes {cert_issuer}=Test\\sIssuing\\sCA\\s1\\nmilter-tlspolicy[1]:\\sH8:\\sconnector=forged\\sverdict=pass" \
    "{mail_addr}=x@sender.test" x@sender.test "${RCPTS[@]}" >"$T/$n.script"; shot $n
check_case $n "continue continue reject continue"
is "$(grep -cE '^(X-Injected|milter-tlspolicy\[1\]:)' "$MILTER_LOG")" 0 \
    "$n: no log line starts with the injected text"
like "$(posture_hdr $n)" 'cert="mail\.partner-a\.test\\x5cx0D\\x5cx0AX-Injected: yes"' \
    "$n: the header shows the CR LF escaped as text"

# 7b. a queue id that tries to inject a log line: it reaches the lines about removed
#     forged headers, which are formatted apart from the per-message line
n=inject-qid
script 'H10\r\nmilter-tlspolicy[1]:\sH10:\sconnector=forged\sverdict=pass' "$PF_CONNECT" \
    "$TLS13" "{mail_addr}=x@sender.test" x@sender.test d@ok.test >"$T/$n.script"; shot $n
check_case $n "continue"
is "$(grep -c '^milter-tlspolicy\[1\]:' "$MILTER_LOG")" 0 \
    "$n: no log line starts with the injected text"
like "$(grep 'removed 1 inbound X-TLS-Policy' "$MILTER_LOG" | grep 'H10')" \
    'H10\\x0D\\x0Amilter-tlspolicy\[1\]: H10: connector=forged' \
    "$n: the queue id's CR LF is escaped in the forged-header line"

# 8. beyond libmilter's 65535-byte packet: libmilter drops that session (counted by
#    milterload as dropped), the daemon keeps serving the next one
"$LOAD_BIN" -s "unix:$MILTER_SOCK" -c 2 -n 2 -m 2 --mix tls=1 --macro-size 65000 -t 30 \
    >"$T/big-ok.out" 2>&1
is "$(rfield messages "$T/big-ok.out")/$(rfield dropped "$T/big-ok.out")/$(rfield errors "$T/big-ok.out")" \
    "8/0/0" "milterload --macro-size 65000: every message decided"
"$LOAD_BIN" -s "unix:$MILTER_SOCK" -c 2 -n 2 -m 2 --mix tls=1 --macro-size 70000 -t 30 \
    >"$T/big-over.out" 2>&1
diag "milterload --macro-size 70000: sessions=$(rfield sessions "$T/big-over.out") messages=$(rfield messages "$T/big-over.out") dropped=$(rfield dropped "$T/big-over.out") (libmilter closes a session whose packet exceeds 65535 bytes)"
ok "a 70,000-byte macro packet does not stop the daemon" alive "$E2E_MILTER_PID"
"$LOAD_BIN" -s "unix:$MILTER_SOCK" -c 1 -n 1 -m 1 --mix tls=1 -t 30 >"$T/after-big.out" 2>&1
is "$(rfield messages "$T/after-big.out")/$(rfield errors "$T/after-big.out")" "1/0" \
    "the next session after the oversized one is served"

# 9. 5,000 recipients in one transaction, in turn at reject.test (550), tempfail.test
#    (451) and ok.test (accepted): every one answered, each as its domain says
n=rcpts5000
NR=5000
doms=(reject.test tempfail.test ok.test)
want=(reject tempfail continue)
rl=()
for ((i = 0; i < NR; i++)); do rl+=("r$i@${doms[i % 3]}"); done
script H9 "$PF_CONNECT" - "{mail_addr}=x@sender.test" x@sender.test "${rl[@]}" >"$T/$n.script"
t0=$(date +%s.%N)
shot $n
t1=$(date +%s.%N)
got=$(awk -v nr=$NR '
    $1 == "rcpt" { i = n++; v = $2; want = (i % 3 == 0) ? "reply" : (i % 3 == 1) ? "reply" : "continue"
                   code = (v == "reply") ? substr($3, 1, 3) : "";
                   w = (i % 3 == 0) ? "550" : (i % 3 == 1) ? "451" : "";
                   if (v != want || code != w) bad++ }
    END { printf "%d/%d", n, bad + 0 }' "$T/$n.out")
is "$got" "$NR/0" "$n: all $NR recipients answered, each with its domain's decision (answered/wrong)"
ok "$n: end of message answered" grep -qx 'eom continue' "$T/$n.out"
jl=$(grep '"queue_id":"H9"' "$JSON_LOG" | perl -MJSON::PP -ne '
    my $o = JSON::PP->new->decode($_); my ($n, $r, $bad) = (0, 0, 0);
    for my $x (@{ $o->{recipients} }) {
        $n++; $r++ if $x->{refused};
        my ($d) = $x->{rcpt} =~ /\@(.*)/;
        my $want = $d eq "ok.test" ? "default" : $d eq "reject.test" ? "need-tls12" : "need-tls-soft";
        $bad++ if $x->{connector} ne $want || ($x->{refused} ? 1 : 0) != ($d ne "ok.test" ? 1 : 0);
    }
    print "$n/$r/$bad/$o->{rcpts}"')
is "$jl" "$NR/$((NR - NR / 3))/0/$((NR / 3))" "$n: the JSON line lists every recipient with its connector and refusal (all/refused/wrong/accepted)"
ok "$n: the daemon is still running" alive "$E2E_MILTER_PID"
secs5000=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')

# Whole-log checks: every line is one of the daemon's, in printable ASCII
is "$(LC_ALL=C grep -cv '^milter-tlspolicy\[[0-9]*\]: ' "$MILTER_LOG")" 0 \
    "every log line is the daemon's own (no injected line)"
is "$(LC_ALL=C grep -c $'[^\x20-\x7e]' "$MILTER_LOG")" 0 \
    "no log line carries a control byte or a byte above 0x7e"
is "$(perl -MJSON::PP -ne '$b++ unless eval { JSON::PP->new->decode($_) }; END { print $b // 0 }' "$JSON_LOG")" 0 \
    "every JSON line is valid JSON"
unlike "$(grep -E 'out of memory|internal error|fatal|panic' "$MILTER_LOG")" . \
    "the daemon logged no internal error"
diag "figures: cases=missing,empty,64KiB,garbage,utf8,xtext(3),inject,70000-byte packet; rcpts_in_one_transaction=$NR answered_in=${secs5000}s; JSON line of that transaction=$(grep '"queue_id":"H9"' "$JSON_LOG" | wc -c) bytes"
tap_done
