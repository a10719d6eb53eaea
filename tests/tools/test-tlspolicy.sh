#!/bin/bash
# test-tlspolicy.sh -- tlspolicy(1) end to end: "check" on good and broken
# connectors files, "eval" for every action and mode, both MTA dialects (Postfix
# CNs, Sendmail xtext DNs with {verify}), several recipients, the null sender,
# usage errors, and hostile bytes in certificate names. TAP output.
#
# Each row of the tables below is one call of t():
#   t NAME WANT_EXIT CHECKS tlspolicy-arguments...
# CHECKS is a '|'-separated list, judged by a small python3 script:
#   path=value    JSON field of stdout (dots, list indexes: posture.cert,
#                 recipients.1.verdict); strings compare as text, anything else
#                 as its JSON form (256, true, null)
#   path~text     the field, as text, contains text
#   path#N        the field is a list or object of N entries
#   path!         the field is absent
#   stdout~text   raw stdout contains text (also stderr~, stdout!~, stderr!~)
#   stdout=text   raw stdout is exactly text (trailing newline ignored)
#   stderr^re     a line of stderr matches the regular expression re
# A value starting with @py: is a Python literal, for bytes like CR LF.
set -u

TLSPOLICY=${TLSPOLICY:-${top_builddir:-.}/tools/tlspolicy}
PKI=${TLSPOLICY_TEST_PKI:-}

if [ -z "$PKI" ] || [ ! -r "$PKI/trust.pem" ]; then
    echo "1..0 # SKIP TLSPOLICY_TEST_PKI is not set or has no trust.pem"
    exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "1..0 # SKIP python3 is needed to read the JSON output"
    exit 0
fi
if [ ! -x "$TLSPOLICY" ]; then
    echo "Bail out! $TLSPOLICY is not built"
    exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/test-tlspolicy.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

cat >"$T/check.py" <<'EOF'
import ast, json, re, sys

out = open(sys.argv[1], "rb").read()
err = open(sys.argv[2], "rb").read()
checks = [c for c in sys.argv[3].split("|") if c]
doc = None
problems = []

def text(b):
    return b.decode("utf-8", "surrogateescape")

def value(v):
    return ast.literal_eval(v[4:]) if v.startswith("@py:") else v

def lookup(path):
    global doc
    if doc is None:
        if out.count(b"\n") != 1 or not out.endswith(b"\n"):
            raise ValueError("JSON output is not exactly one line: %r" % out[:300])
        doc = json.loads(out)
    cur = doc
    for part in path.split("."):
        if isinstance(cur, list):
            cur = cur[int(part)]
        else:
            cur = cur[part]
    return cur

for c in checks:
    m = re.match(r"^(stdout|stderr)(!~|~|=|\^)(.*)$", c, re.S)
    try:
        if m:
            raw = text(out if m.group(1) == "stdout" else err)
            op, want = m.group(2), value(m.group(3))
            if op == "~" and want not in raw:
                problems.append("%s: got %r, want it to contain %r" % (m.group(1), raw, want))
            elif op == "!~" and want in raw:
                problems.append("%s: got %r, want it not to contain %r" % (m.group(1), raw, want))
            elif op == "=" and raw.rstrip("\n") != want:
                problems.append("%s: got %r, want %r" % (m.group(1), raw, want))
            elif op == "^" and not re.search(want, raw, re.M):
                problems.append("%s: got %r, want a line matching %r" % (m.group(1), raw, want))
            continue
        m = re.match(r"^([A-Za-z0-9_.]+)(=|~|#|!)(.*)$", c, re.S)
        if not m:
            problems.append("bad check %r" % c)
            continue
        path, op, want = m.group(1), m.group(2), value(m.group(3))
        if op == "!":
            try:
                got = lookup(path)
                problems.append("%s: got %r, want it absent" % (path, got))
            except (KeyError, IndexError):
                pass
            continue
        got = lookup(path)
        if op == "=":
            g = got if isinstance(got, str) else json.dumps(got)
            if g != want:
                problems.append("%s: got %r, want %r" % (path, g, want))
        elif op == "~":
            g = got if isinstance(got, str) else json.dumps(got)
            if want not in g:
                problems.append("%s: got %r, want it to contain %r" % (path, g, want))
        elif op == "#":
            if not isinstance(got, (list, dict)) or len(got) != int(want):
                problems.append("%s: got %r, want %s entries" % (path, got, want))
    except (KeyError, IndexError, ValueError, TypeError) as e:
        problems.append("%s: %s: %r (stdout %r)" % (c, type(e).__name__, e, out[:400]))

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
EOF

n=0
nfailed=0

# t NAME WANT_EXIT CHECKS ARGS...
t() {
    local name=$1 want=$2 checks=$3 got msg
    shift 3
    "$TLSPOLICY" "$@" >"$T/out" 2>"$T/err"
    got=$?
    n=$((n + 1))
    msg=""
    if [ "$got" != "$want" ]; then
        msg="exit status: got $got, want $want"
    fi
    # Under --enable-sanitizers a report can hide behind an expected exit 1.
    if grep -q -e 'ERROR: AddressSanitizer' -e 'ERROR: LeakSanitizer' -e 'runtime error:' "$T/err"; then
        msg="${msg:+$msg
}sanitizer report on stderr"
    fi
    if ! res=$(python3 "$T/check.py" "$T/out" "$T/err" "$checks" 2>&1); then
        msg="${msg:+$msg
}$res"
    fi
    if [ -z "$msg" ]; then
        echo "ok $n - $name"
    else
        nfailed=$((nfailed + 1))
        echo "not ok $n - $name"
        printf '%s\n' "$msg" | sed 's/^/# /'
        printf '# command: %s' "$TLSPOLICY"
        printf ' %q' "$@"
        printf '\n# stderr: '
        head -c 600 "$T/err" | tr '\n' ' '
        echo
    fi
}

# ---------------------------------------------------------------- fixtures

# The connectors every eval case runs against: one connector per action, a
# monitored one, matching by sender domain, client address, recipient domain,
# a restricted sender domain, cross-signed roots, and a disabled connector.
S=$T/connectors.yaml
cat >"$S" <<EOF
version: 1
settings:
  mode: enforce
  trust_store: $PKI/trust.pem
defaults:
  require: {}
  on_fail: tag
connectors:
  - name: partner-a
    match:
      sender_domains: [partner-a.test]
    require:
      tls: true
      min_version: TLSv1.2
      min_cipher_bits: 128
      forward_secrecy: true
      certificate: verified
      certificate_names: [mail.partner-a.test]
      issuers: ["Test Issuing CA 1"]
      root_issuers: ["Test Root CA R1"]
    on_fail: reject
    reply: "5.7.1 partner-a must send over verified TLS 1.2 or better"
  - name: bank
    match:
      sender_domains: [bank-partner.test]
      client_addresses: [198.51.100.0/24]
    restrict_sender_domains: true
    require:
      tls: true
    on_fail: reject
  - name: partner-org
    match:
      sender_domains: [org.test]
    require:
      certificate: verified
      organizations: ["Partner A Ltd"]
    on_fail: reject
  - name: cross-any
    match:
      sender_domains: [partner-x.test]
    require:
      certificate: verified
      root_issuers: ["Test Root CA R1", "Test Root CA R2"]
    on_fail: reject
  - name: cross-r2
    match:
      sender_domains: [partner-y.test]
    require:
      certificate: verified
      root_issuers: ["Test Root CA R2"]
    on_fail: reject
  - name: temp
    match:
      sender_domains: [temp.test]
    require:
      min_version: TLSv1.2
    on_fail: tempfail
  - name: tagged
    match:
      sender_domains: [tag.test]
    require:
      tls: true
    on_fail: tag
  - name: quarantined
    match:
      sender_domains: [quarantine.test]
    require:
      tls: true
    on_fail: quarantine
  - name: watched
    mode: monitor
    match:
      sender_domains: [monitor.test]
    require:
      tls: true
      certificate: verified
    on_fail: reject
  - name: relay
    match:
      client_addresses: [192.0.2.0/24, "2001:db8::/32"]
    require:
      min_version: TLSv1.3
    on_fail: reject
  - name: watched-rcpt
    mode: monitor
    match:
      recipient_domains: [watch.example]
    require:
      tls: true
    on_fail: reject
  - name: bank-rcpt
    match:
      recipient_domains: [bank.example]
    require:
      tls: true
      certificate: verified
    on_fail: reject
  - name: off
    enabled: false
    match:
      sender_domains: [disabled.test]
    require:
      tls: true
    on_fail: reject
EOF

# The whole file in monitor mode: nothing is refused, the action still shows.
M=$T/monitor.yaml
cat >"$M" <<EOF
version: 1
settings:
  mode: monitor
  trust_store: $PKI/trust.pem
connectors:
  - name: partner-a
    match:
      sender_domains: [partner-a.test]
    require:
      tls: true
      certificate: verified
    on_fail: reject
EOF

printf 'version: 1\nsettings:\n  trust_store: %s/trust.pem\n  header: From\n' "$PKI" >"$T/hdr-from.yaml"
printf 'version: 1\nsettings: { trust_store: %s/trust.pem, header: X-Original-To }\n' "$PKI" >"$T/hdr-mta.yaml"
cat >"$T/lint.yaml" <<EOF
version: 1
settings: { trust_store: $PKI/trust.pem }
connectors:
  - name: wide
    match: { sender_domains: ["*.test", bank.example] }
    require: { tls: true }
  - name: narrow
    match: { sender_domains: [a.test], client_addresses: [192.0.2.0/24] }
    require: { tls: true }
  - name: gw
    match: { sender_domains: [bank.example], client_addresses: [198.51.100.0/24] }
    restrict_sender_domains: true
    require: { tls: true }
EOF

MIN=$T/minimal.yaml
printf 'version: 1\nsettings:\n  trust_store: %s/trust.pem\n' "$PKI" >"$MIN"

# Broken files; the line and column each error must point at are in the rows.
bad() {
    printf 'version: 1\nsettings:\n  trust_store: %s/trust.pem\nconnectors:\n  - name: a\n    match:\n      sender_domains: [a.test]\n    require:\n%s\n' \
        "$PKI" "$2" >"$T/$1"
}
bad bad-version.yaml '      min_version: TLSv1.4'      # value at 9:20
bad bad-key.yaml     '      min_versoin: TLSv1.2'      # key at 9:7
bad bad-bool.yaml    '      forward_secrecy: yes'      # value at 9:24
bad bad-bits.yaml    '      min_cipher_bits: "128"'    # value at 9:24
bad bad-syntax.yaml  '      tls: [true'
printf 'version: 1\nsettings:\n  trust_store: %s/no-such-trust.pem\n' "$PKI" >"$T/bad-trust.yaml"
# FIFOs where files belong: with nobody writing, opening one to read would block
# forever, so each row below hanging (not failing) is the bug it guards against.
mkfifo "$T/fifo.yaml" "$T/fifo.pem"
printf 'version: 1\nsettings:\n  trust_store: %s\n' "$T/fifo.pem" >"$T/fifo-trust.yaml"
printf 'version: 1\nsettings:\n  trust_store: %s/trust.pem\n  intermediates: [%s]\n' \
    "$PKI" "$T/fifo.pem" >"$T/fifo-ints.yaml"

# Macro values as each MTA sends them for the partner-a certificate (doc/mta-facts.md).
PF_TLS=(tls_version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 cipher_bits=256)
PF_A=(mta=postfix "${PF_TLS[@]}" cert_subject=mail.partner-a.test "cert_issuer=Test Issuing CA 1")
SM_SUBJ=/C=GB/O=Partner+20A+20Ltd/OU=Mail/CN=mail.partner-a.test
SM_ISS=/C=DE/O=Test+20PKI/CN=Test+20Issuing+20CA+201
SM_A=(mta=sendmail "${PF_TLS[@]}" "cert_subject=$SM_SUBJ" "cert_issuer=$SM_ISS")
SM_X=(mta=sendmail "${PF_TLS[@]}" cert_subject=/C=GB/O=Partner+20X/CN=mail.partner-x.test
      cert_issuer=/C=DE/O=Test+20PKI/CN=Test+20Cross+20CA verify=OK)
SM_CRLF='/C=GB/O=CRLF+5Cx0D+5Cx0AInjected:+20yes/CN=crlf+5Cx0D+5Cx0AX-Evil:+201.partner-a.test'
E=(eval --json -c "$S")

# ---------------------------------------------------------------- check

t "check: valid file with warnings, connectors counted (disabled too): exit 1" 1 \
  'stdout=OK: 13 connectors, 2 warnings' check -c "$S"
t "check: warnings go to stderr and exit 1, not 2" 1 \
  'stderr~warning|stderr~off|stdout~OK' check -c "$S"
t "check: minimal file" 0 'stdout=OK: 0 connectors|stderr=' check -c "$MIN"
t "check: a standard field as settings.header is refused" 2 \
  "stderr^^$T/hdr-from.yaml:4:11: error: header: 'From' is not a header field name the daemon may own|stdout=" \
  check -c "$T/hdr-from.yaml"
t "check: a field mail systems add as settings.header is refused" 2 \
  "stderr~'X-Original-To'|stderr~mail systems add" check -c "$T/hdr-mta.yaml"
t "check: shadowed connector and owned sender domain warn, do not fail" 1 \
  "stdout=OK: 3 connectors, 2 warnings|stderr^^$T/lint.yaml:7:5: warning: connector 'narrow' never claims anything: connector 'wide'|stderr^^$T/lint.yaml:5:[0-9]+: warning: .*'bank.example' of connector 'wide' is restricted by connector 'gw'" \
  check -c "$T/lint.yaml"
t "check: --config=FILE form" 0 'stdout=OK: 0 connectors' check "--config=$MIN"
t "check: bad min_version at file:line:column" 2 \
  "stderr^^$T/bad-version.yaml:9:20: error: .*TLSv1\\.4|stdout=" \
  check -c "$T/bad-version.yaml"
t "check: unknown key points at the key" 2 \
  "stderr^^$T/bad-key.yaml:9:7: error: .*min_versoin" check -c "$T/bad-key.yaml"
t "check: yes is not a boolean" 2 \
  "stderr^^$T/bad-bool.yaml:9:24: error: .*true or false" check -c "$T/bad-bool.yaml"
t "check: quoted number is not an integer" 2 \
  "stderr^^$T/bad-bits.yaml:9:24: error" check -c "$T/bad-bits.yaml"
t "check: YAML syntax error has a position" 2 \
  "stderr^^$T/bad-syntax.yaml:[0-9]+:[0-9]+: error|stdout=" check -c "$T/bad-syntax.yaml"
t "check: unreadable trust store named" 2 \
  "stderr~no-such-trust.pem|stdout=" check -c "$T/bad-trust.yaml"
t "check: missing file named" 2 \
  "stderr~$T/nope.yaml|stdout=" check -c "$T/nope.yaml"
t "check: a FIFO as the connectors file is refused" 2 \
  "stderr^^$T/fifo.yaml: error: .*is a FIFO, not a regular file|stdout=" check -c "$T/fifo.yaml"
t "check: a FIFO as trust_store is refused at its setting" 2 \
  "stderr^^$T/fifo-trust.yaml:3:16: error: .*is a FIFO|stdout=" check -c "$T/fifo-trust.yaml"
t "check: a FIFO among the intermediates is refused at its entry" 2 \
  "stderr^^$T/fifo-ints.yaml:4:19: error: .*is a FIFO|stdout=" check -c "$T/fifo-ints.yaml"
t "check: stray argument is a usage error" 2 'stderr~extra' check -c "$S" extra
t "check FILE: positional form, as the example file advertises" 1 \
  'stdout=OK: 13 connectors, 2 warnings' check "$S"
t "check FILE: a broken positional file fails with its position" 2 \
  "stderr^^$T/bad-key.yaml:9:7: error|stdout=" check "$T/bad-key.yaml"
t "check FILE: two files are a usage error naming the second" 2 \
  'stderr~second.yaml|stdout=' check "$S" second.yaml
t "check FILE: FILE and -c together are ambiguous" 2 \
  "stderr~$MIN|stdout=" check -c "$S" "$MIN"
t "check FILE: empty name refused" 2 'stderr~empty|stdout=' check ""

# Issuer and root names are resolved in the trust store when the file loads.
names_file() {   # FILE ROOTS ISSUERS
    printf 'version: 1\nsettings: { trust_store: %s/trust.pem, intermediates: [%s/int-1.crt] }\nconnectors:\n  - name: n\n    match: {sender_domains: [n.test]}\n    require:\n      certificate: verified\n      root_issuers: [%s]\n      issuers: [%s]\n' \
        "$PKI" "$PKI" "$2" "$3" >"$T/$1"
}
names_file names-ok.yaml '"test root ca r1"' '"Test  Issuing CA 1"'
t "check: names resolve after case and space folding: exit 0" 0 \
  'stdout=OK: 1 connectors|stderr=' check "$T/names-ok.yaml"
names_file names-dash.yaml '"Test Root CA R1"' '"Test Issuing CA – 1"'
t "check: an en dash is not a space: no match, a warning naming the closest, exit 1" 1 \
  "stdout=OK: 1 connectors, 1 warnings|stderr^^$T/names-dash.yaml:9:17: warning: issuers: 'Test Issuing CA – 1' matches no CA certificate in the trust store.*closest: \"Test Issuing CA 1\" \\(DN /c=DE/o=Test PKI/cn=Test Issuing CA 1, sha256:[0-9a-f]{64}, expires [0-9-]{10}\\)" \
  check "$T/names-dash.yaml"
names_file names-none.yaml '"NoSuchRoot CA"' '"Test Issuing CA 1"'
t "check: a root that matches nothing is a warning at its position: exit 1" 1 \
  "stdout=OK: 1 connectors, 1 warnings|stderr^^$T/names-none.yaml:8:22: warning: root_issuers: 'NoSuchRoot CA' matches no root in the trust store, so messages under this requirement fail; closest: \"Other Root CA\"" \
  check "$T/names-none.yaml"
names_file names-int.yaml '"Test Issuing CA 1"' '"Test Issuing CA 1"'
t "check: an intermediate named as a root says which root it is under" 1 \
  "stderr~it is an intermediate CA, under the root \"Test Root CA R1\"" check "$T/names-int.yaml"
fp=$(openssl x509 -in "$PKI/root-r1.crt" -noout -fingerprint -sha256 | sed 's/.*=//')
names_file names-fp.yaml "\"sha256:$fp\"" '"CN=Test Issuing CA 1, O=Test PKI, C=DE"'
t "check: a root by sha256: fingerprint with colons, an issuer by DN: exit 0" 0 \
  'stdout=OK: 1 connectors|stderr=' check "$T/names-fp.yaml"
names_file names-badfp.yaml '"sha256:0123"' '"Test Issuing CA 1"'
t "check: a malformed fingerprint is an error: exit 2" 2 \
  "stderr^^$T/names-badfp.yaml:8:22: error: root_issuers: 'sha256:0123' is not a fingerprint|stdout=" \
  check "$T/names-badfp.yaml"
t "trust: lists the roots and intermediates, and what each name resolved to" 0 \
  "stdout~root Test Root CA R1|stdout~intermediate Test Issuing CA 1|stdout~  roots: Test Root CA R1|stdout~names-ok.yaml:8:22: root_issuers test root ca r1 (connector n): resolved|stdout^^  -> Test Root CA R1 sha256:[0-9a-f]{64}$" \
  trust -c "$T/names-ok.yaml"
t "trust PATTERN: filters by normalised substring" 0 \
  "stdout~root Test Root CA R2|stdout!~Other Root CA|stdout!~intermediate" trust "ROOT  ca r2" -c "$T/names-ok.yaml"
t "trust: exit 1 when a name did not resolve, with the closest" 1 \
  "stdout~NoSuchRoot CA (connector n): none|stdout~  closest: Other Root CA" trust -c "$T/names-none.yaml"
t "trust --json: certificates and names" 0 \
  'names.0.found=resolved|certificates.0.type=root|names.0.certificates.0~' trust --json -c "$T/names-ok.yaml"
t "trust: a stray second pattern is a usage error" 2 'stderr~usage' trust a b -c "$T/names-ok.yaml"
t "eval: an unresolved root fails closed, and the reason names it" 1 \
  "stdout~not resolved in the trust store: 'NoSuchRoot CA'" \
  eval -c "$T/names-none.yaml" mta=postfix 'sender=<a@n.test>' tls_version=TLSv1.3 \
  cipher=TLS_AES_256_GCM_SHA384 cipher_bits=256 cert_subject=mail.n.test \
  'cert_issuer=Test Issuing CA 1'

# ---------------------------------------------------------------- eval: Postfix

t "postfix: partner-a verified TLS 1.3 passes" 0 \
  'connector=partner-a|verdict=pass|action=accept|mode=enforce|refused=false|reasons#0|mta=postfix|rcpt=bob@example.com|posture.version=TLSv1.3|posture.cipher=TLS_AES_256_GCM_SHA384|posture.bits=256|posture.fs=yes|posture.presented=yes|posture.cert=mail.partner-a.test|posture.issuer=Test Issuing CA 1|posture.root=Test Root CA R1|posture.verified=yes|posture.organization=null|recipients!' \
  "${E[@]}" "${PF_A[@]}" sender=alice@partner-a.test recipient=bob@example.com
t "postfix: TLS 1.1 is refused with the connector's reply" 1 \
  'connector=partner-a|verdict=fail|action=reject|refused=true|reasons.0~TLSv1.1|reply~5.7.1 partner-a' \
  "${E[@]}" mta=postfix tls_version=TLSv1.1 cipher=ECDHE-RSA-AES256-SHA cipher_bits=256 \
  cert_subject=mail.partner-a.test "cert_issuer=Test Issuing CA 1" sender=alice@partner-a.test
t "postfix: no TLS at all is refused, one reason" 1 \
  'verdict=fail|action=reject|reasons#1|posture.version=null|posture.bits=null|posture.verified=no' \
  "${E[@]}" mta=postfix sender=alice@partner-a.test client_addr=203.0.113.9
t "postfix: untrusted cert (no cert macros) is refused" 1 \
  'verdict=fail|posture.cert=null|posture.verified=no|posture.version=TLSv1.3' \
  "${E[@]}" mta=postfix "${PF_TLS[@]}" sender=alice@partner-a.test
t "postfix: wrong certificate name" 1 \
  'verdict=fail|reasons.0~mail.evil.test' \
  "${E[@]}" mta=postfix "${PF_TLS[@]}" cert_subject=mail.evil.test "cert_issuer=Test Issuing CA 1" \
  sender=alice@partner-a.test
t "postfix: issuer under another root" 1 \
  'verdict=fail|posture.root=Other Root CA|reasons#2' \
  "${E[@]}" mta=postfix "${PF_TLS[@]}" cert_subject=mail.partner-a.test "cert_issuer=Other Issuing CA" \
  sender=alice@partner-a.test
t "postfix: cipher without forward secrecy" 1 \
  'verdict=fail|posture.fs=no|reasons.0~AES256-GCM-SHA384' \
  "${E[@]}" mta=postfix tls_version=TLSv1.2 cipher=AES256-GCM-SHA384 cipher_bits=256 \
  cert_subject=mail.partner-a.test "cert_issuer=Test Issuing CA 1" sender=alice@partner-a.test
t "postfix: weak cipher bits" 1 \
  'verdict=fail|posture.bits=56|reasons.0~56' \
  "${E[@]}" mta=postfix tls_version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 cipher_bits=56 \
  cert_subject=mail.partner-a.test "cert_issuer=Test Issuing CA 1" sender=alice@partner-a.test
t "postfix: TLS 1.2 AES128 meets the 128-bit minimum" 0 \
  'verdict=pass|posture.bits=128|posture.fs=yes' \
  "${E[@]}" mta=postfix tls_version=TLSv1.2 cipher=ECDHE-RSA-AES128-GCM-SHA256 cipher_bits=128 \
  cert_subject=mail.partner-a.test "cert_issuer=Test Issuing CA 1" sender=alice@partner-a.test
t "postfix: CN with control bytes arrives empty (present)" 1 \
  "verdict=fail|posture.cert=|posture.presented=yes|posture.verified=yes|reasons.0~''" \
  "${E[@]}" mta=postfix "${PF_TLS[@]}" cert_subject= "cert_issuer=Test Issuing CA 1" \
  sender=alice@partner-a.test
t "postfix: odd CN passes through as raw UTF-8" 0 \
  "connector=default|posture.cert=Odd \"Quoted\" Name, Inc. + Partner's Zürich <mx> a/b=c;d|stdout~Partner's Zürich" \
  "${E[@]}" mta=postfix "${PF_TLS[@]}" "cert_subject=Odd \"Quoted\" Name, Inc. + Partner's Zürich <mx> a/b=c;d" \
  "cert_issuer=Test Issuing CA 1" sender=x@unknown.test
t "postfix: organizations cannot be checked (CN only)" 1 \
  'connector=partner-org|verdict=fail|reasons.0~Postfix' \
  "${E[@]}" "${PF_A[@]}" sender=a@org.test
t "auto: CN values are read as Postfix" 0 \
  'mta=postfix|verdict=pass' \
  "${E[@]}" "${PF_TLS[@]}" cert_subject=mail.partner-a.test "cert_issuer=Test Issuing CA 1" \
  sender=alice@partner-a.test

# ---------------------------------------------------------------- eval: actions and modes

t "tempfail: TLS 1.0 below the minimum" 1 \
  'connector=temp|verdict=fail|action=tempfail|refused=true' \
  "${E[@]}" mta=postfix tls_version=TLSv1 cipher=ECDHE-RSA-AES256-SHA cipher_bits=256 sender=x@temp.test
t "tempfail connector passes with TLS 1.3" 0 \
  'connector=temp|verdict=pass|action=accept' "${E[@]}" mta=postfix "${PF_TLS[@]}" sender=x@temp.test
t "tag: failed but accepted" 0 \
  'connector=tagged|verdict=fail|action=tag|refused=false|reasons#1' \
  "${E[@]}" mta=postfix sender=x@tag.test
t "quarantine: failed but accepted" 0 \
  'connector=quarantined|verdict=fail|action=quarantine|refused=false' \
  "${E[@]}" mta=postfix sender=x@quarantine.test
t "monitor (connector): reject shown, not refused" 0 \
  'connector=watched|verdict=fail|action=reject|mode=monitor|refused=false' \
  "${E[@]}" mta=postfix sender=x@monitor.test
t "monitor (settings): reject shown, not refused" 0 \
  'connector=partner-a|verdict=fail|action=reject|mode=monitor|refused=false' \
  eval --json -c "$M" mta=postfix sender=alice@partner-a.test
t "default: unclaimed mail, verdict none" 0 \
  'connector=default|verdict=none|action=accept|reasons#0|rcpt=null' \
  "${E[@]}" mta=postfix sender=x@unknown.test client_addr=203.0.113.9
t "disabled connector never claims" 0 \
  'connector=default|verdict=none' "${E[@]}" mta=postfix sender=x@disabled.test
t "client address: relay below TLS 1.3" 1 \
  'connector=relay|verdict=fail|action=reject' \
  "${E[@]}" mta=postfix client_addr=192.0.2.7 tls_version=TLSv1.2 \
  cipher=ECDHE-RSA-AES256-GCM-SHA384 cipher_bits=256 sender=x@unknown.test
t "client address: IPv6 relay with TLS 1.3" 0 \
  'connector=relay|verdict=pass' \
  "${E[@]}" mta=postfix client_addr=2001:db8::25 "${PF_TLS[@]}" sender=x@unknown.test
t "restricted sender domain from a foreign address" 1 \
  'connector=bank|verdict=fail|action=reject|reasons.0~restricted' \
  "${E[@]}" mta=postfix client_addr=203.0.113.5 "${PF_TLS[@]}" sender=a@bank-partner.test
# Issue 11 item 1: an earlier connector matching the recipient must not claim a
# forged restricted sender; the owner does, whatever the recipient.
t "restricted sender forged to a recipient another connector matches" 1 \
  'connector=bank|verdict=fail|action=reject|refused=true|reasons.0~restricted to connector bank' \
  "${E[@]}" mta=postfix client_addr=203.0.113.5 sender=ceo@bank-partner.test recipient=hr@watch.example
t "restricted sender domain from its own address" 0 \
  'connector=bank|verdict=pass' \
  "${E[@]}" mta=postfix client_addr=198.51.100.9 "${PF_TLS[@]}" sender=a@bank-partner.test
# Issue 11 item 3: IDN spellings of a restricted domain meet the file's.
t "IDN: upper-case A-label of a restricted domain" 1 \
  'connector=bank|verdict=fail|reasons.0~restricted to connector bank' \
  "${E[@]}" mta=postfix client_addr=203.0.113.5 sender=a@BANK-PARTNER.TEST
# Issue 11 item 4: header_from= is the From: field body, judged as the daemon
# judges it at end of message.
t "header_from: forged restricted domain is refused" 1 \
  'connector=bank|verdict=fail|refused=true|reasons.0~From: header domain bank-partner.test is restricted to connector bank|from_domains#1|from_domains.0=bank-partner.test' \
  "${E[@]}" mta=postfix client_addr=203.0.113.5 sender=x@evil.test 'header_from="Payments" <pay@Bank-Partner.test>'
t "header_from: restricted domain from its own address passes" 0 \
  'connector=default|refused=false' \
  "${E[@]}" mta=postfix client_addr=198.51.100.9 "${PF_TLS[@]}" sender=x@esp.test header_from=pay@bank-partner.test
t "header_from: a second field is judged too" 1 \
  'connector=bank|refused=true|from_domains#2' \
  "${E[@]}" mta=postfix client_addr=203.0.113.5 sender=x@evil.test header_from=a@evil.test header_from=b@bank-partner.test
t "header_from: unparsable field naming the domain fails closed" 1 \
  'connector=bank|refused=true|reasons.0~does not parse|notes.0~does not parse' \
  "${E[@]}" mta=postfix client_addr=203.0.113.5 sender=x@evil.test 'header_from=Pay, Bank <pay@bank-partner.test>'
t "header_from: address only in a display name is no mailbox" 0 \
  'connector=default|refused=false|from_domains.0=evil.test' \
  "${E[@]}" mta=postfix client_addr=203.0.113.5 sender=x@evil.test 'header_from="pay@bank-partner.test" <x@evil.test>'

# ---------------------------------------------------------------- eval: recipients, null sender

t "recipient domain claims the mail" 1 \
  'connector=bank-rcpt|verdict=fail|rcpt=a@bank.example|recipients!' \
  "${E[@]}" mta=postfix "${PF_TLS[@]}" sender=x@unknown.test recipient=a@bank.example
# The top-level result is the one the daemon's posture header carries (the most
# severe accepted recipient; tests/milter/test_summary holds the two together);
# the exit status still says whether any recipient is refused.
t "several recipients: the header's result on top, the refused one listed" 1 \
  'rcpt=ok@example.com|connector=default|refused=false|recipients#3|recipients.0.rcpt=ok@example.com|recipients.0.connector=default|recipients.0.verdict=none|recipients.1.connector=bank-rcpt|recipients.1.verdict=fail|recipients.1.action=reject|recipients.1.mode=enforce|recipients.1.reasons#1|recipients.2.rcpt=z@example.com' \
  "${E[@]}" mta=postfix "${PF_TLS[@]}" sender=x@unknown.test \
  recipient=ok@example.com recipient=a@bank.example recipient=z@example.com
t "several recipients: tie goes to the first" 0 \
  'rcpt=one@example.com|recipients#2|recipients.1.rcpt=two@example.com' \
  "${E[@]}" mta=postfix sender=x@unknown.test recipient=one@example.com recipient=two@example.com
t "several recipients: an accepted monitored reject shows, not the refused one" 1 \
  'rcpt=a@watch.example|connector=watched-rcpt|action=reject|mode=monitor|refused=false|recipients.1.refused=true|recipients.0.connector=watched-rcpt|recipients.0.action=reject|recipients.0.mode=monitor|recipients.0.refused=false' \
  "${E[@]}" mta=postfix sender=x@unknown.test recipient=a@watch.example recipient=b@bank.example
t "several recipients: eval names what the daemon's header would" 1 \
  'rcpt=a@watch.example|connector=watched-rcpt|verdict=fail|action=reject|mode=monitor|recipients#3|recipients.0.refused=true|recipients.1.connector=default' \
  "${E[@]}" mta=postfix sender=x@unknown.test recipient=b@bank.example \
  recipient=ok@example.com recipient=a@watch.example
t "null sender <> goes to defaults" 0 \
  'connector=default|verdict=none' "${E[@]}" mta=postfix 'sender=<>' client_addr=203.0.113.9
t "null sender (empty) still matched by client address" 1 \
  'connector=relay|verdict=fail' \
  "${E[@]}" mta=postfix sender= client_addr=192.0.2.8 tls_version=TLSv1.2 \
  cipher=ECDHE-RSA-AES256-GCM-SHA384 cipher_bits=256

# ---------------------------------------------------------------- eval: Sendmail

t "sendmail: partner-a DN with verify=OK passes" 0 \
  'mta=sendmail|connector=partner-a|verdict=pass|posture.cert=mail.partner-a.test|posture.organization=Partner A Ltd|posture.issuer=Test Issuing CA 1|posture.root=Test Root CA R1|posture.verified=yes|posture.subject_dn~Partner A Ltd|notes#0' \
  "${E[@]}" "${SM_A[@]}" verify=OK sender=alice@partner-a.test recipient=bob@example.com
t "sendmail: verify=FAIL is refused" 1 \
  'verdict=fail|posture.verified=no|posture.cert=mail.partner-a.test|reasons.0~FAIL' \
  "${E[@]}" "${SM_A[@]}" verify=FAIL sender=alice@partner-a.test
t "sendmail: verify=NO with empty cert macros" 1 \
  'verdict=fail|posture.verified=no|posture.cert=null|posture.version=TLSv1.3' \
  "${E[@]}" mta=sendmail "${PF_TLS[@]}" cert_subject= cert_issuer= verify=NO sender=alice@partner-a.test
t "sendmail: empty cert_subject (present) means no certificate" 1 \
  'posture.presented=no|posture.verified=unknown' \
  "${E[@]}" mta=sendmail "${PF_TLS[@]}" cert_subject= cert_issuer= sender=alice@partner-a.test
t "sendmail: absent cert_subject means unknown" 1 \
  'posture.presented=unknown|posture.verified=unknown' \
  "${E[@]}" mta=sendmail "${PF_TLS[@]}" sender=alice@partner-a.test
t "postfix: absent cert macros with TLS: presented unknown" 1 \
  'posture.presented=unknown|posture.verified=no' \
  "${E[@]}" mta=postfix "${PF_TLS[@]}" sender=alice@partner-a.test
t "sendmail: no {verify} macro means unknown" 1 \
  'verdict=fail|posture.verified=unknown|reasons.0~verify' \
  "${E[@]}" "${SM_A[@]}" sender=alice@partner-a.test
t "sendmail: organization checked from the DN" 0 \
  'connector=partner-org|verdict=pass' "${E[@]}" "${SM_A[@]}" verify=OK sender=a@org.test
t "sendmail: other PKI is refused" 1 \
  'verdict=fail|posture.root=Other Root CA|posture.organization=Partner B GmbH' \
  "${E[@]}" mta=sendmail "${PF_TLS[@]}" verify=OK sender=alice@partner-a.test \
  cert_subject=/C=DE/O=Partner+20B+20GmbH/OU=Mail/CN=mail.partner-b.test \
  cert_issuer=/C=US/O=Other+20PKI/CN=Other+20Issuing+20CA
t "sendmail: odd DN decoded through xtext and oneline escapes" 0 \
  "posture.cert=Odd \"Quoted\" Name, Inc. + Partner's Zürich <mx> a/b=c;d|posture.organization=Odd Org, Zürich" \
  "${E[@]}" mta=sendmail "${PF_TLS[@]}" verify=OK "cert_issuer=$SM_ISS" sender=x@unknown.test \
  "cert_subject=/C=CH/O=Odd+20Org,+20Z+5CxC3+5CxBCrich/OU=Mail+20+5C+2B+20Relay/CN=Odd+20+22Quoted+22+20Name,+20Inc.+20+5C+2B+20Partner's+20Z+5CxC3+5CxBCrich+20+3Cmx+3E+20a+5C/b=c;d"
t "auto: verify and DNs are read as Sendmail" 0 \
  'mta=sendmail|verdict=pass|posture.organization=Partner A Ltd' \
  "${E[@]}" "${PF_TLS[@]}" "cert_subject=$SM_SUBJ" "cert_issuer=$SM_ISS" verify=OK sender=alice@partner-a.test
t "cross-signed issuer: both roots allowed" 0 \
  'connector=cross-any|verdict=pass|posture.root~Test Root CA R1|posture.root~Test Root CA R2' \
  "${E[@]}" "${SM_X[@]}" sender=a@partner-x.test
t "cross-signed issuer: one root allowed is not enough" 1 \
  'connector=cross-r2|verdict=fail|reasons.0~Test Cross CA' \
  "${E[@]}" "${SM_X[@]}" sender=a@partner-y.test

# ---------------------------------------------------------------- eval: hostile bytes

t "CR LF in a Postfix CN: JSON escaped" 1 \
  "posture.cert=@py:'mail\\r\\nX-Evil: 1'|stdout~mail\\r\\nX-Evil|stdout!~@py:'\\r'" \
  "${E[@]}" mta=postfix "${PF_TLS[@]}" $'cert_subject=mail\r\nX-Evil: 1' sender=alice@partner-a.test
t "CR LF in a Postfix CN: text escaped" 1 \
  "stdout~cert: mail\\x0D\\x0AX-Evil: 1|stdout!~@py:'\\r'|stdout!~@py:'\\nX-Evil'" \
  eval -c "$S" mta=postfix "${PF_TLS[@]}" $'cert_subject=mail\r\nX-Evil: 1' sender=alice@partner-a.test
t "CR LF in a Sendmail DN: JSON and text stay one value" 0 \
  "posture.cert=@py:'crlf\\r\\nX-Evil: 1.partner-a.test'|posture.organization=@py:'CRLF\\r\\nInjected: yes'" \
  "${E[@]}" mta=sendmail "${PF_TLS[@]}" "cert_subject=$SM_CRLF" "cert_issuer=$SM_ISS" verify=OK \
  sender=x@unknown.test
t "CR LF in a Sendmail DN: text output" 0 \
  "stdout~crlf\\x0D\\x0AX-Evil: 1.partner-a.test|stdout!~@py:'\\nX-Evil'|stdout!~@py:'\\nInjected'" \
  eval -c "$S" mta=sendmail "${PF_TLS[@]}" "cert_subject=$SM_CRLF" "cert_issuer=$SM_ISS" verify=OK \
  sender=x@unknown.test
t "invalid UTF-8 byte: JSON \\u00XX" 1 \
  "posture.cert=@py:'Z\\u00fcrich'|stdout~Z\\u00FCrich" \
  "${E[@]}" mta=postfix "${PF_TLS[@]}" $'cert_subject=Z\xfcrich' sender=alice@partner-a.test
t "invalid UTF-8 byte: text \\xNN" 1 \
  'stdout~cert: Z\xFCrich' \
  eval -c "$S" mta=postfix "${PF_TLS[@]}" $'cert_subject=Z\xfcrich' sender=alice@partner-a.test
t "valid UTF-8 passes unchanged" 1 \
  'posture.cert=Zürich|stdout~Zürich' \
  "${E[@]}" mta=postfix "${PF_TLS[@]}" cert_subject=Zürich sender=alice@partner-a.test
t "control bytes in a reason are escaped in text" 1 \
  "stdout~reason: TLS version 'TLSv9\\x1B[2J' is unknown|stdout!~@py:'\\x1b'" \
  eval -c "$S" mta=postfix $'tls_version=TLSv9\e[2J' client_addr=192.0.2.9 sender=x@unknown.test

t "unknown cipher becomes a note, forward secrecy unknown" 0 \
  'posture.fs=unknown|posture.cipher=BOGUS-CIPHER|notes#1|notes.0~BOGUS-CIPHER' \
  "${E[@]}" mta=postfix tls_version=TLSv1.3 cipher=BOGUS-CIPHER sender=x@unknown.test
t "cipher_bits that is not a number becomes a note" 0 \
  'posture.bits=null|notes.0~abc' \
  "${E[@]}" mta=postfix "${PF_TLS[@]:0:2}" cipher_bits=abc sender=x@unknown.test

# ---------------------------------------------------------------- eval: text output

t "text: pass shows one field per line" 0 \
  'stdout~connector: partner-a
verdict: pass
action: accept
mode: enforce
|stdout~mta: postfix|stdout~  root: Test Root CA R1|stdout~  verified: yes|stdout!~recipients:' \
  eval -c "$S" "${PF_A[@]}" sender=alice@partner-a.test recipient=bob@example.com
t "text: failure shows reasons and reply" 1 \
  'stdout~reason: the session was not encrypted|stdout~reply: 5.7.1 partner-a|stdout~refused: yes|stdout~version: -' \
  eval -c "$S" mta=postfix sender=alice@partner-a.test
t "text: several recipients listed" 1 \
  'stdout~recipient: ok@example.com|stdout~recipients:
  rcpt: ok@example.com
    connector: default' \
  eval -c "$S" mta=postfix "${PF_TLS[@]}" sender=x@unknown.test recipient=ok@example.com \
  recipient=a@bank.example

# ---------------------------------------------------------------- usage errors

t "usage: unknown key named" 2 'stderr~foo=bar|stdout=' "${E[@]}" foo=bar
t "usage: argument without '=' named" 2 "stderr~'tls_version'|stdout=" "${E[@]}" tls_version
t "usage: repeated key named" 2 "stderr~tls_version=TLSv1.2|stdout=" \
  "${E[@]}" tls_version=TLSv1.3 tls_version=TLSv1.2
t "usage: bad mta value" 2 'stderr~exim' "${E[@]}" mta=exim
t "usage: empty key" 2 "stderr~'=x'" "${E[@]}" =x
t "usage: unknown option" 2 'stderr~--bogus' eval -c "$S" --bogus
t "usage: -c without a file" 2 'stderr~-c' eval -c
t "usage: --json is not a check option" 2 'stderr~--json' check --json -c "$S"
t "usage: no command" 2 'stderr~usage'
t "usage: unknown command" 2 'stderr~frobnicate' frobnicate
t "eval: broken file prints its diagnostics" 2 \
  "stderr^^$T/bad-version.yaml:9:20: error|stdout=" eval -c "$T/bad-version.yaml" --json mta=postfix
t "eval: missing file" 2 "stderr~$T/nope.yaml|stdout=" eval -c "$T/nope.yaml" mta=postfix
t "options after the keys" 0 'connector=tagged|action=tag' \
  eval mta=postfix sender=x@tag.test --json -c "$S"
t "-- ends the options" 2 "stderr~'--json'" eval -c "$S" -- mta=postfix --json
t "-cFILE form" 0 'stdout=OK: 0 connectors' check "-c$MIN"
DEFAULT_CONF=$(sed -n 's/^default FILE: //p' <("$TLSPOLICY" --help))
if [ -n "$DEFAULT_CONF" ] && [ ! -e "$DEFAULT_CONF" ]; then
    t "default file is named when missing" 2 "stderr~$DEFAULT_CONF|stderr~milter-tlspolicy/connectors.yaml" check
else
    n=$((n + 1))
    echo "ok $n - default file is named when missing # SKIP ${DEFAULT_CONF:-no default in --help} exists"
fi
# install: the atomic replace of the connectors file (issue 11 item 13).
mkdir -p "$T/inst"
printf 'version: 1\nconnectors:\n  - name: x\n    match: {sender_domains: ["xn--zz.test"]}\n' >"$T/bad-idn.yaml"
t "install: a good file replaces the target" 0 "stdout~installed $T/inst/c.yaml: " install "$S" "$T/inst/c.yaml"
t "install: a file with errors is refused, target kept" 1 \
  "stderr~bad-idn.yaml:4:30: error|stderr~valid internationalised domain name|stderr~nothing installed" \
  install "$T/bad-idn.yaml" "$T/inst/c.yaml"
t "install: the refused file left the target alone" 1 "stdout~OK: " check "$T/inst/c.yaml"
ln -s c.yaml "$T/inst/link.yaml"
t "install: a symbolic link target is refused" 1 "stderr~is a symbolic link" install "$S" "$T/inst/link.yaml"
n=$((n + 1))
if cmp -s "$S" "$T/inst/c.yaml" && [ "$(ls -A "$T/inst" | tr '\n' ' ')" = "c.yaml link.yaml " ]; then
    echo "ok $n - install: the target holds the checked bytes, no temporary file is left"
else
    echo "not ok $n - install: the target holds the checked bytes, no temporary file is left"
    ls -lA "$T/inst" | sed 's/^/# /'
    nfailed=$((nfailed + 1))
fi
t "--version" 0 'stdout^^tlspolicy [0-9]+\.[0-9]+' --version
t "--help" 0 'stdout~usage: |stdout~cert_subject' --help
t "eval --help" 0 'stdout~usage: ' eval --help

# Pins: check shows the pinned certificate, eval takes the MTA's fingerprints.
PIN_CRT="$PKI/partner-c-selfsigned.crt"
PIN_RAW=$(openssl x509 -in "$PIN_CRT" -noout -fingerprint -sha256 | sed 's/.*=//')
PIN_HEX=$(printf '%s' "$PIN_RAW" | tr -d : | tr A-F a-f)
OTHER_RAW=$(openssl x509 -in "$PKI/partner-c-rekeyed.crt" -noout -fingerprint -sha256 | sed 's/.*=//')
pin_file() {
    printf '%s\n' "version: 1" "settings: { trust_store: $PKI/trust.pem }" "connectors:" \
        "  - name: partner-c" "    match: { sender_domains: [partner-c.test] }" \
        "    require: { certificates: [$1], min_key_bits: 2048 }" "    on_fail: reject"
}
pin_file "$PIN_CRT" >"$T/pins.yaml"
pin_file "$PKI/pin-rsa1024.crt" >"$T/pins-weak.yaml"
t "check: pinned certificate shown" 0 \
  "stdout~subject: CN=selfsigned.partner-c.test,O=Partner C SA,C=FR|stdout~organization: Partner C SA|stdout~key: RSA, 2048 bits|stdout~sans: DNS:selfsigned.partner-c.test|stdout~certificate_fingerprint: sha256:$PIN_HEX|stdout~expires: 20" \
  check "$T/pins.yaml"
t "check: a 1024-bit pinned certificate is refused by min_key_bits" 2 \
  "stderr~pin-rsa1024.crt: the RSA key has 1024 bits, below min_key_bits 2048" check "$T/pins-weak.yaml"
t "eval: cert_fp= of the pinned certificate passes" 0 \
  "connector=partner-c|verdict=pass|posture.cert_sha256=$PIN_HEX|posture.pubkey_sha256=null" \
  eval -c "$T/pins.yaml" --json mta=sendmail "${PF_TLS[@]}" verify=FAIL sender=a@partner-c.test "cert_fp=$PIN_RAW"
t "eval: cert_fp= of another key is refused, naming the pin" 1 \
  "verdict=fail|reasons.0~is not pinned (1 pinned, first certificate sha256:${PIN_HEX:0:16}" \
  eval -c "$T/pins.yaml" --json mta=postfix "${PF_TLS[@]}" sender=a@partner-c.test "cert_fp=$OTHER_RAW"
t "eval: text shows the fingerprints" 1 "stdout~  cert_sha256: |stdout~  pubkey_sha256: -" \
  eval -c "$T/pins.yaml" mta=postfix "${PF_TLS[@]}" sender=a@partner-c.test "cert_fp=$OTHER_RAW"

echo "1..$n"
[ "$nfailed" -eq 0 ]
