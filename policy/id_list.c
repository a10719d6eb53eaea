/*
 * id_list.c -- the connector-id lists behind the keys of both match indexes, so
 * that the domain and the address index store, grow, sort and lend their ids
 * the same way.
 * Never: logs, or frees anything but the list's own array.
 */
#include <stdlib.h>

#include "id_list.h"

static uint32_t *
id_list_ids(struct id_list *l)
{
    return l->cap == 1 ? &l->ids.one : l->ids.many;
}

void
id_list_init(struct id_list *l)
{
    l->n = 0;
    l->cap = 1;
    l->ids.one = 0;
}

int
id_list_push(struct id_list *l, uint32_t id)
{
    uint32_t *v;
    uint32_t cap;
    int rc = -1;

    if (l->n > 0 && id_list_ids(l)[l->n - 1] == id) {
        rc = 0;                   /* same connector listing a key twice */
        goto out;
    }
    if (l->n == l->cap) {
        if (l->cap == 0 || l->cap > UINT32_MAX / 2)
            goto out;
        cap = l->cap * 2;
        if (l->cap == 1) {
            if ((v = malloc(cap * sizeof(*v))) == NULL)
                goto out;
            v[0] = l->ids.one;
        } else if ((v = realloc(l->ids.many, cap * sizeof(*v))) == NULL) {
            goto out;
        }
        l->ids.many = v;
        l->cap = cap;
    }
    id_list_ids(l)[l->n++] = id;
    rc = 0;
out:
    return rc;
}

static int
id_list_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/* Ids arrive in file order, so a list is nearly always ascending already and the
 * check costs less than remembering. Spare room from doubling is kept: it is at
 * most the list's own size. */
void
id_list_finish(struct id_list *l)
{
    uint32_t *v = id_list_ids(l), n = 0, j;

    for (j = 1; j < l->n && v[j - 1] < v[j]; j++)
        ;
    if (j >= l->n)
        return;
    qsort(v, l->n, sizeof(*v), id_list_cmp);
    for (j = 0; j < l->n; j++)
        if (n == 0 || v[n - 1] != v[j])
            v[n++] = v[j];
    l->n = n;
}

struct id_span
id_list_span(const struct id_list *l)
{
    struct id_span s = { l->cap == 1 ? &l->ids.one : l->ids.many, l->n };

    return s;
}

void
id_list_free(struct id_list *l)
{
    if (l->cap > 1)
        free(l->ids.many);
    id_list_init(l);
}
