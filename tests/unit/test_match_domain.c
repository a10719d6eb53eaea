/*
 * test_match_domain.c -- unit tests of the domain pattern index
 * (policy/match_domain.c): pattern syntax, exact vs wildcard semantics, case
 * and trailing dots, id lists, unusable names, and a brute-force cross-check.
 * Never: depends on the order of spans beyond it being repeatable.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match_domain.h"
#include "match_test.h"

#define MAX_SPANS (DOMAIN_MAX_LABELS + 1)

/* --- helpers ------------------------------------------------------------ */

struct idset {
    uint32_t v[4096];
    size_t n;
};

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/* Check every span is strictly ascending, then merge them into a sorted,
 * deduplicated set. */
static void
spans_to_set(const struct id_span *spans, size_t n, struct idset *out)
{
    out->n = 0;
    for (size_t s = 0; s < n; s++) {
        assert_non_null(spans[s].ids);
        assert_true(spans[s].n > 0);
        for (size_t i = 0; i < spans[s].n; i++) {
            if (i > 0 && spans[s].ids[i - 1] >= spans[s].ids[i])
                fail_msg("span %zu not strictly ascending at %zu: %u then %u", s, i,
                         spans[s].ids[i - 1], spans[s].ids[i]);
            assert_true(out->n < sizeof(out->v) / sizeof(out->v[0]));
            out->v[out->n++] = spans[s].ids[i];
        }
    }
    qsort(out->v, out->n, sizeof(out->v[0]), cmp_u32);
    size_t k = 0;
    for (size_t i = 0; i < out->n; i++)
        if (k == 0 || out->v[k - 1] != out->v[i])
            out->v[k++] = out->v[i];
    out->n = k;
}

/* ids given as a -1 terminated list */
static void
check_ids(const struct domain_table *t, const char *name, const int *want)
{
    struct id_span spans[MAX_SPANS];
    struct idset got;
    size_t n, nwant = 0;

    n = domain_table_lookup(t, name, strlen(name), spans, MAX_SPANS);
    spans_to_set(spans, n, &got);
    while (want[nwant] >= 0)
        nwant++;
    if (got.n != nwant)
        fail_msg("%s: got %zu ids, want %zu", name, got.n, nwant);
    for (size_t i = 0; i < nwant; i++)
        if (got.v[i] != (uint32_t)want[i])
            fail_msg("%s: id[%zu] got %u, want %d", name, i, got.v[i], want[i]);
}

static struct domain_table *
build(const char *const *patterns, const uint32_t *ids, size_t n)
{
    struct domain_table *t = domain_table_new();

    assert_non_null(t);
    for (size_t i = 0; i < n; i++)
        if (domain_table_add(t, patterns[i], ids[i]) != 0)
            fail_msg("add %s (id %u) failed", patterns[i], ids[i]);
    assert_int_equal(domain_table_freeze(t), 0);
    return t;
}

/* A name and the one connector id it must match, -1 for none. */
struct name_id {
    const char *name;
    int id;
};

/* Each name must match exactly one pattern naming exactly that id, or nothing
 * at all (id -1). */
static void
check_single_ids(const struct domain_table *t, const struct name_id *rows, size_t nrows)
{
    for (size_t i = 0; i < nrows; i++) {
        struct id_span sp[MAX_SPANS];
        size_t n = domain_table_lookup(t, rows[i].name, strlen(rows[i].name), sp, MAX_SPANS);
        int got = n == 1 && sp[0].n == 1 ? (int)sp[0].ids[0] : -1;

        if (n > 1 || got != rows[i].id || (rows[i].id < 0 && n != 0))
            fail_msg("\"%s\": got id %d (%zu spans), want %d", rows[i].name, got, n,
                     rows[i].id);
    }
}

static char *
repeat_labels(const char *label, size_t count, const char *tail)
{
    size_t ll = strlen(label), tl = strlen(tail);
    char *s = malloc(count * (ll + 1) + tl + 1);
    size_t off = 0;

    assert_non_null(s);
    for (size_t i = 0; i < count; i++) {
        memcpy(s + off, label, ll);
        off += ll;
        s[off++] = '.';
    }
    memcpy(s + off, tail, tl + 1);
    return s;
}

/* --- pattern syntax ----------------------------------------------------- */

static void
test_pattern_check_table(void **state)
{
    static const struct {
        const char *pattern;
        int valid;
    } rows[] = {
        { "example.com", 1 },
        { "Example.COM", 1 },
        { "example.com.", 1 },
        { "*.example.com", 1 },
        { "*.example.com.", 1 },
        { "*.com", 1 },
        { "localhost", 1 },
        { "_dmarc.example.com", 1 },
        { "-dash-.example.com", 1 },
        { "xn--bcher-kva.example", 1 },
        { "a1.b2.c3", 1 },
        { "1.example", 1 },
        { "123.456.example", 1 },
        { "192.0.2.1", 0 },            /* an address, not a name */
        { "*.2.1", 0 },
        { "example.123", 0 },
        { "", 0 },
        { ".", 0 },
        { "*", 0 },
        { "*.", 0 },
        { "*..", 0 },
        { "**.example.com", 0 },
        { "*example.com", 0 },
        { "a.*.example.com", 0 },
        { "*.*.example.com", 0 },
        { "example.*", 0 },
        { "ex*ample.com", 0 },
        { ".example.com", 0 },
        { "example..com", 0 },
        { "example.com..", 0 },
        { "*..example.com", 0 },
        { "exa mple.com", 0 },
        { "example.com/24", 0 },
        { "user@example.com", 0 },
        { "b\xc3\xbc" "cher.example", 0 },
        { "[192.0.2.1]", 0 },
        { "example.com\n", 0 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *err = domain_pattern_check(rows[i].pattern);

        if (rows[i].valid && err != NULL)
            fail_msg("row %zu \"%s\": got error \"%s\", want valid", i, rows[i].pattern, err);
        if (!rows[i].valid && err == NULL)
            fail_msg("row %zu \"%s\": got valid, want an error", i, rows[i].pattern);
        if (err != NULL && err[0] == '\0')
            fail_msg("row %zu \"%s\": got an empty message", i, rows[i].pattern);
    }
}

static void
test_pattern_check_lengths(void **state)
{
    char label63[64], label64[65];
    char *s;

    (void)state;
    memset(label63, 'a', 63);
    label63[63] = '\0';
    memset(label64, 'a', 64);
    label64[64] = '\0';
    assert_null(domain_pattern_check(label63));
    assert_non_null(domain_pattern_check(label64));

    /* four 63-octet labels and 3 dots: 255 octets, over 253 */
    s = repeat_labels(label63, 3, label63);
    assert_non_null(domain_pattern_check(s));
    free(s);
    /* exactly 253: 126 labels "a." (252) + "a" */
    s = repeat_labels("a", 126, "a");
    assert_int_equal(strlen(s), 253);
    assert_null(domain_pattern_check(s));
    free(s);
    s = repeat_labels("a", 126, "ab");
    assert_int_equal(strlen(s), 254);
    assert_non_null(domain_pattern_check(s));
    free(s);
    assert_non_null(domain_pattern_check(NULL));
}

static void
test_pattern_check_messages(void **state)
{
    static const struct {
        const char *pattern;
        const char *needle;
    } rows[] = {
        { "b\xc3\xbc" "cher.example", "A-labels" },
        { "a.*.example.com", "*.example.com" },
        { "", "example.com" },
        { "example..com", "empty" },
        { ".example.com", "*.example.com" },
        { "192.0.2.1", "IP address" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *err = domain_pattern_check(rows[i].pattern);

        assert_non_null(err);
        if (strstr(err, rows[i].needle) == NULL)
            fail_msg("\"%s\": got \"%s\", want it to mention \"%s\"", rows[i].pattern, err,
                     rows[i].needle);
    }
}

static void
test_add_rejects_invalid(void **state)
{
    static const char *const bad[] = { "", "*", "*.", "a..b", "a.*.b", "\xff.test" };
    struct domain_table *t = domain_table_new();

    (void)state;
    assert_non_null(t);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (domain_table_add(t, bad[i], 1) != -1)
            fail_msg("add \"%s\": got success, want -1", bad[i]);
    assert_int_equal(domain_table_size(t), 0);
    domain_table_free(t);
}

/* --- semantics ---------------------------------------------------------- */

static void
test_exact_semantics(void **state)
{
    static const char *const pats[] = { "x.test" };
    static const uint32_t ids[] = { 7 };
    static const struct name_id rows[] = {
        { "x.test", 7 },
        { "a.x.test", -1 },
        { "test", -1 },
        { "xx.test", -1 },
        { "x.test.org", -1 },
        { "x.tes", -1 },
        { "y.test", -1 },
    };
    struct domain_table *t = build(pats, ids, 1);

    (void)state;
    check_single_ids(t, rows, sizeof(rows) / sizeof(rows[0]));
    domain_table_free(t);
}

static void
test_wildcard_depths(void **state)
{
    static const char *const pats[] = { "*.x.test" };
    static const uint32_t ids[] = { 3 };
    static const struct name_id rows[] = {
        { "a.x.test", 3 },             /* depth 1 */
        { "a.b.x.test", 3 },           /* depth 2 */
        { "a.b.c.x.test", 3 },         /* depth 3 */
        { "x.test", -1 },              /* not the apex */
        { "ax.test", -1 },             /* label boundary */
        { "a.x.test.evil", -1 },
        { "test", -1 },
        { ".x.test", -1 },             /* empty label */
    };
    struct domain_table *t = build(pats, ids, 1);

    (void)state;
    check_single_ids(t, rows, sizeof(rows) / sizeof(rows[0]));
    domain_table_free(t);
}

static void
test_exact_and_wildcard_are_distinct(void **state)
{
    static const char *const pats[] = { "x.test", "*.x.test" };
    static const uint32_t ids[] = { 1, 2 };
    struct domain_table *t = build(pats, ids, 2);

    (void)state;
    assert_int_equal(domain_table_size(t), 2);
    check_ids(t, "x.test", (const int[]){ 1, -1 });
    check_ids(t, "mx.x.test", (const int[]){ 2, -1 });
    check_ids(t, "a.b.x.test", (const int[]){ 2, -1 });
    domain_table_free(t);
}

static void
test_tld_wildcard(void **state)
{
    static const char *const pats[] = { "*.test" };
    static const uint32_t ids[] = { 9 };
    struct domain_table *t = build(pats, ids, 1);

    (void)state;
    check_ids(t, "a.test", (const int[]){ 9, -1 });
    check_ids(t, "a.b.c.d.test", (const int[]){ 9, -1 });
    check_ids(t, "test", (const int[]){ -1 });
    check_ids(t, "test.org", (const int[]){ -1 });
    domain_table_free(t);
}

static void
test_case_insensitive(void **state)
{
    static const char *const pats[] = { "Partner.Example", "*.MIXED.Test" };
    static const uint32_t ids[] = { 1, 2 };
    static const struct name_id rows[] = {
        { "partner.example", 1 },
        { "PARTNER.EXAMPLE", 1 },
        { "pArTnEr.eXaMpLe", 1 },
        { "MX.mixed.test", 2 },
        { "mx.MIXED.TEST", 2 },
        { "mixed.test", -1 },
        { "partner.exampl\xc5", -1 },  /* no locale folding of high bytes */
    };
    struct domain_table *t = build(pats, ids, 2);

    (void)state;
    check_single_ids(t, rows, sizeof(rows) / sizeof(rows[0]));
    domain_table_free(t);
}

static void
test_trailing_dots(void **state)
{
    static const char *const pats[] = { "dot.test.", "*.wild.test." };
    static const uint32_t ids[] = { 1, 2 };
    static const struct name_id rows[] = {
        { "dot.test", 1 },
        { "dot.test.", 1 },
        { "dot.test..", -1 },
        { "a.wild.test", 2 },
        { "a.wild.test.", 2 },
        { "wild.test.", -1 },
        { ".", -1 },
        { "", -1 },
    };
    struct domain_table *t = build(pats, ids, 2);

    (void)state;
    check_single_ids(t, rows, sizeof(rows) / sizeof(rows[0]));
    /* "dot.test" and "dot.test." are one pattern */
    assert_int_equal(domain_table_add(t, "dot.test", 5), -1); /* frozen */
    domain_table_free(t);

    t = domain_table_new();
    assert_non_null(t);
    assert_int_equal(domain_table_add(t, "dot.test", 1), 0);
    assert_int_equal(domain_table_add(t, "DOT.test.", 2), 0);
    assert_int_equal(domain_table_size(t), 1);
    assert_int_equal(domain_table_freeze(t), 0);
    check_ids(t, "dot.test", (const int[]){ 1, 2, -1 });
    domain_table_free(t);
}

static void
test_overlapping_patterns(void **state)
{
    static const char *const pats[] = {
        "*.test", "*.x.test", "a.x.test", "*.a.x.test", "b.a.x.test", "*.b.a.x.test", "other.test",
    };
    static const uint32_t ids[] = { 10, 20, 30, 40, 50, 60, 70 };
    static const struct {
        const char *name;
        size_t nspans;
        int ids[8];
    } rows[] = {
        { "b.a.x.test", 4, { 10, 20, 40, 50, -1 } },
        { "c.b.a.x.test", 4, { 10, 20, 40, 60, -1 } },
        { "a.x.test", 3, { 10, 20, 30, -1 } },
        { "z.x.test", 2, { 10, 20, -1 } },
        { "other.test", 2, { 10, 70, -1 } },
        { "x.test", 1, { 10, -1 } },
        { "test", 0, { -1 } },
    };
    struct domain_table *t = build(pats, ids, sizeof(pats) / sizeof(pats[0]));

    (void)state;
    assert_int_equal(domain_table_size(t), 7);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct id_span sp[MAX_SPANS];
        size_t n = domain_table_lookup(t, rows[i].name, strlen(rows[i].name), sp, MAX_SPANS);

        if (n != rows[i].nspans)
            fail_msg("%s: got %zu spans, want %zu", rows[i].name, n, rows[i].nspans);
        check_ids(t, rows[i].name, rows[i].ids);
    }
    domain_table_free(t);
}

static void
test_ids_ascending_dedup(void **state)
{
    struct domain_table *t = domain_table_new();
    struct id_span sp[MAX_SPANS];
    size_t n;

    (void)state;
    assert_non_null(t);
    /* connector 1 lists the pattern twice, connector 4 in two spellings */
    assert_int_equal(domain_table_add(t, "p.test", 1), 0);
    assert_int_equal(domain_table_add(t, "p.test", 1), 0);
    assert_int_equal(domain_table_add(t, "*.p.test", 2), 0);
    assert_int_equal(domain_table_add(t, "p.test", 3), 0);
    assert_int_equal(domain_table_add(t, "p.test", 4), 0);
    assert_int_equal(domain_table_add(t, "P.TEST.", 4), 0);
    assert_int_equal(domain_table_add(t, "*.p.test", 4), 0);
    assert_int_equal(domain_table_add(t, "*.p.test", 4), 0);
    assert_int_equal(domain_table_freeze(t), 0);
    assert_int_equal(domain_table_size(t), 2);

    n = domain_table_lookup(t, "p.test", 6, sp, MAX_SPANS);
    assert_int_equal(n, 1);
    assert_int_equal(sp[0].n, 3);
    assert_int_equal(sp[0].ids[0], 1);
    assert_int_equal(sp[0].ids[1], 3);
    assert_int_equal(sp[0].ids[2], 4);

    n = domain_table_lookup(t, "q.p.test", 8, sp, MAX_SPANS);
    assert_int_equal(n, 1);
    assert_int_equal(sp[0].n, 2);
    assert_int_equal(sp[0].ids[0], 2);
    assert_int_equal(sp[0].ids[1], 4);
    domain_table_free(t);
}

/* The contract asks for ascending adds, but a loader bug must not yield an
 * unsorted span that breaks id_span_contains' binary search. */
static void
test_ids_out_of_order_sorted_at_freeze(void **state)
{
    static const uint32_t adds[] = { 9, 3, 3, 7, 1, 9 };
    static const uint32_t want[] = { 1, 3, 7, 9 };
    struct domain_table *t = domain_table_new();
    struct id_span sp[MAX_SPANS];
    size_t n;

    (void)state;
    assert_non_null(t);
    for (size_t i = 0; i < sizeof(adds) / sizeof(adds[0]); i++)
        assert_int_equal(domain_table_add(t, "o.test", adds[i]), 0);
    assert_int_equal(domain_table_freeze(t), 0);
    n = domain_table_lookup(t, "o.test", 6, sp, MAX_SPANS);
    assert_int_equal(n, 1);
    assert_int_equal(sp[0].n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < sp[0].n; i++)
        if (sp[0].ids[i] != want[i])
            fail_msg("ids[%zu]: got %u, want %u", i, sp[0].ids[i], want[i]);
    assert_true(id_span_contains(sp, n, 7));
    assert_false(id_span_contains(sp, n, 8));
    domain_table_free(t);
}

static void
test_many_ids_one_pattern(void **state)
{
    struct domain_table *t = domain_table_new();
    struct id_span sp[MAX_SPANS];
    size_t n;

    (void)state;
    assert_non_null(t);
    for (uint32_t id = 0; id < 5000; id += 5)
        assert_int_equal(domain_table_add(t, "*.big.test", id), 0);
    assert_int_equal(domain_table_freeze(t), 0);
    n = domain_table_lookup(t, "mx.big.test", 11, sp, MAX_SPANS);
    assert_int_equal(n, 1);
    assert_int_equal(sp[0].n, 1000);
    for (size_t i = 0; i < sp[0].n; i++)
        if (sp[0].ids[i] != i * 5)
            fail_msg("ids[%zu]: got %u, want %zu", i, sp[0].ids[i], i * 5);
    domain_table_free(t);
}

/* --- unusable names ----------------------------------------------------- */

struct name_row {
    const char *what;
    const char *name;
    size_t want;
};

static void
test_unusable_names(void **state)
{
    struct domain_table *t = domain_table_new();
    char label64[65];
    char *long255, *ok253, *many, *lab64;
    struct name_row rows[8];
    size_t nrows = 0;

    (void)state;
    assert_non_null(t);
    /* match everything under a, and a itself, so only name syntax decides */
    assert_int_equal(domain_table_add(t, "*.a", 1), 0);
    assert_int_equal(domain_table_add(t, "a", 2), 0);
    assert_int_equal(domain_table_freeze(t), 0);

    memset(label64, 'b', 64);
    label64[64] = '\0';
    long255 = repeat_labels("a", 125, "bcd.a");  /* 250 + 5 = 255 octets */
    ok253 = repeat_labels("a", 126, "a");        /* 253 octets, 127 labels */
    many = repeat_labels("a", 129, "a");         /* 130 labels (259 octets: the length limit binds first) */
    lab64 = repeat_labels(label64, 1, "a");
    assert_int_equal(strlen(long255), 255);
    assert_int_equal(strlen(ok253), 253);

    rows[nrows++] = (struct name_row){ "253 octets", ok253, 1 };
    rows[nrows++] = (struct name_row){ "255 octets", long255, 0 };
    rows[nrows++] = (struct name_row){ "130 labels", many, 0 };
    rows[nrows++] = (struct name_row){ "64-octet label", lab64, 0 };
    rows[nrows++] = (struct name_row){ "empty label", "b..a", 0 };
    rows[nrows++] = (struct name_row){ "leading dot", ".a", 0 };
    rows[nrows++] = (struct name_row){ "two trailing dots", "b.a..", 0 };
    rows[nrows++] = (struct name_row){ "control", "b.a", 1 };

    for (size_t i = 0; i < nrows; i++) {
        struct id_span sp[MAX_SPANS];
        size_t n = domain_table_lookup(t, rows[i].name, strlen(rows[i].name), sp, MAX_SPANS);

        if (n != rows[i].want)
            fail_msg("%s: got %zu spans, want %zu", rows[i].what, n, rows[i].want);
    }
    free(long255);
    free(ok253);
    free(many);
    free(lab64);
    domain_table_free(t);
}

/* The name is a slice of a longer buffer (a macro value), not a C string. */
static void
test_name_is_a_slice(void **state)
{
    static const char *const pats[] = { "x.test", "*.x.test" };
    static const uint32_t ids[] = { 1, 2 };
    static const char buf[] = "mx.x.test.example";
    struct domain_table *t = build(pats, ids, 2);
    struct id_span sp[MAX_SPANS];

    (void)state;
    assert_int_equal(domain_table_lookup(t, buf, 9, sp, MAX_SPANS), 1);
    assert_int_equal(sp[0].ids[0], 2);
    assert_int_equal(domain_table_lookup(t, buf + 3, 6, sp, MAX_SPANS), 1);
    assert_int_equal(sp[0].ids[0], 1);
    assert_int_equal(domain_table_lookup(t, buf, 0, sp, MAX_SPANS), 0);
    assert_int_equal(domain_table_lookup(t, buf, sizeof(buf) - 1, sp, MAX_SPANS), 0);
    domain_table_free(t);
}

static void
test_small_max(void **state)
{
    static const char *const pats[] = { "*.test", "*.x.test", "*.a.x.test", "b.a.x.test" };
    static const uint32_t ids[] = { 1, 2, 3, 4 };
    struct domain_table *t = build(pats, ids, 4);
    struct id_span sp[MAX_SPANS + 1];
    struct id_span all[MAX_SPANS];
    size_t nall;

    (void)state;
    nall = domain_table_lookup(t, "b.a.x.test", 10, all, MAX_SPANS);
    assert_int_equal(nall, 4);
    for (size_t max = 0; max <= 5; max++) {
        size_t n;

        sp[max].ids = NULL;       /* canary just past the allowed area */
        sp[max].n = 12345;
        n = domain_table_lookup(t, "b.a.x.test", 10, sp, max);
        if (n != (max < nall ? max : nall))
            fail_msg("max %zu: got %zu spans, want %zu", max, n, max < nall ? max : nall);
        if (sp[max].n != 12345)
            fail_msg("max %zu: wrote past spans[max]", max);
        /* a truncated answer is a prefix of the full one */
        for (size_t i = 0; i < n; i++)
            if (sp[i].ids != all[i].ids || sp[i].n != all[i].n)
                fail_msg("max %zu: span %zu differs from the full lookup", max, i);
    }
    domain_table_free(t);
}

static void
test_deterministic_order(void **state)
{
    static const char *const pats[] = { "*.test", "*.x.test", "m.x.test" };
    static const uint32_t ids[] = { 1, 2, 3 };
    struct domain_table *t = build(pats, ids, 3);
    struct id_span a[MAX_SPANS], b[MAX_SPANS];
    size_t na, nb;

    (void)state;
    na = domain_table_lookup(t, "m.x.test", 8, a, MAX_SPANS);
    nb = domain_table_lookup(t, "M.X.TEST.", 9, b, MAX_SPANS);
    assert_int_equal(na, 3);
    assert_int_equal(nb, na);
    for (size_t i = 0; i < na; i++)
        if (a[i].ids != b[i].ids || a[i].n != b[i].n)
            fail_msg("span %zu differs between two spellings of one name", i);
    domain_table_free(t);
}

static void
test_empty_and_null(void **state)
{
    struct domain_table *t = domain_table_new();
    struct id_span sp[4];

    (void)state;
    assert_non_null(t);
    assert_int_equal(domain_table_size(t), 0);
    assert_int_equal(domain_table_lookup(t, "x.test", 6, sp, 4), 0);
    assert_int_equal(domain_table_freeze(t), 0);
    assert_int_equal(domain_table_lookup(t, "x.test", 6, sp, 4), 0);
    assert_int_equal(domain_table_add(t, "x.test", 1), -1);   /* after freeze */
    assert_int_equal(domain_table_size(t), 0);
    assert_int_equal(domain_table_lookup(t, NULL, 0, sp, 4), 0);
    domain_table_free(t);
    domain_table_free(NULL);
    assert_int_equal(domain_table_size(NULL), 0);
}

/* Underscores and edge hyphens are accepted in patterns, so they must match. */
static void
test_unusual_but_valid_labels(void **state)
{
    static const char *const pats[] = { "_mta-sts.partner.test", "*.-edge-.test", "xn--bcher-kva.test" };
    static const uint32_t ids[] = { 1, 2, 3 };
    static const struct name_id rows[] = {
        { "_MTA-STS.partner.test", 1 },
        { "mta-sts.partner.test", -1 },
        { "a.-edge-.test", 2 },
        { "a.edge.test", -1 },
        { "XN--BCHER-KVA.test", 3 },
    };
    struct domain_table *t = build(pats, ids, 3);

    (void)state;
    check_single_ids(t, rows, sizeof(rows) / sizeof(rows[0]));
    domain_table_free(t);
}

/* Names come from the network: odd bytes must simply not match. */
static void
test_hostile_names(void **state)
{
    static const char *const pats[] = { "*.x.test", "x.test" };
    static const uint32_t ids[] = { 1, 2 };
    static const struct {
        const char *name;
        size_t len;
        size_t want;
    } rows[] = {
#define ROW(lit, want) { lit, sizeof(lit) - 1, want }
        ROW("a\0.x.test", 0),          /* NUL: a C string reader sees "a" */
        ROW("www.x.test\0.evil", 0),
        ROW("x.test\0", 0),            /* NUL as a trailing byte is not a dot */
        ROW("x\0test", 0),
        ROW("\xff.x.test", 1),         /* odd, but under x.test */
        ROW("x.test\xff", 0),
        ROW("X.TEST\x80", 0),
        ROW("x.test ", 0),
        ROW("[192.0.2.1]", 0),
#undef ROW
    };
    struct domain_table *t = build(pats, ids, 2);

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct id_span sp[MAX_SPANS];
        size_t n = domain_table_lookup(t, rows[i].name, rows[i].len, sp, MAX_SPANS);

        if (n != rows[i].want)
            fail_msg("row %zu: got %zu spans, want %zu", i, n, rows[i].want);
    }
    domain_table_free(t);
}

/* --- brute force -------------------------------------------------------- */

/* Patterns draw from the first NPATALPHA labels, names from all of them, so
 * some names end in a label no pattern knows and cannot match. */
static const char *const alphabet[] = {
    "a", "b", "mx", "xn--d", "e-f", "g_h", "test", "c", "zz", "q-q",
};
#define NPATALPHA 8
#define NALPHA (sizeof(alphabet) / sizeof(alphabet[0]))

/* random 1..maxlab labels of alphabet[0..nalpha), random case; into buf */
static void
random_name(char *buf, size_t size, unsigned maxlab, size_t nalpha)
{
    unsigned labels = 1 + rng() % maxlab;
    size_t off = 0;

    for (unsigned i = 0; i < labels; i++) {
        const char *l = alphabet[rng() % nalpha];
        int w = snprintf(buf + off, size - off, "%s%s", i ? "." : "", l);

        assert_true(w > 0 && (size_t)w < size - off);
        off += (size_t)w;
    }
    for (size_t i = 0; i < off; i++)
        if (rng() % 4 == 0 && buf[i] >= 'a' && buf[i] <= 'z')
            buf[i] = (char)(buf[i] - 'a' + 'A');
}

static void
lower_copy(char *dst, const char *src, size_t size)
{
    size_t i;

    for (i = 0; src[i] != '\0' && i + 1 < size; i++)
        dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] - 'A' + 'a') : src[i];
    dst[i] = '\0';
}

/* The matcher we trust: patterns and name lower-cased, no trailing dot. */
static int
brute_match(const char *pat, const char *name)
{
    size_t pl, nl = strlen(name);

    if (pat[0] != '*')
        return strcmp(pat, name) == 0;
    pat += 1;                     /* ".suffix" */
    pl = strlen(pat);
    return nl > pl && strcmp(name + nl - pl, pat) == 0;
}

#define NPAT 10000
#define NNAMES 3000

static void
test_bruteforce_random(void **state)
{
    char (*pats)[64] = calloc(NPAT, sizeof(*pats));
    uint32_t *pid = calloc(NPAT, sizeof(*pid));
    struct domain_table *t = domain_table_new();
    struct idset *want = malloc(sizeof(*want)), *got = malloc(sizeof(*got));
    size_t matched_names = 0;

    (void)state;
    assert_non_null(pats);
    assert_non_null(pid);
    assert_non_null(t);
    assert_non_null(want);
    assert_non_null(got);
    rng_state = 0x6d696c7465720001ULL;
    for (size_t i = 0; i < NPAT; i++) {
        char name[56];

        random_name(name, sizeof(name), 4, NPATALPHA);
        snprintf(pats[i], sizeof(pats[i]), "%s%s%s", rng() % 2 ? "*." : "", name,
                 rng() % 8 == 0 ? "." : "");
        pid[i] = (uint32_t)(i / 3);   /* several patterns per connector */
        if (domain_table_add(t, pats[i], pid[i]) != 0)
            fail_msg("add %s failed", pats[i]);
        /* normalise for the brute-force matcher */
        lower_copy(pats[i], pats[i], sizeof(pats[i]));
        if (pats[i][strlen(pats[i]) - 1] == '.')
            pats[i][strlen(pats[i]) - 1] = '\0';
    }
    assert_int_equal(domain_table_freeze(t), 0);

    for (size_t k = 0; k < NNAMES; k++) {
        struct id_span sp[MAX_SPANS];
        char name[80], lname[80];
        size_t n;

        random_name(name, sizeof(name) - 1, 6, NALPHA);   /* room for a dot */
        if (rng() % 8 == 0) {
            size_t l = strlen(name);

            name[l] = '.';
            name[l + 1] = '\0';
        }
        lower_copy(lname, name, sizeof(lname));
        if (lname[strlen(lname) - 1] == '.')
            lname[strlen(lname) - 1] = '\0';

        want->n = 0;
        for (size_t i = 0; i < NPAT; i++)
            if (brute_match(pats[i], lname) &&
                (want->n == 0 || want->v[want->n - 1] != pid[i])) {
                assert_true(want->n < sizeof(want->v) / sizeof(want->v[0]));
                want->v[want->n++] = pid[i];   /* pid ascending with i */
            }
        n = domain_table_lookup(t, name, strlen(name), sp, MAX_SPANS);
        spans_to_set(sp, n, got);
        if (got->n != want->n)
            fail_msg("%s: got %zu ids, want %zu", name, got->n, want->n);
        for (size_t i = 0; i < want->n; i++)
            if (got->v[i] != want->v[i])
                fail_msg("%s: id[%zu] got %u, want %u", name, i, got->v[i], want->v[i]);
        matched_names += want->n > 0;
    }
    /* the generator must exercise both outcomes, or the check proves little */
    assert_true(matched_names > NNAMES / 10);
    assert_true(matched_names < NNAMES);
    free(pats);
    free(pid);
    free(want);
    free(got);
    domain_table_free(t);
}

#define NTNAMES 64

struct lookup_ctx {
    const struct domain_table *t;
    const char (*names)[80];
};

static size_t
lookup_one(const void *ctx, size_t i)
{
    const struct lookup_ctx *c = ctx;
    struct id_span sp[MAX_SPANS];

    return domain_table_lookup(c->t, c->names[i], strlen(c->names[i]), sp, MAX_SPANS);
}

static void
test_concurrent_lookups(void **state)
{
    static char names[NTNAMES][80];
    size_t want[NTNAMES], total = 0;
    struct domain_table *t = domain_table_new();
    struct lookup_ctx ctx = { t, (const char (*)[80])names };

    (void)state;
    assert_non_null(t);
    rng_state = 0x6d696c7465720003ULL;
    for (uint32_t i = 0; i < 2000; i++) {
        char pat[64], name[56];

        random_name(name, sizeof(name), 3, NPATALPHA);
        snprintf(pat, sizeof(pat), "%s%s", rng() % 2 ? "*." : "", name);
        assert_int_equal(domain_table_add(t, pat, i), 0);
    }
    assert_int_equal(domain_table_freeze(t), 0);
    for (size_t i = 0; i < NTNAMES; i++) {
        struct id_span sp[MAX_SPANS];

        random_name(names[i], sizeof(names[i]), 5, NALPHA);
        want[i] = domain_table_lookup(t, names[i], strlen(names[i]), sp, MAX_SPANS);
        total += want[i];
    }
    assert_true(total > 0);
    match_test_concurrent(lookup_one, &ctx, want, NTNAMES);
    domain_table_free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_check_table),
        cmocka_unit_test(test_pattern_check_lengths),
        cmocka_unit_test(test_pattern_check_messages),
        cmocka_unit_test(test_add_rejects_invalid),
        cmocka_unit_test(test_exact_semantics),
        cmocka_unit_test(test_wildcard_depths),
        cmocka_unit_test(test_exact_and_wildcard_are_distinct),
        cmocka_unit_test(test_tld_wildcard),
        cmocka_unit_test(test_case_insensitive),
        cmocka_unit_test(test_trailing_dots),
        cmocka_unit_test(test_overlapping_patterns),
        cmocka_unit_test(test_ids_ascending_dedup),
        cmocka_unit_test(test_ids_out_of_order_sorted_at_freeze),
        cmocka_unit_test(test_many_ids_one_pattern),
        cmocka_unit_test(test_unusable_names),
        cmocka_unit_test(test_name_is_a_slice),
        cmocka_unit_test(test_small_max),
        cmocka_unit_test(test_deterministic_order),
        cmocka_unit_test(test_empty_and_null),
        cmocka_unit_test(test_unusual_but_valid_labels),
        cmocka_unit_test(test_hostile_names),
        cmocka_unit_test(test_bruteforce_random),
        cmocka_unit_test(test_concurrent_lookups),
    };

    return cmocka_run_group_tests_name("match_domain", tests, NULL, NULL);
}
