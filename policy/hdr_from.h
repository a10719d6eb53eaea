/*
 * hdr_from.h -- the domains a From: header field names (RFC 5322 3.6.2: a
 * mailbox-list, with groups and the obsolete forms of 4.4 read as a receiving
 * system must), for the restricted-sender check at end of message.
 * Never: decodes or judges display names (only mailboxes carry a domain),
 * normalises domains (facts.c does), logs or exits.
 * Diagnostics: a field that does not parse gets a static text and the byte
 * offset where reading stopped.
 */
#ifndef HDR_FROM_H
#define HDR_FROM_H

#include <stddef.h>

struct hdr_from {
    size_t n, cap;
    char **domain;                /* as written, CFWS removed; "[...]" for a literal */
    const char *error;            /* NULL when the field parsed */
    size_t error_at;              /* offset in the value where reading stopped */
};

/*
 * Read one field body (the value after "From:", folded or unfolded). When it
 * parses, domain[] holds the domain of every mailbox, in order. When it does
 * not, error says why and domain[] holds instead what a lenient reader could
 * take for a domain: the run of domain characters after every '@' in the raw
 * text, comments and quoted strings included, so that a caller can fail
 * closed on a field that might name a domain it protects.
 * Returns 0, or -1 when out of memory (then *hf is empty).
 */
int  hdr_from_parse(const char *value, size_t len, struct hdr_from *hf);
void hdr_from_free(struct hdr_from *hf);

#endif
