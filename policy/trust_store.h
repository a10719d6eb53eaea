/*
 * trust_store.h -- the CA certificates of the configured trust store (a PEM bundle
 * or directory of PEM files, plus extra PEM files of intermediates, with OpenSSL):
 * which self-signed root(s) an issuing CA chains up to, computed once at load, each
 * certificate's names, fingerprint and expiry, and the resolution of the names an
 * administrator writes (CN, OU, DN or "sha256:" fingerprint) to certificates.
 * Cross-signed CAs yield several roots.
 * Never: does network I/O, or looks at certificate validity dates to decide
 * anything (the MTA already verified the chain; we only answer "under which
 * root"); expiry is only shown.
 * Diagnostics: load errors name the file and what was wrong; resolution says
 * why a name is malformed.
 */
#ifndef TRUST_STORE_H
#define TRUST_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct trust_store;
/* One CA certificate of a store; lives as long as the store. */
struct trust_cert;

struct trust_roots {
    size_t n;
    const char *const *cn;        /* root subject CNs ("" when a root has no CN) */
    const char *const *dn;        /* root subject DNs, canonical (cert_dn_canonical) */
    const char *display;          /* "Test Root CA R1" or "Root A, Root B" */
    const struct trust_cert *const *root;   /* the n roots (NULL when n == 0) */
    size_t nca;                   /* the CA certificates that carry the name looked up */
    const struct trust_cert *const *ca;
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

/* The CA certificates, deduplicated, in no particular order: 0 <= i < count. */
size_t trust_store_ca_count(const struct trust_store *);
const struct trust_cert *trust_store_cert(const struct trust_store *, size_t i);

/* ---- one certificate (strings are UTF-8 as decoded, unescaped: escape them) */

const char *trust_cert_cn(const struct trust_cert *);       /* first CN; "" when none */
const char *trust_cert_ou(const struct trust_cert *);       /* first OU; "" when none */
const char *trust_cert_dn(const struct trust_cert *);       /* canonical subject DN */
const char *trust_cert_sha256(const struct trust_cert *);   /* 64 lower-case hex digits */
time_t      trust_cert_not_after(const struct trust_cert *); /* (time_t)-1 when unreadable */
bool        trust_cert_self_signed(const struct trust_cert *);
/* The self-signed roots the certificate chains up to (itself for a root). */
size_t      trust_cert_root_count(const struct trust_cert *);
const struct trust_cert *trust_cert_root(const struct trust_cert *, size_t i);
/* The certificate as PEM text: a new string (caller frees), NULL when out of memory. */
char       *trust_cert_pem(const struct trust_cert *);

/* ---- names an administrator writes (trust_names.c) */

/* How a name was written. */
enum trust_by { TRUST_BY_NAME = 0, TRUST_BY_DN, TRUST_BY_SHA256 };
enum trust_found { TRUST_FOUND_ONE = 0, TRUST_FOUND_NONE, TRUST_FOUND_SEVERAL };
#define TRUST_CLOSE_MAX 3
/* Resolve among self-signed roots only (root_issuers). */
#define TRUST_RESOLVE_ROOTS 1u

struct trust_match {
    enum trust_by by;
    enum trust_found found;
    /* ONE: every certificate of the one CA the name means (a root and a
     * cross-signed copy of it share subject and key); SEVERAL: every match. */
    size_t n;
    const struct trust_cert **cert;         /* owned array */
    /* NONE: the closest certificates, best first; SEVERAL: the first matches. */
    size_t nclose;
    const struct trust_cert *close[TRUST_CLOSE_MAX];
};

/*
 * Which certificate(s) name means. A name holding "sha256:" is a fingerprint of
 * the certificate; one holding '=' a DN; any other a CN, or an OU (several roots
 * share the CN "GlobalSign" and differ in OU). Names compare after
 * trust_name_norm. 0 with *m filled (free with trust_match_free), or -1 with
 * *why set (static) when the name is malformed, or to NULL when out of memory.
 */
int  trust_store_resolve(const struct trust_store *, const char *name, unsigned flags,
                         struct trust_match *m, const char **why);
void trust_match_free(struct trust_match *m);
/* Whether c is one of the certificates m resolved to (found == ONE only). */
bool trust_match_has(const struct trust_match *m, const struct trust_cert *c);

/* A name in the form names are compared in: Unicode NFKC, case folded, every dash
 * punctuation (Pd: en dash, em dash...) as '-', each run of white space as one
 * space, none at either end. Bytes that are not UTF-8 are kept, ASCII lower-cased.
 * A new string, or NULL when out of memory. */
char *trust_name_norm(const char *s);

#endif
