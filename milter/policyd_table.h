/*
 * policyd_table.h -- what Postfix's policy delegation said about each recipient,
 * kept from the policy request until the milter's RCPT for it takes it.
 * Never: blocks for longer than a lookup, grows without bound, or hands a record
 * to a connection other than the one (TCP 4-tuple) it came from.
 * Diagnostics: none itself; policyd_table_stats counts what was dropped and why.
 */
#ifndef MILTER_POLICYD_TABLE_H
#define MILTER_POLICYD_TABLE_H

#include <stddef.h>

#include "policyd_req.h"

struct policyd_table_stats {
    size_t stored;          /* records put */
    size_t taken;           /* records a milter RCPT took */
    size_t dropped_full;    /* the oldest, pushed out by a full table */
    size_t dropped_age;     /* older than the age bound, never taken */
    size_t dropped_connect; /* left by an earlier connection with the same 4-tuple */
    size_t missed;          /* milter RCPTs that found no record */
    size_t entries;         /* in the table now */
};

/* Set the bounds (before the first put); max_age in seconds. 0 / -1 (bad bounds). */
int  policyd_table_init(size_t max_entries, unsigned max_age);
/* Drop every record (at shutdown). */
void policyd_table_clear(void);

/* Store what the policy request r said (connection key k). Returns 0, or -1
 * when out of memory (nothing stored: the RCPT then finds no record). */
int  policyd_table_put(const struct policyd_key *k, const struct policyd_req *r);

/* A new milter connection: forget every record of its 4-tuple, which can only
 * be an earlier connection's (doc/mta-facts.md 12). */
void policyd_table_forget(const struct policyd_key *k);

/* Take (remove) the newest record of k for this sender and recipient. Returns
 * 1 with *fp and *pkfp allocated (each "" when the client sent no certificate),
 * 0 when there is none, -1 when out of memory. */
int  policyd_table_take(const struct policyd_key *k, const char *sender, const char *rcpt,
                        char **fp, char **pkfp);

void policyd_table_stats(struct policyd_table_stats *st);

#endif
