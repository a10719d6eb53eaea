/*
 * match_domain.c -- the domain pattern index: an open-addressing hash table of
 * lower-cased suffixes ("x.test" exact, "*.x.test" wildcard) to ascending ids,
 * so a lookup costs one probe per label however many connectors exist.
 * Never: allocates, copies or writes during lookup (lookups run on many milter
 * threads at once after freeze); never logs or exits.
 */
#include "match_domain.h"
#include "id_list.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * One distinct pattern. The key (without "*." and without the trailing dot,
 * lower-cased) lives in the table's string arena so that 100,000 patterns cost
 * one growing buffer rather than 100,000 small allocations. Most patterns
 * belong to a single connector, so one id is stored inline and only longer
 * lists get their own array.
 */
struct dom_entry {
    uint32_t key_off;             /* offset of the key in the arena */
    uint16_t key_len;
    uint8_t  wild;                /* 1 for "*.key" */
    struct id_list ids;
};

/*
 * The probe array holds only (hash, entry index), 8 bytes a slot, so the
 * half-empty table that keeps probe runs short costs little and a probe
 * touches an entry only on a full hash match. Entries are dense.
 */
struct dom_slot {
    uint32_t hash;                /* 0 = empty (see dom_hash_final) */
    uint32_t entry;
};

struct domain_table {
    struct dom_slot *slot;
    size_t nslot;                 /* power of two */
    struct dom_entry *ent;
    size_t used, ent_cap;         /* used = distinct patterns */
    char *arena;
    size_t arena_len, arena_cap;
    bool frozen;
};

static unsigned char
dom_lower(unsigned char c)
{
    /* ASCII only: a locale set by the daemon must not change what matches. */
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/*
 * The hash runs right to left so that one pass over a name yields the hash of
 * every suffix at each dot, making a lookup O(length) rather than O(length *
 * labels). FNV-1a state, finished by a 32-bit mixer so the low bits (the slot
 * index) depend on every byte.
 */
#define DOM_FNV_BASIS 2166136261u
#define DOM_FNV_PRIME 16777619u

static uint32_t
dom_hash_step(uint32_t h, unsigned char c)
{
    return (h ^ dom_lower(c)) * DOM_FNV_PRIME;
}

static uint32_t
dom_hash_final(uint32_t h, unsigned wild)
{
    h ^= wild ? 0x9e3779b9u : 0;
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return h ? h : 1;             /* 0 marks an empty slot */
}

static uint32_t
dom_hash(const char *s, size_t len, unsigned wild)
{
    uint32_t h = DOM_FNV_BASIS;

    for (size_t i = len; i > 0; i--)
        h = dom_hash_step(h, (unsigned char)s[i - 1]);
    return dom_hash_final(h, wild);
}

/* Keys are stored lower-cased, so only the probe side needs folding. */
static bool
dom_key_equal(const struct domain_table *t, const struct dom_entry *e,
              const char *s, size_t len, unsigned wild)
{
    const unsigned char *k = (const unsigned char *)t->arena + e->key_off;

    if (e->key_len != len || e->wild != wild)
        return false;
    for (size_t i = 0; i < len; i++)
        if (k[i] != dom_lower((unsigned char)s[i]))
            return false;
    return true;
}

static const struct dom_entry *
dom_find(const struct domain_table *t, uint32_t h, const char *s, size_t len,
         unsigned wild)
{
    size_t mask, i;

    if (t->nslot == 0)
        return NULL;
    mask = t->nslot - 1;
    for (i = h & mask; t->slot[i].hash != 0; i = (i + 1) & mask)
        if (t->slot[i].hash == h &&
            dom_key_equal(t, &t->ent[t->slot[i].entry], s, len, wild))
            return &t->ent[t->slot[i].entry];
    return NULL;
}

struct domain_table *
domain_table_new(void)
{
    return calloc(1, sizeof(struct domain_table));
}

void
domain_table_free(struct domain_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->used; i++)
        id_list_free(&t->ent[i].ids);
    free(t->ent);
    free(t->slot);
    free(t->arena);
    free(t);
}

/*
 * Syntax of a pattern. Deliberately plain: LDH labels plus '_' (seen in real
 * host names and SRV-style owners); a hyphen at either end of a label is
 * accepted because real-world names carry it and rejecting it would only make
 * a file fail to load. Non-ASCII bytes are refused: the loader brought U-labels
 * to A-labels (idna.c) before this check, as the facts do with session names. An all-digit last label is refused
 * too: "192.0.2.1" is an address written under a name key by mistake.
 */
const char *
domain_pattern_check(const char *pattern)
{
    static const char expected[] =
        "a domain name (example.com) or a wildcard (*.example.com)";
    const char *p;
    size_t len, label = 0;
    bool numeric = true;          /* the current label is all digits so far */

    if (pattern == NULL)
        return expected;
    len = strlen(pattern);
    if (len > 0 && pattern[len - 1] == '.')
        len--;
    if (len == 0)
        return expected;
    if (len > DOMAIN_MAX_LEN)
        return "a domain name of at most 253 octets";
    p = pattern;
    if (p[0] == '*') {
        if (len < 3 || p[1] != '.')
            return "a wildcard as the whole left-most label, followed by a domain "
                   "(*.example.com)";
        p += 2;
        len -= 2;
    }
    if (p[0] == '.')
        return p == pattern
            ? "a wildcard written as *.example.com (a leading dot is not a pattern)"
            : "a domain name without empty labels (example.com, not example..com)";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c == '.') {
            if (label == 0)
                return "a domain name without empty labels (example.com, not example..com)";
            label = 0;
            numeric = true;
            continue;
        }
        if (c < '0' || c > '9')
            numeric = false;
        if (++label > 63)
            return "labels of at most 63 octets";
        if (c >= 0x80)
            return "IDN names must be written as A-labels (xn--...)";
        if (c == '*')
            return "a wildcard only as the whole left-most label (*.example.com)";
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return "letters, digits, '-' and '_' in a domain name (example.com or "
                   "*.example.com)";
    }
    /* label == 0 here is impossible: one trailing dot was removed above, a
     * second one would be an empty label caught in the loop. */
    if (label == 0)
        return "a domain name without empty labels (example.com, not example..com)";
    /* No top-level domain is all digits: this is an address, which would
     * never match a name and belongs under client_addr. */
    if (numeric)
        return "a domain name, not an IP address (example.com)";
    return NULL;
}

static int
dom_grow(struct domain_table *t)
{
    size_t nslot = t->nslot ? t->nslot * 2 : 64;
    struct dom_slot *slot;
    int rc = -1;

    if (nslot > SIZE_MAX / sizeof(*slot) || nslot > UINT32_MAX)
        goto out;
    slot = calloc(nslot, sizeof(*slot));
    if (slot == NULL)
        goto out;
    for (size_t i = 0; i < t->nslot; i++) {
        size_t j;

        if (t->slot[i].hash == 0)
            continue;
        for (j = t->slot[i].hash & (nslot - 1); slot[j].hash != 0; j = (j + 1) & (nslot - 1))
            ;
        slot[j] = t->slot[i];
    }
    free(t->slot);
    t->slot = slot;
    t->nslot = nslot;
    rc = 0;
out:
    return rc;
}

static int
dom_arena_put(struct domain_table *t, const char *s, size_t len, uint32_t *off)
{
    int rc = -1;

    if (t->arena_len + len > UINT32_MAX)
        goto out;
    if (t->arena_len + len > t->arena_cap) {
        size_t cap = t->arena_cap ? t->arena_cap : 4096;
        char *a;

        while (cap < t->arena_len + len)
            cap *= 2;
        a = realloc(t->arena, cap);
        if (a == NULL)
            goto out;
        t->arena = a;
        t->arena_cap = cap;
    }
    for (size_t i = 0; i < len; i++)
        t->arena[t->arena_len + i] = (char)dom_lower((unsigned char)s[i]);
    *off = (uint32_t)t->arena_len;
    t->arena_len += len;
    rc = 0;
out:
    return rc;
}

int
domain_table_add(struct domain_table *t, const char *pattern, uint32_t id)
{
    const struct dom_entry *found;
    struct dom_entry *e;
    const char *key;
    size_t len;
    unsigned wild;
    uint32_t h;
    int rc = -1;

    if (t == NULL || t->frozen || domain_pattern_check(pattern) != NULL) {
        errno = EINVAL;
        goto out;
    }
    key = pattern;
    len = strlen(pattern);
    if (pattern[len - 1] == '.')
        len--;
    wild = key[0] == '*';
    if (wild) {
        key += 2;
        len -= 2;
    }
    h = dom_hash(key, len, wild);
    found = dom_find(t, h, key, len, wild);
    if (found != NULL) {
        e = &t->ent[found - t->ent];
    } else {
        size_t mask, i;
        uint32_t off;

        /* Keep the load at most 1/2 so that probe runs stay short. */
        if ((t->used + 1) * 2 > t->nslot && dom_grow(t) < 0)
            goto out;
        if (t->used == t->ent_cap) {
            size_t cap = t->ent_cap ? t->ent_cap * 2 : 32;
            struct dom_entry *v;

            if (cap > SIZE_MAX / sizeof(*v))
                goto out;
            v = realloc(t->ent, cap * sizeof(*v));
            if (v == NULL)
                goto out;
            t->ent = v;
            t->ent_cap = cap;
        }
        if (dom_arena_put(t, key, len, &off) < 0)
            goto out;
        mask = t->nslot - 1;
        for (i = h & mask; t->slot[i].hash != 0; i = (i + 1) & mask)
            ;
        t->slot[i].hash = h;
        t->slot[i].entry = (uint32_t)t->used;
        e = &t->ent[t->used];
        e->key_off = off;
        e->key_len = (uint16_t)len;
        e->wild = (uint8_t)wild;
        id_list_init(&e->ids);
        t->used++;
    }
    rc = id_list_push(&e->ids, id);
out:
    return rc;
}

int
domain_table_freeze(struct domain_table *t)
{
    if (t == NULL)
        return -1;
    for (size_t i = 0; i < t->used; i++)
        id_list_finish(&t->ent[i].ids);
    /* Best effort: give back what doubling over-allocated. */
    if (t->used > 0 && t->used < t->ent_cap) {
        struct dom_entry *v = realloc(t->ent, t->used * sizeof(*v));

        if (v != NULL) {
            t->ent = v;
            t->ent_cap = t->used;
        }
    }
    if (t->arena_len > 0 && t->arena_len < t->arena_cap) {
        char *a = realloc(t->arena, t->arena_len);

        if (a != NULL) {
            t->arena = a;
            t->arena_cap = t->arena_len;
        }
    }
    t->frozen = true;
    return 0;
}

/*
 * Reject what cannot be a host name before hashing: empty labels, labels over
 * 63 octets, over 253 octets or DOMAIN_MAX_LABELS labels, and NUL bytes (a C
 * string consumer of the same name, e.g. a log line, would see a different
 * name than the one we matched). Other odd bytes are left alone: no pattern
 * label can contain them, so they only ever match under a wildcard, which is
 * what "any subdomain" means. Returns the length without the trailing dot, or 0.
 */
static size_t
dom_name_usable(const char *name, size_t len)
{
    size_t label = 0, labels = 1;

    if (name == NULL)
        return 0;
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > DOMAIN_MAX_LEN)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '\0')
            return 0;
        if (name[i] == '.') {
            if (label == 0 || ++labels > DOMAIN_MAX_LABELS)
                return 0;
            label = 0;
        } else if (++label > 63) {
            return 0;
        }
    }
    return label == 0 ? 0 : len;
}

/*
 * Spans come out as: every matching wildcard from the shortest suffix
 * ("*.test") to the longest, then the exact name.
 */
size_t
domain_table_lookup(const struct domain_table *t, const char *name, size_t len,
                    struct id_span *spans, size_t max)
{
    const struct dom_entry *e;
    size_t nspans = 0;
    uint32_t h = DOM_FNV_BASIS;

    if (t == NULL || t->used == 0 || spans == NULL || max == 0)
        return 0;
    len = dom_name_usable(name, len);
    if (len == 0)
        return 0;
    for (size_t i = len; i > 0; i--) {
        /* At a dot, h covers name[i..len): the suffix a "*.suffix" would name. */
        if (name[i - 1] == '.') {
            e = dom_find(t, dom_hash_final(h, 1), name + i, len - i, 1);
            if (e != NULL && e->ids.n > 0) {
                spans[nspans] = id_list_span(&e->ids);
                if (++nspans == max)
                    return nspans;
            }
        }
        h = dom_hash_step(h, (unsigned char)name[i - 1]);
    }
    e = dom_find(t, dom_hash_final(h, 0), name, len, 0);
    if (e != NULL && e->ids.n > 0) {
        spans[nspans] = id_list_span(&e->ids);
        nspans++;
    }
    return nspans;
}

size_t
domain_table_size(const struct domain_table *t)
{
    return t == NULL ? 0 : t->used;
}
