/*
 * trust_store.h -- which self-signed root(s) an issuing CA chains up to, computed
 * once at load from a PEM bundle (or directory of PEM files) and extra PEM files
 * of intermediates, with OpenSSL. Cross-signed CAs yield several roots.
 * Never: does network I/O, or looks at certificate validity dates (the MTA already
 * verified the chain; we only answer "under which root").
 */
#ifndef TRUST_STORE_H
#define TRUST_STORE_H

#include <stddef.h>

struct trust_store;

struct trust_roots {
    size_t n;
    const char *const *cn;        /* root subject CNs ("" when a root has no CN) */
    const char *const *dn;        /* root subject DNs, canonical (cert_dn_canonical) */
    const char *display;          /* "Test Root CA R1" or "Root A, Root B" */
};

/* Load. On failure returns NULL and sets *err to a new message naming the file and
 * what was wrong (caller frees). paths may be NULL when n == 0. */
struct trust_store *trust_store_load(const char *bundle, const char *const *intermediates,
                                     size_t n, char **err);
void trust_store_free(struct trust_store *);

/* Roots of every CA whose subject CN equals cn (case-insensitive). NULL when no CA
 * in the store has that CN. The result lives as long as the store. */
const struct trust_roots *trust_store_roots_by_cn(const struct trust_store *, const char *cn);
/* Roots of the CA whose canonical subject DN equals dn (case-insensitive). */
const struct trust_roots *trust_store_roots_by_dn(const struct trust_store *, const char *dn);

size_t trust_store_ca_count(const struct trust_store *);

#endif
