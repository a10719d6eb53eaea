#!/usr/bin/env bash
# doc/examples/readme-examples.sh -- the README's worked example, produced by running it.
#   readme-examples.sh [README]           rewrite the generated blocks of README in place
#   readme-examples.sh --check [README]   exit 1 and show the difference when README is stale
# Runs the real tlspolicy ($TLSPOLICY, else tools/tlspolicy of $top_builddir, else the one
# on PATH) on doc/examples/contoso.yaml, in a scratch directory that also holds a stand-in
# for Contoso's root and issuing CA made here with openssl (names only matter: tlspolicy
# maps an issuer to its root by name), and puts the file and the transcript into README
# between the lines "<!-- example NAME begin -->" and "<!-- example NAME end -->".
# Owns: what the worked example shows. Never: edits README outside those blocks, or
# writes outside its scratch directory (the check mode writes nothing at all).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
check=0
[ "${1:-}" = --check ] && { check=1; shift; }
readme=${1:-$top/README}
[ -f "$readme" ] || { echo "readme-examples: no README at $readme" >&2; exit 2; }

tool=${TLSPOLICY:-}
if [ -z "$tool" ] && [ -x "${top_builddir:-$top}/tools/tlspolicy" ]; then
    tool=${top_builddir:-$top}/tools/tlspolicy
fi
[ -n "$tool" ] || tool=$(command -v tlspolicy) ||
    { echo "readme-examples: no tlspolicy (build it, or set TLSPOLICY)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "readme-examples: openssl is needed for the example CAs" >&2; exit 2; }

S=$(mktemp -d "${TMPDIR:-/tmp}/readme-examples.XXXXXX")
trap 'rm -rf "$S"' EXIT
mkdir "$S/run" "$S/blocks" "$S/bin"
ln -s "$(cd "$(dirname "$tool")" && pwd)/$(basename "$tool")" "$S/bin/tlspolicy"

# The stand-in PKI: "Contoso Root CA" and "Contoso Issuing CA 2" under it.
ca() {   # NAME CN [ISSUER]
    local ext=$S/ca.ext
    printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$ext"
    openssl req -new -newkey rsa:2048 -nodes -keyout "$S/$1.key" -subj "/O=Contoso/CN=$2" \
        -out "$S/$1.csr" 2>/dev/null
    if [ -z "${3:-}" ]; then
        openssl x509 -req -in "$S/$1.csr" -signkey "$S/$1.key" -days 3650 -extfile "$ext" \
            -out "$S/$1.pem" 2>/dev/null
    else
        openssl x509 -req -in "$S/$1.csr" -CA "$S/$3.pem" -CAkey "$S/$3.key" -CAcreateserial \
            -days 3650 -extfile "$ext" -out "$S/$1.pem" 2>/dev/null
    fi
}
export OPENSSL_CONF=/dev/null
ca root "Contoso Root CA"
ca issuing "Contoso Issuing CA 2" root
cp "$S/root.pem" "$S/run/contoso-root.pem"
cp "$S/issuing.pem" "$S/run/contoso-issuing-ca.pem"
cp "$here/contoso.yaml" "$S/run/connectors.yaml"
cp "$here/public.yaml" "$S/run/public.yaml"

# block NAME: stdin becomes the block, indented by four spaces as the README's examples are
block() { sed -e 's/^/    /' -e 's/ *$//' >"$S/blocks/$1"; }

block contoso-yaml <"$here/contoso.yaml"

# transcript COMMAND...: each command as typed (backslash-newline continuations kept),
# then what it printed, then "echo $?" with its status; run in the scratch directory.
transcript() {
    local c out rc
    for c in "$@"; do
        rc=0
        out=$(cd "$S/run" && PATH="$S/bin:$PATH" bash -c "$c" 2>&1) || rc=$?
        printf '$ %s\n' "$c"
        [ -z "$out" ] || printf '%s\n' "$out"
        printf '$ echo $?\n%s\n' "$rc"
    done
}
transcript 'tlspolicy check -c connectors.yaml' | block contoso-check
transcript "tlspolicy eval -c connectors.yaml mta=postfix sender='<a@contoso.example>' \\
      tls_version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 cipher_bits=256 \\
      cert_subject=mail.contoso.example cert_issuer='Contoso Issuing CA 2'" | block contoso-pass
transcript "tlspolicy eval -c connectors.yaml mta=postfix sender='<a@contoso.example>' \\
      tls_version=TLSv1.2 cipher=AES256-GCM-SHA384 cipher_bits=256 \\
      cert_subject=mail.contoso.example cert_issuer='Contoso Issuing CA 2'" | block contoso-fail

# A partner under a public root: the names resolve in Debian's real CA bundle.
[ -r /etc/ssl/certs/ca-certificates.crt ] ||
    { echo "readme-examples: /etc/ssl/certs/ca-certificates.crt is needed (apt-get install ca-certificates)" >&2; exit 2; }
block public-yaml <"$here/public.yaml"
transcript 'tlspolicy check -c public.yaml' \
    "tlspolicy trust 'root ca - r3' -c public.yaml" | block public-trust

# Replace each generated block; a marker without its block, or a block without its
# markers, is an error (a renamed block must not silently stop being checked).
awk -v dir="$S/blocks" '
    /^<!-- example [a-z0-9-]+ begin -->$/ {
        name = $3; print; f = dir "/" name
        if ((getline l < f) <= 0) { print "readme-examples: no block " name > "/dev/stderr"; bad = 1 }
        else { print l; while ((getline l < f) > 0) print l }
        close(f); seen[name] = 1; skip = 1; next
    }
    /^<!-- example [a-z0-9-]+ end -->$/ { skip = 0 }
    !skip { print }
    END { if (skip) { print "readme-examples: unterminated block" > "/dev/stderr"; bad = 1 }
          for (n in seen) print n > (dir "/../seen")
          exit bad }' "$readme" >"$S/README.new"
for f in "$S"/blocks/*; do
    grep -qx "$(basename "$f")" "$S/seen" 2>/dev/null ||
        { echo "readme-examples: $readme has no markers for block $(basename "$f")" >&2; exit 1; }
done

if [ "$check" = 1 ]; then
    if ! diff -u "$readme" "$S/README.new"; then
        echo "readme-examples: $readme differs from what the commands print; run $0" >&2
        exit 1
    fi
    exit 0
fi
cmp -s "$readme" "$S/README.new" || cat "$S/README.new" >"$readme"
