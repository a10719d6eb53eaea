#!/bin/sh
# mkpki.sh DIR -- generate the throw-away test PKI every test layer uses (unit
# tests of the trust store and evaluator, milter tests, e2e through Postfix and
# Sendmail, benchmarks). File names below are a contract: tests refer to them.
# Needs only POSIX sh and openssl. Never touches anything outside DIR, never reads
# the system openssl.cnf (OPENSSL_CONF=/dev/null), fails loudly (exit 1) when a
# step fails or an expected-good chain does not verify.
#
# Output (DIR is created; existing files in it are replaced):
#   CAs (RSA 2048, NAME.{key,crt}):
#     root-r1      /C=DE/O=Test PKI/CN=Test Root CA R1          self-signed
#     int-1        /C=DE/O=Test PKI/CN=Test Issuing CA 1        by root-r1
#     root-other   /C=US/O=Other PKI/CN=Other Root CA           self-signed
#     int-other    /C=US/O=Other PKI/CN=Other Issuing CA        by root-other
#     root-r2      /C=DE/O=Test PKI/CN=Test Root CA R2          self-signed
#     int-cross    /C=DE/O=Test PKI/CN=Test Cross CA            one key (int-cross.key),
#                  two certs: int-cross-r1.crt (by root-r1), int-cross-r2.crt (by root-r2)
#   Bundles: roots.pem (r1, other), ints.pem (int-1, int-other), roots+ints.pem,
#     all-roots.pem (r1, r2, other), cross.pem (both int-cross certs),
#     trust.pem (all-roots + ints + cross), certs/ (one CA per file, rehashed)
#   Server: server.{key,crt,chain.pem}  CN=mx.local.test, SAN mx.local.test,
#     localhost, 127.0.0.1, by int-1
#   Clients NAME.{key,crt,chain.pem} (chain = leaf + issuing CA; self-signed: leaf):
#     partner-a partner-a-ec partner-b partner-c-selfsigned expired wild partner-x
#     odd crlf nocn  (subjects: see subjects.txt)
#   Pins (all self-signed, CA:FALSE, subject /C=FR/O=Partner C SA/CN=...):
#     partner-c-renewed.crt   partner-c-selfsigned's key, a new certificate
#     partner-c-rekeyed.{key,crt}  same subject, another key
#     pin-rsa1024.{key,crt}   an RSA 1024 key (below any sane min_key_bits)
#     pin-soon.crt            partner-c-selfsigned's key, expires in 10 days
#     pin-with-key.pem        partner-c-selfsigned.crt followed by its key
#   legacy-openssl.cnf  OPENSSL_CONF for clients that must speak TLS 1.0/1.1
#   subjects.txt        "name<TAB>RFC 2253 subject" (without openssl's "subject=")
#   PKI-NOTES.txt       what openssl accepted or refused (CR LF in names, odd DN)
set -eu

DIR=${1:?usage: mkpki.sh DIR}
die() { echo "mkpki: $*" >&2; exit 1; }
command -v openssl >/dev/null 2>&1 || die "openssl not found in PATH"
mkdir -p "$DIR" || die "cannot create $DIR"
cd "$DIR" || die "cannot enter $DIR"
# Re-running into the same DIR must not mix old and new keys or CA databases.
rm -rf certs ca.db ./*.key ./*.crt ./*.csr ./*.pem ./*.cnf subjects.txt PKI-NOTES.txt
export OPENSSL_CONF=/dev/null
NOTES=PKI-NOTES.txt
: > "$NOTES"
# printf, not echo: dash's echo would expand the backslashes of RFC 2253 output.
note() { printf '%s\n' "$*" >> "$NOTES"; printf 'mkpki: %s\n' "$*" >&2; }

# ------------------------------------------------------------- extensions
cat > ext.cnf <<'EOF'
[ req ]
distinguished_name = req_dn
string_mask        = utf8only
utf8               = yes
[ req_dn ]

[ v3_root ]
basicConstraints       = critical,CA:TRUE
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ v3_int ]
basicConstraints       = critical,CA:TRUE,pathlen:0
keyUsage               = critical,keyCertSign,cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ leaf ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = clientAuth,serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ v3_server ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = serverAuth,clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = DNS:mx.local.test,DNS:localhost,IP:127.0.0.1

[ v3_partner_a ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = clientAuth,serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = DNS:mail.partner-a.test,DNS:relay.partner-a.test

[ v3_partner_a_ec ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature
extendedKeyUsage       = clientAuth,serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = DNS:mail.partner-a.test,DNS:relay.partner-a.test

[ v3_partner_b ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = clientAuth,serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = DNS:mail.partner-b.test

[ v3_selfsigned ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = clientAuth,serverAuth
subjectKeyIdentifier   = hash
subjectAltName         = DNS:selfsigned.partner-c.test

[ v3_expired ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = clientAuth,serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = DNS:expired.partner-a.test

[ v3_wild ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = clientAuth,serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = DNS:*.partner-a.test

[ v3_partner_x ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = clientAuth,serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = DNS:mail.partner-x.test

[ v3_odd ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = clientAuth,serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = DNS:odd.partner-a.test

[ v3_nocn ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = clientAuth,serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = DNS:mail.partner-a.test
EOF

# ------------------------------------------------------------- keys
# RSA key generation is nearly all of the run time: generate every key at once in
# the background so both cores work, then collect each job's status.
RSA_KEYS="root-r1 int-1 root-other int-other root-r2 int-cross server partner-a
partner-b partner-c-selfsigned expired wild partner-x odd crlf nocn partner-c-rekeyed"
umask 077
pids=
for k in $RSA_KEYS; do
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$k.key" 2>"$k.keylog" &
    pids="$pids $!"
done
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out partner-a-ec.key \
    2>partner-a-ec.keylog &
pids="$pids $!"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out pin-rsa1024.key \
    2>pin-rsa1024.keylog &
pids="$pids $!"
for p in $pids; do
    wait "$p" || { cat ./*.keylog >&2; die "key generation failed"; }
done
rm -f ./*.keylog
umask 022

# Random serials: a re-generated PKI never repeats issuer+serial pairs.
serial() { printf '0x7%s' "$(od -An -N7 -tx1 /dev/urandom | tr -d ' \n')"; }

# selfsign NAME SUBJ EXT DAYS
selfsign() {
    openssl req -new -x509 -key "$1.key" -subj "$2" -utf8 -days "$4" -sha256 \
        -config ext.cnf -extensions "$3" -set_serial "$(serial)" -out "$1.crt" ||
        die "self-signing $1 ($2) failed"
}
# csr NAME SUBJ [OUT]
csr() {
    openssl req -new -key "$1.key" -subj "$2" -utf8 -config ext.cnf -out "${3:-$1.csr}" ||
        die "request for $1 ($2) failed"
}
# sign NAME CA EXT DAYS [OUT [CAKEY]]  -- CA names CA.crt (and CA.key unless CAKEY)
sign() {
    openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "${6:-$2}.key" -set_serial "$(serial)" \
        -days "$4" -sha256 -extfile ext.cnf -extensions "$3" -out "${5:-$1.crt}" 2>/dev/null ||
        die "signing $1 by $2 failed"
}

# ------------------------------------------------------------- CAs
selfsign root-r1    "/C=DE/O=Test PKI/CN=Test Root CA R1" v3_root 7300
selfsign root-r2    "/C=DE/O=Test PKI/CN=Test Root CA R2" v3_root 7300
selfsign root-other "/C=US/O=Other PKI/CN=Other Root CA"  v3_root 7300
csr int-1     "/C=DE/O=Test PKI/CN=Test Issuing CA 1";  sign int-1 root-r1 v3_int 3650
csr int-other "/C=US/O=Other PKI/CN=Other Issuing CA";  sign int-other root-other v3_int 3650
# Cross-signing: one key and one subject, certified by two roots.
csr int-cross "/C=DE/O=Test PKI/CN=Test Cross CA"
sign int-cross root-r1 v3_int 3650 int-cross-r1.crt
sign int-cross root-r2 v3_int 3650 int-cross-r2.crt

cat root-r1.crt root-other.crt > roots.pem
cat int-1.crt int-other.crt > ints.pem
cat roots.pem ints.pem > roots+ints.pem
cat root-r1.crt root-r2.crt root-other.crt > all-roots.pem
cat int-cross-r1.crt int-cross-r2.crt > cross.pem
cat all-roots.pem ints.pem cross.pem > trust.pem

# ------------------------------------------------------------- server and clients
csr server "/C=DE/O=Local Test/CN=mx.local.test"; sign server int-1 v3_server 825

PA="/C=GB/O=Partner A Ltd/OU=Mail"
csr partner-a    "$PA/CN=mail.partner-a.test";   sign partner-a int-1 v3_partner_a 825
csr partner-a-ec "$PA/CN=mail.partner-a.test";   sign partner-a-ec int-1 v3_partner_a_ec 825
csr wild         "$PA/CN=*.partner-a.test";      sign wild int-1 v3_wild 825
csr nocn         "$PA NoCN";                     sign nocn int-1 v3_nocn 825
csr partner-b "/C=DE/O=Partner B GmbH/OU=Mail/CN=mail.partner-b.test"
sign partner-b int-other v3_partner_b 825
csr partner-x "/C=GB/O=Partner X/CN=mail.partner-x.test"
sign partner-x int-cross-r1 v3_partner_x 825 partner-x.crt int-cross
selfsign partner-c-selfsigned "/C=FR/O=Partner C SA/CN=selfsigned.partner-c.test" v3_selfsigned 825

# Pins: a renewal that keeps the key, one that does not, a weak key, one about
# to expire, and a pin file that wrongly carries the private key.
PC="/C=FR/O=Partner C SA"
cp partner-c-selfsigned.key partner-c-renewed.key
selfsign partner-c-renewed "$PC/CN=selfsigned.partner-c.test" v3_selfsigned 900
selfsign partner-c-rekeyed "$PC/CN=selfsigned.partner-c.test" v3_selfsigned 825
selfsign pin-rsa1024       "$PC/CN=weak.partner-c.test" v3_selfsigned 825
cp partner-c-selfsigned.key pin-soon.key
selfsign pin-soon          "$PC/CN=soon.partner-c.test" v3_selfsigned 10
rm -f partner-c-renewed.key pin-soon.key
cat partner-c-selfsigned.crt partner-c-selfsigned.key > pin-with-key.pem

# expired: "x509 -req" cannot back-date (OpenSSL 3.0), "openssl ca" can.
csr expired "$PA/CN=expired.partner-a.test"
mkdir ca.db
: > ca.db/index.txt
openssl rand -hex 8 > ca.db/serial
{
    cat <<'EOF'
[ ca ]
default_ca = CA_test
[ CA_test ]
dir             = ca.db
database        = ca.db/index.txt
new_certs_dir   = ca.db
serial          = ca.db/serial
default_md      = sha256
policy          = pol_any
unique_subject  = no
copy_extensions = none
email_in_dn     = no
utf8            = yes
string_mask     = utf8only
[ pol_any ]
countryName            = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied
EOF
    cat ext.cnf
} > ca.cnf
openssl ca -batch -config ca.cnf -cert int-1.crt -keyfile int-1.key -in expired.csr \
    -out expired.crt -startdate 20200101000000Z -enddate 20210101000000Z \
    -extensions v3_expired -notext 2>ca.log || { cat ca.log >&2; die "expired cert failed"; }
rm -rf ca.db ca.cnf ca.log

# odd: in OpenSSL 3.0 -subj an unescaped '+' starts a multi-valued RDN and '/'
# starts the next RDN, so both are escaped to stay literal.
ODD_CN='Odd "Quoted" Name, Inc. \+ Partner'"'"'s Zürich <mx> a\/b=c;d'
csr odd "/C=CH/O=Odd Org, Zürich/OU=Mail \+ Relay/CN=$ODD_CN"
sign odd int-1 v3_odd 825
note "odd: subject (RFC2253) = $(openssl x509 -in odd.crt -noout -subject -nameopt RFC2253)"

# crlf: CR LF inside CN and O, written as \r\n escapes in a config-file DN (the
# only portable way from POSIX sh; -subj would need raw CR bytes).
cat > crlf-req.cnf <<'EOF'
[ req ]
distinguished_name = dn
prompt             = no
utf8               = yes
string_mask        = utf8only
[ dn ]
C  = GB
O  = CRLF\r\nInjected-O: yes
CN = crlf\r\nX-Evil: 1.partner-a.test
EOF
CRLF_OK=0
if openssl req -new -key crlf.key -config crlf-req.cnf -out crlf.csr 2>crlf.log; then
    sign crlf int-1 leaf 825
    if openssl x509 -in crlf.crt -noout -subject -nameopt RFC2253,-esc_ctrl | od -c |
            grep -q '\\r  \\n'; then
        CRLF_OK=1
        note "crlf: openssl accepted CR LF (config-file backslash-r backslash-n escapes) in O and CN;" \
             "subject (RFC2253) = $(openssl x509 -in crlf.crt -noout -subject -nameopt RFC2253)"
    else
        note "crlf: openssl accepted the request but the subject holds no CR LF;" \
             "crlf.crt is NOT a CR LF test certificate"
    fi
else
    note "crlf: openssl REFUSED CR LF in a config-file DN: $(cat crlf.log)"
fi
rm -f crlf-req.cnf crlf.log

cat > legacy-openssl.cnf <<'EOF'
# OPENSSL_CONF (or Postfix tls_config_file) for tests that must speak TLS 1.0/1.1.
openssl_conf = default_conf
[ default_conf ]
ssl_conf = ssl_sect
[ ssl_sect ]
system_default = system_default_sect
[ system_default_sect ]
MinProtocol = TLSv1
CipherString = DEFAULT:@SECLEVEL=0
EOF

# ------------------------------------------------------------- chains, directory
cat server.crt int-1.crt > server.chain.pem
for c in partner-a partner-a-ec expired wild odd nocn; do cat "$c.crt" int-1.crt > "$c.chain.pem"; done
[ -f crlf.crt ] && cat crlf.crt int-1.crt > crlf.chain.pem
cat partner-b.crt int-other.crt > partner-b.chain.pem
cat partner-x.crt int-cross-r1.crt > partner-x.chain.pem
cp partner-c-selfsigned.crt partner-c-selfsigned.chain.pem

CA_CERTS="root-r1 root-r2 root-other int-1 int-other int-cross-r1 int-cross-r2"
mkdir certs
for c in $CA_CERTS; do cp "$c.crt" "certs/$c.pem"; done
if openssl rehash certs 2>/dev/null; then :
elif command -v c_rehash >/dev/null 2>&1; then c_rehash certs >/dev/null || die "c_rehash failed"
else die "neither 'openssl rehash' nor c_rehash works"
fi

rm -f ./*.csr
chmod 600 ./*.key
chmod 644 ./*.crt ./*.pem ./*.cnf certs/*.pem "$NOTES"
chmod 600 pin-with-key.pem

: > subjects.txt
for f in ./*.crt; do
    n=${f#./}; n=${n%.crt}
    s=$(openssl x509 -in "$f" -noout -subject -nameopt RFC2253) || die "cannot read $f"
    printf '%s\t%s\n' "$n" "${s#subject=}" >> subjects.txt
done
chmod 644 subjects.txt

# ------------------------------------------------------------- verify
fail=0
# check NAME CAFILE [UNTRUSTED] -- an expected-good chain must verify
check() {
    if [ $# -ge 3 ]; then out=$(openssl verify -CAfile "$2" -untrusted "$3" "$1.crt" 2>&1)
    else out=$(openssl verify -CAfile "$2" "$1.crt" 2>&1); fi
    if [ $? -ne 0 ]; then echo "mkpki: FAIL $1: $out" >&2; fail=1; fi
}
set +e
for c in int-1 int-cross-r1; do check "$c" root-r1.crt; done
check int-cross-r2 root-r2.crt
check int-other root-other.crt
for c in server partner-a partner-a-ec wild odd nocn; do check "$c" root-r1.crt int-1.crt; done
[ "$CRLF_OK" = 1 ] && check crlf root-r1.crt int-1.crt
check partner-b root-other.crt int-other.crt
check partner-x root-r1.crt int-cross-r1.crt
check partner-x root-r2.crt int-cross-r2.crt
check partner-x trust.pem
check partner-c-selfsigned partner-c-selfsigned.crt
for c in server partner-a partner-b partner-x wild; do check "$c" trust.pem; done
# expired: good signature chain (ignoring time), but must fail as expired (error 10)
out=$(openssl verify -no_check_time -CAfile root-r1.crt -untrusted int-1.crt expired.crt 2>&1) ||
    { echo "mkpki: FAIL expired (signatures): $out" >&2; fail=1; }
out=$(openssl verify -CAfile root-r1.crt -untrusted int-1.crt expired.crt 2>&1)
case $out in
*"error 10 "*) ;;
*) echo "mkpki: FAIL expired is not reported as expired: $out" >&2; fail=1 ;;
esac
# directory store: every chain through int-1 and int-cross verifies with certs/ alone
for c in partner-a partner-x partner-b; do
    out=$(openssl verify -CApath certs "$c.crt" 2>&1) ||
        { echo "mkpki: FAIL $c via certs/: $out" >&2; fail=1; }
done
set -e
[ "$fail" = 0 ] || die "some expected-good chains do not verify"
echo "mkpki: test PKI in $(pwd)" >&2
