/*
 * load_lint.c -- the warnings of tlspolicy check that compare connectors: one that
 * never claims anything because an earlier one always claims its mail first, and
 * a sender domain an unrestricted connector lists but a restricting one owns (its
 * mail never reaches the unrestricted one). Candidates come from the frozen match
 * indexes, so a file of many connectors is not compared pair by pair.
 * Never: changes the policy or reports an error; a file that warns still loads.
 * Connector names are printed as they are: the loader allowed only [A-Za-z0-9._-].
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "load_int.h"
#include "match_addr.h"
#include "match_domain.h"

enum { L_SENDER, L_ADDR, L_NAME, L_RCPT, L_CERT };

/* Does domain pattern a match every name that pattern b matches? */
static bool
domain_covers(const char *a, const char *b)
{
    size_t la, lb;

    if (strcasecmp(a, b) == 0)
        return true;
    if (strncmp(a, "*.", 2) != 0)
        return false;
    a += 1;                                   /* ".s": b must end in it, below it */
    if (strncmp(b, "*.", 2) == 0)
        b += 1;
    la = strlen(a);
    lb = strlen(b);
    return lb > la && strcasecmp(b + lb - la, a) == 0;
}

/* "addr[/len]" as 128-bit address and prefix length; false when unreadable. */
static bool
cidr_read(const char *s, unsigned char ip[16], unsigned *len)
{
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    bool v6 = memchr(s, ':', n) != NULL;

    if (addr_parse(s, n, ip) < 0)
        return false;
    *len = slash ? (unsigned)strtoul(slash + 1, NULL, 10) + (v6 ? 0 : 96) : 128;
    return *len <= 128;
}

static bool
addr_covers(const char *a, const char *b)
{
    unsigned char ia[16], ib[16];
    unsigned la, lb;

    if (!cidr_read(a, ia, &la) || !cidr_read(b, ib, &lb) || la > lb)
        return false;
    for (unsigned bit = 0; bit < la; bit++) {
        unsigned m = 0x80u >> (bit % 8);
        if ((ia[bit / 8] & m) != (ib[bit / 8] & m))
            return false;
    }
    return true;
}

static bool
list_covers(int k, const struct strlist *a, const struct strlist *b)
{
    for (size_t j = 0; j < b->n; j++) {
        bool ok = false;

        for (size_t i = 0; i < a->n && !ok; i++)
            ok = k == L_ADDR ? addr_covers(a->v[i], b->v[j]) : domain_covers(a->v[i], b->v[j]);
        if (!ok)
            return false;
    }
    return true;
}

/* Does connector a claim everything connector b would claim? */
static bool
shadows(const struct rd *r, size_t a, size_t b)
{
    const struct policy_connector *ca = &r->p->conn[a], *cb = &r->p->conn[b];

    if ((ca->keys & cb->keys) != ca->keys)
        return false;
    if ((ca->keys & POLICY_KEY_FINGERPRINT) && !pins_cover(&ca->match_pins, &cb->match_pins))
        return false;
    for (int k = 0; k < LOAD_NKEYS; k++)
        if ((ca->keys & (1u << k)) && !list_covers(k, &r->match[a].l[k], &r->match[b].l[k]))
            return false;
    return true;
}

/* The index spans of every pattern that may cover value (a superset, checked later). */
static size_t
spans_covering(const struct rd *r, int k, const char *value, struct id_span *spans, size_t max)
{
    const struct domain_table *dt[LOAD_NKEYS] = {
        r->p->by_sender_domain, NULL, r->p->by_client_name, r->p->by_rcpt_domain,
        r->p->by_cert_name,
    };
    char probe[DOMAIN_MAX_LEN + 3];
    unsigned char ip[16];
    unsigned len;

    if (k == L_ADDR)
        return cidr_read(value, ip, &len) ? addr_table_lookup(r->p->by_client_addr, ip, spans, max) : 0;
    /* "*.s" is covered only by "*.s" and wildcards above it: all match "0.s". */
    if (strncmp(value, "*.", 2) == 0) {
        if (strlen(value) + 1 > DOMAIN_MAX_LEN)
            return 0;
        probe[0] = '0';
        strcpy(probe + 1, value + 1);
        value = probe;
    }
    return domain_table_lookup(dt[k], value, strlen(value), spans, max);
}

/* The earliest enabled, unrestricted connector before b that shadows it, or SIZE_MAX. */
static size_t
shadowed_by(const struct rd *r, size_t b)
{
    struct id_span spans[DOMAIN_MAX_LABELS + 2];
    size_t best = SIZE_MAX;

    for (int k = 0; k < LOAD_NKEYS; k++) {
        const struct strlist *l = &r->match[b].l[k];
        size_t n;

        if (l->n == 0)
            continue;
        /* Whoever shadows b on key k covers b's first value. */
        n = spans_covering(r, k, l->v[0], spans, sizeof(spans) / sizeof(spans[0]));
        for (size_t s = 0; s < n; s++)
            for (size_t i = 0; i < spans[s].n && spans[s].ids[i] < b && spans[s].ids[i] < best; i++) {
                size_t a = spans[s].ids[i];

                if (!r->p->conn[a].restrict_sender_domains && shadows(r, a, b)) {
                    best = a;
                    break;
                }
            }
    }
    return best;
}

/* A sender domain of unrestricted connector u that a restricting connector owns. */
static void
lint_owned_sender(struct rd *r, size_t u)
{
    const struct policy_connector *cu = &r->p->conn[u];
    const struct strlist *l = &r->match[u].l[L_SENDER];
    struct id_span spans[DOMAIN_MAX_LABELS + 2];
    char probe[DOMAIN_MAX_LEN + 3];

    for (size_t j = 0; j < l->n; j++) {
        const char *v = l->v[j];
        size_t n, owner = SIZE_MAX;

        if (strncmp(v, "*.", 2) == 0) {
            if (strlen(v) + 1 > DOMAIN_MAX_LEN)
                continue;
            probe[0] = '0';
            strcpy(probe + 1, v + 1);
            v = probe;
        }
        n = domain_table_lookup(r->p->by_restricted_sender, v, strlen(v), spans,
                                sizeof(spans) / sizeof(spans[0]));
        for (size_t s = 0; s < n; s++)
            for (size_t i = 0; i < spans[s].n && spans[s].ids[i] < owner; i++) {
                const struct strlist *ol = &r->match[spans[s].ids[i]].l[L_SENDER];
                struct strlist one = { .n = 1, .v = &l->v[j] };

                if (list_covers(L_SENDER, ol, &one)) {
                    owner = spans[s].ids[i];
                    break;
                }
            }
        if (owner != SIZE_MAX)
            load_diag(r, POLICY_SEV_WARNING, l->mark[j].line, l->mark[j].column,
                      "sender_domains: '%s' of connector '%s' is restricted by connector '%s' "
                      "(line %u): its mail goes only to the connectors that restrict it, "
                      "never to '%s'", load_q(r, l->v[j]), cu->name,
                      r->p->conn[owner].name, r->p->conn[owner].line, cu->name);
    }
}

void
load_lint(struct rd *r)
{
    struct policy *p = r->p;

    if (p == NULL || load_had_errors(r))
        return;
    for (size_t b = 0; b < p->nconn && b < r->nmatch; b++) {
        const struct policy_connector *c = &p->conn[b];
        size_t a;

        if (!c->enabled || c->restrict_sender_domains || c->keys == 0)
            continue;
        lint_owned_sender(r, b);
        if ((a = shadowed_by(r, b)) != SIZE_MAX)
            load_diag(r, POLICY_SEV_WARNING, c->line, c->column,
                      "connector '%s' never claims anything: connector '%s' (line %u) comes "
                      "first and claims all of its mail", c->name, p->conn[a].name,
                      p->conn[a].line);
    }
}

void
load_match_free(struct rd *r)
{
    for (size_t i = 0; i < r->nmatch; i++)
        for (int k = 0; k < LOAD_NKEYS; k++)
            load_strlist_free(&r->match[i].l[k]);
    free(r->match);
    r->match = NULL;
    r->nmatch = 0;
}
