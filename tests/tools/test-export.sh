#!/bin/bash
# test-export.sh -- "tlspolicy export postfix" and "export sendmail" without a mail server: the tables it
# writes for each requirement, the errors for what Postfix cannot express (nothing
# written), the warnings for what it expresses more loosely, the ':' route of a domain
# under another connector's smart-host wildcard, stable bytes, and usage errors. TAP.
# Never: runs Postfix (tests/e2e/outbound.sh does), or depends on message wording beyond
# the substrings below. Sendmail's access map is exercised by tests/e2e only through
# the keys and right-hand sides checked here.
set -u

TLSPOLICY=${TLSPOLICY:-${top_builddir:-.}/tools/tlspolicy}
PKI=${TLSPOLICY_TEST_PKI:-}

if [ -z "$PKI" ] || [ ! -r "$PKI/trust.pem" ]; then
    echo "1..0 # SKIP TLSPOLICY_TEST_PKI is not set or has no trust.pem"
    exit 0
fi
[ -x "$TLSPOLICY" ] || { echo "Bail out! $TLSPOLICY is not built"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/test-export.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
N=0
FAILED=0
ok() {   # DESCRIPTION COMMAND...
    local d=$1; shift
    N=$((N + 1))
    if "$@"; then echo "ok $N - $d"; else echo "not ok $N - $d"; FAILED=1; fi
}
has() { grep -qF -- "$2" "$1"; }
hasnt() { ! grep -qF -- "$2" "$1"; }
# [MTA=sendmail] export_case NAME YAML-BODY: run the export of a file made of the common head and the body
# into $T/NAME/, stdout/stderr/exit status in $T/NAME.{out,err,rc}.
export_case() {
    mkdir -p "$T/$1"
    printf 'version: 1\nsettings: { trust_store: %s/trust.pem }\noutbound:\n%s' "$PKI" "$2" \
        >"$T/$1.yaml"
    "$TLSPOLICY" export "${MTA:-postfix}" -c "$T/$1.yaml" --dir "$T/$1" >"$T/$1.out" 2>"$T/$1.err"
    echo $? >"$T/$1.rc"
}
rc() { cat "$T/$1.rc"; }

# ---- every requirement, and where it goes
export_case full '  - name: a
    recipient_domains: [a.test, .a.test]
    require: { min_version: TLSv1.2, min_cipher_bits: 128, forward_secrecy: true,
               certificate: verified, root_issuers: [Test Root CA R1] }
  - name: b
    recipient_domains: [b.test, .b.test]
    smart_hosts: ["[mx1.b.test]:2525", "[mx2.b.test]"]
    require: { certificate: verified, certificate_names: [mx1.b.test, "*.b.test"] }
  - name: b-eu
    recipient_domains: eu.b.test
    require: { tls: true }
  - name: watch
    mode: monitor
    recipient_domains: c.test
    require: { tls: true }
'
P=$T/full/tls_policy
ok "full: exit 0" [ "$(rc full)" = 0 ]
ok "full: first line names the file and its SHA-256" \
    grep -q "^# .*$T/full.yaml (sha256 $(sha256sum "$T/full.yaml" | cut -c1-64))" "$P"
ok "full: a domain gets secure, protocols, ciphers, exclude and its tafile" \
    has "$P" "a.test	secure protocols=>=TLSv1.2 ciphers=high exclude=kRSA tafile=$T/full/tafile-a.pem"
ok "full: '.a.test' is the wildcard key" has "$P" ".a.test	secure protocols"
ok "full: the tafile holds the root" grep -q "BEGIN CERTIFICATE" "$T/full/tafile-a.pem"
ok "full: smart hosts are the policy keys, with match=" \
    has "$P" "[mx1.b.test]:2525	secure match=mx1.b.test:.b.test"
ok "full: the second smart host too" has "$P" "[mx2.b.test]	secure match="
ok "full: no domain key for a smart-host connector" hasnt "$P" "b.test	secure"
ok "full: the domains go to transport_maps" \
    has "$T/full/transport" "b.test	smtp:[mx1.b.test]:2525, [mx2.b.test]"
ok "full: a domain under the smart-host wildcard keeps its own route" \
    grep -q "^eu\.b\.test	:$" "$T/full/transport"
ok "full: a '*.' name is a warning naming connector and requirement" \
    grep -q "outbound connector 'b': certificate_names: '\*\.b\.test' is written '\.b\.test'" "$T/full.err"
ok "full: monitor exports may, and says what enforce would be" \
    has "$P" "# monitor: enforce would be: encrypt"
ok "full: ... as may" grep -q "^c\.test	may$" "$P"
ok "full: the main.cf lines are printed" has "$T/full.out" "smtp_tls_policy_maps = hash:$P"
ok "full: ... with transport_maps" has "$T/full.out" "transport_maps = hash:$T/full/transport"
sorted=$(grep -v '^#' "$P" | cut -f1)
ok "full: entries are sorted" [ "$sorted" = "$(printf '%s\n' "$sorted" | LC_ALL=C sort)" ]
cp -R "$T/full" "$T/full.1"
"$TLSPOLICY" export postfix -c "$T/full.yaml" --dir "$T/full" >/dev/null 2>&1
ok "full: a second run writes the same bytes" diff -r "$T/full" "$T/full.1"

# ---- what Postfix cannot express: an error, nothing written
export_case bits '  - name: strong
    recipient_domains: s.test
    require: { min_cipher_bits: 256 }
'
ok "min_cipher_bits 256: exit 1" [ "$(rc bits)" = 1 ]
ok "min_cipher_bits 256: the error names connector and requirement" \
    grep -q "error: outbound connector 'strong': min_cipher_bits: 256 bits cannot be asked of Postfix" "$T/bits.err"
ok "min_cipher_bits 256: nothing written" [ -z "$(ls -A "$T/bits")" ]

# ---- export sendmail: the access map's TLS_Rcpt:/TLS_Srv: entries
MTA=sendmail export_case sm '  - name: a
    recipient_domains: a.test
    require: { min_cipher_bits: 128, certificate: verified, root_issuers: [Test Root CA R1] }
  - name: b
    recipient_domains: [b.test, .b.test]
    smart_hosts: ["[mx1.b.test]", "mx2.b.test:25"]
    require: { certificate: verified, certificate_names: [mx1.b.test] }
  - name: b-eu
    recipient_domains: eu.b.test
    require: { tls: true }
  - name: b-lab
    recipient_domains: .lab.b.test
    require: { tls: true }
  - name: watch
    mode: monitor
    recipient_domains: c.test
    require: { tls: true }
'
A=$T/sm/access
M=$T/sm/mailertable
ok "sendmail: exit 0" [ "$(rc sm)" = 0 ]
ok "sendmail: first line names the file and its SHA-256" \
    grep -q "^# .*$T/sm.yaml (sha256 $(sha256sum "$T/sm.yaml" | cut -c1-64))" "$A"
ok "sendmail: verified + bits + root: VERIFY:bits, CN, CI: the root's DN in xtext" \
    grep -qx "TLS_Rcpt:a.test	VERIFY:128+CN++CI:/C=DE/O=Test+20PKI/CN=Test+20Root+20CA+20R1" "$A"
ok "sendmail: an exact domain's subdomains get their own key (no connector: OK)" \
    grep -qx "TLS_Rcpt:.a.test	OK" "$A"
ok "sendmail: a '*.' pattern is the .domain key" grep -qx "TLS_Rcpt:.b.test	VERIFY+CN:mx1.b.test" "$A"
ok "sendmail: the smart host gets TLS_Srv:" grep -qx "TLS_Srv:mx1.b.test	VERIFY+CN:mx1.b.test" "$A"
ok "sendmail: tls alone is ENCR:1" grep -qx "TLS_Rcpt:eu.b.test	ENCR:1" "$A"
ok "sendmail: subdomains of an exact pattern under a wildcard keep the wildcard's" \
    grep -qx "TLS_Rcpt:.eu.b.test	VERIFY+CN:mx1.b.test" "$A"
ok "sendmail: monitor is OK, and says what enforce would be" \
    has "$A" "# monitor: enforce would be: ENCR:1"
ok "sendmail: ... as OK" grep -qx "TLS_Rcpt:c.test	OK" "$A"
ok "sendmail: the second smart host gets TLS_Srv: too" grep -qx "TLS_Srv:mx2.b.test	VERIFY+CN:mx1.b.test" "$A"
ok "sendmail: the CN-only comparison is a warning naming connector and requirement" \
    grep -q "warning: outbound connector 'b': certificate_names: Sendmail 8.17 compares" "$T/sm.err"
ok "sendmail: CI: is a warning about intermediates" \
    grep -q "warning: outbound connector 'a': root_issuers: .*intermediate" "$T/sm.err"
ok "sendmail: the mailertable names its source" \
    grep -q "^# .*$T/sm.yaml (sha256 $(sha256sum "$T/sm.yaml" | cut -c1-64))" "$M"
ok "sendmail: mailertable: the smart hosts in order, brackets kept (no MX lookup)" \
    grep -qx "b.test	esmtp:\[mx1.b.test\]:mx2.b.test" "$M"
ok "sendmail: mailertable: a '*.' pattern is the .domain key" \
    grep -qx "\.b.test	esmtp:\[mx1.b.test\]:mx2.b.test" "$M"
ok "sendmail: mailertable: a domain under the smart-host wildcard keeps its own route" \
    grep -qx "eu.b.test	esmtp:%0" "$M"
ok "sendmail: mailertable: ... and a wildcard under it, its own" grep -qx "\.lab.b.test	esmtp:%1%0" "$M"
ok "sendmail: mailertable: an exact domain's subdomains fall back to the wider wildcard" \
    hasnt "$M" ".eu.b.test"
ok "sendmail: mailertable: no entry for a domain that needs no route" hasnt "$M" "a.test	"
ok "sendmail: the mailertable .mc line is printed" \
    has "$T/sm.out" "FEATURE(\`mailertable', \`hash $M')dnl"
ok "sendmail: each warning once" [ "$(grep -c "connector 'b': certificate_names" "$T/sm.err")" = 1 ]
ok "sendmail: the .mc lines are printed" has "$T/sm.out" "FEATURE(\`access_db', \`hash -T<TMPF> $A')dnl"
ok "sendmail: ... with lookupdotdomain" has "$T/sm.out" "FEATURE(\`lookupdotdomain')dnl"
ok "sendmail: ... and the CA file" has "$T/sm.out" "define(\`confCACERT', \`$PKI/trust.pem')dnl"
sorted=$(grep -v '^#' "$A" | cut -f1)
ok "sendmail: entries are sorted" [ "$sorted" = "$(printf '%s\n' "$sorted" | LC_ALL=C sort)" ]
cp "$A" "$T/sm.access.1"
"$TLSPOLICY" export sendmail -c "$T/sm.yaml" --dir "$T/sm" >/dev/null 2>&1
ok "sendmail: a second run writes the same bytes" cmp -s "$A" "$T/sm.access.1"

# ---- what Sendmail cannot express: an error naming connector and requirement, nothing written
sm_error() {   # NAME REQUIREMENT YAML-REQUIRE
    MTA=sendmail export_case "$1" "  - name: $1
    recipient_domains: $1.test
    require: $3
"
    ok "sendmail $1: exit 1" [ "$(rc "$1")" = 1 ]
    ok "sendmail $1: the error names connector and requirement" \
        grep -q "error: outbound connector '$1': $2: " "$T/$1.err"
    ok "sendmail $1: nothing written" [ -z "$(ls -A "$T/$1")" ]
}
sm_error smver min_version '{ tls: true, min_version: TLSv1.2 }'
sm_error smfs forward_secrecy '{ tls: true, forward_secrecy: true }'
sm_error smnames certificate_names '{ certificate: verified, certificate_names: [a.test, b.test] }'
sm_error smwild certificate_names '{ certificate: verified, certificate_names: ["*.a.test"] }'
sm_error smroots root_issuers '{ certificate: verified, root_issuers: [Test Root CA R1, Test Root CA R2] }'

# ---- smart hosts Sendmail cannot route to: an error naming connector and smart host
MTA=sendmail export_case smport '  - name: p
    recipient_domains: p.test
    smart_hosts: "[mx.p.test]:2525"
    require: { tls: true }
'
ok "sendmail: a smart host on another port than 25: exit 1" [ "$(rc smport)" = 1 ]
ok "sendmail: ... the error names connector, requirement and host" \
    grep -q "error: outbound connector 'p': smart_hosts: '\[mx.p.test\]:2525': .*port" "$T/smport.err"
ok "sendmail: ... nothing written" [ -z "$(ls -A "$T/smport")" ]
MTA=sendmail export_case smv6 '  - name: v6
    recipient_domains: v6.test
    smart_hosts: "[ipv6:2001:db8::25]"
    require: { tls: true }
'
ok "sendmail: an IPv6 smart host: exit 1, named" \
    grep -q "error: outbound connector 'v6': smart_hosts: '\[ipv6:2001:db8::25\]'" "$T/smv6.err"
MTA=sendmail export_case smnoroute '  - name: a
    recipient_domains: a.test
    require: { tls: true }
'
ok "sendmail: no smart host: an empty mailertable, and no mailertable .mc line" \
    bash -c "[ -z \"\$(grep -v '^#' '$T/smnoroute/mailertable')\" ] && ! grep -q mailertable '$T/smnoroute.out'"

MTA=sendmail export_case smhost '  - name: h1
    recipient_domains: h1.test
    smart_hosts: "[mx.h.test]:25"
    require: { tls: true }
  - name: h2
    recipient_domains: h2.test
    smart_hosts: "[mx.h.test]"
    require: { certificate: verified }
'
# TLS_Srv: is keyed by host alone
ok "sendmail: one smart host asked two things: exit 1" [ "$(rc smhost)" = 1 ]
ok "sendmail: ... the error names the TLS_Srv: key" grep -q "TLS_Srv:mx.h.test is asked both" "$T/smhost.err"
ok "sendmail: ... nothing written" [ -z "$(ls -A "$T/smhost")" ]

# ---- a file that does not load exports nothing
export_case broken '  - name: x
    recipient_domains: x.test
    smart_hosts: "[x.test:25"
'
ok "bad smart host: exit 1" [ "$(rc broken)" = 1 ]
ok "bad smart host: file:line:column error" \
    grep -q "broken.yaml:6:18: error: smart_hosts: '\[x.test:25' does not parse" "$T/broken.err"

# ---- IDN: written as U-labels, exported and asked as A-labels
export_case idn '  - name: bank
    recipient_domains: [bänk.test, .BÄNK.test]
    require: { tls: true }
'
ok "idn: exit 0" [ "$(rc idn)" = 0 ]
ok "idn: the domain is exported as its A-label" grep -q "^xn--bnk-qla\.test	encrypt" "$T/idn/tls_policy"
ok "idn: the wildcard too, lower case" grep -q "^\.xn--bnk-qla\.test	encrypt" "$T/idn/tls_policy"
ok "idn: no U-label left in the map" hasnt "$T/idn/tls_policy" "bänk"
"$TLSPOLICY" eval -c "$T/idn.yaml" direction=outbound rcpt=a@BÄNK.test rcpt=a@mx.xn--bnk-qla.test \
    >"$T/idn-eval.out" 2>&1
ok "idn: eval finds the connector for a U-label recipient in upper case" \
    grep -qF "matched pattern: xn--bnk-qla.test" "$T/idn-eval.out"
ok "idn: and for an A-label subdomain" grep -qF "matched pattern: *.xn--bnk-qla.test" "$T/idn-eval.out"

# ---- eval direction=outbound: the same answer without exporting
"$TLSPOLICY" eval -c "$T/full.yaml" direction=outbound rcpt=user@x.a.test rcpt=u@eu.b.test \
    rcpt=u@c.test rcpt=u@nowhere.test >"$T/eval.out" 2>"$T/eval.err"
ok "eval outbound: exit 0" [ $? = 0 ]
ok "eval outbound: a subdomain falls under the wildcard of a" \
    grep -qF "matched pattern: *.a.test" "$T/eval.out"
ok "eval outbound: what Postfix will require" \
    grep -qF "postfix: secure protocols=>=TLSv1.2 ciphers=high exclude=kRSA tafile=" "$T/eval.out"
ok "eval outbound: the exact pattern beats the smart-host wildcard" \
    grep -qF "outbound connector: b-eu" "$T/eval.out"
ok "eval outbound: monitor says may, and the enforce form" \
    grep -qF "postfix in enforce mode: encrypt" "$T/eval.out"
ok "eval outbound: no connector: the global level" \
    grep -qF "outbound connector: none" "$T/eval.out"
"$TLSPOLICY" eval -c "$T/full.yaml" direction=outbound >/dev/null 2>&1
ok "eval outbound without rcpt=: exit 2" [ $? = 2 ]

# ---- usage
"$TLSPOLICY" export >/dev/null 2>"$T/u1.err"
ok "export without an MTA: exit 2" [ $? = 2 ]
"$TLSPOLICY" export postfix --bogus >/dev/null 2>"$T/u2.err"
ok "unknown option: exit 2" [ $? = 2 ]
"$TLSPOLICY" export postfix -c "$T/full.yaml" --dir "$T/no-such-dir" >/dev/null 2>"$T/u3.err"
ok "missing --dir: exit 1, named" grep -q "no-such-dir" "$T/u3.err"
"$TLSPOLICY" export exim >/dev/null 2>"$T/u4.err"
ok "an unknown MTA: exit 2, postfix and sendmail offered" grep -q "postfix or sendmail" "$T/u4.err"

# ---- eval direction=outbound --json: the same answers, one JSON document
# jfield FILE INDEX KEY: the field of the INDEX-th answer, as python prints it.
jfield() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["answers"][int(sys.argv[2])][sys.argv[3]])' "$@"
}
"$TLSPOLICY" eval -c "$T/full.yaml" direction=outbound --json rcpt=user@x.a.test \
    rcpt=u@eu.b.test rcpt=u@c.test rcpt=u@nowhere.test rcpt=u@b.test \
    'rcpt=q"x\y@a.test' >"$T/ej.out" 2>"$T/ej.err"
ok "eval outbound --json: exit 0" [ $? = 0 ]
ok "eval outbound --json: one JSON document with six answers" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d["direction"] == "outbound" and len(d["answers"]) == 6))' "$T/ej.out"
ok "eval outbound --json: the wildcard of a" [ "$(jfield "$T/ej.out" 0 pattern)" = "*.a.test" ]
ok "eval outbound --json: ... and its connector" [ "$(jfield "$T/ej.out" 0 connector)" = a ]
ok "eval outbound --json: the policy is the text form's" \
    [ "$(jfield "$T/ej.out" 0 postfix)" = "$(sed -n 's/^  postfix: \(secure .*\)$/\1/p' "$T/eval.out" | head -1)" ]
ok "eval outbound --json: ... with the tafile export would write" \
    [ "$(jfield "$T/ej.out" 0 postfix)" = "secure protocols=>=TLSv1.2 ciphers=high exclude=kRSA tafile=$(pwd -P)/tafile-a.pem" ]
ok "eval outbound --json: the exact pattern beats the smart-host wildcard" \
    [ "$(jfield "$T/ej.out" 1 connector)" = b-eu ]
ok "eval outbound --json: monitor: may" [ "$(jfield "$T/ej.out" 2 postfix)" = may ]
ok "eval outbound --json: monitor: the enforce form" \
    [ "$(jfield "$T/ej.out" 2 postfix_enforce)" = encrypt ]
ok "eval outbound --json: enforce: no enforce form" \
    [ "$(jfield "$T/ej.out" 0 postfix_enforce)" = None ]
ok "eval outbound --json: no connector: null connector and policy" \
    [ "$(jfield "$T/ej.out" 3 connector)/$(jfield "$T/ej.out" 3 postfix)" = None/None ]
ok "eval outbound --json: smart hosts, in file order" \
    [ "$(jfield "$T/ej.out" 4 smart_hosts)" = "['[mx1.b.test]:2525', '[mx2.b.test]']" ]
ok "eval outbound --json: the smart hosts are the postfix key" \
    [ "$(jfield "$T/ej.out" 4 postfix_key)" = "each smart host's [host]:port" ]
ok "eval outbound --json: a quote and a backslash in the recipient come back intact" \
    [ "$(jfield "$T/ej.out" 5 rcpt)" = 'q"x\y@a.test' ]
"$TLSPOLICY" eval -c "$T/full.yaml" direction=outbound --json >/dev/null 2>&1
ok "eval outbound --json without rcpt=: exit 2" [ $? = 2 ]
export_case json-bits '  - name: strong
    recipient_domains: s.test
    require: { min_cipher_bits: 256 }
'
"$TLSPOLICY" eval -c "$T/json-bits.yaml" direction=outbound --json rcpt=u@s.test \
    >"$T/ejb.out" 2>"$T/ejb.err"
ok "eval outbound --json, what Postfix cannot express: exit 1" [ $? = 1 ]
ok "eval outbound --json, what Postfix cannot express: no half document" [ ! -s "$T/ejb.out" ]
ok "eval outbound --json, what Postfix cannot express: the error names the requirement" \
    grep -q "outbound connector 'strong': min_cipher_bits" "$T/ejb.err"

echo "1..$N"
exit $FAILED
