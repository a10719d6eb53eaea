/*
 * pins.h -- pinned certificates and public keys of one require or match block:
 * the SHA-256 fingerprints the session must show, and for each PEM file named
 * in require.certificates what tlspolicy check shows of its certificates.
 * Never: decides a verdict (policy_eval.c does) or logs.
 * Diagnostics: pins_load_file names the file and what was expected.
 */
#ifndef PINS_H
#define PINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fingerprint.h"

struct pin_fp {
    char hex[FINGERPRINT_SIZE];
};

/* One certificate of a pinned PEM file. Strings come from the certificate: any
 * byte but NUL, to be escaped before they are shown. */
struct pin_cert {
    char    *file;                /* as resolved */
    unsigned line, column;        /* where the file is named */
    struct pin_fp cert, pubkey;
    char    *subject;             /* RFC 2253 one line */
    char    *o, *ou;              /* first O and OU of the subject, or NULL */
    char    *key_type;            /* "RSA", "EC P-256", "ED25519", ... */
    char    *sans;                /* "DNS:a, IP:192.0.2.1", or NULL */
    int      key_bits;            /* RSA/DSA modulus, EC field size */
    int      rsa_equiv;           /* RSA bits of equal strength (see pins_rsa_equiv) */
    int64_t  not_after;           /* seconds since the epoch */
};

struct policy_pins {
    size_t ncert, npubkey, nfiles;
    struct pin_fp *cert;          /* require/match certificate_fingerprints + files */
    struct pin_fp *pubkey;        /* public_key_fingerprints */
    struct pin_cert *files;       /* the certificates of require.certificates */
};

static inline bool
pins_any(const struct policy_pins *p)
{
    return p->ncert > 0 || p->npubkey > 0;
}

/* Add a fingerprint (64 lower-case hex). 0, or -1 when out of memory. */
int  pins_add(struct policy_pins *p, bool pubkey, const char *hex);
/* Is hex (NULL: unknown) one of the pins of that kind? */
bool pins_has(const struct policy_pins *p, bool pubkey, const char *hex);
/* Does the session's certificate or key match a pin? */
bool pins_match(const struct policy_pins *p, const char *cert_sha256, const char *pubkey_sha256);
/* The pinned file certificate whose certificate or key the session shows, or NULL. */
const struct pin_cert *pins_file_of(const struct policy_pins *p, const char *cert_sha256,
                                    const char *pubkey_sha256);
/* Does a hold every pin of b, kind by kind? For the lint of shadowed connectors. */
bool pins_cover(const struct policy_pins *a, const struct policy_pins *b);

/* Read the PEM file path (no symlink, no FIFO) and pin each of its certificates.
 * A file that cannot be read, holds no certificate, a CA certificate or a
 * private key is refused. 0, or -1 with *err a new message naming the file. */
int  pins_load_file(struct policy_pins *p, const char *path, unsigned line, unsigned column,
                    char **err);

/* The RSA modulus size of equal strength (NIST SP 800-57 part 1, table 2) for a
 * key of that many security bits: 80 -> 1024, 112 -> 2048, 128 -> 3072,
 * 192 -> 7680, 256 -> 15360; 0 below 80. */
int  pins_rsa_equiv(int security_bits);

void pins_free(struct policy_pins *p);

#endif
