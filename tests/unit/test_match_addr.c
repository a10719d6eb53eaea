/*
 * test_match_addr.c -- unit tests of address parsing and the IP prefix index
 * (policy/match_addr.c): MTA spellings, canonical text, CIDR syntax, trie
 * lookups (nesting, /0 per family, v4-mapped), and a brute-force cross-check.
 * Never: relies on the trie's shape, only on what lookups return.
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

#include "match_addr.h"
#include "match_test.h"

#define MAX_SPANS 129

/* --- helpers ------------------------------------------------------------ */

static void
parse_ok(const char *text, unsigned char ip[16])
{
    if (addr_parse(text, strlen(text), ip) != 0)
        fail_msg("addr_parse(\"%s\"): got -1, want 0", text);
}

static struct addr_table *
build(const char *const *cidrs, const uint32_t *ids, size_t n)
{
    struct addr_table *t = addr_table_new();

    assert_non_null(t);
    for (size_t i = 0; i < n; i++)
        if (addr_table_add(t, cidrs[i], ids[i]) != 0)
            fail_msg("add %s (id %u) failed", cidrs[i], ids[i]);
    assert_int_equal(addr_table_freeze(t), 0);
    return t;
}

/* The spans the table gives for an address written as text (a valid one). */
static size_t
lookup_text(const struct addr_table *t, const char *addr, struct id_span *sp)
{
    unsigned char ip[16];

    parse_ok(addr, ip);
    return addr_table_lookup(t, ip, sp, MAX_SPANS);
}

/* want: per span, a -1 terminated id list; spans end with an empty list */
static void
check_spans(const struct addr_table *t, const char *addr, const int want[][6])
{
    struct id_span sp[MAX_SPANS];
    size_t n, nwant = 0;

    n = lookup_text(t, addr, sp);
    while (want[nwant][0] >= 0)
        nwant++;
    if (n != nwant)
        fail_msg("%s: got %zu spans, want %zu", addr, n, nwant);
    for (size_t s = 0; s < n; s++) {
        size_t k = 0;

        while (want[s][k] >= 0)
            k++;
        if (sp[s].n != k)
            fail_msg("%s: span %zu has %zu ids, want %zu", addr, s, sp[s].n, k);
        for (size_t i = 0; i < k; i++)
            if (sp[s].ids[i] != (uint32_t)want[s][i])
                fail_msg("%s: span %zu id %zu: got %u, want %d", addr, s, i, sp[s].ids[i],
                         want[s][i]);
    }
}

/* --- parsing ------------------------------------------------------------ */

static void
test_parse_table(void **state)
{
    static const struct {
        const char *text;
        const char *canon;        /* NULL = must be rejected */
    } rows[] = {
        { "192.0.2.1", "192.0.2.1" },
        { "0.0.0.0", "0.0.0.0" },
        { "255.255.255.255", "255.255.255.255" },
        { "2001:db8::1", "2001:db8::1" },
        { "2001:DB8:0:0:0:0:0:1", "2001:db8::1" },
        { "::", "::" },
        { "::1", "::1" },
        { "IPv6:2001:db8::1", "2001:db8::1" },
        { "IPv6:::1", "::1" },
        { "ipv6:2001:db8::2", "2001:db8::2" },
        { "[192.0.2.1]", "192.0.2.1" },
        { "[IPv6:2001:db8::1]", "2001:db8::1" },
        { "[2001:db8::1]", "2001:db8::1" },
        { "::ffff:192.0.2.1", "192.0.2.1" },
        { "::FFFF:c000:0201", "192.0.2.1" },
        { "IPv6:::ffff:192.0.2.1", "192.0.2.1" },
        { "::192.0.2.1", "::192.0.2.1" },   /* v4-compatible is plain IPv6 */
        { "", NULL },
        { "[]", NULL },
        { "[", NULL },
        { "]", NULL },
        { "[192.0.2.1", NULL },
        { "192.0.2.1]", NULL },
        { "IPv6:", NULL },
        { "IPv6:192.0.2.1", NULL },
        { "[IPv6:192.0.2.1]", NULL },
        { "192.0.2", NULL },
        { "192.0.2.256", NULL },
        { "192.0.2.1.5", NULL },
        { "192.0.2.01", NULL },
        { " 192.0.2.1", NULL },
        { "192.0.2.1 ", NULL },
        { "192.0.2.1\n", NULL },
        { "192.0.2.1x", NULL },
        { "fe80::1%eth0", NULL },
        { "[fe80::1%eth0]", NULL },
        { "2001:db8::1::2", NULL },
        { "2001:db8:::1", NULL },
        { "localhost", NULL },
        { "unknown", NULL },
        { "192.0.2.0/24", NULL },
        { "IPv4:192.0.2.1", NULL },
        { "[[192.0.2.1]]", NULL },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        unsigned char ip[16];
        char buf[64];
        int rc = addr_parse(rows[i].text, strlen(rows[i].text), ip);

        if (rows[i].canon == NULL) {
            if (rc != -1)
                fail_msg("row %zu \"%s\": got %d, want -1", i, rows[i].text, rc);
            continue;
        }
        if (rc != 0)
            fail_msg("row %zu \"%s\": got %d, want 0", i, rows[i].text, rc);
        addr_format(ip, buf, sizeof(buf));
        if (strcmp(buf, rows[i].canon) != 0)
            fail_msg("row %zu \"%s\": got \"%s\", want \"%s\"", i, rows[i].text, buf,
                     rows[i].canon);
    }
}

static void
test_parse_v4_mapped_equals_v4(void **state)
{
    static const char *const same[] = {
        "192.0.2.1", "::ffff:192.0.2.1", "[192.0.2.1]", "IPv6:::ffff:192.0.2.1",
        "[IPv6:::ffff:c000:201]", "0:0:0:0:0:ffff:c000:201",
    };
    static const unsigned char want[16] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1
    };

    (void)state;
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        unsigned char ip[16];

        parse_ok(same[i], ip);
        if (memcmp(ip, want, 16) != 0)
            fail_msg("\"%s\": got different bytes from ::ffff:192.0.2.1", same[i]);
    }
}

/* Macro values are slices: the text need not end at len. */
static void
test_parse_slice_and_bytes(void **state)
{
    static const char buf[] = "192.0.2.10:25";
    static const char nul[] = "192.0.2.1\0junk";
    unsigned char ip[16];
    char out[64];

    (void)state;
    assert_int_equal(addr_parse(buf, 9, ip), 0);
    addr_format(ip, out, sizeof(out));
    assert_string_equal(out, "192.0.2.1");
    assert_int_equal(addr_parse(buf, 10, ip), 0);
    addr_format(ip, out, sizeof(out));
    assert_string_equal(out, "192.0.2.10");
    assert_int_equal(addr_parse(buf, sizeof(buf) - 1, ip), -1);
    assert_int_equal(addr_parse(buf, 0, ip), -1);
    /* an embedded NUL is not the end of the value */
    assert_int_equal(addr_parse(nul, sizeof(nul) - 1, ip), -1);
    assert_int_equal(addr_parse(NULL, 3, ip), -1);
}

static void
test_parse_overlong(void **state)
{
    static const char *const rows[] = {
        /* 46 + tag: longer than any address, even when the tail would parse */
        "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000",
        "[IPv6:0000:0000:0000:0000:0000:ffff:192.000.002.001:0000]",
        "[IPv6:0000:0000:0000:0000:0000:0000:0000:00000000000000001]",
    };
    char big[4096];
    unsigned char ip[16];

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (addr_parse(rows[i], strlen(rows[i]), ip) != -1)
            fail_msg("\"%s\": got 0, want -1", rows[i]);
    memset(big, '1', sizeof(big));
    assert_int_equal(addr_parse(big, sizeof(big), ip), -1);
    /* the longest real spelling still parses */
    parse_ok("[IPv6:0000:0000:0000:0000:0000:ffff:192.168.100.200]", ip);
}

/* --- formatting --------------------------------------------------------- */

static void
test_format_round_trip(void **state)
{
    static const char *const rows[] = {
        "192.0.2.1", "10.0.0.0", "2001:db8::1", "::", "::1", "fe80::1:2:3:4",
        "2001:db8:0:1:1:1:1:1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "0:2:3:4:5:6:7:8",
        "1::", "2001:db8::ffff:0:1",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        unsigned char ip[16], ip2[16];
        char buf[46];

        parse_ok(rows[i], ip);
        addr_format(ip, buf, sizeof(buf));
        if (strcmp(buf, rows[i]) != 0)
            fail_msg("\"%s\": formatted as \"%s\"", rows[i], buf);
        parse_ok(buf, ip2);
        if (memcmp(ip, ip2, 16) != 0)
            fail_msg("\"%s\": reparsed to other bytes", rows[i]);
    }
}

static void
test_format_small_buffer(void **state)
{
    unsigned char ip[16];
    char buf[8];

    (void)state;
    parse_ok("2001:db8::1234:5678", ip);
    memset(buf, 'x', sizeof(buf));
    addr_format(ip, buf, sizeof(buf));
    /* no overflow, and always a terminated string */
    assert_non_null(memchr(buf, '\0', sizeof(buf)));
    addr_format(ip, buf, 0);      /* must not write */
}

/* --- CIDR syntax -------------------------------------------------------- */

static void
test_cidr_check_table(void **state)
{
    static const struct {
        const char *cidr;
        int valid;
    } rows[] = {
        { "192.0.2.0/24", 1 },
        { "192.0.2.1", 1 },
        { "192.0.2.1/32", 1 },
        { "0.0.0.0/0", 1 },
        { "10.0.0.0/8", 1 },
        { "2001:db8::/32", 1 },
        { "2001:db8::1", 1 },
        { "2001:db8::1/128", 1 },
        { "::/0", 1 },
        { "::ffff:192.0.2.0/120", 1 },
        { "::ffff:0.0.0.0/96", 1 },
        { "192.0.2.1/24", 0 },         /* host bits */
        { "0.0.0.1/0", 0 },
        { "2001:db8::1/64", 0 },
        { "192.0.2.0/33", 0 },
        { "2001:db8::/129", 0 },
        { "192.0.2.0/024", 0 },        /* leading zero */
        { "192.0.2.0/00", 0 },
        { "192.0.2.0/+24", 0 },
        { "192.0.2.0/-1", 0 },
        { "192.0.2.0/", 0 },
        { "192.0.2.0/24/", 0 },
        { "192.0.2.0/24 ", 0 },
        { "192.0.2.0 /24", 0 },
        { "192.0.2.0/2x", 0 },
        { "192.0.2.0/99999999999999999999", 0 },
        { "/24", 0 },
        { "", 0 },
        { "192.0.2/24", 0 },
        { "[192.0.2.0]/24", 0 },       /* MTA spellings are not config syntax */
        { "IPv6:2001:db8::/32", 0 },
        { "fe80::%eth0/64", 0 },
        { "example.com", 0 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *err = addr_cidr_check(rows[i].cidr);

        if (rows[i].valid && err != NULL)
            fail_msg("row %zu \"%s\": got \"%s\", want valid", i, rows[i].cidr, err);
        if (!rows[i].valid && (err == NULL || err[0] == '\0'))
            fail_msg("row %zu \"%s\": got valid, want an error", i, rows[i].cidr);
    }
    assert_non_null(addr_cidr_check(NULL));
}

static void
test_cidr_check_messages(void **state)
{
    static const struct {
        const char *cidr;
        const char *needle;
    } rows[] = {
        { "192.0.2.1/24", "host bits" },
        { "192.0.2.0/33", "32" },
        { "2001:db8::/200", "128" },
        { "192.0.2.0/024", "leading zero" },
        { "nonsense", "192.0.2.0/24" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *err = addr_cidr_check(rows[i].cidr);

        assert_non_null(err);
        if (strstr(err, rows[i].needle) == NULL)
            fail_msg("\"%s\": got \"%s\", want it to mention \"%s\"", rows[i].cidr, err,
                     rows[i].needle);
    }
}

/* --- the trie ----------------------------------------------------------- */

static void
test_nested_prefixes_shortest_first(void **state)
{
    static const char *const cidrs[] = {
        "192.0.2.128/25", "192.0.0.0/16", "192.0.2.0/24", "192.0.2.130", "10.0.0.0/8",
        "192.0.2.0/24",
    };
    static const uint32_t ids[] = { 1, 2, 3, 4, 5, 6 };
    struct addr_table *t = build(cidrs, ids, sizeof(cidrs) / sizeof(cidrs[0]));

    (void)state;
    assert_int_equal(addr_table_size(t), 5);
    check_spans(t, "192.0.2.130", (const int[][6]){ { 2, -1 }, { 3, 6, -1 }, { 1, -1 },
                                                    { 4, -1 }, { -1 } });
    check_spans(t, "192.0.2.129", (const int[][6]){ { 2, -1 }, { 3, 6, -1 }, { 1, -1 },
                                                    { -1 } });
    check_spans(t, "192.0.2.1", (const int[][6]){ { 2, -1 }, { 3, 6, -1 }, { -1 } });
    check_spans(t, "192.0.3.1", (const int[][6]){ { 2, -1 }, { -1 } });
    check_spans(t, "192.1.0.0", (const int[][6]){ { -1 } });
    check_spans(t, "10.255.255.255", (const int[][6]){ { 5, -1 }, { -1 } });
    check_spans(t, "::ffff:10.1.2.3", (const int[][6]){ { 5, -1 }, { -1 } });
    check_spans(t, "::a01:203", (const int[][6]){ { -1 } });   /* v4-compatible: no */
    addr_table_free(t);
}

/* 0.0.0.0/0 is ::ffff:0:0/96: every IPv4 client, no native IPv6 one. */
static void
test_v4_zero_is_all_v4_only(void **state)
{
    static const char *const cidrs[] = { "0.0.0.0/0" };
    static const uint32_t ids[] = { 1 };
    static const struct {
        const char *addr;
        int match;
    } rows[] = {
        { "0.0.0.0", 1 }, { "192.0.2.1", 1 }, { "255.255.255.255", 1 },
        { "::ffff:10.0.0.1", 1 }, { "2001:db8::1", 0 }, { "::1", 0 }, { "::", 0 },
        { "::fffe:0:0", 0 }, { "ffff::", 0 },
    };
    struct addr_table *t = build(cidrs, ids, 1);

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct id_span sp[MAX_SPANS];
        size_t n;

        n = lookup_text(t, rows[i].addr, sp);
        if (n != (size_t)rows[i].match)
            fail_msg("%s: got %zu spans, want %d", rows[i].addr, n, rows[i].match);
    }
    addr_table_free(t);
}

/* ::/0 is every key, and IPv4 clients are keys under ::ffff:0:0/96, so it
 * matches them too: "any address" in the file means any client. */
static void
test_v6_zero_matches_everything(void **state)
{
    static const char *const cidrs[] = { "::/0", "2001:db8::/32" };
    static const uint32_t ids[] = { 1, 2 };
    static const struct {
        const char *addr;
        size_t spans;
    } rows[] = {
        { "2001:db8::1", 2 }, { "2001:db9::1", 1 }, { "::1", 1 }, { "192.0.2.1", 1 },
        { "::ffff:192.0.2.1", 1 }, { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
    };
    struct addr_table *t = build(cidrs, ids, 2);

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct id_span sp[MAX_SPANS];
        size_t n;

        n = lookup_text(t, rows[i].addr, sp);
        if (n != rows[i].spans)
            fail_msg("%s: got %zu spans, want %zu", rows[i].addr, n, rows[i].spans);
        if (sp[0].ids[0] != 1)
            fail_msg("%s: first span is not ::/0", rows[i].addr);
    }
    addr_table_free(t);
}

static void
test_v4_mapped_cidr_equals_v4(void **state)
{
    static const struct {
        const char *a, *b;
    } rows[] = {
        { "192.0.2.0/24", "::ffff:192.0.2.0/120" },
        { "192.0.2.7", "::ffff:192.0.2.7/128" },
        { "0.0.0.0/0", "::ffff:0.0.0.0/96" },
        { "10.0.0.0/8", "::ffff:a00:0/104" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct addr_table *t = addr_table_new();
        struct id_span sp[MAX_SPANS];
        unsigned char ip[16];
        size_t n;

        assert_non_null(t);
        assert_int_equal(addr_table_add(t, rows[i].a, 1), 0);
        assert_int_equal(addr_table_add(t, rows[i].b, 2), 0);
        assert_int_equal(addr_table_freeze(t), 0);
        if (addr_table_size(t) != 1)
            fail_msg("%s and %s: got %zu prefixes, want 1", rows[i].a, rows[i].b,
                     addr_table_size(t));
        memset(ip, 0, sizeof(ip));
        assert_int_equal(addr_parse(rows[i].b, strcspn(rows[i].b, "/"), ip), 0);
        n = addr_table_lookup(t, ip, sp, MAX_SPANS);
        assert_int_equal(n, 1);
        assert_int_equal(sp[0].n, 2);
        addr_table_free(t);
    }
}

static void
test_ids_dedup_and_order(void **state)
{
    static const uint32_t adds[] = { 8, 2, 2, 5, 8, 1 };
    static const uint32_t want[] = { 1, 2, 5, 8 };
    struct addr_table *t = addr_table_new();
    struct id_span sp[MAX_SPANS];
    size_t n;

    (void)state;
    assert_non_null(t);
    /* ascending with repeats, as the loader adds them */
    assert_int_equal(addr_table_add(t, "198.51.100.0/24", 3), 0);
    assert_int_equal(addr_table_add(t, "198.51.100.0/24", 3), 0);
    assert_int_equal(addr_table_add(t, "198.51.100.0/24", 4), 0);
    /* out of order: the contract forbids it, freeze must still sort */
    for (size_t i = 0; i < sizeof(adds) / sizeof(adds[0]); i++)
        assert_int_equal(addr_table_add(t, "2001:db8:1::/48", adds[i]), 0);
    assert_int_equal(addr_table_freeze(t), 0);
    assert_int_equal(addr_table_size(t), 2);

    n = lookup_text(t, "198.51.100.9", sp);
    assert_int_equal(n, 1);
    assert_int_equal(sp[0].n, 2);
    assert_int_equal(sp[0].ids[0], 3);
    assert_int_equal(sp[0].ids[1], 4);

    n = lookup_text(t, "2001:db8:1:2::3", sp);
    assert_int_equal(n, 1);
    assert_int_equal(sp[0].n, 4);
    for (size_t i = 0; i < 4; i++)
        if (sp[0].ids[i] != want[i])
            fail_msg("ids[%zu]: got %u, want %u", i, sp[0].ids[i], want[i]);
    addr_table_free(t);
}

/* Where two prefixes part, the trie holds a node of its own; it must neither
 * count as a prefix nor yield a span until a connector names it. */
static void
test_branch_points_are_not_prefixes(void **state)
{
    struct addr_table *t = addr_table_new();
    struct id_span sp[MAX_SPANS];
    unsigned char ip[16];

    (void)state;
    assert_non_null(t);
    assert_int_equal(addr_table_add(t, "10.0.0.0/24", 1), 0);
    assert_int_equal(addr_table_add(t, "10.0.1.0/24", 2), 0);
    assert_int_equal(addr_table_size(t), 2);
    parse_ok("10.0.0.5", ip);
    assert_int_equal(addr_table_lookup(t, ip, sp, MAX_SPANS), 1);
    /* now name the branch point itself */
    assert_int_equal(addr_table_add(t, "10.0.0.0/23", 3), 0);
    assert_int_equal(addr_table_size(t), 3);
    /* and a prefix above everything, and one in between */
    assert_int_equal(addr_table_add(t, "10.0.0.0/8", 4), 0);
    assert_int_equal(addr_table_add(t, "10.0.0.0/16", 5), 0);
    assert_int_equal(addr_table_size(t), 5);
    assert_int_equal(addr_table_freeze(t), 0);
    check_spans(t, "10.0.1.200", (const int[][6]){ { 4, -1 }, { 5, -1 }, { 3, -1 }, { 2, -1 },
                                                   { -1 } });
    check_spans(t, "10.0.0.1", (const int[][6]){ { 4, -1 }, { 5, -1 }, { 3, -1 }, { 1, -1 },
                                                 { -1 } });
    check_spans(t, "10.0.2.1", (const int[][6]){ { 4, -1 }, { 5, -1 }, { -1 } });
    addr_table_free(t);
}

static void
test_host_routes(void **state)
{
    static const char *const cidrs[] = {
        "2001:db8::1", "2001:db8::2/128", "192.0.2.1/32", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "::",
    };
    static const uint32_t ids[] = { 1, 2, 3, 4, 5 };
    static const struct {
        const char *addr;
        int id;
    } rows[] = {
        { "2001:db8::1", 1 }, { "2001:db8::2", 2 }, { "2001:db8::3", -1 },
        { "192.0.2.1", 3 }, { "192.0.2.0", -1 }, { "192.0.2.2", -1 },
        { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 4 }, { "::", 5 }, { "::1", -1 },
        { "0.0.0.0", -1 },
    };
    struct addr_table *t = build(cidrs, ids, 5);

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct id_span sp[MAX_SPANS];
        size_t n;
        int got;

        n = lookup_text(t, rows[i].addr, sp);
        got = n == 1 && sp[0].n == 1 ? (int)sp[0].ids[0] : -1;
        if (n > 1 || got != rows[i].id)
            fail_msg("%s: got id %d (%zu spans), want %d", rows[i].addr, got, n, rows[i].id);
    }
    addr_table_free(t);
}

/* Every prefix length of one address: 129 spans, the most a lookup yields. */
static void
test_all_lengths_and_small_max(void **state)
{
    struct addr_table *t = addr_table_new();
    struct id_span sp[MAX_SPANS + 1], all[MAX_SPANS];
    unsigned char ip[16];
    size_t nall;

    (void)state;
    assert_non_null(t);
    parse_ok("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ip);
    for (unsigned len = 0; len <= 128; len++) {
        unsigned char key[16];
        char text[64], cidr[80];

        memset(key, 0, sizeof(key));
        for (unsigned b = 0; b < len; b++)
            key[b / 8] |= (unsigned char)(0x80u >> (b % 8));
        addr_format(key, text, sizeof(text));
        /* v4-mapped keys format as IPv4; write them as IPv6 to keep the length */
        if (strchr(text, ':') == NULL)
            snprintf(cidr, sizeof(cidr), "::ffff:%s/%u", text, len);
        else
            snprintf(cidr, sizeof(cidr), "%s/%u", text, len);
        if (addr_table_add(t, cidr, len) != 0)
            fail_msg("add %s failed", cidr);
    }
    assert_int_equal(addr_table_freeze(t), 0);
    assert_int_equal(addr_table_size(t), 129);
    nall = addr_table_lookup(t, ip, all, MAX_SPANS);
    assert_int_equal(nall, 129);
    for (size_t i = 0; i < nall; i++)
        if (all[i].n != 1 || all[i].ids[0] != i)
            fail_msg("span %zu: got id %u, want %zu (shortest first)", i, all[i].ids[0], i);
    for (size_t max = 0; max <= 5; max++) {
        size_t n;

        sp[max].n = 12345;        /* canary just past the allowed area */
        n = addr_table_lookup(t, ip, sp, max);
        if (n != max)
            fail_msg("max %zu: got %zu spans", max, n);
        if (sp[max].n != 12345)
            fail_msg("max %zu: wrote past spans[max]", max);
        for (size_t i = 0; i < n; i++)
            if (sp[i].ids != all[i].ids)
                fail_msg("max %zu: span %zu is not the %zu-th shortest", max, i, i);
    }
    addr_table_free(t);
}

static void
test_empty_invalid_frozen(void **state)
{
    static const char *const bad[] = { "192.0.2.1/24", "nonsense", "", "[192.0.2.1]" };
    struct addr_table *t = addr_table_new();
    struct id_span sp[4];
    unsigned char ip[16];

    (void)state;
    assert_non_null(t);
    parse_ok("192.0.2.1", ip);
    assert_int_equal(addr_table_lookup(t, ip, sp, 4), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (addr_table_add(t, bad[i], 1) != -1)
            fail_msg("add \"%s\": got success, want -1", bad[i]);
    assert_int_equal(addr_table_add(t, NULL, 1), -1);
    assert_int_equal(addr_table_size(t), 0);
    assert_int_equal(addr_table_freeze(t), 0);
    assert_int_equal(addr_table_lookup(t, ip, sp, 4), 0);
    assert_int_equal(addr_table_add(t, "192.0.2.0/24", 1), -1);   /* after freeze */
    assert_int_equal(addr_table_size(t), 0);
    addr_table_free(t);
    addr_table_free(NULL);
    assert_int_equal(addr_table_size(NULL), 0);
}

/* Every MTA spelling of one client gives the same key, so the same spans. */
static void
test_mta_spellings_agree(void **state)
{
    static const char *const rows[][4] = {
        { "2001:db8::25", "IPv6:2001:db8::25", "[IPv6:2001:db8::25]", "[2001:db8::25]" },
        { "192.0.2.25", "[192.0.2.25]", "::ffff:192.0.2.25", "IPv6:::ffff:c000:219" },
    };

    (void)state;
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        unsigned char first[16], ip[16];

        parse_ok(rows[r][0], first);
        for (size_t i = 1; i < 4; i++) {
            parse_ok(rows[r][i], ip);
            if (memcmp(ip, first, 16) != 0)
                fail_msg("\"%s\" and \"%s\": got different keys", rows[r][0], rows[r][i]);
        }
    }
}

/* Each prefix length of each family: the network is valid, the same network
 * with the first host bit set is not. Generated, so every boundary is hit. */
static void
test_cidr_every_length(void **state)
{
    (void)state;
    for (unsigned v6 = 0; v6 <= 1; v6++) {
        unsigned max = v6 ? 128 : 32;

        for (unsigned len = 0; len <= max; len++) {
            unsigned char ip[16];
            char text[64], cidr[80];
            const char *err;

            /* all ones in the prefix; v4 keys start at bit 96 */
            memset(ip, 0, sizeof(ip));
            if (!v6)
                ip[10] = ip[11] = 0xff;
            for (unsigned b = 0; b < len; b++) {
                unsigned bit = (v6 ? 0 : 96) + b;

                ip[bit / 8] |= (unsigned char)(0x80u >> (bit % 8));
            }
            addr_format(ip, text, sizeof(text));
            snprintf(cidr, sizeof(cidr), "%s%s/%u", v6 && strchr(text, ':') == NULL ? "::ffff:" : "",
                     text, len);
            err = addr_cidr_check(cidr);
            if (err != NULL)
                fail_msg("%s: got \"%s\", want valid", cidr, err);
            if (len == max)
                continue;
            {
                unsigned bit = (v6 ? 0 : 96) + len;

                ip[bit / 8] |= (unsigned char)(0x80u >> (bit % 8));
            }
            addr_format(ip, text, sizeof(text));
            snprintf(cidr, sizeof(cidr), "%s%s/%u", v6 && strchr(text, ':') == NULL ? "::ffff:" : "",
                     text, len);
            if (addr_cidr_check(cidr) == NULL)
                fail_msg("%s: got valid, want a host-bits error", cidr);
        }
    }
}

/* --- brute force -------------------------------------------------------- */

/* Keys come from a small space so prefixes nest and collide often: IPv4 in
 * 10.0-3.0-7.x, IPv6 in 2001:db8:0-3::0-15 and ::0-3. With miss set, probes
 * come from 172.16.x.x and 3fff::x, which no generated prefix covers (IPv4
 * prefixes are at least /8 under 10/8, IPv6 ones at least /16 under
 * 2001:db8::, ::x ones at least /96). */
static void
random_addr(unsigned char ip[16], int miss)
{
    memset(ip, 0, 16);
    if (miss) {
        if (rng() % 2) {
            ip[10] = ip[11] = 0xff;
            ip[12] = 172;
            ip[13] = 16;
            ip[15] = (unsigned char)rng();
        } else {
            ip[0] = 0x3f;
            ip[1] = 0xff;
            ip[15] = (unsigned char)rng();
        }
        return;
    }
    switch (rng() % 8) {
    case 0: case 1: case 2: case 3:
        ip[10] = ip[11] = 0xff;
        ip[12] = 10;
        ip[13] = (unsigned char)(rng() % 4);
        ip[14] = (unsigned char)(rng() % 8);
        ip[15] = (unsigned char)rng();
        break;
    case 4: case 5: case 6:
        ip[0] = 0x20;
        ip[1] = 0x01;
        ip[2] = 0x0d;
        ip[3] = 0xb8;
        ip[5] = (unsigned char)(rng() % 4);
        ip[15] = (unsigned char)(rng() % 16);
        break;
    default:
        ip[15] = (unsigned char)(rng() % 4);
        break;
    }
}

static int
prefix_match(const unsigned char a[16], const unsigned char b[16], unsigned len)
{
    unsigned whole = len / 8, rest = len % 8;

    if (memcmp(a, b, whole) != 0)
        return 0;
    return rest == 0 || ((a[whole] ^ b[whole]) & (0xff00u >> rest) & 0xffu) == 0;
}

struct bf_prefix {
    unsigned char key[16];
    unsigned len;                 /* in v6 bits */
    uint32_t id;
};

#define NPREFIX 10000
#define NPROBE 3000

static void
test_bruteforce_random(void **state)
{
    struct bf_prefix *p = calloc(NPREFIX, sizeof(*p));
    struct addr_table *t = addr_table_new();
    size_t *m = calloc(NPREFIX, sizeof(*m));
    uint32_t *want = calloc(NPREFIX, sizeof(*want));
    size_t matched = 0, deepest = 0;

    (void)state;
    assert_non_null(p);
    assert_non_null(t);
    assert_non_null(m);
    assert_non_null(want);
    rng_state = 0x6d696c7465720002ULL;
    for (size_t i = 0; i < NPREFIX; i++) {
        char text[64], cidr[80];
        unsigned char key[16];
        int v4;

        random_addr(key, 0);
        v4 = memcmp(key, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
        if (v4) {
            p[i].len = 96 + 8 + rng() % 25;
            if (rng() % 16 == 0)
                v4 = 0;           /* written in its v4-mapped IPv6 form */
        } else if (key[0] == 0x20) {
            p[i].len = rng() % 16 == 0 ? 16 + rng() % 113 : 32 + rng() % 97;
        } else {
            p[i].len = 96 + rng() % 33;
        }
        for (unsigned b = p[i].len; b < 128; b++)
            key[b / 8] &= (unsigned char)~(0x80u >> (b % 8));
        memcpy(p[i].key, key, 16);
        p[i].id = (uint32_t)(i / 2);
        addr_format(key, text, sizeof(text));
        if (v4)
            snprintf(cidr, sizeof(cidr), "%s/%u", text, p[i].len - 96);
        else if (strchr(text, ':') == NULL)
            snprintf(cidr, sizeof(cidr), "::ffff:%s/%u", text, p[i].len);
        else
            snprintf(cidr, sizeof(cidr), "%s/%u", text, p[i].len);
        if (addr_table_add(t, cidr, p[i].id) != 0)
            fail_msg("add %s failed: %s", cidr, addr_cidr_check(cidr));
    }
    assert_int_equal(addr_table_freeze(t), 0);

    for (size_t k = 0; k < NPROBE; k++) {
        struct id_span sp[MAX_SPANS];
        unsigned char ip[16];
        size_t n, s = 0, nm = 0;
        char text[64];

        random_addr(ip, rng() % 4 == 0);
        addr_format(ip, text, sizeof(text));
        n = addr_table_lookup(t, ip, sp, MAX_SPANS);
        /* the matching entries, in add order (so ids ascend within a length) */
        for (size_t i = 0; i < NPREFIX; i++)
            if (prefix_match(p[i].key, ip, p[i].len))
                m[nm++] = i;
        /* walk the lengths upwards; each matching length is one span holding
         * the ids of every entry of that length */
        for (unsigned len = 0; len <= 128; len++) {
            size_t nw = 0;

            for (size_t j = 0; j < nm; j++)
                if (p[m[j]].len == len && (nw == 0 || want[nw - 1] != p[m[j]].id))
                    want[nw++] = p[m[j]].id;
            if (nw == 0)
                continue;
            if (s >= n)
                fail_msg("%s: got %zu spans, want more (missing /%u)", text, n, len);
            if (sp[s].n != nw)
                fail_msg("%s: span %zu (/%u) has %zu ids, want %zu", text, s, len, sp[s].n, nw);
            for (size_t i = 0; i < nw; i++)
                if (sp[s].ids[i] != want[i])
                    fail_msg("%s: /%u id %zu: got %u, want %u", text, len, i, sp[s].ids[i],
                             want[i]);
            s++;
        }
        if (s != n)
            fail_msg("%s: got %zu spans, want %zu", text, n, s);
        matched += n > 0;
        if (n > deepest)
            deepest = n;
    }
    /* the generator must produce misses, hits and nesting */
    assert_true(matched > NPROBE / 4);
    assert_true(matched < NPROBE);
    assert_true(deepest >= 3);
    free(p);
    free(m);
    free(want);
    addr_table_free(t);
}

#define NTADDRS 64

struct lookup_ctx {
    const struct addr_table *t;
    const unsigned char (*ips)[16];
};

static size_t
lookup_one(const void *ctx, size_t i)
{
    const struct lookup_ctx *c = ctx;
    struct id_span sp[MAX_SPANS];

    return addr_table_lookup(c->t, c->ips[i], sp, MAX_SPANS);
}

static void
test_concurrent_lookups(void **state)
{
    static unsigned char ips[NTADDRS][16];
    size_t want[NTADDRS], total = 0;
    struct addr_table *t = addr_table_new();
    struct lookup_ctx ctx = { t, (const unsigned char (*)[16])ips };

    (void)state;
    assert_non_null(t);
    rng_state = 0x6d696c7465720004ULL;
    for (uint32_t i = 0; i < 2000; i++) {
        unsigned char key[16];
        char text[64], cidr[80];
        unsigned len = 104 + rng() % 25;   /* IPv4 /8 .. /32 as v4-mapped */

        random_addr(key, 0);
        if (key[10] != 0xff)
            len = 32 + rng() % 97;
        for (unsigned b = len; b < 128; b++)
            key[b / 8] &= (unsigned char)~(0x80u >> (b % 8));
        addr_format(key, text, sizeof(text));
        snprintf(cidr, sizeof(cidr), "%s%s/%u", strchr(text, ':') ? "" : "::ffff:", text, len);
        assert_int_equal(addr_table_add(t, cidr, i), 0);
    }
    assert_int_equal(addr_table_freeze(t), 0);
    for (size_t i = 0; i < NTADDRS; i++) {
        struct id_span sp[MAX_SPANS];

        random_addr(ips[i], rng() % 4 == 0);
        want[i] = addr_table_lookup(t, ips[i], sp, MAX_SPANS);
        total += want[i];
    }
    assert_true(total > 0);
    match_test_concurrent(lookup_one, &ctx, want, NTADDRS);
    addr_table_free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_v4_mapped_equals_v4),
        cmocka_unit_test(test_parse_slice_and_bytes),
        cmocka_unit_test(test_parse_overlong),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_format_small_buffer),
        cmocka_unit_test(test_cidr_check_table),
        cmocka_unit_test(test_cidr_check_messages),
        cmocka_unit_test(test_nested_prefixes_shortest_first),
        cmocka_unit_test(test_v4_zero_is_all_v4_only),
        cmocka_unit_test(test_v6_zero_matches_everything),
        cmocka_unit_test(test_v4_mapped_cidr_equals_v4),
        cmocka_unit_test(test_ids_dedup_and_order),
        cmocka_unit_test(test_branch_points_are_not_prefixes),
        cmocka_unit_test(test_host_routes),
        cmocka_unit_test(test_all_lengths_and_small_max),
        cmocka_unit_test(test_empty_invalid_frozen),
        cmocka_unit_test(test_mta_spellings_agree),
        cmocka_unit_test(test_cidr_every_length),
        cmocka_unit_test(test_bruteforce_random),
        cmocka_unit_test(test_concurrent_lookups),
    };

    return cmocka_run_group_tests_name("match_addr", tests, NULL, NULL);
}
