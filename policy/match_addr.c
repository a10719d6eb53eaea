/*
 * match_addr.c -- the IP prefix index and address parsing: a path-compressed
 * binary trie over 128-bit keys (IPv4 as ::ffff:a.b.c.d) whose nodes live in
 * one pool addressed by 32-bit indexes, so 100,000 prefixes cost a few MB.
 * Never: allocates or writes during lookup (many milter threads read a frozen
 * table at once); never logs or exits.
 */
#include "match_addr.h"

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
 * A trie node: key[0..plen) is the prefix, bits beyond plen are zero. Nodes
 * without ids are glue where two branches part. Children are pool indexes,
 * 0 meaning none (pool[0] is never used), so the pool can be realloc'd while
 * building without invalidating links. One id is stored inline because most
 * prefixes belong to one connector.
 */
struct addr_node {
    unsigned char key[16];
    uint8_t  plen;                /* 0..128 */
    uint8_t  sorted;
    uint32_t child[2];
    uint32_t n, cap;              /* cap <= 1: the id (if any) is inline */
    union {
        uint32_t one;
        uint32_t *many;
    } ids;
};

struct addr_table {
    struct addr_node *pool;
    uint32_t npool, cap;          /* pool[0] unused */
    uint32_t root;
    size_t nprefix;
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
    for (uint32_t i = 1; i < t->npool; i++)
        if (t->pool[i].cap > 1)
            free(t->pool[i].ids.many);
    free(t->pool);
    free(t);
}

/* Bits in which a and b agree, counting from the top, at most limit. */
static unsigned
addr_common(const unsigned char a[16], const unsigned char b[16], unsigned limit)
{
    unsigned n = 0;

    for (unsigned i = 0; i < 16 && n < limit; i++) {
        unsigned char x = a[i] ^ b[i];

        if (x == 0) {
            n += 8;
            continue;
        }
        while (!(x & 0x80)) {
            x <<= 1;
            n++;
        }
        break;
    }
    return n < limit ? n : limit;
}

/* Returns the new node's index, or 0 when out of memory. */
static uint32_t
addr_node_new(struct addr_table *t, const unsigned char key[16], unsigned plen)
{
    struct addr_node *nd;

    if (t->npool == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 256;
        struct addr_node *p;

        if (t->cap > UINT32_MAX / 2 || (uint64_t)cap * sizeof(*p) > SIZE_MAX)
            return 0;
        p = realloc(t->pool, (size_t)cap * sizeof(*p));
        if (p == NULL)
            return 0;
        t->pool = p;
        t->cap = cap;
        if (t->npool == 0)
            t->npool = 1;         /* index 0 is "no node" */
    }
    nd = &t->pool[t->npool];
    memset(nd, 0, sizeof(*nd));
    /* Copy only the prefix so that two keys of one prefix compare equal. */
    for (unsigned i = 0; i < plen; i += 8) {
        unsigned take = plen - i >= 8 ? 8 : plen - i;

        nd->key[i / 8] = (unsigned char)(key[i / 8] & (0xffu << (8 - take)));
    }
    nd->plen = (uint8_t)plen;
    nd->sorted = 1;
    return t->npool++;
}

/*
 * Find or create the node for key/plen. *link is re-derived from (parent, dir)
 * after every allocation because the pool may move.
 */
static uint32_t
addr_insert(struct addr_table *t, const unsigned char key[16], unsigned plen)
{
    uint32_t parent = 0, cur = t->root, made, glue;
    unsigned dir = 0, common;

#define LINK(par, d) (*((par) ? &t->pool[(par)].child[(d)] : &t->root))
    for (;;) {
        if (cur == 0) {
            made = addr_node_new(t, key, plen);
            if (made != 0)
                LINK(parent, dir) = made;
            return made;
        }
        common = addr_common(key, t->pool[cur].key,
                             plen < t->pool[cur].plen ? plen : t->pool[cur].plen);
        if (common == t->pool[cur].plen) {
            if (plen == common)
                return cur;
            parent = cur;
            dir = addr_bit(key, common);
            cur = t->pool[cur].child[dir];
            continue;
        }
        /* key/plen leaves cur's path above cur: cur moves under a new node. */
        if (common == plen) {
            made = addr_node_new(t, key, plen);
            if (made == 0)
                return 0;
            t->pool[made].child[addr_bit(t->pool[cur].key, plen)] = cur;
            LINK(parent, dir) = made;
            return made;
        }
        glue = addr_node_new(t, key, common);
        if (glue == 0)
            return 0;
        made = addr_node_new(t, key, plen);
        if (made == 0)
            return 0;             /* glue stays unused in the pool; freed with it */
        t->pool[glue].child[addr_bit(key, common)] = made;
        t->pool[glue].child[addr_bit(t->pool[cur].key, common)] = cur;
        LINK(parent, dir) = glue;
        return made;
    }
#undef LINK
}

static uint32_t *
addr_ids(struct addr_node *nd)
{
    return nd->cap <= 1 ? &nd->ids.one : nd->ids.many;
}

static int
addr_push_id(struct addr_node *nd, uint32_t id)
{
    int rc = -1;

    if (nd->n > 0) {
        uint32_t last = addr_ids(nd)[nd->n - 1];

        if (last == id) {
            rc = 0;
            goto out;
        }
        if (id < last)
            nd->sorted = 0;       /* repaired in freeze */
    }
    if (nd->n == 0) {
        nd->cap = 1;
    } else if (nd->n == nd->cap) {
        uint32_t *v;
        uint32_t cap;

        if (nd->cap > UINT32_MAX / 2)
            goto out;
        cap = nd->cap * 2;
        if (nd->cap == 1) {
            v = malloc(cap * sizeof(*v));
            if (v == NULL)
                goto out;
            v[0] = nd->ids.one;
        } else {
            v = realloc(nd->ids.many, cap * sizeof(*v));
            if (v == NULL)
                goto out;
        }
        nd->ids.many = v;
        nd->cap = cap;
    }
    addr_ids(nd)[nd->n++] = id;
    rc = 0;
out:
    return rc;
}

int
addr_table_add(struct addr_table *t, const char *cidr, uint32_t id)
{
    unsigned char key[16];
    unsigned plen;
    uint32_t nd;
    bool fresh;
    int rc = -1;

    if (t == NULL || t->frozen || addr_cidr_parse(cidr, key, &plen) != NULL) {
        errno = EINVAL;
        goto out;
    }
    nd = addr_insert(t, key, plen);
    if (nd == 0)
        goto out;
    fresh = t->pool[nd].n == 0;   /* new, or glue turning into a prefix */
    if (addr_push_id(&t->pool[nd], id) < 0)
        goto out;
    if (fresh)
        t->nprefix++;
    rc = 0;
out:
    return rc;
}

static int
addr_cmp_id(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

int
addr_table_freeze(struct addr_table *t)
{
    if (t == NULL)
        return -1;
    for (uint32_t i = 1; i < t->npool; i++) {
        struct addr_node *nd = &t->pool[i];
        uint32_t *v = addr_ids(nd), n = 0;

        if (!nd->sorted) {
            qsort(v, nd->n, sizeof(*v), addr_cmp_id);
            for (uint32_t j = 0; j < nd->n; j++)
                if (n == 0 || v[n - 1] != v[j])
                    v[n++] = v[j];
            nd->n = n;
            nd->sorted = 1;
        }
        if (nd->cap > 1 && nd->n == 1) {
            uint32_t only = nd->ids.many[0];

            free(nd->ids.many);
            nd->ids.one = only;
            nd->cap = 1;
        } else if (nd->cap > 1 && nd->n < nd->cap) {
            uint32_t *s = realloc(nd->ids.many, nd->n * sizeof(*s));

            if (s != NULL) {      /* best effort */
                nd->ids.many = s;
                nd->cap = nd->n;
            }
        }
    }
    if (t->npool > 0 && t->npool < t->cap) {
        struct addr_node *p = realloc(t->pool, (size_t)t->npool * sizeof(*p));

        if (p != NULL) {
            t->pool = p;
            t->cap = t->npool;
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
    size_t nspans = 0;
    uint32_t cur;

    if (t == NULL || ip == NULL || spans == NULL)
        return 0;
    cur = t->root;
    while (cur != 0 && nspans < max) {
        const struct addr_node *nd = &t->pool[cur];

        if (addr_common(ip, nd->key, nd->plen) < nd->plen)
            break;
        if (nd->n > 0) {
            spans[nspans].ids = nd->cap <= 1 ? &nd->ids.one : nd->ids.many;
            spans[nspans].n = nd->n;
            nspans++;
        }
        if (nd->plen == 128)
            break;
        cur = nd->child[addr_bit(ip, nd->plen)];
    }
    return nspans;
}

size_t
addr_table_size(const struct addr_table *t)
{
    return t == NULL ? 0 : t->nprefix;
}
