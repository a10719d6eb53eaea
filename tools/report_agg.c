/*
 * report_agg.c -- the report's aggregate: per connector, totals, day buckets,
 * capped sets of certificate names, issuers, roots, hosts and policies (with
 * counts, first and last seen), capped reasons with example queue ids; and the
 * malformed lines and unreadable files.
 * Never: grows with the number of input lines; every table stops at its
 * REPORT_MAX_* cap, counts what it dropped and sets caps_hit. Never prints.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

const char *const report_bits_names[RB_N] = { "<128", "128-255", ">=256", "unknown" };
const char *const report_namekind_names[RN_N] = {
    "certificate names", "issuers", "roots", "hosts", "policies"
};
const char *const report_change_names[RN_N] = {
    "certificate name", "issuer", "root", "host", "policy"
};

/* The length of s cut to max bytes, never inside a UTF-8 sequence: a huge field is
 * stored, compared and shown in this form. */
static size_t
report_cut_len(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);

    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return n;
}

/* True when stored (already cut) equals s cut to max. */
static bool
report_cut_eq(const char *stored, const char *s, size_t max)
{
    size_t i;

    /* Equal up to stored's end, and s ends there too or is cut there. */
    for (i = 0; stored[i] != '\0'; i++)
        if (stored[i] != s[i])
            return false;
    return s[i] == '\0' || report_cut_len(s, max) == i;
}

/* A copy of s cut to max bytes, or NULL. */
static char *
report_strdup_max(const char *s, size_t max)
{
    size_t n = report_cut_len(s, max);
    char *d;

    if ((d = malloc(n + 1)) == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static struct report_conn *
report_conn_new(const char *name)
{
    struct report_conn *c = calloc(1, sizeof *c);

    if (c == NULL || (c->name = report_strdup_max(name, REPORT_MAX_NAME_LEN)) == NULL) {
        free(c);
        return NULL;
    }
    c->first = LLONG_MAX;
    c->last = LLONG_MIN;
    return c;
}

static void
report_conn_free(struct report_conn *c)
{
    size_t i, k, e;

    if (c == NULL)
        return;
    free(c->name);
    free(c->days);
    for (k = 0; k < RN_N; k++)
        for (i = 0; i < c->names[k].n; i++)
            free(c->names[k].v[i].name);
    for (i = 0; i < c->nreasons; i++) {
        free(c->reasons[i].text);
        for (e = 0; e < c->reasons[i].nexample; e++)
            free(c->reasons[i].example[e]);
    }
    free(c);
}

int
report_agg_init(struct report_agg *a)
{
    memset(a, 0, sizeof *a);
    a->nslots = REPORT_MAX_CONNECTORS * 2;
    a->conn = calloc(a->nslots, sizeof *a->conn);
    return a->conn != NULL ? 0 : -1;
}

void
report_agg_free(struct report_agg *a)
{
    size_t i;

    for (i = 0; a->conn != NULL && i < a->nslots; i++)
        report_conn_free(a->conn[i]);
    free(a->conn);
    report_conn_free(a->other);
    for (i = 0; i < a->nbad; i++) {
        free(a->bad[i].file);
        free(a->bad[i].why);
    }
    for (i = 0; i < a->nfile_errors; i++)
        free(a->file_errors[i]);
    free(a->file_errors);
    memset(a, 0, sizeof *a);
}

/* FNV-1a of s[0..n). */
static size_t
report_hash(const char *s, size_t n)
{
    size_t h = (size_t)14695981039346656037ULL, i;

    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * (size_t)1099511628211ULL;
    return h;
}

/* The connector's bucket; "(other)" past the cap; NULL when out of memory. */
static struct report_conn *
report_agg_conn(struct report_agg *a, const char *name)
{
    size_t i = report_hash(name, report_cut_len(name, REPORT_MAX_NAME_LEN)) % a->nslots;

    while (a->conn[i] != NULL) {
        if (report_cut_eq(a->conn[i]->name, name, REPORT_MAX_NAME_LEN))
            return a->conn[i];
        i = (i + 1) % a->nslots;
    }
    if (a->nconn >= REPORT_MAX_CONNECTORS) {
        a->caps_hit = true;
        if (a->other == NULL)
            a->other = report_conn_new(REPORT_OTHER_NAME);
        return a->other;
    }
    if ((a->conn[i] = report_conn_new(name)) != NULL)
        a->nconn++;
    return a->conn[i];
}

static void
report_counts_add(struct report_counts *c, const struct report_rec *r)
{
    c->msgs++;
    c->rcpts += r->rcpts;
    c->verdict[r->verdict]++;
    c->action[r->action]++;
    c->monitor += r->monitor;
    c->tls[r->tls]++;
    if (r->tls != RT_PLAIN) {
        c->fs += r->fs;
        c->bits[r->bits < 0 ? RB_UNKNOWN : r->bits < 128 ? RB_LT128 : r->bits < 256 ? RB_128
                : RB_256]++;
    }
    c->verified += r->verified;
}

/* The day bucket of day, inserted in order; NULL past the cap or out of memory. */
static struct report_day *
report_conn_day(struct report_agg *a, struct report_conn *c, long long day)
{
    size_t lo = 0, hi = c->ndays;

    /* Logs are mostly in time order: the last bucket is the usual answer. */
    if (c->ndays > 0 && c->days[c->ndays - 1].day == day)
        return &c->days[c->ndays - 1];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (c->days[mid].day == day)
            return &c->days[mid];
        if (c->days[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (a->day_buckets >= REPORT_MAX_DAY_BUCKETS) {
        a->caps_hit = true;
        return NULL;
    }
    if (c->ndays == c->capdays) {
        size_t cap = c->capdays != 0 ? c->capdays * 2 : 16;
        struct report_day *d = realloc(c->days, cap * sizeof *d);

        if (d == NULL) {
            a->oom = true;
            return NULL;
        }
        c->days = d;
        c->capdays = cap;
    }
    memmove(&c->days[lo + 1], &c->days[lo], (c->ndays - lo) * sizeof *c->days);
    memset(&c->days[lo], 0, sizeof *c->days);
    c->days[lo].day = day;
    c->ndays++;
    a->day_buckets++;
    return &c->days[lo];
}

static int
report_nameset_add(struct report_agg *a, struct report_nameset *s, const char *name, long long t)
{
    size_t i;
    struct report_name *n;

    /* Most lines repeat the previous line's name: try it first. */
    if (s->hit < s->n && report_cut_eq(s->v[s->hit].name, name, REPORT_MAX_NAME_LEN)) {
        n = &s->v[s->hit];
        goto found;
    }
    for (i = 0; i < s->n; i++) {
        n = &s->v[i];
        if (report_cut_eq(n->name, name, REPORT_MAX_NAME_LEN)) {
            s->hit = i;
            goto found;
        }
    }
    if (s->n == REPORT_MAX_NAMES) {
        s->dropped++;
        a->caps_hit = true;
        return 0;
    }
    n = &s->v[s->n];
    if ((n->name = report_strdup_max(name, REPORT_MAX_NAME_LEN)) == NULL)
        return -1;
    s->n++;
    n->first = LLONG_MAX;
    n->last = LLONG_MIN;
found:
    n->count++;
    if (t < n->first)
        n->first = t;
    if (t > n->last)
        n->last = t;
    return 0;
}

/* Keep the REPORT_MAX_EXAMPLES earliest queue ids (by time, then id), sorted:
 * the first ones seen would depend on the order of the input lines. */
static int
report_example_add(struct report_reason *r, const char *qid, long long t)
{
    size_t i, at;
    char *s;

    for (at = r->nexample; at > 0; at--) {
        int c = r->example_time[at - 1] != t ? (r->example_time[at - 1] < t ? -1 : 1)
                                              : strcmp(r->example[at - 1], qid);
        if (c <= 0)
            break;
    }
    if (at == REPORT_MAX_EXAMPLES || (at > 0 && strcmp(r->example[at - 1], qid) == 0))
        return 0;
    if ((s = report_strdup_max(qid, REPORT_MAX_NAME_LEN)) == NULL)
        return -1;
    if (r->nexample == REPORT_MAX_EXAMPLES)
        free(r->example[--r->nexample]);
    for (i = r->nexample; i > at; i--) {
        r->example[i] = r->example[i - 1];
        r->example_time[i] = r->example_time[i - 1];
    }
    r->example[at] = s;
    r->example_time[at] = t;
    r->nexample++;
    return 0;
}

static int
report_reason_add(struct report_agg *a, struct report_conn *c, const char *text, const char *qid,
                  long long t)
{
    struct report_reason *r = NULL;
    size_t i;

    for (i = 0; i < c->nreasons; i++)
        if (report_cut_eq(c->reasons[i].text, text, REPORT_MAX_REASON_LEN)) {
            r = &c->reasons[i];
            break;
        }
    if (r == NULL) {
        if (c->nreasons == REPORT_MAX_REASONS) {
            c->reasons_dropped++;
            a->caps_hit = true;
            return 0;
        }
        r = &c->reasons[c->nreasons];
        if ((r->text = report_strdup_max(text, REPORT_MAX_REASON_LEN)) == NULL)
            return -1;
        c->nreasons++;
    }
    r->count++;
    return qid != NULL ? report_example_add(r, qid, t) : 0;
}

int
report_agg_add(struct report_agg *a, const struct report_rec *r)
{
    struct report_conn *c;
    struct report_day *d;
    const char *names[RN_N];
    size_t k;

    c = report_agg_conn(a, r->connector != NULL ? r->connector : REPORT_DEFAULTS_NAME);
    if (c == NULL)
        return -1;
    report_counts_add(&a->total, r);
    report_counts_add(&c->total, r);
    if (r->time < c->first)
        c->first = r->time;
    if (r->time > c->last)
        c->last = r->time;
    d = report_conn_day(a, c, report_day_of(r->time));
    if (d != NULL)
        report_counts_add(&d->c, r);
    else if (a->oom)
        return -1;
    else
        c->days_dropped++;
    names[RN_CERT] = r->cert;
    names[RN_ISSUER] = r->issuer;
    names[RN_ROOT] = r->root;
    names[RN_HOST] = r->host != NULL ? r->host : "-";
    names[RN_POLICY] = r->policy != NULL ? r->policy : "-";
    for (k = 0; k < RN_N; k++)
        if (names[k] != NULL && report_nameset_add(a, &c->names[k], names[k], r->time) != 0)
            return -1;
    if (r->verdict != RV_PASS && r->verdict != RV_NONE)
        for (k = 0; k < r->nreasons; k++)
            if (report_reason_add(a, c, r->reasons[k], r->queue_id, r->time) != 0)
                return -1;
    return 0;
}

int
report_agg_bad(struct report_agg *a, const char *file, uint64_t line, const char *why)
{
    struct report_bad *b;

    a->malformed++;
    if (a->nbad == REPORT_MAX_BAD)
        return 0;
    b = &a->bad[a->nbad];
    b->file = strdup(file);
    b->why = strdup(why);
    b->line = line;
    if (b->file == NULL || b->why == NULL) {
        free(b->file);
        free(b->why);
        return -1;
    }
    a->nbad++;
    return 0;
}

int
report_agg_file_error(struct report_agg *a, const char *file, const char *what)
{
    size_t n = strlen(file) + strlen(what) + 3;
    char **v = realloc(a->file_errors, (a->nfile_errors + 1) * sizeof *v);

    a->bad_files++;
    if (v == NULL)
        return -1;
    a->file_errors = v;
    if ((v[a->nfile_errors] = malloc(n)) == NULL)
        return -1;
    snprintf(v[a->nfile_errors++], n, "%s: %s", file, what);
    return 0;
}

double
report_compliance(const struct report_counts *c)
{
    uint64_t den = c->verdict[RV_PASS] + c->verdict[RV_FAIL] + c->verdict[RV_ERROR];

    return den == 0 ? -1.0 : (double)c->verdict[RV_PASS] / (double)den;
}

static int
report_conn_cmp(const void *x, const void *y)
{
    const struct report_conn *a = *(struct report_conn *const *)x;
    const struct report_conn *b = *(struct report_conn *const *)y;
    double ca = report_compliance(&a->total), cb = report_compliance(&b->total);

    /* Worst first; connectors with nothing to judge (-1) last; then by name. */
    if (ca < 0)
        ca = 2;
    if (cb < 0)
        cb = 2;
    if (ca != cb)
        return ca < cb ? -1 : 1;
    return strcmp(a->name, b->name);
}

static int
report_name_cmp(const void *x, const void *y)
{
    const struct report_name *a = x, *b = y;

    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return strcmp(a->name, b->name);
}

struct report_conn **
report_agg_sorted(const struct report_agg *a, size_t *n)
{
    struct report_conn **v = malloc((a->nconn + 1) * sizeof *v);
    size_t i, k = 0;

    if (v == NULL)
        return NULL;
    for (i = 0; i < a->nslots; i++)
        if (a->conn[i] != NULL)
            v[k++] = a->conn[i];
    if (a->other != NULL)
        v[k++] = a->other;
    qsort(v, k, sizeof *v, report_conn_cmp);
    for (i = 0; i < k; i++)
        for (size_t m = 0; m < RN_N; m++) {
            v[i]->names[m].hit = 0;
            qsort(v[i]->names[m].v, v[i]->names[m].n, sizeof v[i]->names[m].v[0],
                  report_name_cmp);
        }
    *n = k;
    return v;
}

void
report_downgrades(const struct report_conn *c,
                  void (*fn)(void *arg, long long first13, const struct report_day *d), void *arg)
{
    long long first13 = LLONG_MIN;
    size_t i;

    for (i = 0; i < c->ndays; i++) {
        const struct report_counts *k = &c->days[i].c;
        uint64_t older = k->tls[RT_PLAIN] + k->tls[RT_10] + k->tls[RT_11] + k->tls[RT_12];

        if (first13 != LLONG_MIN && older > 0)
            fn(arg, first13, &c->days[i]);
        if (first13 == LLONG_MIN && k->tls[RT_13] > 0)
            first13 = c->days[i].day;
    }
}

static int
report_reason_cmp(const void *x, const void *y)
{
    const struct report_reason *a = *(const struct report_reason *const *)x;
    const struct report_reason *b = *(const struct report_reason *const *)y;

    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->text, b->text);
}

size_t
report_reasons_sorted(const struct report_conn *c,
                      const struct report_reason *out[REPORT_MAX_REASONS])
{
    size_t i;

    for (i = 0; i < c->nreasons; i++)
        out[i] = &c->reasons[i];
    qsort(out, c->nreasons, sizeof *out, report_reason_cmp);
    return c->nreasons;
}

void
report_changes(const struct report_conn *c,
               void (*fn)(void *arg, const char *day, const char *kind, const char *name),
               void *arg)
{
    size_t k, i;
    char day[11];

    for (k = RN_CERT; k <= RN_ROOT; k++)
        for (i = 0; i < c->names[k].n; i++)
            if (report_day_of(c->names[k].v[i].first) > report_day_of(c->first)) {
                report_day_format(report_day_of(c->names[k].v[i].first), day);
                fn(arg, day, report_change_names[k], c->names[k].v[i].name);
            }
}

double
report_pct(uint64_t num, uint64_t den)
{
    return den == 0 ? -1.0 : 100.0 * (double)num / (double)den;
}
