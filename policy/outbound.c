/*
 * outbound.c -- the outbound-connector model of outbound.h: which connector a
 * recipient domain falls under (most specific pattern wins), the accessors the
 * exporters use, freeing, and the one place that turns a root_issuers name
 * into root certificates (outbound_roots_resolve).
 * Never: logs, exits, writes a file, or follows a symbolic link named by the
 * connectors file (pem_certs.c reads the trust store under that rule).
 * Diagnostics: outbound_roots_resolve says which name found no root and why.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert_dn.h"
#include "outbound_int.h"
#include "pem_certs.h"
#include "policy_int.h"
#include "strfmt.h"
#include "trust_store.h"

size_t
policy_outbound_count(const struct policy *p)
{
    return p->nout;
}

const struct outbound_connector *
policy_outbound_get(const struct policy *p, size_t i)
{
    return i < p->nout ? &p->out[i] : NULL;
}

bool
outbound_requires_nothing(const struct outbound_connector *c)
{
    return !c->tls && c->min_version < 0 && c->min_cipher_bits == 0 && !c->forward_secrecy &&
           !c->verified && c->nnames == 0 && c->nroots == 0;
}

/* Longer than any domain name: an exact pattern outranks every wildcard. */
#define DOMAIN_RANK_EXACT 1024

/* How specific a pattern is for name: the length of what it pins down (an exact
 * match beats any wildcard), or -1 when it does not match. */
static long
pattern_rank(const char *pattern, const char *name, size_t len)
{
    size_t pl;

    if (pattern[0] == '*') {
        const char *suffix = pattern + 1;            /* ".partner.test" */
        pl = strlen(suffix);
        if (len > pl && strncasecmp(name + len - pl, suffix, pl) == 0)
            return (long)pl;
        return -1;
    }
    pl = strlen(pattern);
    if (len == pl && strncasecmp(name, pattern, len) == 0)
        return (long)DOMAIN_RANK_EXACT;
    return -1;
}

/* A linear scan: an outbound list names partners, tens not thousands, and it
 * is asked offline by the tool, never per message by the daemon. */
const struct outbound_connector *
policy_outbound_find(const struct policy *p, const char *domain, const char **pattern)
{
    const struct outbound_connector *best = NULL;
    const char *best_pat = NULL;
    long best_rank = -1;
    size_t len = strlen(domain);

    if (len > 0 && domain[len - 1] == '.')
        len--;
    for (size_t i = 0; i < p->nout; i++)
        for (size_t j = 0; j < p->out[i].ndomains; j++) {
            long rank = pattern_rank(p->out[i].domains[j].pattern, domain, len);
            if (rank > best_rank) {
                best_rank = rank;
                best = &p->out[i];
                best_pat = p->out[i].domains[j].pattern;
            }
        }
    if (pattern != NULL)
        *pattern = best_pat;
    return best;
}

bool
outbound_pattern_covers(const char *wide, const char *narrow)
{
    const char *suffix = wide + 1, *name = narrow[0] == '*' ? narrow + 1 : narrow;
    size_t sl, nl;

    if (wide[0] != '*')
        return false;
    sl = strlen(suffix);
    nl = strlen(name);
    return nl > sl && strcasecmp(name + nl - sl, suffix) == 0;
}

/* ---------------------------------------------------------------- roots */

/* The canonical subject DN of a certificate, the form trust_store.c keys on. */
static char *
subject_canonical(X509 *x)
{
    char *line = X509_NAME_oneline(X509_get_subject_name(x), NULL, 0), *canon = NULL;
    struct cert_dn dn = { 0, NULL };
    const char *why = NULL;

    if (line == NULL)
        return NULL;
    if (cert_dn_parse_oneline(line, &dn, &why) == 0)
        canon = cert_dn_canonical(&dn);
    cert_dn_free(&dn);
    OPENSSL_free(line);
    return canon;
}

static char *
x509_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    BUF_MEM *mem = NULL;
    char *s = NULL;

    if (b == NULL)
        return NULL;
    if (PEM_write_bio_X509(b, x) == 1 && BIO_get_mem_ptr(b, &mem) == 1 && mem != NULL)
        s = strndup(mem->data, mem->length);
    BIO_free(b);
    ERR_clear_error();
    return s;
}

/* Append the PEM of every self-signed certificate of ld whose subject is dn
 * (a bundle may carry the same root twice: kept once). */
static int
collect_pem(struct outbound_root *root, const struct pem_certs *ld, const char *dn)
{
    for (size_t i = 0; i < ld->n; i++) {
        X509 *x = ld->x[i];
        char *canon, *pem;
        bool dup = false;

        if (X509_check_issued(x, x) != X509_V_OK)
            continue;
        if ((canon = subject_canonical(x)) == NULL)
            continue;
        bool same = strcasecmp(canon, dn) == 0;
        free(canon);
        if (!same)
            continue;
        if ((pem = x509_pem(x)) == NULL)
            return -1;
        for (size_t k = 0; k < root->n; k++)
            if (root->pem[k] != NULL && strcmp(root->pem[k], pem) == 0)
                dup = true;
        if (dup) {
            free(pem);
            continue;
        }
        if (outbound_root_add(root, dn, pem) < 0)
            return -1;
    }
    return 0;
}

/*
 * Resolve one root_issuers entry against the policy's trust store: the name
 * must be a self-signed CA's CN or DN. This is the only function that knows
 * how roots are found, so a better resolver replaces it alone. Returns 0, 1
 * (nothing found: *why is a new message), or -1 (out of memory).
 */
int
outbound_roots_resolve(const struct policy *p, struct outbound_root *root, char **why)
{
    const struct trust_roots *tr;
    struct pem_certs ld = { NULL, 0, 0 };
    char *err = NULL;
    int rc = -1;

    *why = NULL;
    tr = root->is_dn ? trust_store_roots_by_dn(p->trust, root->name)
                     : trust_store_roots_by_cn(p->trust, root->name);
    if (p->trust == NULL || tr == NULL || tr->n == 0) {
        *why = strfmt("no CA in the trust store %s has that %s", p->trust_store_path,
                      root->is_dn ? "subject DN" : "subject CN");
        return *why != NULL ? 1 : -1;
    }
    /* Roots only: an intermediate as the anchor would trust less than the
     * inbound root_issuers of the same name. */
    bool is_root = false;
    for (size_t i = 0; i < tr->n; i++)
        if (root->is_dn ? strcasecmp(tr->dn[i], root->name) == 0
                        : strcasecmp(tr->cn[i], root->name) == 0)
            is_root = true;
    if (!is_root) {
        *why = strfmt("it names an intermediate CA, not a root (its root: %s)", tr->display);
        return *why != NULL ? 1 : -1;
    }
    size_t found = 0;
    bool is_dir = false;
    if (pem_certs_load(&ld, p->trust_store_path, true, &found, &is_dir, &err) < 0) {
        *why = err;
        err = NULL;
        rc = *why != NULL ? 1 : -1;
        goto out;
    }
    for (size_t i = 0; i < tr->n; i++) {
        bool want = root->is_dn ? strcasecmp(tr->dn[i], root->name) == 0
                                : strcasecmp(tr->cn[i], root->name) == 0;
        if (want && collect_pem(root, &ld, tr->dn[i]) < 0)
            goto out;
    }
    if (root->n == 0) {
        *why = strfmt("the trust store %s names it, but holds no self-signed certificate "
                      "of that subject", p->trust_store_path);
        rc = *why != NULL ? 1 : -1;
        goto out;
    }
    for (size_t i = 0; i < root->n; i++)
        for (size_t j = 0; j < tr->n; j++)
            if (strcasecmp(tr->dn[j], root->root_dn[i]) == 0 && root->root_cn[i] == NULL &&
                (root->root_cn[i] = strdup(tr->cn[j])) == NULL)
                goto out;
    rc = 0;
out:
    free(err);
    pem_certs_free(&ld);
    return rc;
}

/* ---------------------------------------------------------------- freeing */

int
outbound_root_add(struct outbound_root *root, const char *dn, char *pem)
{
    size_t n = root->n + 1;
    char **d = realloc(root->root_dn, n * sizeof(char *));
    if (d != NULL)
        root->root_dn = d;
    char **c = realloc(root->root_cn, n * sizeof(char *));
    if (c != NULL)
        root->root_cn = c;
    char **pm = realloc(root->pem, n * sizeof(char *));
    if (pm != NULL)
        root->pem = pm;
    if (d == NULL || c == NULL || pm == NULL || (d[root->n] = strdup(dn)) == NULL) {
        free(pem);
        return -1;
    }
    c[root->n] = NULL;
    pm[root->n] = pem;
    root->n = n;
    return 0;
}

void
outbound_connector_free(struct outbound_connector *c)
{
    free(c->name);
    for (size_t i = 0; i < c->ndomains; i++)
        free(c->domains[i].pattern);
    free(c->domains);
    for (size_t i = 0; i < c->nhosts; i++) {
        free(c->hosts[i].text);
        free(c->hosts[i].host);
    }
    free(c->hosts);
    for (size_t i = 0; i < c->nnames; i++)
        free(c->names[i]);
    free(c->names);
    for (size_t i = 0; i < c->nroots; i++) {
        struct outbound_root *r = &c->roots[i];
        for (size_t k = 0; k < r->n; k++) {
            free(r->root_dn[k]);
            free(r->root_cn[k]);
            free(r->pem[k]);
        }
        free(r->root_dn);
        free(r->root_cn);
        free(r->pem);
        free(r->name);
    }
    free(c->roots);
    memset(c, 0, sizeof(*c));
}

void
outbound_free_all(struct policy *p)
{
    for (size_t i = 0; i < p->nout; i++)
        outbound_connector_free(&p->out[i]);
    free(p->out);
    p->out = NULL;
    p->nout = 0;
}
