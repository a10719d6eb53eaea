/*
 * match_addr.c -- the IP prefix index and address parsing: a path-compressed
 * binary trie over 128-bit keys (IPv4 as ::ffff:a.b.c.d) whose nodes live in
 * one pool addressed by 32-bit indexes, so 100,000 prefixes cost under 10 MB.
 * Never: allocates or writes during lookup (many milter threads read a frozen
 * table at once); never logs or exits.
 */
#include "match_addr.h"
#include "id_list.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longer than any address text we accept ("IPv6:" + 45 + brackets). */
#define ADDR_TEXT_MAX (INET6_ADDRSTRLEN + 8)

static const unsigned char addr_v4_mapped[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static bool
addr_is_v4_mapped(const unsigned char ip[16])
{
    return memcmp(ip, addr_v4_mapped, sizeof(addr_v4_mapped)) == 0;
}

/*
 * Plain address text (no brackets, no tag) of exactly len bytes. v6_only is set
 * for Sendmail's "IPv6:" tag, under which a dotted quad is not an address.
 * The copy is needed because inet_pton wants a NUL-terminated string and the
 * caller's text (a milter macro slice) may not be one.
 */
static int
addr_pton(const char *text, size_t len, bool v6_only, unsigned char ip[16])
{
    char buf[ADDR_TEXT_MAX];
    unsigned char v4[4];

    if (len == 0 || len >= sizeof(buf) || memchr(text, '\0', len) != NULL)
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (!v6_only && inet_pton(AF_INET, buf, v4) == 1) {
        memcpy(ip, addr_v4_mapped, sizeof(addr_v4_mapped));
        memcpy(ip + 12, v4, 4);
        return 0;
    }
    return inet_pton(AF_INET6, buf, ip) == 1 ? 0 : -1;
}

/*
 * What MTAs send: Postfix gives plain text, Sendmail tags IPv6 as "IPv6:...",
 * and host names of unresolved clients carry "[...]" around either form.
 * Zone ids ("%eth0") are refused by inet_pton, which is what we want: a policy
 * cannot name a link-local scope.
 */
int
addr_parse(const char *text, size_t len, unsigned char ip[16])
{
    bool v6_only = false;
    int rc = -1;

    if (text == NULL || ip == NULL || len == 0 || len >= ADDR_TEXT_MAX)
        goto out;
    if (text[0] == '[') {
        if (len < 2 || text[len - 1] != ']')
            goto out;
        text++;
        len -= 2;
    }
    if (len > 5 && strncasecmp(text, "IPv6:", 5) == 0) {
        v6_only = true;
        text += 5;
        len -= 5;
    }
    rc = addr_pton(text, len, v6_only, ip);
out:
    return rc;
}

void
addr_format(const unsigned char ip[16], char *buf, size_t size)
{
    const char *r;

    if (buf == NULL || size == 0)
        return;
    if (size > (size_t)INT32_MAX)
        size = INT32_MAX;         /* inet_ntop takes a socklen_t */
    if (addr_is_v4_mapped(ip))
        r = inet_ntop(AF_INET, ip + 12, buf, (socklen_t)size);
    else
        r = inet_ntop(AF_INET6, ip, buf, (socklen_t)size);
    if (r == NULL)
        buf[0] = '\0';
}

static unsigned
addr_bit(const unsigned char key[16], unsigned i)
{
    return (key[i / 8] >> (7 - i % 8)) & 1u;
}

/*
 * Parse "addr" or "addr/len" from the connectors file into a 128-bit key and a
 * v6 prefix length. Only plain address text: the MTA spellings ("IPv6:", "[]")
 * are for macro values, not for what an administrator writes.
 * An IPv4 /n is the v6 prefix ::ffff:0:0/(96+n), so "0.0.0.0/0" means every
 * IPv4 client and no native IPv6 one, while "::/0" covers every key including
 * the v4-mapped ones: written that way, "any address" means any client.
 * "::ffff:192.0.2.0/120" is the same prefix as "192.0.2.0/24".
 */
static const char *
addr_cidr_parse(const char *cidr, unsigned char key[16], unsigned *bits)
{
    static const char expected[] =
        "an IPv4 or IPv6 address or prefix (192.0.2.0/24, 2001:db8::/32)";
    const char *slash;
    size_t alen;
    unsigned plen, max;
    bool v4;

    if (cidr == NULL)
        return expected;
    slash = strchr(cidr, '/');
    alen = slash ? (size_t)(slash - cidr) : strlen(cidr);
    if (alen == 0 || addr_pton(cidr, alen, false, key) < 0)
        return expected;
    /* A dotted quad is IPv4 even if it is the tail of "::ffff:a.b.c.d". */
    v4 = memchr(cidr, ':', alen) == NULL;
    max = v4 ? 32 : 128;
    if (slash == NULL) {
        plen = max;
    } else {
        const char *d = slash + 1;

        if (d[0] == '\0')
            return "a prefix length after '/' (192.0.2.0/24)";
        if (d[0] == '0' && d[1] != '\0')
            return "a prefix length without leading zeros (192.0.2.0/24)";
        plen = 0;
        for (; *d != '\0'; d++) {
            if (*d < '0' || *d > '9')
                return "a decimal prefix length after '/' (192.0.2.0/24)";
            plen = plen * 10 + (unsigned)(*d - '0');
            if (plen > max)
                return v4 ? "an IPv4 prefix length of 0 to 32"
                          : "an IPv6 prefix length of 0 to 128";
        }
    }
    if (v4)
        plen += 96;
    for (unsigned i = plen; i < 128; i++)
        if (addr_bit(key, i))
            return "no host bits set below the prefix length "
                   "(192.0.2.0/24, not 192.0.2.1/24)";
    *bits = plen;
    return NULL;
}

const char *
addr_cidr_check(const char *cidr)
{
    unsigned char key[16];
    unsigned bits;

    return addr_cidr_parse(cidr, key, &bits);
}

/*
 * A trie node, 32 bytes so two share a cache line: the top plen bits of key
 * are the prefix, the rest are zero. Children are pool indexes, 0 meaning
 * none (pool[0] is never used), so the pool can be realloc'd while building
 * without invalidating links. Nodes where two branches merely part (glue)
 * have no id list; the lists live apart because a lookup reads one only for
 * the few prefixes that contain the address.
 */
struct addr_key {
    uint64_t hi, lo;              /* the address as two host-order numbers */
};

struct addr_node {
    struct addr_key key;
    uint32_t child[2];
    uint8_t  plen;                /* 0..128 */
    uint32_t list;                /* index into lists, 0 = glue */
};
_Static_assert(sizeof(struct addr_node) == 32, "a trie node should stay 32 bytes");

/* One id is stored inline because most prefixes belong to one connector. */
struct addr_table {
    struct addr_node *pool;
    uint32_t npool, cap;          /* pool[0] unused */
    struct id_list *lists;
    uint32_t nlists, lists_cap;   /* lists[0] unused; nlists - 1 prefixes */
    uint32_t root;
    bool frozen;
};

struct addr_table *
addr_table_new(void)
{
    return calloc(1, sizeof(struct addr_table));
}

void
addr_table_free(struct addr_table *t)
{
    if (t == NULL)
        return;
    for (uint32_t i = 1; i < t->nlists; i++)
        id_list_free(&t->lists[i]);
    free(t->lists);
    free(t->pool);
    free(t);
}

/*
 * Keys as two 64-bit numbers so that comparing a node's prefix is a couple of
 * word operations instead of a byte loop: a lookup visits up to ~20 nodes.
 */
static struct addr_key
addr_key_of(const unsigned char ip[16])
{
    struct addr_key k = { 0, 0 };

    for (unsigned i = 0; i < 8; i++) {
        k.hi = k.hi << 8 | ip[i];
        k.lo = k.lo << 8 | ip[8 + i];
    }
    return k;
}

static unsigned
addr_key_bit(const struct addr_key *k, unsigned i)
{
    return (unsigned)(i < 64 ? k->hi >> (63 - i) : k->lo >> (127 - i)) & 1u;
}

/* Leading zero bits of a non-zero word. */
static unsigned
addr_clz64(uint64_t x)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_clzll(x);
#else
    unsigned n = 0;

    while (!(x & (UINT64_C(1) << 63))) {
        x <<= 1;
        n++;
    }
    return n;
#endif
}

/* Bits in which a and b agree, counting from the top, at most limit. */
static unsigned
addr_common(const struct addr_key *a, const struct addr_key *b, unsigned limit)
{
    uint64_t x = a->hi ^ b->hi;
    unsigned n;

    if (x != 0)
        n = addr_clz64(x);
    else if ((x = a->lo ^ b->lo) != 0)
        n = 64 + addr_clz64(x);
    else
        n = 128;
    return n < limit ? n : limit;
}

/* key with every bit from plen on cleared */
static struct addr_key
addr_key_cut(const struct addr_key *k, unsigned plen)
{
    struct addr_key r = *k;

    if (plen == 0)
        r.hi = 0;
    else if (plen < 64)
        r.hi &= ~UINT64_C(0) << (64 - plen);
    if (plen <= 64)
        r.lo = 0;
    else if (plen < 128)
        r.lo &= ~UINT64_C(0) << (128 - plen);
    return r;
}

/* Double *v (of *cap elements of size) unless it still has room for n + 1;
 * slot 0 is reserved, so a fresh array starts with n = 1. */
static int
addr_reserve(void **v, uint32_t *cap, uint32_t n, size_t size, uint32_t first)
{
    uint32_t c;
    void *p;

    if (n < *cap)
        return 0;
    if (*cap > UINT32_MAX / 2)
        return -1;
    c = *cap ? *cap * 2 : first;
    if ((uint64_t)c * size > SIZE_MAX)
        return -1;
    p = realloc(*v, (size_t)c * size);
    if (p == NULL)
        return -1;
    *v = p;
    *cap = c;
    return 0;
}

/* Returns the new node's index, or 0 when out of memory. */
static uint32_t
addr_node_new(struct addr_table *t, const struct addr_key *key, unsigned plen)
{
    struct addr_node *nd;
    void *v = t->pool;

    if (t->npool == 0)
        t->npool = 1;             /* index 0 is "no node" */
    if (addr_reserve(&v, &t->cap, t->npool, sizeof(*nd), 256) < 0)
        return 0;
    t->pool = v;
    nd = &t->pool[t->npool];
    memset(nd, 0, sizeof(*nd));
    /* Keep only the prefix so that two keys of one prefix compare equal. */
    nd->key = addr_key_cut(key, plen);
    nd->plen = (uint8_t)plen;
    return t->npool++;
}

/*
 * Find or create the node for key/plen. Links are re-derived from (parent,
 * dir) after every allocation because the pool may move.
 */
static uint32_t
addr_insert(struct addr_table *t, const struct addr_key *key, unsigned plen)
{
    uint32_t parent = 0, cur = t->root, made, glue;
    unsigned dir = 0;

#define LINK(par, d) (*((par) ? &t->pool[(par)].child[(d)] : &t->root))
    for (;;) {
        unsigned common;

        if (cur == 0) {
            made = addr_node_new(t, key, plen);
            if (made != 0)
                LINK(parent, dir) = made;
            return made;
        }
        common = addr_common(key, &t->pool[cur].key,
                             plen < t->pool[cur].plen ? plen : t->pool[cur].plen);
        if (common == t->pool[cur].plen) {
            if (plen == common)
                return cur;
            parent = cur;
            dir = addr_key_bit(key, common);
            cur = t->pool[cur].child[dir];
            continue;
        }
        /* key/plen leaves cur's path above cur: cur moves under a new node. */
        if (common == plen) {
            made = addr_node_new(t, key, plen);
            if (made == 0)
                return 0;
            t->pool[made].child[addr_key_bit(&t->pool[cur].key, plen)] = cur;
            LINK(parent, dir) = made;
            return made;
        }
        glue = addr_node_new(t, key, common);
        if (glue == 0)
            return 0;
        made = addr_node_new(t, key, plen);
        if (made == 0)
            return 0;             /* glue stays unused in the pool; freed with it */
        t->pool[glue].child[addr_key_bit(key, common)] = made;
        t->pool[glue].child[addr_key_bit(&t->pool[cur].key, common)] = cur;
        LINK(parent, dir) = glue;
        return made;
    }
#undef LINK
}

int
addr_table_add(struct addr_table *t, const char *cidr, uint32_t id)
{
    unsigned char key[16];
    struct addr_key k;
    unsigned plen;
    uint32_t nd;
    int rc = -1;

    if (t == NULL || t->frozen || addr_cidr_parse(cidr, key, &plen) != NULL) {
        errno = EINVAL;
        goto out;
    }
    k = addr_key_of(key);
    nd = addr_insert(t, &k, plen);
    if (nd == 0)
        goto out;
    if (t->pool[nd].list == 0) {
        /* a new prefix, or glue that a connector now names */
        void *v = t->lists;
        struct id_list *l;

        if (t->nlists == 0)
            t->nlists = 1;        /* index 0 is "no list" */
        if (addr_reserve(&v, &t->lists_cap, t->nlists, sizeof(*l), 64) < 0)
            goto out;
        t->lists = v;
        l = &t->lists[t->nlists];
        id_list_init(l);
        t->pool[nd].list = t->nlists++;
    }
    rc = id_list_push(&t->lists[t->pool[nd].list], id);
out:
    return rc;
}

int
addr_table_freeze(struct addr_table *t)
{
    if (t == NULL)
        return -1;
    for (uint32_t i = 1; i < t->nlists; i++)
        id_list_finish(&t->lists[i]);
    /* Best effort: give back what doubling over-allocated. */
    if (t->npool > 0 && t->npool < t->cap) {
        struct addr_node *p = realloc(t->pool, (size_t)t->npool * sizeof(*p));

        if (p != NULL) {
            t->pool = p;
            t->cap = t->npool;
        }
    }
    if (t->nlists > 0 && t->nlists < t->lists_cap) {
        struct id_list *p = realloc(t->lists, (size_t)t->nlists * sizeof(*p));

        if (p != NULL) {
            t->lists = p;
            t->lists_cap = t->nlists;
        }
    }
    t->frozen = true;
    return 0;
}

/*
 * One step per node on the path, so at most 129 spans (/0 .. /128), shortest
 * prefix first because the trie is walked from the root.
 */
size_t
addr_table_lookup(const struct addr_table *t, const unsigned char ip[16],
                  struct id_span *spans, size_t max)
{
    struct addr_key k;
    size_t nspans = 0;
    uint32_t cur;

    if (t == NULL || ip == NULL || spans == NULL)
        return 0;
    k = addr_key_of(ip);
    cur = t->root;
    while (cur != 0 && nspans < max) {
        const struct addr_node *nd = &t->pool[cur];

        if (addr_common(&k, &nd->key, nd->plen) < nd->plen)
            break;
        if (nd->list != 0) {
            const struct id_list *l = &t->lists[nd->list];

            if (l->n > 0) {
                spans[nspans] = id_list_span(l);
                nspans++;
            }
        }
        if (nd->plen == 128)
            break;
        cur = nd->child[addr_key_bit(&k, nd->plen)];
    }
    return nspans;
}

size_t
addr_table_size(const struct addr_table *t)
{
    return t == NULL || t->nlists == 0 ? 0 : t->nlists - 1;
}
