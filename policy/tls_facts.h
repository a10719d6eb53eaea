/*
 * tls_facts.h -- protocol versions and cipher suites, answered from OpenSSL's own
 * cipher table (not by guessing from the name).
 * Never: guesses; an unknown name is reported as unknown and callers fail closed.
 */
#ifndef TLS_FACTS_H
#define TLS_FACTS_H

#include <stdbool.h>
#include <stddef.h>

enum tls_version {
    TLS_VERSION_UNKNOWN = -1,
    TLS_VERSION_SSL3 = 0,
    TLS_VERSION_TLS1,
    TLS_VERSION_TLS1_1,
    TLS_VERSION_TLS1_2,
    TLS_VERSION_TLS1_3,
};

/* "SSLv3", "TLSv1", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3" (case-insensitive).
 * Returns TLS_VERSION_UNKNOWN otherwise. */
int tls_version_parse(const char *s);
/* Canonical name as MTAs send it ("TLSv1" for 1.0). */
const char *tls_version_name(int version);

struct tls_cipher_info {
    bool known;
    bool forward_secret;          /* TLS 1.3 suite, or (EC)DHE key exchange */
    bool tls13;
    int  bits;                    /* symmetric strength bits */
    const char *kx;               /* "ECDHE", "DHE", "RSA", "PSK", "any" ... */
};

/* Look a cipher up by OpenSSL name ("ECDHE-RSA-AES256-GCM-SHA384") or IANA/RFC
 * name ("TLS_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384").
 * Thread-safe; builds its table once. Returns 0 when known, -1 when not (info->known
 * false), -2 when OpenSSL could not be initialised. */
int tls_cipher_lookup(const char *name, struct tls_cipher_info *info);

#endif
