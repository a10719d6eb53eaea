/*
 * outbound.c -- the outbound-connector model of outbound.h: which connector a
 * recipient domain falls under (most specific pattern wins), the accessors the
 * exporters use, freeing, and the one place that turns a root_issuers name
 * into root certificates (outbound_roots_resolve).
 * Never: logs, exits, reads or writes a file (roots come from the trust store
 * the loader already read).
 * Diagnostics: outbound_roots_resolve says which name found no root and why.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "idna.h"
#include "outbound_int.h"
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
 * is asked offline by the tool, never per message by the daemon. The domain is
 * brought to the A-label form the patterns were stored in; one that is not
 * valid IDNA falls under no connector (an MTA cannot route to it either). */
const struct outbound_connector *
policy_outbound_find(const struct policy *p, const char *domain, const char **pattern)
{
    const struct outbound_connector *best = NULL;
    const char *best_pat = NULL, *why;
    char ace[IDNA_DOMAIN_SIZE];
    long best_rank = -1, n;
    size_t len = strlen(domain);

    if (pattern != NULL)
        *pattern = NULL;
    if (idna_needed(domain, len)) {
        if ((n = idna_domain(domain, len, ace, sizeof(ace), &why)) < 0)
            return NULL;
        domain = ace;
        len = (size_t)n;
    }
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
/* The closest roots' CNs, for a message about a name that found none. */
static char *
close_names(const struct trust_match *m)
{
    char *s = strfmt("%s", "");

    for (size_t i = 0; s != NULL && i < m->nclose; i++) {
        char *t = strfmt("%s%s'%s'", s, i ? ", " : "", trust_cert_cn(m->close[i]));
        free(s);
        s = t;
    }
    return s;
}

/* When name means an intermediate CA, say so and name its root: the mistake is
 * common, and "no root has that name" would send the admin looking elsewhere.
 * 1 with *why set, 0 when name is no intermediate, -1 when out of memory. */
static int
intermediate_why(const struct policy *p, const char *name, char **why)
{
    struct trust_match m;
    const char *bad = NULL;
    int rc = 0;

    if (trust_store_resolve(p->trust, name, 0, &m, &bad) < 0)
        return bad == NULL ? -1 : 0;
    if (m.found == TRUST_FOUND_ONE && m.n > 0 && !trust_cert_self_signed(m.cert[0])) {
        const struct trust_cert *c = m.cert[0];
        size_t nroots = trust_cert_root_count(c);

        *why = strfmt("it names an intermediate CA, not a root (its root: %s)",
                      nroots > 0 ? trust_cert_cn(trust_cert_root(c, 0)) : "none in the store");
        rc = *why != NULL ? 1 : -1;
    }
    trust_match_free(&m);
    return rc;
}

/*
 * Resolve one root_issuers entry against the policy's trust store, as inbound
 * root_issuers are resolved (trust_store_resolve: CN, OU, DN or sha256:, after
 * Unicode normalisation), among self-signed roots only: an intermediate as the
 * tafile anchor would trust less than the inbound root_issuers of the same name.
 * Returns 0, 1 (nothing or several found: *why is a new message), or -1 (out of
 * memory).
 */
int
outbound_roots_resolve(const struct policy *p, struct outbound_root *root, char **why)
{
    struct trust_match m;
    const char *bad = NULL;
    char *close;
    int rc = -1;

    *why = NULL;
    if (p->trust == NULL) {
        *why = strfmt("no trust store is loaded to find it in");
        return *why != NULL ? 1 : -1;
    }
    if (trust_store_resolve(p->trust, root->name, TRUST_RESOLVE_ROOTS, &m, &bad) < 0) {
        if (bad == NULL)
            return -1;
        *why = strfmt("%s", bad);
        return *why != NULL ? 1 : -1;
    }
    switch (m.found) {
    case TRUST_FOUND_NONE:
        if ((rc = intermediate_why(p, root->name, why)) != 0)
            break;
        if ((close = close_names(&m)) != NULL)
            *why = strfmt("no root in the trust store %s has that name%s%s%s",
                          p->trust_store_path, *close ? " (closest: " : "", close,
                          *close ? ")" : "");
        free(close);
        rc = *why != NULL ? 1 : -1;
        break;
    case TRUST_FOUND_SEVERAL:
        *why = strfmt("it names %zu roots in the trust store %s; name one by its OU, DN or "
                      "sha256: fingerprint (see tlspolicy trust)", m.n, p->trust_store_path);
        rc = *why != NULL ? 1 : -1;
        break;
    case TRUST_FOUND_ONE:
        rc = 0;
        for (size_t i = 0; i < m.n && rc == 0; i++) {
            char *pem = trust_cert_pem(m.cert[i]);
            size_t k = root->n;

            if (pem == NULL || outbound_root_add(root, trust_cert_dn(m.cert[i]), pem) < 0 ||
                (root->root_cn[k] = strdup(trust_cert_cn(m.cert[i]))) == NULL)
                rc = -1;
        }
        break;
    }
    trust_match_free(&m);
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
