/*
 * id_list.h -- the growable list of connector ids that each key of a match index
 * (match_domain.c, match_addr.c) owns: filled while the index is built, sorted
 * once at freeze, then lent out as an id_span.
 * Never: changed after the index is frozen (lookups from many threads read it).
 */
#ifndef ID_LIST_H
#define ID_LIST_H

#include <stdint.h>

#include "id_span.h"

struct id_list {
    uint32_t n, cap;              /* cap == 1: the id is inline */
    union {
        uint32_t one;             /* most keys name one connector: no allocation */
        uint32_t *many;
    } ids;
};

/* An empty list. */
void id_list_init(struct id_list *l);
/* Append id; an id equal to the last one is kept once (a connector naming a key
 * twice). Returns 0, or -1 when out of memory. */
int id_list_push(struct id_list *l, uint32_t id);
/* Sort ids that arrived out of order and drop repeats. */
void id_list_finish(struct id_list *l);
/* The ids, borrowed: valid until the list changes or is freed. */
struct id_span id_list_span(const struct id_list *l);
void id_list_free(struct id_list *l);

#endif
