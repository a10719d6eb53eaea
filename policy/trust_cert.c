/*
 * trust_cert.c -- one CA certificate of the trust store: its subject CN, OU and
 * canonical DN (as decoded, and normalised for comparing with what an
 * administrator writes), its SHA-256 fingerprint, key digest and expiry, and
 * the accessors trust_store.h gives callers, PEM text included.
 * Never: decides anything from the expiry (it is shown, see trust_store.c), or
 * escapes (callers do, for where they print).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "analyzer.h"
#include "cert_dn.h"
#include "trust_int.h"

/* ---- names ---- */

/* Type name as OpenSSL prints it ("CN", "O"), dotted OID when it has none. */
static char *
ts_type_name(const ASN1_OBJECT *obj)
{
    const char *sn = NULL;
    char *s;
    int nid = OBJ_obj2nid(obj), len;

    if (nid != NID_undef)
        sn = OBJ_nid2sn(nid);
    if (sn != NULL)
        return strdup(sn);
    len = OBJ_obj2txt(NULL, 0, obj, 1);
    if (len <= 0)
        return strdup("UNKNOWN");
    if ((s = malloc((size_t)len + 1)) == NULL)
        return NULL;
    if (OBJ_obj2txt(s, len + 1, obj, 1) != len) {
        free(s);
        return strdup("UNKNOWN");
    }
    return s;
}

/*
 * Subject CN, OU and canonical DN of a certificate. Values are UTF-8; a value
 * with an embedded NUL cannot be compared as a C string without truncation, so
 * such a CA is kept in the graph but not indexed by name (*name_ok = false).
 */
ANALYZER_ARRAYS_BEGIN
static int
ts_names(X509 *x, char **cn, char **ou, char **dn, bool *name_ok)
{
    const X509_NAME *name = X509_get_subject_name(x);
    struct cert_dn d = { 0, NULL };
    int i, count = X509_NAME_entry_count(name), rc = -1;

    *cn = NULL;
    *ou = NULL;
    *dn = NULL;
    *name_ok = true;
    if (count > 0 && (d.rdn = calloc((size_t)count, sizeof *d.rdn)) == NULL)
        goto out;
    for (i = 0; i < count; i++) {
        const X509_NAME_ENTRY *ne = X509_NAME_get_entry(name, i);
        const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(ne);
        unsigned char *utf8 = NULL;
        int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(ne));
        char *v;

        ERR_clear_error();
        if (len < 0) {
            /* Undecodable string type: keep the slot so the DN stays unique. */
            *name_ok = false;
            len = 0;
        } else if (memchr(utf8, '\0', (size_t)len) != NULL) {
            *name_ok = false;
        }
        v = malloc((size_t)len + 1);
        if (v != NULL) {
            if (len > 0)
                memcpy(v, utf8, (size_t)len);
            v[len] = '\0';
        }
        OPENSSL_free(utf8);
        if (v == NULL)
            goto out;
        d.rdn[d.n].value = v;
        d.rdn[d.n].type = ts_type_name(obj);
        d.n++;
        if (d.rdn[d.n - 1].type == NULL)
            goto out;
        if (*cn == NULL && OBJ_obj2nid(obj) == NID_commonName && (*cn = strdup(v)) == NULL)
            goto out;
        if (*ou == NULL && OBJ_obj2nid(obj) == NID_organizationalUnitName &&
            (*ou = strdup(v)) == NULL)
            goto out;
    }
    if ((*cn == NULL && (*cn = strdup("")) == NULL) || (*ou == NULL && (*ou = strdup("")) == NULL))
        goto out;
    if ((*dn = cert_dn_canonical(&d)) == NULL)
        goto out;
    rc = 0;
out:
    cert_dn_free(&d);
    if (rc < 0) {
        free(*cn);
        free(*ou);
        free(*dn);
        *cn = *ou = *dn = NULL;
    }
    return rc;
}
ANALYZER_ARRAYS_END

/* notAfter as seconds since the epoch, (time_t)-1 when it cannot be read. */
static time_t
tc_not_after(X509 *x)
{
    const ASN1_TIME *t = X509_get0_notAfter(x);
    struct tm tm;

    memset(&tm, 0, sizeof tm);
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        ERR_clear_error();
        return (time_t)-1;
    }
    return timegm(&tm);
}

int
trust_cert_fill(struct trust_cert *c)
{
    static const char hex[] = "0123456789abcdef";
    unsigned int len = 0;

    for (size_t i = 0; i < sizeof c->sha; i++) {
        c->sha_hex[2 * i] = hex[c->sha[i] >> 4];
        c->sha_hex[2 * i + 1] = hex[c->sha[i] & 15];
    }
    c->sha_hex[2 * sizeof c->sha] = '\0';
    /* A key that cannot be digested leaves spki zero: such a certificate is then
     * "the same CA" only as another one with the same subject and no key either. */
    if (X509_pubkey_digest(c->x, EVP_sha256(), c->spki, &len) != 1 || len != sizeof c->spki)
        memset(c->spki, 0, sizeof c->spki);
    ERR_clear_error();
    c->not_after = tc_not_after(c->x);
    if (ts_names(c->x, &c->cn, &c->ou, &c->dn, &c->name_ok) < 0)
        return -1;
    if ((c->ncn = trust_name_norm(c->cn)) == NULL || (c->nou = trust_name_norm(c->ou)) == NULL ||
        (c->ndn = trust_name_norm(c->dn)) == NULL)
        return -1;
    return 0;
}

void
trust_cert_clear(struct trust_cert *c)
{
    X509_free(c->x);
    free(c->cn);
    free(c->ou);
    free(c->dn);
    free(c->ncn);
    free(c->nou);
    free(c->ndn);
    free(c->issuers);
    free(c->roots);
    memset(c, 0, sizeof *c);
}

/* ---- accessors ---- */

const struct trust_cert *
trust_store_cert(const struct trust_store *ts, size_t i)
{
    return ts != NULL && i < ts->n ? &ts->certs[i] : NULL;
}

const char *
trust_cert_cn(const struct trust_cert *c)
{
    return c->cn;
}

const char *
trust_cert_ou(const struct trust_cert *c)
{
    return c->ou;
}

const char *
trust_cert_dn(const struct trust_cert *c)
{
    return c->dn;
}

const char *
trust_cert_sha256(const struct trust_cert *c)
{
    return c->sha_hex;
}

time_t
trust_cert_not_after(const struct trust_cert *c)
{
    return c->not_after;
}

bool
trust_cert_self_signed(const struct trust_cert *c)
{
    return c->self_signed;
}

size_t
trust_cert_root_count(const struct trust_cert *c)
{
    return c->nroots;
}

const struct trust_cert *
trust_cert_root(const struct trust_cert *c, size_t i)
{
    return i < c->nroots ? &c->ts->certs[c->roots[i]] : NULL;
}

char *
trust_cert_pem(const struct trust_cert *c)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL, *s = NULL;
    long len;

    if (b == NULL)
        goto out;
    if (PEM_write_bio_X509(b, c->x) != 1)
        goto out;
    len = BIO_get_mem_data(b, &data);
    if (len < 0 || (s = malloc((size_t)len + 1)) == NULL)
        goto out;
    memcpy(s, data, (size_t)len);
    s[len] = '\0';
out:
    BIO_free(b);
    ERR_clear_error();
    return s;
}
