/*
 * match_addr.h -- IP prefix index: a binary trie over 128-bit addresses where
 * IPv4 lives as v4-mapped IPv6 (::ffff:a.b.c.d), so 192.0.2.0/24 and
 * ::ffff:192.0.2.0/120 are the same prefix.
 * Never: allocates during lookup; lookups are safe from many threads once frozen.
 */
#ifndef MATCH_ADDR_H
#define MATCH_ADDR_H

#include "id_span.h"

struct addr_table;

/* Parse an address as MTAs send it: "192.0.2.1", "2001:db8::1", "IPv6:2001:db8::1"
 * (Sendmail), "[192.0.2.1]", "::ffff:192.0.2.1". IPv4 becomes v4-mapped.
 * Returns 0, or -1 when not an address. */
int addr_parse(const char *text, size_t len, unsigned char ip[16]);

/* Canonical text of ip (IPv4 for v4-mapped), into buf of size >= 46. */
void addr_format(const unsigned char ip[16], char *buf, size_t size);

/* Check "addr" or "addr/len" as written in the connectors file. NULL when valid,
 * else a static string saying what was expected. Host bits set below the prefix
 * length are an error ("192.0.2.1/24"). */
const char *addr_cidr_check(const char *cidr);

struct addr_table *addr_table_new(void);
void addr_table_free(struct addr_table *);
/* Ids must be added in non-decreasing order per prefix. Returns 0 or -1. */
int  addr_table_add(struct addr_table *, const char *cidr, uint32_t id);
int  addr_table_freeze(struct addr_table *);
/* Fill spans with the id lists of every prefix containing ip, shortest first.
 * Returns the number filled (at most 129). */
size_t addr_table_lookup(const struct addr_table *, const unsigned char ip[16],
                         struct id_span *spans, size_t max);
size_t addr_table_size(const struct addr_table *);

#endif
