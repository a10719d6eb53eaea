/*
 * pin_index.c -- fingerprint -> connector ids for the fingerprint match keys:
 * a sorted array searched by bisection, since fingerprints have no structure a
 * tree could use, and a parallel id array so that each fingerprint's ids form
 * one ascending span, as the other match indexes hand out.
 * Never: changed after freeze; lookups allocate nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "pin_index.h"

struct pin_entry {
    char kind;                    /* 'c' certificate, 'k' public key */
    char hex[FINGERPRINT_SIZE];
    uint32_t id;
};

struct pin_index {
    struct pin_entry *e;
    uint32_t *ids;                /* ids[i] == e[i].id once frozen */
    size_t n, cap;
};

struct pin_index *
pin_index_new(void)
{
    return calloc(1, sizeof(struct pin_index));
}

int
pin_index_add(struct pin_index *x, bool pubkey, const char *hex, uint32_t id)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        struct pin_entry *grown = realloc(x->e, cap * sizeof(*grown));

        if (grown == NULL)
            return -1;
        x->e = grown;
        x->cap = cap;
    }
    x->e[x->n].kind = pubkey ? 'k' : 'c';
    memcpy(x->e[x->n].hex, hex, FINGERPRINT_HEX_LEN);
    x->e[x->n].hex[FINGERPRINT_HEX_LEN] = '\0';
    x->e[x->n].id = id;
    x->n++;
    return 0;
}

static int
entry_key_cmp(char kind, const char *hex, const struct pin_entry *b)
{
    if (kind != b->kind)
        return kind < b->kind ? -1 : 1;
    return strcmp(hex, b->hex);
}

static int
entry_cmp(const void *pa, const void *pb)
{
    const struct pin_entry *a = pa, *b = pb;
    int c = entry_key_cmp(a->kind, a->hex, b);

    if (c != 0)
        return c;
    return a->id < b->id ? -1 : a->id > b->id;
}

int
pin_index_freeze(struct pin_index *x)
{
    size_t k = 0;

    if (x->n == 0)
        return 0;
    qsort(x->e, x->n, sizeof(*x->e), entry_cmp);
    /* a connector naming one fingerprint twice counts once */
    for (size_t i = 0; i < x->n; i++)
        if (k == 0 || entry_cmp(&x->e[k - 1], &x->e[i]) != 0)
            x->e[k++] = x->e[i];
    x->n = k;
    if ((x->ids = malloc(x->n * sizeof(*x->ids))) == NULL)
        return -1;
    for (size_t i = 0; i < x->n; i++)
        x->ids[i] = x->e[i].id;
    return 0;
}

/* The span of ids under (kind, hex); n == 0 when none. */
static struct id_span
find(const struct pin_index *x, char kind, const char *hex)
{
    struct id_span sp = { NULL, 0 };
    size_t lo = 0, hi = x->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (entry_key_cmp(kind, hex, &x->e[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    sp.ids = x->ids != NULL ? x->ids + lo : NULL;
    while (lo + sp.n < x->n && entry_key_cmp(kind, hex, &x->e[lo + sp.n]) == 0)
        sp.n++;
    return sp;
}

size_t
pin_index_lookup(const struct pin_index *x, const char *cert_hex, const char *pubkey_hex,
                 struct id_span *spans, size_t max)
{
    size_t n = 0;
    struct id_span sp;

    if (x == NULL || x->ids == NULL)
        return 0;
    if (cert_hex != NULL && n < max && (sp = find(x, 'c', cert_hex)).n > 0)
        spans[n++] = sp;
    if (pubkey_hex != NULL && n < max && (sp = find(x, 'k', pubkey_hex)).n > 0)
        spans[n++] = sp;
    return n;
}

void
pin_index_free(struct pin_index *x)
{
    if (x == NULL)
        return;
    free(x->e);
    free(x->ids);
    free(x);
}
