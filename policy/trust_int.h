/*
 * trust_int.h -- the certificate records of the trust store, shared by the
 * three files that make it: trust_store.c (load, issuer graph, name indexes),
 * trust_cert.c (names and fingerprints of one certificate, the accessors) and
 * trust_names.c (name normalisation and resolution).
 * Never: included outside those files; callers use trust_store.h.
 */
#ifndef TRUST_INT_H
#define TRUST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "trust_store.h"

struct trust_cert {
    X509 *x;
    const struct trust_store *ts; /* the store holding it, for its roots */
    unsigned char sha[32];        /* SHA-256 of the DER: identity for dedup */
    unsigned char spki[32];       /* SHA-256 of the public key: "the same CA" */
    char sha_hex[65];
    unsigned long name_hash;      /* X509_NAME_hash_ex of the subject */
    char *cn;                     /* first subject CN, UTF-8; "" when none */
    char *ou;                     /* first subject OU, UTF-8; "" when none */
    char *dn;                     /* cert_dn_canonical of the subject */
    char *ncn, *nou, *ndn;        /* the same, normalised (trust_name_norm) */
    time_t not_after;
    bool self_signed;
    bool name_ok;                 /* names free of NUL bytes: indexable */
    size_t *issuers;              /* indexes of certificates that signed this one */
    size_t nissuers;
    size_t *roots;                /* indexes of self-signed CAs reached */
    size_t nroots;
};

struct ts_entry {
    const char *key;              /* borrowed from a trust_cert (cn or dn) */
    struct trust_roots roots;
    const char **cn;              /* owned arrays behind roots.cn / roots.dn */
    const char **dn;
    const struct trust_cert **rc; /* owned: roots.root */
    const struct trust_cert **ca; /* owned: roots.ca */
    char *display;                /* owned; roots.display points here */
};

struct trust_store {
    struct trust_cert *certs;
    size_t n;
    struct ts_entry *by_cn;
    size_t n_cn;
    struct ts_entry *by_dn;
    size_t n_dn;
};

/* trust_cert.c: fill the names, fingerprints and expiry of c from c->x (sha
 * already set). 0, or -1 when out of memory. */
int  trust_cert_fill(struct trust_cert *c);
void trust_cert_clear(struct trust_cert *c);

#endif
