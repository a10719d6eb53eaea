/*
 * id_span.h -- a borrowed, ascending list of connector ids, as handed out by the
 * match indexes (match_domain.c, match_addr.c).
 * Never: owns memory; spans point into an index and live as long as it does.
 */
#ifndef ID_SPAN_H
#define ID_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct id_span {
    const uint32_t *ids;          /* strictly ascending */
    size_t n;
};

/* True when id is in any of the spans (binary search in each). */
bool id_span_contains(const struct id_span *spans, size_t nspans, uint32_t id);

#endif
