/*
 * match_domain.h -- domain pattern index: maps "x.test" (exact) and "*.x.test"
 * (any subdomain, at any depth, not x.test itself) to ascending connector ids.
 * Matching is ASCII case-insensitive and ignores one trailing dot.
 * Never: allocates during lookup; lookups are safe from many threads once frozen.
 */
#ifndef MATCH_DOMAIN_H
#define MATCH_DOMAIN_H

#include "id_span.h"

/* A lookup yields at most one span per suffix of the name, plus the exact name. */
#define DOMAIN_MAX_LABELS 128
#define DOMAIN_MAX_LEN    253

struct domain_table;

struct domain_table *domain_table_new(void);
void domain_table_free(struct domain_table *);

/* Check a pattern as written in the connectors file. Returns NULL when valid,
 * else a static string saying what was expected. */
const char *domain_pattern_check(const char *pattern);

/* Add a pattern for id. Ids must be added in non-decreasing order per pattern
 * (the loader adds connectors in file order); a repeated (pattern, id) is kept once.
 * Returns 0, or -1 when out of memory or the pattern is invalid. */
int domain_table_add(struct domain_table *, const char *pattern, uint32_t id);

/* Finish building: after this, only lookups. Returns 0 or -1 (out of memory). */
int domain_table_freeze(struct domain_table *);

/* Fill spans[0..max) with the id lists of every pattern matching name[0..len).
 * Returns the number of spans filled (0 when nothing matches or name is not a
 * syntactically usable domain). */
size_t domain_table_lookup(const struct domain_table *, const char *name, size_t len,
                           struct id_span *spans, size_t max);

/* Number of distinct patterns (for tests and the bench). */
size_t domain_table_size(const struct domain_table *);

#endif
