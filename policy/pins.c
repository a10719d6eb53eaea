/*
 * pins.c -- the pins of one require or match block: fingerprints given in the
 * file, and the certificates of the PEM files of require.certificates, read
 * through file_read.c and pem_certs.c and described for tlspolicy check
 * (subject, O, OU, key type and size, SANs, expiry).
 * Never: follows a symbolic link or blocks on a FIFO named by the file, pins a
 * CA certificate or accepts a file holding a private key, or logs.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "file_read.h"
#include "pem_certs.h"
#include "pins.h"
#include "strbuf.h"
#include "strfmt.h"

#define PIN_MAX_FILE  ((size_t)1024 * 1024)   /* a partner's certificate, not a bundle */
#define PIN_EXPECTED  "a PEM file holding the partner's certificate"

static int
fp_push(struct pin_fp **v, size_t *n, const char *hex)
{
    struct pin_fp *grown;

    if ((grown = realloc(*v, (*n + 1) * sizeof(**v))) == NULL)
        return -1;
    *v = grown;
    memcpy(grown[*n].hex, hex, FINGERPRINT_SIZE);
    grown[*n].hex[FINGERPRINT_HEX_LEN] = '\0';
    (*n)++;
    return 0;
}

int
pins_add(struct policy_pins *p, bool pubkey, const char *hex)
{
    if (pins_has(p, pubkey, hex))
        return 0;
    return pubkey ? fp_push(&p->pubkey, &p->npubkey, hex) : fp_push(&p->cert, &p->ncert, hex);
}

bool
pins_has(const struct policy_pins *p, bool pubkey, const char *hex)
{
    const struct pin_fp *v = pubkey ? p->pubkey : p->cert;
    size_t n = pubkey ? p->npubkey : p->ncert;

    for (size_t i = 0; hex != NULL && i < n; i++)
        if (strcmp(v[i].hex, hex) == 0)
            return true;
    return false;
}

bool
pins_match(const struct policy_pins *p, const char *cert_sha256, const char *pubkey_sha256)
{
    return pins_has(p, false, cert_sha256) || pins_has(p, true, pubkey_sha256);
}

const struct pin_cert *
pins_file_of(const struct policy_pins *p, const char *cert_sha256, const char *pubkey_sha256)
{
    for (size_t i = 0; i < p->nfiles; i++)
        if ((cert_sha256 != NULL && strcmp(p->files[i].cert.hex, cert_sha256) == 0) ||
            (pubkey_sha256 != NULL && strcmp(p->files[i].pubkey.hex, pubkey_sha256) == 0))
            return &p->files[i];
    return NULL;
}

bool
pins_cover(const struct policy_pins *a, const struct policy_pins *b)
{
    for (size_t i = 0; i < b->ncert; i++)
        if (!pins_has(a, false, b->cert[i].hex))
            return false;
    for (size_t i = 0; i < b->npubkey; i++)
        if (!pins_has(a, true, b->pubkey[i].hex))
            return false;
    return true;
}

int
pins_rsa_equiv(int security_bits)
{
    static const struct { int sec, rsa; } t[] = {
        { 256, 15360 }, { 192, 7680 }, { 128, 3072 }, { 112, 2048 }, { 80, 1024 },
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (security_bits >= t[i].sec)
            return t[i].rsa;
    return 0;
}

static void
hex_of(const unsigned char *md, unsigned n, char out[FINGERPRINT_SIZE])
{
    static const char digits[] = "0123456789abcdef";

    for (unsigned i = 0; i < n && i < FINGERPRINT_HEX_LEN / 2; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[FINGERPRINT_HEX_LEN] = '\0';
}

/* SHA-256 of the DER certificate and of its SubjectPublicKeyInfo: what Postfix's
 * ccert_fingerprint and ccert_pubkey_fingerprint and Sendmail's {cert_fp} hash. */
static int
cert_digests(X509 *x, struct pin_cert *pc)
{
    unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
    unsigned n = 0;
    int len, rc = -1;

    if (X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32)
        return -1;
    hex_of(md, n, pc->cert.hex);
    if ((len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0)
        return -1;
    if (EVP_Digest(der, (size_t)len, md, &n, EVP_sha256(), NULL) == 1 && n == 32) {
        hex_of(md, n, pc->pubkey.hex);
        rc = 0;
    }
    OPENSSL_free(der);
    return rc;
}

/* The first entry of nid in name, as UTF-8; *out stays NULL when there is none. */
static int
name_entry(const X509_NAME *name, int nid, char **out)
{
    int i = X509_NAME_get_index_by_NID(name, nid, -1);
    unsigned char *u = NULL;
    int len;

    *out = NULL;
    if (i < 0)
        return 0;
    if ((len = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)))) < 0)
        return -1;
    *out = strndup((const char *)u, (size_t)len);
    OPENSSL_free(u);
    return *out == NULL ? -1 : 0;
}

static char *
subject_of(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *s = NULL;
    long len;

    if (b == NULL)
        return NULL;
    /* RFC 2253 order and escapes, but UTF-8 kept as such: the display escapes. */
    if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
                           XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
        (len = BIO_get_mem_data(b, &data)) >= 0)
        s = strndup(data, (size_t)len);
    BIO_free(b);
    return s;
}

static char *
key_type_of(EVP_PKEY *k)
{
    char group[64];
    size_t glen = 0;

    switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA:
        return strdup("RSA");
    case EVP_PKEY_DSA:
        return strdup("DSA");
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                           &glen) == 1) {
            const char *nist = EC_curve_nid2nist(OBJ_sn2nid(group));
            return strfmt("EC %s", nist != NULL ? nist : group);
        }
        return strdup("EC");
    default: {
        const char *t = EVP_PKEY_get0_type_name(k);
        return strdup(t != NULL ? t : "unknown");
    }
    }
}

/* "DNS:a, IP:192.0.2.1, email:x@y": the SANs a partner's admin would compare. */
static int
sans_of(X509 *x, char **out)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    struct strbuf b;
    int rc = 0;

    *out = NULL;
    if (gens == NULL)
        return 0;
    strbuf_init(&b);
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const ASN1_STRING *s = NULL;
        const char *tag = NULL;
        char ip[INET6_ADDRSTRLEN];

        if (b.len > 0)
            strbuf_puts(&b, ", ");
        switch (g->type) {
        case GEN_DNS:
            tag = "DNS:", s = g->d.dNSName;
            break;
        case GEN_EMAIL:
            tag = "email:", s = g->d.rfc822Name;
            break;
        case GEN_URI:
            tag = "URI:", s = g->d.uniformResourceIdentifier;
            break;
        case GEN_IPADD: {
            int len = ASN1_STRING_length(g->d.iPAddress);
            const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);

            strbuf_puts(&b, "IP:");
            if ((len == 4 || len == 16) &&
                inet_ntop(len == 4 ? AF_INET : AF_INET6, a, ip, sizeof(ip)) != NULL)
                strbuf_puts(&b, ip);
            else
                strbuf_puts(&b, "?");
            continue;
        }
        default:
            strbuf_puts(&b, "other");
            continue;
        }
        strbuf_puts(&b, tag);
        strbuf_putn(&b, (const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
    }
    GENERAL_NAMES_free(gens);
    if (b.oom || (*out = strdup(strbuf_str(&b))) == NULL)
        rc = -1;
    strbuf_free(&b);
    return rc;
}

static bool
is_ca(X509 *x)
{
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
    bool ca = bc != NULL && bc->ca;

    BASIC_CONSTRAINTS_free(bc);
    return ca;
}

static void
pin_cert_free(struct pin_cert *pc)
{
    free(pc->file);
    free(pc->subject);
    free(pc->o);
    free(pc->ou);
    free(pc->key_type);
    free(pc->sans);
}

/* Describe x into pc. 0, or -1 when out of memory or OpenSSL could not say. */
static int
pin_cert_fill(X509 *x, struct pin_cert *pc)
{
    const X509_NAME *subj = X509_get_subject_name(x);
    EVP_PKEY *k = X509_get0_pubkey(x);
    struct tm tm;
    int id;

    if (k == NULL || cert_digests(x, pc) < 0 ||
        (pc->subject = subject_of(x)) == NULL ||
        name_entry(subj, NID_organizationName, &pc->o) < 0 ||
        name_entry(subj, NID_organizationalUnitName, &pc->ou) < 0 ||
        (pc->key_type = key_type_of(k)) == NULL || sans_of(x, &pc->sans) < 0 ||
        ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
        return -1;
    pc->not_after = (int64_t)timegm(&tm);
    pc->key_bits = EVP_PKEY_get_bits(k);
    id = EVP_PKEY_get_base_id(k);
    pc->rsa_equiv = (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS || id == EVP_PKEY_DSA)
                    ? pc->key_bits : pins_rsa_equiv(EVP_PKEY_get_security_bits(k));
    return 0;
}

/* A private key in a pin file: whoever can read the connectors file could read
 * the key, and the milter has no use for it. */
static bool
holds_private_key(const char *buf, size_t len)
{
    static const char marker[] = "PRIVATE KEY-----";

    return memmem(buf, len, marker, sizeof(marker) - 1) != NULL;
}

int
pins_load_file(struct policy_pins *p, const char *path, unsigned line, unsigned column,
               char **err)
{
    struct pem_certs ld = { 0 };
    char *buf = NULL, *why = NULL;
    size_t len, found = 0, i;
    int rc = -1;

    /* the path comes from the connectors file: no link followed, no FIFO read */
    if (file_read(path, 0, PIN_MAX_FILE, PIN_EXPECTED, &buf, &len, &why) < 0) {
        strfmt_set(err, "%s: %s", path, why ? why : "out of memory");
        goto out;
    }
    if (holds_private_key(buf, len)) {
        strfmt_set(err, "%s: holds a private key (expected only the partner's certificate; "
                   "remove the key from the file and keep it away from the milter)", path);
        goto out;
    }
    if (pem_certs_parse(path, buf, len, &ld, &found, err) < 0)
        goto out;
    if (found == 0) {
        strfmt_set(err, "%s: holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)",
                   path);
        goto out;
    }
    for (i = 0; i < ld.n; i++)
        if (is_ca(ld.x[i])) {
            char *s = subject_of(ld.x[i]);

            strfmt_set(err, "%s: certificate %zu (%s) is a CA certificate (basicConstraints "
                       "CA:TRUE); expected the partner's own end-entity certificate (a CA "
                       "belongs in issuers or root_issuers)", path, i + 1, s ? s : "?");
            free(s);
            goto out;
        }
    for (i = 0; i < ld.n; i++) {
        struct pin_cert *grown, *pc;

        if ((grown = realloc(p->files, (p->nfiles + 1) * sizeof(*grown))) == NULL)
            goto oom;
        p->files = grown;
        pc = &grown[p->nfiles];
        memset(pc, 0, sizeof(*pc));
        pc->line = line;
        pc->column = column;
        if ((pc->file = strdup(path)) == NULL || pin_cert_fill(ld.x[i], pc) < 0) {
            pin_cert_free(pc);
            goto oom;
        }
        p->nfiles++;
        if (pins_add(p, false, pc->cert.hex) < 0)
            goto oom;
    }
    rc = 0;
    goto out;
oom:
    strfmt_set(err, "%s: out of memory describing its certificates", path);
out:
    ERR_clear_error();
    pem_certs_free(&ld);
    free(buf);
    free(why);
    return rc;
}

void
pins_free(struct policy_pins *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nfiles; i++)
        pin_cert_free(&p->files[i]);
    free(p->files);
    free(p->cert);
    free(p->pubkey);
    memset(p, 0, sizeof(*p));
}
