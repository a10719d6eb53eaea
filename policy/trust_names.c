/*
 * trust_names.c -- the names an administrator writes for a CA (CN, OU, DN or
 * "sha256:" fingerprint) resolved to certificates of the trust store, after
 * Unicode normalisation (an en dash copied from a partner's table equals a
 * hyphen); and, for a name that matches nothing or several CAs, the closest
 * certificates, so the warning can say what was probably meant.
 * Never: logs, formats messages (the loader does), or treats two certificates
 * as one CA unless subject and key are the same.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "cert_dn.h"
#include "fingerprint.h"
#include "trust_int.h"

/* Bytes of a name compared by edit distance: past this, names differ anyway,
 * and the cost stays bounded on hostile bundles. */
#define TN_DIST_MAX 128
/* Words compared per name. */
#define TN_WORDS_MAX 16

/* ---- normalisation ---- */

static bool
tn_ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Not UTF-8 (a certificate's T61String decoded oddly, a Latin-1 file): keep the
 * bytes, fold ASCII case and white space only. */
static char *
tn_norm_bytes(const char *s)
{
    size_t n = strlen(s), o = 0;
    char *out = malloc(n + 1);
    bool space = false;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (tn_ascii_space(c)) {
            space = o > 0;
            continue;
        }
        if (space)
            out[o++] = ' ';
        space = false;
        out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    out[o] = '\0';
    return out;
}

char *
trust_name_norm(const char *s)
{
    size_t n = strlen(s), flen = 0, o = 0;
    uint8_t *f;
    char *out;
    bool space = false;

    if (u8_check((const uint8_t *)s, n) != NULL)
        return tn_norm_bytes(s);
    /* Case folding before NFKC would miss folds that only compatibility
     * decomposition exposes; u8_casefold decomposes first, folds, then
     * composes to the form asked for. */
    f = u8_casefold((const uint8_t *)s, n, NULL, UNINORM_NFKC, NULL, &flen);
    if (f == NULL)
        return errno == ENOMEM ? NULL : tn_norm_bytes(s);
    /* Every replacement below is no longer than what it replaces. */
    if ((out = malloc(flen + 1)) == NULL) {
        free(f);
        return NULL;
    }
    for (size_t i = 0; i < flen;) {
        ucs4_t uc;
        int len = u8_mbtouc(&uc, f + i, flen - i);

        if (len <= 0)
            len = 1;
        if (uc_is_property_white_space(uc)) {
            space = o > 0;
        } else {
            if (space)
                out[o++] = ' ';
            space = false;
            if (uc_is_general_category(uc, UC_DASH_PUNCTUATION)) {
                out[o++] = '-';
            } else {
                memcpy(out + o, f + i, (size_t)len);
                o += (size_t)len;
            }
        }
        i += (size_t)len;
    }
    out[o] = '\0';
    free(f);
    return out;
}

/* ---- closeness ---- */

/* Levenshtein distance over bytes, both strings cut at TN_DIST_MAX. */
static size_t
tn_distance(const char *a, const char *b)
{
    size_t la = strnlen(a, TN_DIST_MAX), lb = strnlen(b, TN_DIST_MAX);
    size_t row[TN_DIST_MAX + 1];

    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];

        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

struct tn_words {
    size_t n;
    const char *w[TN_WORDS_MAX];
    size_t len[TN_WORDS_MAX];
};

/* Words of a normalised name: runs between spaces, dashes and DN punctuation. */
static void
tn_split(const char *s, struct tn_words *w)
{
    w->n = 0;
    while (*s != '\0' && w->n < TN_WORDS_MAX) {
        size_t k = strcspn(s, " -,/=+;");

        if (k > 0) {
            w->w[w->n] = s;
            w->len[w->n++] = k;
        }
        s += k;
        if (*s != '\0')
            s++;
    }
}

/* 2 * shared words / all words: how much of both names the other covers. */
static double
tn_words_score(const struct tn_words *q, const char *field)
{
    struct tn_words f;
    size_t shared = 0;

    tn_split(field, &f);
    if (q->n + f.n == 0)
        return 0;
    for (size_t i = 0; i < q->n; i++)
        for (size_t j = 0; j < f.n; j++)
            if (q->len[i] == f.len[j] && memcmp(q->w[i], f.w[j], q->len[i]) == 0) {
                shared++;
                break;
            }
    return 2.0 * (double)shared / (double)(q->n + f.n);
}

/*
 * How close field is to the query, 0..1. Shared words weigh most: "GlobalSign
 * Root CA - R1" is one edit from R3's OU but contains R1's whole CN; the edit
 * distance still ranks typos ("GlobalSgn").
 */
static double
tn_score(const char *q, const struct tn_words *qw, const char *field)
{
    size_t lq = strnlen(q, TN_DIST_MAX), lf = strnlen(field, TN_DIST_MAX);
    size_t longest = lq > lf ? lq : lf;
    double edit;

    if (field[0] == '\0' || longest == 0)
        return 0;
    edit = 1.0 - (double)tn_distance(q, field) / (double)longest;
    if (qw == NULL)
        return edit;
    return (2.0 * tn_words_score(qw, field) + edit) / 3.0;
}

struct tn_scored {
    const struct trust_cert *c;
    double score;
};

static int
tn_scored_cmp(const void *a, const void *b)
{
    const struct tn_scored *x = a, *y = b;
    int c;

    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if ((c = strcmp(x->c->ncn, y->c->ncn)) != 0)
        return c;
    if ((c = strcmp(x->c->nou, y->c->nou)) != 0)
        return c;
    return strcmp(x->c->sha_hex, y->c->sha_hex);
}

static bool
tn_eligible(const struct trust_cert *c, unsigned flags, enum trust_by by)
{
    if ((flags & TRUST_RESOLVE_ROOTS) && !c->self_signed)
        return false;
    return by == TRUST_BY_SHA256 || c->name_ok;
}

/* The TRUST_CLOSE_MAX certificates nearest to q. */
static int
tn_closest(const struct trust_store *ts, const char *q, unsigned flags, enum trust_by by,
           struct trust_match *m)
{
    struct tn_scored *s = calloc(ts->n ? ts->n : 1, sizeof *s);
    struct tn_words qw;
    size_t ns = 0;

    if (s == NULL)
        return -1;
    tn_split(q, &qw);
    for (size_t i = 0; i < ts->n; i++) {
        const struct trust_cert *c = &ts->certs[i];
        double best;

        if (!tn_eligible(c, flags, by))
            continue;
        if (by == TRUST_BY_SHA256) {
            best = tn_score(q, NULL, c->sha_hex);
        } else if (by == TRUST_BY_DN) {
            best = tn_score(q, &qw, c->ndn);
        } else {
            double ou = tn_score(q, &qw, c->nou);

            best = tn_score(q, &qw, c->ncn);
            if (ou > best)
                best = ou;
        }
        s[ns].c = c;
        s[ns++].score = best;
    }
    qsort(s, ns, sizeof *s, tn_scored_cmp);
    for (size_t i = 0; i < ns && m->nclose < TRUST_CLOSE_MAX; i++)
        m->close[m->nclose++] = s[i].c;
    free(s);
    return 0;
}

/* ---- resolution ---- */

static bool
tn_same_ca(const struct trust_cert *a, const struct trust_cert *b)
{
    return strcmp(a->dn, b->dn) == 0 && memcmp(a->spki, b->spki, sizeof a->spki) == 0;
}

static bool
tn_matches(const struct trust_cert *c, enum trust_by by, const char *q)
{
    switch (by) {
    case TRUST_BY_SHA256:
        return strcmp(c->sha_hex, q) == 0;
    case TRUST_BY_DN:
        return strcmp(c->ndn, q) == 0;
    default:
        return strcmp(c->ncn, q) == 0 || (c->nou[0] != '\0' && strcmp(c->nou, q) == 0);
    }
}

/* The query in the form certificates are compared in. -1 with *why when the
 * name is malformed (why NULL: out of memory). */
static int
tn_query(const char *name, enum trust_by *by, char **q, const char **why)
{
    char hex[FINGERPRINT_HEX_LEN + 1];

    *q = NULL;
    *why = NULL;
    if (fingerprint_is(name)) {
        *by = TRUST_BY_SHA256;
        if ((*why = fingerprint_parse(name, hex)) != NULL)
            return -1;
        return (*q = strdup(hex)) == NULL ? -1 : 0;
    }
    if (strchr(name, '=') != NULL) {
        struct cert_dn dn = { 0, NULL };
        char *canon;

        *by = TRUST_BY_DN;
        errno = 0;
        if (cert_dn_parse_config(name, &dn, why) < 0) {
            if (*why == NULL && errno != ENOMEM)
                *why = "not a DN (expected \"CN=name,O=org,C=XX\")";
            return -1;
        }
        canon = cert_dn_canonical(&dn);
        cert_dn_free(&dn);
        if (canon == NULL)
            return -1;
        *q = trust_name_norm(canon);
        free(canon);
        return *q == NULL ? -1 : 0;
    }
    *by = TRUST_BY_NAME;
    return (*q = trust_name_norm(name)) == NULL ? -1 : 0;
}

static int
tn_cert_cmp(const void *a, const void *b)
{
    const struct trust_cert *x = *(const struct trust_cert *const *)a;
    const struct trust_cert *y = *(const struct trust_cert *const *)b;
    struct tn_scored sx = { x, 0 }, sy = { y, 0 };

    return tn_scored_cmp(&sx, &sy);
}

int
trust_store_resolve(const struct trust_store *ts, const char *name, unsigned flags,
                    struct trust_match *m, const char **why)
{
    char *q = NULL;
    int rc = -1;

    memset(m, 0, sizeof *m);
    *why = NULL;
    if (ts == NULL || name == NULL) {
        *why = "no trust store to look the name up in";
        return -1;
    }
    if (tn_query(name, &m->by, &q, why) < 0)
        goto out;
    if ((m->cert = calloc(ts->n ? ts->n : 1, sizeof *m->cert)) == NULL)
        goto out;
    for (size_t i = 0; i < ts->n; i++) {
        const struct trust_cert *c = &ts->certs[i];

        if (tn_eligible(c, flags, m->by) && tn_matches(c, m->by, q))
            m->cert[m->n++] = c;
    }
    qsort(m->cert, m->n, sizeof *m->cert, tn_cert_cmp);
    if (m->n == 0) {
        m->found = TRUST_FOUND_NONE;
        if (tn_closest(ts, q, flags, m->by, m) < 0)
            goto out;
    } else {
        m->found = TRUST_FOUND_ONE;
        for (size_t i = 1; i < m->n; i++)
            if (!tn_same_ca(m->cert[0], m->cert[i]))
                m->found = TRUST_FOUND_SEVERAL;
        if (m->found == TRUST_FOUND_SEVERAL)
            for (size_t i = 0; i < m->n && m->nclose < TRUST_CLOSE_MAX; i++)
                m->close[m->nclose++] = m->cert[i];
    }
    rc = 0;
out:
    free(q);
    if (rc < 0)
        trust_match_free(m);
    return rc;
}

void
trust_match_free(struct trust_match *m)
{
    if (m == NULL)
        return;
    free(m->cert);
    memset(m, 0, sizeof *m);
}

bool
trust_match_has(const struct trust_match *m, const struct trust_cert *c)
{
    if (m == NULL || m->found != TRUST_FOUND_ONE)
        return false;
    for (size_t i = 0; i < m->n; i++)
        if (m->cert[i] == c)
            return true;
    return false;
}
