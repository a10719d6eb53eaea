/*
 * trust_store.c -- keeps the CA certificates pem_certs.c read (a PEM bundle or
 * a directory of PEM files, plus PEM files of intermediates), works out once
 * which self-signed root(s) every CA chains up to, and answers "roots of the CA
 * named X" by CN or canonical DN. Owns the only certificate graph of the policy
 * library; the names of one certificate are trust_cert.c's, the names an
 * administrator writes are trust_names.c's.
 * Never: opens files itself (pem_certs.c does), logs, exits, does network I/O,
 * or looks at validity dates (see below).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pem_certs.h"
#include "strfmt.h"
#include "trust_int.h"

/*
 * Why validity dates are ignored: the MTA verified the peer's chain at handshake
 * time, against its own clock and trust settings, and tells the milter whether it
 * did. This module only answers "under which root does the CA that issued the
 * peer certificate sit", which does not change when a root or intermediate
 * expires; honouring dates here would make a verdict flip at midnight for
 * reasons the MTA has already judged.
 */

#define TS_MAX_DEPTH  16                           /* issuer steps to a root */

/* ---- graph ---- */

struct ts_hidx {
    unsigned long hash;
    size_t i;
};

static int
ts_hidx_cmp(const void *a, const void *b)
{
    const struct ts_hidx *x = a, *y = b;

    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int
ts_sha_cmp(const void *a, const void *b)
{
    const struct trust_cert *x = a, *y = b;

    return memcmp(x->sha, y->sha, sizeof x->sha);
}

static bool
ts_signed_by(X509 *issuer, X509 *subject)
{
    EVP_PKEY *k;
    bool ok;

    if (X509_check_issued(issuer, subject) != X509_V_OK)
        return false;
    k = X509_get0_pubkey(issuer);
    ok = k != NULL && X509_verify(subject, k) == 1;
    ERR_clear_error();
    return ok;
}

static bool
ts_is_ca(X509 *x, bool self_signed)
{
    return X509_check_ca(x) > 0 || (self_signed && X509_get_version(x) == X509_VERSION_1);
}

/* Issuer edges, found through an index by subject name hash. */
static int
ts_link(struct trust_store *ts)
{
    struct ts_hidx *h = NULL;
    size_t i;
    int rc = -1;

    if (ts->n == 0)
        return 0;
    if ((h = calloc(ts->n, sizeof *h)) == NULL)
        goto out;
    for (i = 0; i < ts->n; i++) {
        h[i].hash = ts->certs[i].name_hash;
        h[i].i = i;
    }
    qsort(h, ts->n, sizeof *h, ts_hidx_cmp);
    for (i = 0; i < ts->n; i++) {
        struct trust_cert *c = &ts->certs[i];
        int ok = 0;
        unsigned long ih = X509_NAME_hash_ex(X509_get_issuer_name(c->x), NULL, NULL, &ok);
        size_t lo = 0, hi = ts->n, j;

        ERR_clear_error();
        if (c->self_signed || !ok)
            continue;
        while (lo < hi) {             /* lower bound of ih */
            size_t mid = lo + (hi - lo) / 2;

            if (h[mid].hash < ih)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (j = lo; j < ts->n && h[j].hash == ih; j++) {
            size_t *grown;

            if (h[j].i == i || !ts_signed_by(ts->certs[h[j].i].x, c->x))
                continue;
            if ((grown = realloc(c->issuers, (c->nissuers + 1) * sizeof *grown)) == NULL)
                goto out;
            c->issuers = grown;
            c->issuers[c->nissuers++] = h[j].i;
        }
    }
    rc = 0;
out:
    free(h);
    return rc;
}

static int
ts_size_cmp(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * roots(c): {c} when self-signed, else every self-signed CA reachable through
 * issuer edges within TS_MAX_DEPTH steps. A breadth-first walk with a visited
 * mark stands in for memoised recursion: it needs no partial results when a
 * cycle (mutual cross-signing) is cut, and each walk only touches ancestors.
 */
static int
ts_roots(struct trust_store *ts)
{
    size_t *mark = NULL, *queue = NULL, *depth = NULL, *found = NULL, i;
    int rc = -1;

    if (ts->n == 0)
        return 0;
    mark = calloc(ts->n, sizeof *mark);
    queue = calloc(ts->n, sizeof *queue);
    depth = calloc(ts->n, sizeof *depth);
    found = calloc(ts->n, sizeof *found);
    if (mark == NULL || queue == NULL || depth == NULL || found == NULL)
        goto out;
    for (i = 0; i < ts->n; i++) {
        size_t head = 0, tail = 0, nfound = 0;

        queue[tail] = i;
        depth[tail++] = 0;
        mark[i] = i + 1;
        while (head < tail) {
            size_t q = queue[head], d = depth[head++], k;
            const struct trust_cert *c = &ts->certs[q];

            if (c->self_signed) {
                found[nfound++] = q;
                continue;
            }
            if (d >= TS_MAX_DEPTH)
                continue;
            for (k = 0; k < c->nissuers; k++) {
                size_t s = c->issuers[k];

                if (mark[s] == i + 1)
                    continue;
                mark[s] = i + 1;
                queue[tail] = s;
                depth[tail++] = d + 1;
            }
        }
        if (nfound > 0) {
            struct trust_cert *c = &ts->certs[i];

            if ((c->roots = malloc(nfound * sizeof *c->roots)) == NULL)
                goto out;
            memcpy(c->roots, found, nfound * sizeof *found);
            qsort(c->roots, nfound, sizeof *c->roots, ts_size_cmp);
            c->nroots = nfound;
        }
    }
    rc = 0;
out:
    free(mark);
    free(queue);
    free(depth);
    free(found);
    return rc;
}

/* ---- name indexes ---- */

struct ts_pair {
    const char *key;
    size_t i;
};

static int
ts_pair_cmp(const void *a, const void *b)
{
    const struct ts_pair *x = a, *y = b;
    int c = strcasecmp(x->key, y->key);

    if (c != 0)
        return c;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Roots in display order: CN, then canonical DN (a root has one of each, and
 * roots are unique by DER, so ties only remain between equal-named roots). */
static int
ts_root_cmp(const void *a, const void *b, void *arg)
{
    const struct trust_store *ts = arg;
    const struct trust_cert *x = &ts->certs[*(const size_t *)a];
    const struct trust_cert *y = &ts->certs[*(const size_t *)b];
    int c = strcasecmp(x->cn, y->cn);

    if (c == 0)
        c = strcmp(x->cn, y->cn);
    if (c == 0)
        c = strcasecmp(x->dn, y->dn);
    if (c == 0)
        c = strcmp(x->dn, y->dn);
    if (c == 0)
        c = memcmp(x->sha, y->sha, sizeof x->sha);
    return c;
}

static const char *const ts_no_names[1] = { NULL };

/* Frees what ts_entry_fill allocated; the keys and names are borrowed. */
static void
ts_entries_free(struct ts_entry *e, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(e[i].cn);
        free(e[i].dn);
        free(e[i].rc);
        free(e[i].ca);
        free(e[i].display);
    }
    free(e);
}

/*
 * Fill e from the union of the roots of the certificates in pairs[0..np).
 * mark (n entries, stamped with tag) and out (n entries) are scratch space.
 */
static int
ts_entry_fill(const struct trust_store *ts, struct ts_entry *e, const struct ts_pair *pairs,
              size_t np, size_t *mark, size_t tag, size_t *out)
{
    size_t n = 0, i, j, len = 1, off = 0;
    int rc = -1;

    e->key = pairs[0].key;
    if ((e->ca = calloc(np, sizeof *e->ca)) == NULL)
        goto out;
    for (i = 0; i < np; i++)
        e->ca[i] = &ts->certs[pairs[i].i];
    e->roots.nca = np;
    e->roots.ca = e->ca;
    for (i = 0; i < np; i++) {
        const struct trust_cert *c = &ts->certs[pairs[i].i];

        for (j = 0; j < c->nroots; j++) {
            if (mark[c->roots[j]] == tag)
                continue;
            mark[c->roots[j]] = tag;
            out[n++] = c->roots[j];
        }
    }
    qsort_r(out, n, sizeof *out, ts_root_cmp, (void *)(uintptr_t)ts);
    e->roots.n = n;
    e->roots.cn = ts_no_names;
    e->roots.dn = ts_no_names;
    e->roots.root = NULL;
    if (n > 0) {
        if ((e->cn = calloc(n, sizeof *e->cn)) == NULL ||
            (e->dn = calloc(n, sizeof *e->dn)) == NULL ||
            (e->rc = calloc(n, sizeof *e->rc)) == NULL)
            goto out;
        e->roots.cn = (const char *const *)e->cn;
        e->roots.dn = (const char *const *)e->dn;
        e->roots.root = e->rc;
    }
    for (i = 0; i < n; i++) {
        const struct trust_cert *r = &ts->certs[out[i]];

        e->cn[i] = r->cn;
        e->dn[i] = r->dn;
        e->rc[i] = r;
        len += strlen(r->cn[0] != '\0' ? r->cn : r->dn) + 2;
    }
    if ((e->display = malloc(len)) == NULL)
        goto out;
    e->display[0] = '\0';
    for (i = 0; i < n; i++) {
        const char *name = e->cn[i][0] != '\0' ? e->cn[i] : e->dn[i];
        int w = snprintf(e->display + off, len - off, "%s%s", i ? ", " : "", name);

        if (w < 0 || (size_t)w >= len - off)
            goto out;
        off += (size_t)w;
    }
    e->roots.display = e->display;
    rc = 0;
out:
    return rc;
}

/* Build one index: key per certificate (cn or dn), grouped case-insensitively. */
static int
ts_index(struct trust_store *ts, bool by_cn, struct ts_entry **entries, size_t *nentries)
{
    struct ts_pair *pairs = NULL;
    size_t *mark = NULL, *out = NULL, np = 0, i, j, ne = 0;
    struct ts_entry *e = NULL;
    int rc = -1;

    *entries = NULL;
    *nentries = 0;
    if (ts->n == 0)
        return 0;
    pairs = calloc(ts->n, sizeof *pairs);
    mark = calloc(ts->n, sizeof *mark);
    out = calloc(ts->n, sizeof *out);
    if (pairs == NULL || mark == NULL || out == NULL)
        goto out;
    for (i = 0; i < ts->n; i++) {
        const struct trust_cert *c = &ts->certs[i];
        const char *key = by_cn ? c->cn : c->dn;

        if (!c->name_ok || key[0] == '\0')
            continue;
        pairs[np].key = key;
        pairs[np++].i = i;
    }
    if (np == 0) {
        rc = 0;
        goto out;
    }
    qsort(pairs, np, sizeof *pairs, ts_pair_cmp);
    if ((e = calloc(np, sizeof *e)) == NULL)
        goto out;
    for (i = 0; i < np; i = j) {
        for (j = i + 1; j < np && strcasecmp(pairs[i].key, pairs[j].key) == 0; j++)
            ;
        ne++;
        if (ts_entry_fill(ts, &e[ne - 1], pairs + i, j - i, mark, ne, out) < 0)
            goto out;
    }
    *entries = e;
    *nentries = ne;
    e = NULL;
    rc = 0;
out:
    if (e != NULL)
        ts_entries_free(e, ne);
    free(pairs);
    free(mark);
    free(out);
    return rc;
}

/* ---- public ---- */

void
trust_store_free(struct trust_store *ts)
{
    size_t i;

    if (ts == NULL)
        return;
    ts_entries_free(ts->by_cn, ts->n_cn);
    ts_entries_free(ts->by_dn, ts->n_dn);
    for (i = 0; i < ts->n; i++)
        trust_cert_clear(&ts->certs[i]);
    free(ts->certs);
    free(ts);
}

/*
 * Keep CA certificates only, deduplicated by DER hash (a directory holds each
 * certificate once per file name and once per hash link). Duplicates go first
 * so that the costly self-signature check runs once per certificate. Takes
 * every X509 of ld: each ends up in ts->certs or freed.
 */
static int
ts_collect(struct trust_store *ts, struct pem_certs *ld, char **err)
{
    size_t i, u = 0;
    int rc = -1;

    if (ld->n > 0 && (ts->certs = calloc(ld->n, sizeof *ts->certs)) == NULL) {
        strfmt_set(err, "out of memory");
        goto out;
    }
    for (i = 0; i < ld->n; i++) {
        struct trust_cert *c = &ts->certs[ts->n++];
        unsigned int mdlen = 0;

        c->x = ld->x[i];
        ld->x[i] = NULL;
        if (X509_digest(c->x, EVP_sha256(), c->sha, &mdlen) != 1 || mdlen != sizeof c->sha) {
            strfmt_set(err, "cannot compute SHA-256 of a certificate");
            goto out;
        }
    }
    if (ts->n > 1)
        qsort(ts->certs, ts->n, sizeof *ts->certs, ts_sha_cmp);
    for (i = 0; i < ts->n; i++) {
        struct trust_cert *c = &ts->certs[i];
        int ok = 0;

        if (u > 0 && memcmp(ts->certs[u - 1].sha, c->sha, sizeof c->sha) == 0) {
            X509_free(c->x);
            c->x = NULL;
            continue;
        }
        c->self_signed = ts_signed_by(c->x, c->x);
        if (!ts_is_ca(c->x, c->self_signed)) {
            X509_free(c->x);
            c->x = NULL;
            continue;
        }
        c->name_hash = X509_NAME_hash_ex(X509_get_subject_name(c->x), NULL, NULL, &ok);
        ts->certs[u++] = *c;
    }
    ts->n = u;
    for (i = 0; i < ts->n; i++) {
        struct trust_cert *c = &ts->certs[i];

        c->ts = ts;
        if (trust_cert_fill(c) < 0) {
            strfmt_set(err, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    ERR_clear_error();
    return rc;
}

static size_t
ts_count_ca(const struct pem_certs *ld, size_t from)
{
    size_t i, n = 0;

    /* The cheap test first: X509_verify only for v1 certificates. */
    for (i = from; i < ld->n; i++)
        if (X509_check_ca(ld->x[i]) > 0 ||
            (X509_get_version(ld->x[i]) == X509_VERSION_1 && ts_signed_by(ld->x[i], ld->x[i])))
            n++;
    return n;
}

struct trust_store *
trust_store_load(const char *bundle, const char *const *intermediates, size_t n, char **err)
{
    struct trust_store *ts = NULL;
    struct pem_certs ld = { NULL, 0, 0 };
    size_t i, found, before;
    char *msg = NULL;
    bool is_dir;
    int rc = -1;

    if (err != NULL)
        *err = NULL;
    if (bundle == NULL || (n > 0 && intermediates == NULL)) {
        strfmt_set(&msg, "no CA bundle given (expected a PEM file or a directory)");
        goto out;
    }
    if ((ts = calloc(1, sizeof *ts)) == NULL) {
        strfmt_set(&msg, "%s: out of memory", bundle);
        goto out;
    }
    if (pem_certs_load(&ld, bundle, true, &found, &is_dir, &msg) < 0)
        goto out;
    if (is_dir) {
        if (ts_count_ca(&ld, 0) == 0) {
            strfmt_set(&msg, "%s: no CA certificate found in any file of the directory "
                       "(%zu certificate(s) read; expected PEM CA certificates)", bundle, found);
            goto out;
        }
    } else {
        if (found == 0) {
            strfmt_set(&msg, "%s: no PEM certificate found", bundle);
            goto out;
        }
        if (ts_count_ca(&ld, 0) == 0) {
            strfmt_set(&msg, "%s: no CA certificate found (%zu certificate(s), none is a CA)",
                       bundle, found);
            goto out;
        }
    }
    for (i = 0; i < n; i++) {
        const char *path = intermediates[i];

        before = ld.n;
        if (path == NULL) {
            strfmt_set(&msg, "intermediate %zu: no file name given", i + 1);
            goto out;
        }
        if (pem_certs_load(&ld, path, false, &found, &is_dir, &msg) < 0)
            goto out;
        if (found == 0) {
            strfmt_set(&msg, "%s: no PEM certificate found", path);
            goto out;
        }
        if (ts_count_ca(&ld, before) == 0) {
            strfmt_set(&msg, "%s: no CA certificate found (%zu certificate(s), none is a CA)",
                       path, found);
            goto out;
        }
    }
    if (ts_collect(ts, &ld, &msg) < 0)
        goto out;
    if (ts_link(ts) < 0 || ts_roots(ts) < 0 ||
        ts_index(ts, true, &ts->by_cn, &ts->n_cn) < 0 ||
        ts_index(ts, false, &ts->by_dn, &ts->n_dn) < 0) {
        strfmt_set(&msg, "%s: out of memory", bundle);
        goto out;
    }
    rc = 0;
out:
    pem_certs_free(&ld);
    ERR_clear_error();
    if (rc < 0) {
        trust_store_free(ts);
        ts = NULL;
    }
    if (err != NULL)
        *err = msg;
    else
        free(msg);
    return ts;
}

static const struct trust_roots *
ts_lookup(const struct ts_entry *e, size_t n, const char *key)
{
    size_t lo = 0, hi = n;

    if (key == NULL)
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcasecmp(key, e[mid].key);

        if (c == 0)
            return &e[mid].roots;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const struct trust_roots *
trust_store_roots_by_cn(const struct trust_store *ts, const char *cn)
{
    return ts ? ts_lookup(ts->by_cn, ts->n_cn, cn) : NULL;
}

const struct trust_roots *
trust_store_roots_by_dn(const struct trust_store *ts, const char *dn)
{
    return ts ? ts_lookup(ts->by_dn, ts->n_dn, dn) : NULL;
}

size_t
trust_store_ca_count(const struct trust_store *ts)
{
    return ts ? ts->n : 0;
}
